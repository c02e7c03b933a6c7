"""Bluesky: blockquote, embed iframe, links; at-uri identity; AppView getPostThread verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import bluesky
from archiver.platforms.page import Page
from archiver.settings import Endpoints, Settings

DID = "did:plc:2yxw2iku77om6gswp7sl3njb"
RKEY = "3ldjr6ckmqk2q"
AT = f"at://{DID}/app.bsky.feed.post/{RKEY}"
POST = PostRef("bluesky", AT, f"https://bsky.app/profile/{DID}/post/{RKEY}")
BY_HANDLE = PostRef("bluesky", f"at://pagghiu.bsky.social/app.bsky.feed.post/{RKEY}",
                    f"https://bsky.app/profile/pagghiu.bsky.social/post/{RKEY}")

BLOCKQUOTE = f"""<blockquote class="bluesky-embed" data-bluesky-uri="{AT}" data-bluesky-cid="bafyreigzeq">
<p lang="en">C/C++ compression tip: avoid deploying zlib.</p>&mdash; Stefano Cristiano (<a
 href="https://bsky.app/profile/{DID}?ref_src=embed">@pagghiu.bsky.social</a>) <a
 href="https://bsky.app/profile/{DID}/post/{RKEY}?ref_src=embed">December 17, 2024 at 10:14 PM</a></blockquote>
<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>"""


def detect(html: str) -> list:
    return list(bluesky.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


def test_blockquote_text_footer_and_lang() -> None:
    [s] = detect(BLOCKQUOTE)
    assert (s.kind, s.post, s.url_as_found) == ("blockquote", POST, AT)
    assert (s.author_name, s.author_handle, s.shown_date, s.lang) == (
        "Stefano Cristiano", "pagghiu.bsky.social", "December 17, 2024 at 10:14 PM", "en")
    assert s.fallback_text == "C/C++ compression tip: avoid deploying zlib."


def test_corpus_page_034(corpus_dir: Path) -> None:
    root = page_root(corpus_dir / "pages" / "034-pagghiu-blog-bluesky.html")
    [s] = bluesky.detect(Page(root, None))
    assert (s.kind, s.post, s.author_handle, s.author_name, s.lang) == (
        "blockquote", POST, "pagghiu.bsky.social", "Stefano Cristiano", "en")
    assert s.fallback_text.startswith("C/C++ compression tip: Avoid deploying zlib binary")
    assert s.shown_date == "December 17, 2024 at 10:14 PM"


@pytest.mark.parametrize("markup, kind, post", [
    (f'<iframe src="https://embed.bsky.app/embed/{DID}/app.bsky.feed.post/{RKEY}?id=1&ref_url=x"></iframe>',
     "iframe", POST),
    (f'<a href="https://bsky.app/profile/{DID}/post/{RKEY}">post</a>', "link", POST),
    (f'<a href="https://bsky.app/profile/Pagghiu.bsky.social/post/{RKEY}">post</a>', "link", BY_HANDLE),
    (f'<blockquote class="bluesky-embed"><a href="https://bsky.app/profile/{DID}/post/{RKEY}">x</a></blockquote>',
     "blockquote", POST),
])
def test_other_markup_forms(markup: str, kind: str, post: PostRef) -> None:
    assert [(s.kind, s.post) for s in detect(markup)] == [(kind, post)]


@pytest.mark.parametrize("markup", [
    '<a href="https://bsky.app/profile/pagghiu.bsky.social">profile</a>',
    '<a href="https://bsky.app/intent/compose?text=x">share</a>',
    '<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:x/app.bsky.feed.like/3ld"></blockquote>',
])
def test_traps(markup: str) -> None:
    assert detect(markup) == []


@pytest.mark.parametrize("url, post", [
    (AT, POST), (f"https://bsky.app/profile/{DID}/post/{RKEY}?ref_src=embed", POST),
    (f"https://embed.bsky.app/embed/{DID}/app.bsky.feed.post/{RKEY}", POST),
    (f"https://bsky.app/profile/Pagghiu.Bsky.Social/post/{RKEY}", BY_HANDLE),
    (f"at://pagghiu.bsky.social/app.bsky.feed.post/{RKEY}", BY_HANDLE),
])
def test_identify_same_author_form_same_key(url: str, post: PostRef) -> None:
    assert bluesky.identify(url) == post


@pytest.mark.parametrize("url", [
    "https://bsky.app/profile/pagghiu.bsky.social", f"at://{DID}", f"at://{DID}/app.bsky.feed.like/{RKEY}",
    f"https://bsky.app/profile/{DID}/lists/{RKEY}", f"https://notbsky.app/profile/{DID}/post/{RKEY}",
])
def test_identify_rejects(url: str) -> None:
    assert bluesky.identify(url) is None


def test_lookup_asks_the_appview_for_the_at_uri() -> None:
    settings = Settings(endpoints=Endpoints(bluesky_appview="http://127.0.0.1:9/xrpc"))
    [lookup] = bluesky.lookups(POST, settings)
    assert lookup.endpoint == "bluesky.getPostThread"
    assert lookup.url == ("http://127.0.0.1:9/xrpc/app.bsky.feed.getPostThread?uri=at%3A%2F%2Fdid%3Aplc%3A"
                          "2yxw2iku77om6gswp7sl3njb%2Fapp.bsky.feed.post%2F3ldjr6ckmqk2q&depth=0&parentHeight=0")


THREAD = {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": {
    "uri": AT, "cid": "bafyreigzeq",
    "author": {"did": DID, "handle": "pagghiu.bsky.social", "displayName": "Stefano Cristiano", "labels": []},
    "record": {"$type": "app.bsky.feed.post", "createdAt": "2024-12-17T22:14:05.123Z", "langs": ["en"],
               "text": "C/C++ compression tip"},
    "embed": {"$type": "app.bsky.embed.images#view", "images": [
        {"thumb": "https://cdn.bsky.app/img/feed_thumbnail/plain/x@jpeg",
         "fullsize": "https://cdn.bsky.app/img/feed_fullsize/plain/x@jpeg", "alt": ""}]},
    "replyCount": 0, "repostCount": 1, "likeCount": 3, "indexedAt": "2024-12-17T22:14:06.000Z",
    "labels": [{"src": DID, "uri": AT, "val": "graphic-media", "cts": "2024-12-17T22:15:00.000Z"}]},
    "replies": []}}


def ask(status: int | None, body: object) -> list[Answer]:
    return [Answer("bluesky.getPostThread", status, json.dumps(body).encode() if body is not None else b"")]


def test_classify_thread_view() -> None:
    check = bluesky.classify(POST, ask(200, THREAD))
    assert (check.status, check.author_handle, check.author_name, check.text) == (
        Status.AVAILABLE, "pagghiu.bsky.social", "Stefano Cristiano", "C/C++ compression tip")
    assert (check.created_at, check.lang) == ("2024-12-17T22:14:05.123Z", "en")
    assert check.media == ("https://cdn.bsky.app/img/feed_fullsize/plain/x@jpeg",)
    assert check.extra == {"uri": AT, "cid": "bafyreigzeq", "did": DID, "labels": ["graphic-media"]}


@pytest.mark.parametrize("status, body, verdict, retry", [
    (400, {"error": "NotFound", "message": f"Post not found: {AT}"}, Status.NOT_FOUND, False),
    (200, {"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": AT, "notFound": True}},
     Status.NOT_FOUND, False),
    (200, {"thread": {"$type": "app.bsky.feed.defs#blockedPost", "uri": AT, "blocked": True,
                      "author": {"did": DID}}}, Status.RESTRICTED, False),
    (400, {"error": "InvalidRequest", "message": "Error: uri must be a valid at-uri"}, Status.ERROR, False),
    (502, None, Status.ERROR, True),
    (429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, Status.ERROR, True),
    (200, {"thread": {"$type": "app.bsky.feed.defs#somethingNew"}}, Status.ERROR, False),
])
def test_classify_other_answers(status: int, body: object, verdict: Status, retry: bool) -> None:
    check = bluesky.classify(POST, ask(status, body))
    assert (check.status, check.retry, check.http_status) == (verdict, retry, status)


def test_classify_not_found_detail() -> None:
    check = bluesky.classify(POST, ask(400, {"error": "NotFound", "message": "Post not found: x"}))
    assert check.detail == "AppView: NotFound Post not found: x"
