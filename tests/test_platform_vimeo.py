"""Vimeo: player iframes, consent placeholders and links; numeric identity; oEmbed verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import vimeo
from archiver.platforms.page import Page
from archiver.settings import Endpoints, Settings

POST = PostRef("vimeo", "235352744", "https://vimeo.com/235352744")


def detect(html: str) -> list:
    return list(vimeo.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


@pytest.mark.parametrize("markup, kind", [
    ('<iframe src="https://player.vimeo.com/video/235352744?app_id=122963" title="Vimeo Live is here"></iframe>',
     "iframe"),
    ('<iframe data-src="//player.vimeo.com/video/235352744"></iframe>', "iframe"),
    ('<amp-vimeo data-videoid="235352744" layout="responsive"></amp-vimeo>', "amp"),
    ('<p>This content can also be viewed on the site it <a href="https://player.vimeo.com/video/235352744?dnt=1">'
     'originates</a> from.</p>', "iframe"),
    ('<a href="https://vimeo.com/album/5901585/video/235352744">video</a>', "link"),
])
def test_markup_forms(markup: str, kind: str) -> None:
    assert [(s.kind, s.post) for s in detect(markup)] == [(kind, POST)]


def test_iframe_title_is_kept() -> None:
    [s] = detect('<iframe src="https://player.vimeo.com/video/235352744" title="Vimeo Live is here"></iframe>')
    assert s.fallback_text == "Vimeo Live is here"


@pytest.mark.parametrize("markup", [
    '<a href="http://vimeo.com/rafagaleano">Rafa Galeano</a> on <a href="https://vimeo.com">Vimeo</a>',
    '<a href="https://vimeo.com/privacy">https://vimeo.com/privacy</a><td>player.vimeo.com</td>',
    '<a href="https://vimeo.com/channels/staffpicks">staff picks</a>',
    '<iframe src="https://player.vimeo.com/api/player.js"></iframe>',
])
def test_traps(markup: str) -> None:
    assert detect(markup) == []


def test_corpus_pages(corpus_dir: Path) -> None:
    def sightings(name: str) -> list[tuple[str, str]]:
        root = page_root(corpus_dir / "pages" / name)
        return [(s.kind, s.post.post_id) for s in vimeo.detect(Page(root, None))]

    # 032: the iframe, then the credit link to the same video (the extraction layer dedupes)
    assert sightings("032-beyssonmanagement-vimeo.html") == [("iframe", "77911159"), ("link", "77911159")]
    # 033: the consent banner's player link stands for the iframe; the album link is a link
    assert sorted(sightings("033-wired-jp-vimeo-consent.html")) == [("iframe", "325917208"), ("link", "327956090")]
    assert sightings("048-unzensuriert-NEG-telegram-discussion.html") == []


@pytest.mark.parametrize("url, post", [
    ("https://vimeo.com/235352744", POST), ("http://vimeo.com/235352744?share=copy", POST),
    ("https://player.vimeo.com/video/235352744?dnt=1", POST), ("https://vimeo.com/album/5901585/video/235352744", POST),
    ("https://vimeo.com/channels/staffpicks/235352744", POST), ("https://vimeo.com/groups/name/videos/235352744", POST),
    ("https://vimeo.com/showcase/123/video/235352744", POST), ("https://www.vimeo.com/235352744", POST),
    ("https://vimeo.com/235352744/abcdef1234", PostRef("vimeo", "235352744", "https://vimeo.com/235352744/abcdef1234")),
    ("https://player.vimeo.com/video/235352744?h=abcdef1234",
     PostRef("vimeo", "235352744", "https://vimeo.com/235352744/abcdef1234")),
])
def test_identify(url: str, post: PostRef) -> None:
    assert vimeo.identify(url) == post


@pytest.mark.parametrize("url", [
    "https://vimeo.com/rafagaleano", "https://vimeo.com", "https://vimeo.com/channels/staffpicks",
    "https://vimeo.com/album/5901585", "https://player.vimeo.com/api/player.js", "https://notvimeo.com/235352744",
])
def test_identify_rejects(url: str) -> None:
    assert vimeo.identify(url) is None


def test_lookup() -> None:
    [lookup] = vimeo.lookups(POST, Settings(endpoints=Endpoints(vimeo_oembed="http://127.0.0.1:9/oembed.json")))
    assert (lookup.endpoint, lookup.url) == ("vimeo.oembed",
                                             "http://127.0.0.1:9/oembed.json?url=https%3A%2F%2Fvimeo.com%2F235352744")


def test_classify_real_full_answer(corpus_dir: Path) -> None:
    body = (corpus_dir / "api" / "vimeo" / "oembed-2.json").read_bytes()
    check = vimeo.classify(POST, [Answer("vimeo.oembed", 200, body)])
    assert (check.status, check.text, check.author_name, check.author_handle) == (
        Status.AVAILABLE, "Vimeo Live is here", "Vimeo", "vimeomarketing")
    assert check.media == ("https://i.vimeocdn.com/video/657162424_640.jpg",)
    assert check.created_at is None and check.extra["upload_date"] == "2017-09-25 10:36:56"
    assert check.extra["description"].startswith("Professional live streaming is here.")


def test_classify_real_minimal_answer(corpus_dir: Path) -> None:
    body = (corpus_dir / "api" / "vimeo" / "oembed-1.json").read_bytes()
    check = vimeo.classify(POST, [Answer("vimeo.oembed", 200, body)])
    assert (check.status, check.text, check.author_name, check.media) == (Status.AVAILABLE, None, None, ())
    assert check.extra["video_id"] == 235352744


@pytest.mark.parametrize("status, verdict, retry", [
    (404, Status.NOT_FOUND, False), (403, Status.RESTRICTED, False), (429, Status.ERROR, True),
    (500, Status.ERROR, True), (401, Status.ERROR, False),
])
def test_classify_http_statuses(status: int, verdict: Status, retry: bool) -> None:
    check = vimeo.classify(POST, [Answer("vimeo.oembed", status, b"")])
    assert (check.status, check.retry, check.http_status) == (verdict, retry, status)
