"""Mastodon: iframe and blockquote embeds on any instance; instance/ID identity; status API verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import mastodon
from archiver.platforms.page import Page

SID = "101733810026327049"
POST = PostRef("mastodon", f"fosstodon.org/{SID}", f"https://fosstodon.org/@chris/{SID}")
NEW = PostRef("mastodon", "mastodon.social/113439924929011052", "https://mastodon.social/@Gargron/113439924929011052")

IFRAME = (f'<iframe src="https://fosstodon.org/@chris/{SID}/embed" class="mastodon-embed" style="max-width: 100%; '
          'border: 0" height="320em" width="100%" allowfullscreen="allowfullscreen"></iframe>')
BLOCKQUOTE = """<blockquote class="mastodon-embed"
 data-embed-url="https://mastodon.social/@Gargron/113439924929011052/embed" style="background: #FCF8FF;">
 <a href="https://mastodon.social/@Gargron/113439924929011052" target="_blank"> <svg viewBox="0 0 79 75"></svg>
 <div style="margin-top: 16px;">Post by @Gargron@mastodon.social</div> <div>View on
 Mastodon</div> </a> </blockquote> <script data-allowed-prefixes="https://mastodon.social/" async
 src="https://mastodon.social/embed.js"></script>"""


def detect(html: str) -> list:
    return list(mastodon.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


def test_iframe_needs_no_embed_script() -> None:
    [s] = detect(IFRAME)
    assert (s.kind, s.post, s.author_handle) == ("iframe", POST, "chris@fosstodon.org")
    assert s.url_as_found == f"https://fosstodon.org/@chris/{SID}/embed"


def test_blockquote_of_mastodon_4_3() -> None:
    [s] = detect(BLOCKQUOTE)
    assert (s.kind, s.post, s.author_handle) == ("blockquote", NEW, "Gargron@mastodon.social")


@pytest.mark.parametrize("markup, kind, post, handle", [
    (f'<iframe data-src="https://fosstodon.org/@chris/{SID}/embed"></iframe>', "iframe", POST, "chris@fosstodon.org"),
    ('<a href="https://mastodon.social/@Gargron/113439924929011052">toot</a>', "link", NEW, "Gargron@mastodon.social"),
    ('<a href="https://mastodon.social/@alice@example.org/113439924929011052">boost</a>', "link",
     PostRef("mastodon", "mastodon.social/113439924929011052",
             "https://mastodon.social/@alice@example.org/113439924929011052"), "alice@example.org"),
])
def test_other_markup_forms(markup: str, kind: str, post: PostRef, handle: str) -> None:
    assert [(s.kind, s.post, s.author_handle) for s in detect(markup)] == [(kind, post, handle)]


@pytest.mark.parametrize("markup", [
    '<link rel="me" href="https://mastodon.acc.sunet.se/@ashwinvis">',
    '<a href="https://fediscience.org/@ashwinvis">Mastodon [science]</a>',
    '<a href="https://www.newsbreak.com/@c/1599766?s=01">NewsBreak</a>',  # 044: /@name/NUMBER off Mastodon
    '<a href="https://www.tiktok.com/@user/video/7005293332821822726">tiktok</a>',
    '<a href="https://www.threads.net/@zuck/post/123456789012345678">threads</a>',
    '<a href="https://medium.com/@writer/1234567890123456789">medium</a>',
    '<script src="https://mastodon.acc.sunet.se/embed.js" async="async"></script>',
])
def test_traps(markup: str) -> None:
    assert detect(markup) == []


def test_corpus_pages(corpus_dir: Path) -> None:
    def sightings(name: str) -> list[tuple[str, str, str | None]]:
        root = page_root(corpus_dir / "pages" / name)
        return [(s.kind, s.post.post_id, s.author_handle) for s in mastodon.detect(Page(root, None))]

    assert sightings("050-fluidquest-mastodon-iframe.html") == [
        ("iframe", f"fosstodon.org/{SID}", "chris@fosstodon.org")]
    # 051: the same status also stands as plain text in a <pre>: not a link, not an embed
    assert sightings("051-fluidquest-mastodon-iframe-pre-url.html") == [
        ("iframe", "mastodon.acc.sunet.se/103920181819443082", "ashwinvis@mastodon.acc.sunet.se")]
    assert sightings("044-metrotimes-NEG-threads-profile.html") == []


@pytest.mark.parametrize("url, post", [
    (f"https://fosstodon.org/@chris/{SID}", POST), (f"https://FOSSTODON.org/@chris/{SID}/embed", POST),
    (f"https://fosstodon.org/users/chris/statuses/{SID}", POST),
    (f"https://fosstodon.org/@chris/1/embed", PostRef("mastodon", "fosstodon.org/1", "https://fosstodon.org/@chris/1")),
])
def test_identify(url: str, post: PostRef) -> None:
    assert mastodon.identify(url) == post


@pytest.mark.parametrize("url", [
    "https://mastodon.acc.sunet.se/@ashwinvis", "https://fosstodon.org/@chris/1",  # pre-2017 id as a link
    "https://fosstodon.org/tags/python", f"https://fosstodon.org/@chris/{SID}/reblogs",
    "https://www.newsbreak.com/@c/1599766", f"https://x.com/@chris/{SID}", f"https://localhost/@chris/{SID}",
])
def test_identify_rejects(url: str) -> None:
    assert mastodon.identify(url) is None


def test_lookup_goes_to_the_status_own_instance() -> None:
    from archiver.settings import Settings

    [lookup] = mastodon.lookups(POST, Settings())
    assert (lookup.endpoint, lookup.url) == ("mastodon.status", f"https://fosstodon.org/api/v1/statuses/{SID}")


STATUS = {
    "id": SID, "created_at": "2019-03-11T09:12:45.000Z", "in_reply_to_id": None, "sensitive": True,
    "spoiler_text": "politics", "visibility": "public", "language": "en",
    "uri": f"https://fosstodon.org/users/chris/statuses/{SID}", "url": f"https://fosstodon.org/@chris/{SID}",
    "replies_count": 1, "reblogs_count": 2, "favourites_count": 3, "edited_at": None,
    "content": '<p>Licensing matters <a href="https://fosstodon.org/tags/foss" class="mention hashtag">#<span>foss'
               '</span></a></p><p>second<br />line</p>',
    "account": {"id": "1", "username": "chris", "acct": "chris", "display_name": "Chris ", "url":
                "https://fosstodon.org/@chris"},
    "media_attachments": [{"id": "9", "type": "image", "url": "https://cdn.fosstodon.org/media/original/a.png",
                           "preview_url": "https://cdn.fosstodon.org/media/small/a.png", "description": "alt"}],
    "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
}


def ask(status: int | None, body: object = None, error: str | None = None) -> list[Answer]:
    raw = json.dumps(body).encode() if body is not None else b""
    return [Answer("mastodon.status", status, raw, error=error)]


def test_classify_public_status() -> None:
    check = mastodon.classify(POST, ask(200, STATUS))
    assert (check.status, check.author_handle, check.author_name) == (Status.AVAILABLE, "chris@fosstodon.org", "Chris")
    assert check.text == "Licensing matters #foss\n\nsecond\nline"
    assert (check.created_at, check.lang) == ("2019-03-11T09:12:45.000Z", "en")
    assert check.media == ("https://cdn.fosstodon.org/media/original/a.png",)
    assert check.extra["spoiler_text"] == "politics" and check.extra["sensitive"] is True


def test_classify_remote_account_keeps_its_domain() -> None:
    remote = dict(STATUS, account={"username": "alice", "acct": "alice@example.org", "display_name": ""})
    check = mastodon.classify(POST, ask(200, remote))
    assert (check.author_handle, check.author_name) == ("alice@example.org", None)


@pytest.mark.parametrize("status, body, verdict, retry", [
    (404, {"error": "Record not found"}, Status.NOT_FOUND, False),
    (410, {"error": "Gone"}, Status.DELETED, False),
    (401, {"error": "This API requires an authenticated user"}, Status.ERROR, False),
    (403, {"error": "This action is not allowed"}, Status.RESTRICTED, False),
    (429, {"error": "Too many requests"}, Status.ERROR, True),
    (503, None, Status.ERROR, True),
    (200, None, Status.ERROR, False),
])
def test_classify_other_answers(status: int, body: object, verdict: Status, retry: bool) -> None:
    check = mastodon.classify(POST, ask(status, body))
    assert (check.status, check.retry, check.http_status) == (verdict, retry, status)


def test_classify_network_error() -> None:
    check = mastodon.classify(POST, ask(None, error="name resolution failed"))
    assert (check.status, check.retry, check.detail) == (Status.ERROR, True, "name resolution failed")
