"""Threads: the text-post-media blockquote, embed iframes, links; post-code identity; unsupported lookups."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import PostRef, Status
from archiver.platforms import threads
from archiver.platforms.page import Page
from archiver.settings import Settings

CODE = "Cur1XcYPSaA"
POST = PostRef("threads", CODE, f"https://www.threads.com/@zuck/post/{CODE}")

# the embed code Threads hands out (the SVG logo trimmed)
BLOCKQUOTE = f"""<blockquote class="text-post-media"
 data-text-post-permalink="https://www.threads.net/@zuck/post/{CODE}" data-text-post-version="0" id="ig-tp-{CODE}"
 style=" background:#FFF; border-radius: 16px;">
 <a href="https://www.threads.net/@zuck/post/{CODE}" style="background:#FFFFFF;" target="_blank">
 <div style="padding: 40px;"><div style="display:block; height:32px;"></div>
 <div style="font-size: 15px;">View on Threads</div></div></a>
 </blockquote> <script async src="https://www.threads.net/embed.js"></script>"""


def detect(html: str, base_url: str | None = None) -> list:
    return list(threads.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), base_url)))


def test_blockquote() -> None:
    [s] = detect(BLOCKQUOTE)
    assert (s.kind, s.post, s.author_handle, s.fallback_text) == ("blockquote", POST, "zuck", None)
    assert s.url_as_found == f"https://www.threads.net/@zuck/post/{CODE}"


def test_site_relative_permalink_is_relative_to_threads() -> None:
    markup = f'<blockquote class="text-post-media" data-text-post-permalink="/@zuck/post/{CODE}"></blockquote>'
    [s] = detect(markup, "https://news.example/article")
    assert s.post == POST


@pytest.mark.parametrize("markup, kind, post", [
    (f'<iframe src="https://www.threads.net/@zuck/post/{CODE}/embed/"></iframe>', "iframe", POST),
    (f'<a href="https://www.threads.com/@zuck/post/{CODE}?xmt=AQGz">post</a>', "link", POST),
    (f'<a href="https://www.threads.net/t/{CODE}/">short</a>', "link",
     PostRef("threads", CODE, f"https://www.threads.com/t/{CODE}")),
])
def test_other_markup_forms(markup: str, kind: str, post: PostRef) -> None:
    assert [(s.kind, s.post) for s in detect(markup)] == [(kind, post)]


@pytest.mark.parametrize("markup", [
    '<a href="https://www.threads.net/@metrotimes" target="_self">Threads</a>',
    '<a href="https://www.threads.net/@thelocalsweden"><i class="fab fa-square-threads"></i></a>',
    '<blockquote class="text-post-media"></blockquote>',
    '<a href="https://www.threads.net/intent/post?text=x">share</a>',
])
def test_traps(markup: str) -> None:
    assert detect(markup) == []


def test_corpus_profile_links_are_not_posts(corpus_dir: Path) -> None:
    for name in ("025-thelocal-se-instagram.html", "044-metrotimes-NEG-threads-profile.html"):
        root = page_root(corpus_dir / "pages" / name)
        assert list(threads.detect(Page(root, None))) == [], name


@pytest.mark.parametrize("url", [
    f"https://www.threads.net/@zuck/post/{CODE}", f"https://threads.net/@zuck/post/{CODE}/",
    f"https://www.threads.com/@zuck/post/{CODE}?xmt=1", f"https://www.threads.net/@zuck/post/{CODE}/embed",
])
def test_identify(url: str) -> None:
    assert threads.identify(url) == POST


@pytest.mark.parametrize("url", [
    "https://www.threads.net/@zuck", "https://www.threads.net/", "https://www.threads.net/@zuck/post/",
    f"https://www.notthreads.net/@zuck/post/{CODE}",
])
def test_identify_rejects(url: str) -> None:
    assert threads.identify(url) is None


def test_no_endpoint_means_unsupported() -> None:
    assert threads.lookups(POST, Settings(meta_access_token="T")) == []
    check = threads.classify(POST, [])
    assert check.status is Status.UNSUPPORTED and check.detail == threads.UNSUPPORTED
