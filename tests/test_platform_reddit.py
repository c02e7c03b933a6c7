"""Reddit: both blockquote generations, embed iframes, links; submission identity; oEmbed verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import reddit
from archiver.platforms.page import Page
from archiver.settings import Endpoints, Settings

POST = PostRef("reddit", "7pfpeq", "https://www.reddit.com/r/investing/comments/7pfpeq/")
TITLE = "Buffett on cyrptocurrencies: 'I can say almost with certainty that they will come to a bad ending'"


def detect(html: str) -> list:
    return list(reddit.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


@pytest.mark.parametrize("name, handle", [("oembed-1.json", "dennisrieves"), ("oembed-2.json", None)])
def test_both_blockquote_generations_from_real_oembed_html(corpus_dir: Path, name: str, handle: str | None) -> None:
    html = json.loads((corpus_dir / "api" / "reddit" / name).read_text())["html"]
    [s] = detect(html)
    assert (s.kind, s.post, s.author_handle, s.fallback_text) == ("blockquote", POST, handle, TITLE)


@pytest.mark.parametrize("markup, kind", [
    ('<iframe src="https://embed.reddit.com/r/investing/comments/7pfpeq/buffett/?embed=true&theme=dark"></iframe>',
     "iframe"),
    ('<iframe data-src="https://www.redditmedia.com/r/investing/comments/7pfpeq/buffett/?ref_source=embed&embed=true">'
     '</iframe>', "iframe"),
    ('<amp-reddit data-embedtype="post" data-src="https://www.reddit.com/r/investing/comments/7pfpeq/b/"></amp-reddit>',
     "amp"),
    ('<a href="https://old.reddit.com/r/investing/comments/7pfpeq/buffett/">thread</a>', "link"),
    ('<blockquote class="reddit-embed-bq" data-embed-height="316"><a '
     'href="https://www.reddit.com/r/investing/comments/7pfpeq/">t</a></blockquote>', "blockquote"),
])
def test_other_markup_forms(markup: str, kind: str) -> None:
    assert [(s.kind, s.post.post_id) for s in detect(markup)] == [(kind, "7pfpeq")]


@pytest.mark.parametrize("markup", [
    '<a href="https://www.reddit.com/r/DetroitMetroTimes/">Reddit</a>',
    '<a href="https://www.reddit.com/submit?title=x&url=https%3A%2F%2Fnews.example">Share on Reddit</a>',
    '<a href="http://reddit.com/submit?url={shareURL}">Reddit</a>',
    '<a href="https://www.reddit.com/user/dennisrieves/">u</a><img src="https://i.redd.it/abc.jpg">',
    '<blockquote class="reddit-embed-bq"><a href="https://www.reddit.com/r/investing/">r/investing</a></blockquote>',
])
def test_traps(markup: str) -> None:
    assert detect(markup) == []


def test_corpus_share_buttons_are_not_posts(corpus_dir: Path) -> None:
    for name in ("043-washingtonpost-NEG-share-widgets.html", "044-metrotimes-NEG-threads-profile.html"):
        root = page_root(corpus_dir / "pages" / name)
        assert list(reddit.detect(Page(root, None))) == [], name


@pytest.mark.parametrize("url, canonical", [
    ("https://www.reddit.com/r/investing/comments/7pfpeq/buffett_on_cyrptocurrencies/?rdt=59640", POST.url),
    ("https://old.reddit.com/r/investing/comments/7pfpeq/", POST.url),
    ("https://np.reddit.com/r/investing/comments/7PFPEQ/x/", POST.url),
    ("https://embed.reddit.com/r/investing/comments/7pfpeq/buffett/?embed=true", POST.url),
    ("https://redd.it/7pfpeq", "https://www.reddit.com/comments/7pfpeq/"),
    ("https://www.reddit.com/comments/7pfpeq", "https://www.reddit.com/comments/7pfpeq/"),
    ("https://www.reddit.com/user/dennisrieves/comments/7pfpeq/x/", "https://www.reddit.com/comments/7pfpeq/"),
    ("https://www.reddit.com/r/investing/comments/7pfpeq/buffett/dsgyz1x/",
     "https://www.reddit.com/r/investing/comments/7pfpeq/comment/dsgyz1x/"),
    ("https://www.reddit.com/r/investing/comments/7pfpeq/comment/dsgyz1x/?context=3",
     "https://www.reddit.com/r/investing/comments/7pfpeq/comment/dsgyz1x/"),
])
def test_identify_keys_by_submission(url: str, canonical: str) -> None:
    assert reddit.identify(url) == PostRef("reddit", "7pfpeq", canonical)


@pytest.mark.parametrize("url", [
    "https://www.reddit.com/r/investing/", "https://www.reddit.com/user/dennisrieves/",
    "https://www.reddit.com/r/investing/s/AbCdEf12", "https://i.redd.it/abcdef.jpg", "https://v.redd.it/abcdef",
    "https://www.reddit.com/submit?url=x", "https://www.notreddit.com/r/x/comments/7pfpeq/",
])
def test_identify_rejects(url: str) -> None:
    assert reddit.identify(url) is None


def test_lookup() -> None:
    [lookup] = reddit.lookups(POST, Settings(endpoints=Endpoints(reddit_oembed="http://127.0.0.1:9/oembed")))
    assert (lookup.endpoint, lookup.url) == (
        "reddit.oembed",
        "http://127.0.0.1:9/oembed?url=https%3A%2F%2Fwww.reddit.com%2Fr%2Finvesting%2Fcomments%2F7pfpeq%2F")


@pytest.mark.parametrize("name", ["oembed-1.json", "oembed-2.json"])
def test_classify_real_answers(corpus_dir: Path, name: str) -> None:
    body = (corpus_dir / "api" / "reddit" / name).read_bytes()
    check = reddit.classify(POST, [Answer("reddit.oembed", 200, body)])
    assert (check.status, check.author_name, check.author_handle, check.text, check.detail) == (
        Status.AVAILABLE, "dennisrieves", "dennisrieves", TITLE, None)


def test_classify_deleted_author_is_still_served() -> None:
    body = json.dumps({"type": "rich", "author_name": "[deleted]", "title": "gone?", "provider_name": "reddit"})
    check = reddit.classify(POST, [Answer("reddit.oembed", 200, body.encode())])
    assert (check.status, check.author_handle, check.detail) == (
        Status.AVAILABLE, None, "served, but the author shows as [deleted]")


@pytest.mark.parametrize("status, verdict, retry", [
    (404, Status.NOT_FOUND, False), (403, Status.RESTRICTED, False), (429, Status.ERROR, True),
    (500, Status.ERROR, True), (400, Status.ERROR, False),
])
def test_classify_http_statuses(status: int, verdict: Status, retry: bool) -> None:
    check = reddit.classify(POST, [Answer("reddit.oembed", status, b'{"message": "x", "error": %d}' % status)])
    assert (check.status, check.retry, check.http_status) == (verdict, retry, status)
