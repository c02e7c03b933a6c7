"""TikTok: blockquote, player iframes, AMP and links; video-id identity; public oEmbed verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import tiktok
from archiver.platforms.page import Page
from archiver.settings import Endpoints, Settings

VID = "7005293332821822726"
POST = PostRef("tiktok", VID, f"https://www.tiktok.com/@shmemmmy/video/{VID}")
BARE = PostRef("tiktok", VID, f"https://www.tiktok.com/share/video/{VID}")

# the markup TikTok's oEmbed hands publishers (api/tiktok/oembed-ruby-oembed-1-http200.json)
BLOCKQUOTE = f"""<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@shmemmmy/video/{VID}"
 data-video-id="{VID}" style="max-width: 605px;min-width: 325px;" > <section> <a target="_blank" title="@shmemmmy"
 href="https://www.tiktok.com/@shmemmmy">@shmemmmy</a> <p>POV u work at a big company <a title="techtok"
 target="_blank" href="https://www.tiktok.com/tag/techtok">#techtok</a></p> <a target="_blank"
 title="♬ original sound - Emily" href="https://www.tiktok.com/music/original-sound-7005293191817644806">♬ original
 sound - Emily</a> </section> </blockquote> <script async src="https://www.tiktok.com/embed.js"></script>"""


def detect(html: str) -> list:
    return list(tiktok.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


def test_blockquote_caption_and_handle() -> None:
    [s] = detect(BLOCKQUOTE)
    assert (s.kind, s.post, s.author_handle) == ("blockquote", POST, "shmemmmy")
    assert s.fallback_text == "POV u work at a big company #techtok"
    assert s.url_as_found == f"https://www.tiktok.com/@shmemmmy/video/{VID}"


def test_blockquote_from_the_real_oembed_html(corpus_dir: Path) -> None:
    data = json.loads((corpus_dir / "api" / "tiktok" / "oembed-a3noticias-6806030056956251397.json").read_text())
    [s] = detect(data["html"])
    assert (s.post.post_id, s.author_handle, s.kind) == ("6806030056956251397", "a3noticias", "blockquote")
    assert s.fallback_text == "Nuestro #AplausoSanitario más sincero. Para todos. Y recuerda, #QuédateEnCasa"


def test_blockquote_without_cite_takes_the_handle_from_its_link() -> None:
    [s] = detect(f'<blockquote class="tiktok-embed" data-video-id="{VID}"><section><a href="x">@shmemmmy</a>'
                 f'</section></blockquote>')
    assert (s.post, s.author_handle) == (POST, "shmemmmy")


@pytest.mark.parametrize("markup, kind, post", [
    (f'<iframe src="https://www.tiktok.com/embed/v2/{VID}?lang=en"></iframe>', "iframe", BARE),
    (f'<iframe data-src="https://www.tiktok.com/player/v1/{VID}?music_info=1"></iframe>', "iframe", BARE),
    (f'<iframe src="https://www.tiktok.com/embed/{VID}"></iframe>', "iframe", BARE),
    (f'<amp-tiktok data-src="{VID}" width="325" height="575"></amp-tiktok>', "amp", BARE),
    (f'<amp-tiktok data-src="https://www.tiktok.com/@shmemmmy/video/{VID}"></amp-tiktok>', "amp", POST),
    (f'<a href="https://www.tiktok.com/@shmemmmy/video/{VID}?is_from_webapp=1">video</a>', "link", POST),
])
def test_other_markup_forms(markup: str, kind: str, post: PostRef) -> None:
    assert [(s.kind, s.post) for s in detect(markup)] == [(kind, post)]


@pytest.mark.parametrize("markup", [
    '<a href="https://www.tiktok.com/@metrotimes" target="_self">TikTok</a>',  # 044: a profile
    '<img src="https://media2.metrotimes.com/metrotimes/imager/tiktok-icon/u/square/33110021/tiktokicon.jpg">',
    '<a href="https://vm.tiktok.com/ZMabcdef/">short link</a>',
    '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@metrotimes"><section></section></blockquote>',
    '<a href="https://www.tiktok.com/tag/techtok">#techtok</a><a href="https://www.tiktok.com/music/x-1">m</a>',
])
def test_traps_are_not_videos(markup: str) -> None:
    assert detect(markup) == []


@pytest.mark.parametrize("url, post", [
    (f"https://www.tiktok.com/@shmemmmy/video/{VID}", POST),
    (f"https://m.tiktok.com/@shmemmmy/video/{VID}?lang=en", POST),
    (f"https://www.tiktok.com/embed/v2/{VID}", BARE), (f"https://www.tiktok.com/embed/{VID}", BARE),
    (f"https://www.tiktok.com/player/v1/{VID}", BARE), (f"https://m.tiktok.com/v/{VID}.html", BARE),
    (f"https://www.tiktok.com/share/video/{VID}", BARE),
    (f"https://www.tiktok.com/@shmemmmy/photo/{VID}",
     PostRef("tiktok", VID, f"https://www.tiktok.com/@shmemmmy/photo/{VID}")),
])
def test_identify(url: str, post: PostRef) -> None:
    assert tiktok.identify(url) == post


@pytest.mark.parametrize("url", [
    "https://www.tiktok.com/@metrotimes", "https://vm.tiktok.com/ZMabc/", "https://www.tiktok.com/tag/job",
    "https://www.tiktok.com/@shmemmmy/video/123", f"https://www.nottiktok.com/@a/video/{VID}",
])
def test_identify_rejects(url: str) -> None:
    assert tiktok.identify(url) is None


def test_lookup() -> None:
    [lookup] = tiktok.lookups(POST, Settings(endpoints=Endpoints(tiktok_oembed="http://127.0.0.1:9/oembed")))
    assert (lookup.endpoint, lookup.url) == (
        "tiktok.oembed", f"http://127.0.0.1:9/oembed?url=https%3A%2F%2Fwww.tiktok.com%2F%40shmemmmy%2Fvideo%2F{VID}")


def test_classify_real_answers(corpus_dir: Path) -> None:
    body = (corpus_dir / "api" / "tiktok" / "oembed-a3noticias-6806030056956251397.json").read_bytes()
    check = tiktok.classify(POST, [Answer("tiktok.oembed", 200, body)])
    assert (check.status, check.author_handle, check.author_name) == (Status.AVAILABLE, "a3noticias",
                                                                       "Antena 3 Noticias")
    assert check.text == "Nuestro #AplausoSanitario más sincero. Para todos. Y recuerda, #QuédateEnCasa"
    assert check.media[0].startswith("https://p77-sign-va.tiktokcdn.com/")
    assert check.extra["embed_product_id"] == "6806030056956251397"
    older = (corpus_dir / "api" / "tiktok" / "oembed-ruby-oembed-1-http200.json").read_bytes()
    check = tiktok.classify(POST, [Answer("tiktok.oembed", 200, older)])
    assert (check.status, check.author_handle, check.author_name) == (Status.AVAILABLE, "shmemmmy", "Emily")


@pytest.mark.parametrize("status, body, verdict, retry", [
    (400, b'{"status_msg":"Something went wrong"}', Status.NOT_FOUND, False),
    (200, b'{"status_code":10101,"status_msg":"Something went wrong"}', Status.NOT_FOUND, False),
    (404, b"", Status.NOT_FOUND, False),
    (400, b"Bad Request", Status.ERROR, False),
    (429, b'{"status_msg":"Something went wrong"}', Status.ERROR, True),
    (502, b"", Status.ERROR, True),
])
def test_classify_failures(status: int, body: bytes, verdict: Status, retry: bool) -> None:
    check = tiktok.classify(POST, [Answer("tiktok.oembed", status, body)])
    assert (check.status, check.retry, check.http_status) == (verdict, retry, status)
    if verdict is Status.NOT_FOUND and body:
        assert check.detail == "TikTok oEmbed: Something went wrong (removed, private or unknown)"
