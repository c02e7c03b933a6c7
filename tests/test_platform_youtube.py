"""YouTube: every player form in markup, identity of every URL form, oEmbed verdicts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import youtube
from archiver.platforms.page import Page
from archiver.settings import Endpoints, Settings

VID = "dQw4w9WgXcQ"
WATCH = f"https://www.youtube.com/watch?v={VID}"


def expected(corpus: Path, platform: str) -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    with open(corpus / "EXPECTED.tsv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["platform"] == platform:
                rows.setdefault(Path(row["file"]).name, set()).add(row["post_id"])
    return rows


def found(html: str) -> list[tuple[str, str]]:
    return [(s.kind, s.post.post_id) for s in youtube.detect(Page(dom.parse(html.encode()), "https://news.example/a"))]


@pytest.mark.parametrize("markup, kind", [
    (f'<iframe src="https://www.youtube.com/embed/{VID}?rel=0"></iframe>', "iframe"),
    (f'<iframe src="//www.youtube-nocookie.com/embed/{VID}"></iframe>', "iframe"),
    (f'<iframe data-src="https://www.youtube.com/embed/{VID}"></iframe>', "iframe"),
    (f'<iframe data-lazy-src="https://www.youtube.com/embed/{VID}" src="about:blank"></iframe>', "iframe"),
    (f'<lite-youtube videoid="{VID}" playlabel="Play: Song"></lite-youtube>', "iframe"),
    (f'<amp-youtube data-videoid="{VID}" layout="responsive"></amp-youtube>', "amp"),
    (f'<noscript><iframe src="https://www.youtube.com/embed/{VID}"></iframe></noscript>', "noscript"),
    (f'<p>Watch <a href="https://youtu.be/{VID}">this</a></p>', "link"),
    (f'<p>Consent: <a href="https://www.youtube.com/embed/{VID}">open the player</a></p>', "iframe"),
])
def test_detect_markup_forms(markup: str, kind: str) -> None:
    assert found(f"<html><body>{markup}</body></html>") == [(kind, VID)]


def test_detect_keeps_title_but_not_generic_player_label() -> None:
    markup = (f'<div><iframe src="https://www.youtube.com/embed/{VID}" title="Never Gonna Give You Up"></iframe>'
              f'<iframe src="https://www.youtube.com/embed/aaaaaaaaaaa" title="YouTube video player"></iframe></div>')
    sightings = list(youtube.detect(Page(dom.parse(markup.encode()), None)))
    assert [(s.post.post_id, s.fallback_text) for s in sightings] == [(VID, "Never Gonna Give You Up"),
                                                                       ("aaaaaaaaaaa", None)]
    assert sightings[0].post.url == WATCH


@pytest.mark.parametrize("markup", [
    '<iframe src="https://www.youtube.com/embed/videoseries?list=PL4qTakKkQATKOyZPJG_cAMnRtF7fAIdST"></iframe>',
    '<iframe src="https://www.youtube.com/embed/live_stream?channel=UCabc"></iframe>',
    '<a href="https://www.youtube.com/channel/UCjpgYyUblbKvNtElLOFi2jw">channel</a>',
    '<a href="https://www.youtube.com/user/wiredjplive">user</a>',
    '<a href="https://www.youtube.com/@CKEditor">handle</a>',
    '<div data-youtube-id=""></div><amp-youtube data-live-channelid="UCabc"></amp-youtube>',
    '<!-- <iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe> -->',
])
def test_detect_ignores_what_is_not_one_video(markup: str) -> None:
    assert found(f"<html><body>{markup}</body></html>") == []


@pytest.mark.parametrize("url", [
    f"https://www.youtube.com/watch?v={VID}", f"https://m.youtube.com/watch?v={VID}&feature=share",
    f"https://youtu.be/{VID}?t=42", f"https://www.youtube.com/embed/{VID}", f"//www.youtube.com/embed/{VID}",
    f"https://www.youtube-nocookie.com/embed/{VID}?rel=0", f"https://www.youtube.com/shorts/{VID}",
    f"https://www.youtube.com/live/{VID}", f"https://www.youtube.com/v/{VID}", f"youtu.be/{VID}",
    f"https://www.youtube.com/v/{VID}&hl=en&fs=1",
    f"https://music.youtube.com/watch?v={VID}&list=RDAMVM",
])
def test_identify_every_form_gives_one_key(url: str) -> None:
    assert youtube.identify(url) == PostRef("youtube", VID, WATCH)


@pytest.mark.parametrize("url", [
    "https://www.youtube.com/playlist?list=PLx", "https://www.youtube.com/embed/videoseries?list=PLx",
    "https://www.youtube.com/channel/UCjpgYyUblbKvNtElLOFi2jw", "https://www.youtube.com/@CKEditor",
    "https://www.youtube.com/watch?v=tooshort", f"https://notyoutube.com/watch?v={VID}",
    "https://www.youtube.com/", "",
])
def test_identify_rejects(url: str) -> None:
    assert youtube.identify(url) is None


def test_corpus_pages_yield_the_expected_videos(corpus_dir: Path) -> None:
    for name, ids in expected(corpus_dir, "youtube").items():
        root = page_root(corpus_dir / "pages" / name)
        if name.startswith("031"):  # Squarespace: the iframe exists only as HTML inside data-html
            holder = next(el for el in dom.descendants(root) if "iframe" in (el.attributes.get("data-html") or ""))
            root = dom.parse(holder.attributes["data-html"].encode())
        assert {s.post.post_id for s in youtube.detect(Page(root, None))} == ids, name


def test_corpus_lazy_iframe_and_noscript_copy(corpus_dir: Path) -> None:
    root = page_root(corpus_dir / "pages" / "030-knowtechie-youtube-noscript.html")
    assert [(s.kind, s.post.post_id) for s in youtube.detect(Page(root, None))] == [
        ("iframe", "BItSgrSYAXA"), ("noscript", "BItSgrSYAXA")]


def test_lookup_uses_the_endpoint_setting() -> None:
    settings = Settings(endpoints=Endpoints(youtube_oembed="http://127.0.0.1:9/oembed"))
    [lookup] = youtube.lookups(PostRef("youtube", VID, WATCH), settings)
    assert lookup.endpoint == "youtube.oembed"
    assert lookup.url == ("http://127.0.0.1:9/oembed?format=json&url=https%3A%2F%2Fwww.youtube.com"
                          "%2Fwatch%3Fv%3DdQw4w9WgXcQ")


def answer(status: int | None, body: bytes = b"", error: str | None = None) -> list[Answer]:
    return [Answer("youtube.oembed", status, body, error=error)]


def test_classify_real_oembed_answer(corpus_dir: Path) -> None:
    body = (corpus_dir / "api" / "youtube" / "oembed-2.json").read_bytes()
    check = youtube.classify(PostRef("youtube", "eiHXASgRTcA", ""), answer(200, body))
    assert check.status is Status.AVAILABLE and check.http_status == 200
    assert check.text == "Noisy kittens waiting for dinner!"
    assert check.author_name == "smshdchrb" and check.author_handle == "smshdchrb"
    assert check.media == ("https://i.ytimg.com/vi/eiHXASgRTcA/hqdefault.jpg",)
    assert check.endpoint == "youtube.oembed" and check.retry is False


def test_classify_real_legacy_author_url_has_no_handle(corpus_dir: Path) -> None:
    body = (corpus_dir / "api" / "youtube" / "oembed-1.json").read_bytes()
    check = youtube.classify(PostRef("youtube", "x", ""), answer(200, body))
    assert (check.status, check.author_name, check.author_handle) == (Status.AVAILABLE, "Scadrei5", None)
    assert check.extra["author_url"] == "/user/Scadrei5"


def test_classify_real_403_is_restricted(corpus_dir: Path) -> None:
    body = (corpus_dir / "api" / "youtube" / "oembed-ruby-oembed-4-http403.txt").read_bytes()
    check = youtube.classify(PostRef("youtube", "NHriYTkvd0g", ""), answer(403, body))
    assert (check.status, check.http_status, check.retry) == (Status.RESTRICTED, 403, False)
    assert "embedding disabled" in check.detail


@pytest.mark.parametrize("status, body, verdict, retry", [
    (401, b"Unauthorized", Status.RESTRICTED, False),
    (404, b"Not Found", Status.NOT_FOUND, False),
    (400, b"Bad Request", Status.ERROR, False),
    (429, b"", Status.ERROR, True),
    (503, b"", Status.ERROR, True),
    (200, b"<html>consent</html>", Status.ERROR, False),
    (302, b"", Status.ERROR, False),
])
def test_classify_http_statuses(status: int, body: bytes, verdict: Status, retry: bool) -> None:
    check = youtube.classify(PostRef("youtube", VID, WATCH), answer(status, body))
    assert (check.status, check.retry, check.http_status) == (verdict, retry, status)


def test_classify_network_failure_and_no_answer() -> None:
    check = youtube.classify(PostRef("youtube", VID, WATCH), answer(None, error="connect timeout"))
    assert (check.status, check.retry, check.detail) == (Status.ERROR, True, "connect timeout")
    assert youtube.classify(PostRef("youtube", VID, WATCH), []).retry is True
