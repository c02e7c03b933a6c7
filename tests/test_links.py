"""Outbound links: resolution, normalisation, anchor text, rel, region and position."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.extract import extract_document
from archiver.extract.links import normalize_url, resolve
from archiver.models import Link


def links(body: str, url: str | None = "https://News.Example/2020/story.html?x=1#top", head: str = "") -> list[Link]:
    html = f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()
    return list(extract_document(html, url=url).links)


def test_a_link_record() -> None:
    [link] = links("<article><p>See <a href='/2020/other.html#part' rel='nofollow noopener'>the\n  other\t"
                   "<b>story</b></a>.</p></article>")
    assert link == Link(
        url="https://News.Example/2020/other.html#part",
        normalized_url="https://news.example/2020/other.html",
        host="news.example",
        anchor_text="the other story",
        rel="nofollow noopener",
        region="body",
        position=0,
    )


@pytest.mark.parametrize(
    ("href", "url"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("HTTP://Example.org/A?b=C", "HTTP://Example.org/A?b=C"),
        ("/root", "https://News.Example/root"),
        ("sibling.html", "https://News.Example/2020/sibling.html"),
        ("../up.html", "https://News.Example/up.html"),
        ("/./dots/../x", "https://News.Example/x"),
        ("?page=2", "https://News.Example/2020/story.html?page=2"),
        ("//cdn.example/x.js", "https://cdn.example/x.js"),
        ("  https://example.org/padded  ", "https://example.org/padded"),
        ("#section", None),
        ("", None),
        ("mailto:desk@example.org", None),
        ("tel:+4930123", None),
        ("javascript:void(0)", None),
        ("ftp://example.org/file", None),
        ("whatsapp://send?text=x", None),
    ],
)
def test_resolution(href: str, url: str | None) -> None:
    found = links(f"<a href='{href}'>x</a>")
    assert [link.url for link in found] == ([url] if url else [])


def test_base_href_wins_over_the_page_url() -> None:
    [link] = links("<a href='img/a.html'>a</a>", head="<base href='/static/'>")
    assert link.url == "https://News.Example/static/img/a.html"
    [link] = links("<a href='b'>b</a>", url=None, head="<base href='https://mirror.example/dir/'>")
    assert link.url == "https://mirror.example/dir/b"


def test_relative_links_need_a_page_url() -> None:
    assert [link.url for link in links("<a href='/x'>x</a><a href='https://a.example/'>a</a>", url=None)] == [
        "https://a.example/"]


def test_protocol_relative_takes_the_page_scheme() -> None:
    [link] = links("<a href='//a.example/x'>x</a>", url="http://news.example/")
    assert link.url == "http://a.example/x"


@pytest.mark.parametrize(
    ("url", "normalized", "host"),
    [
        ("HTTPS://WWW.Example.ORG/Path/Case?Q=Keep&utm_source=x#frag",
         "https://www.example.org/Path/Case?Q=Keep&utm_source=x", "www.example.org"),
        ("http://Example.org:8080/a", "http://example.org:8080/a", "example.org"),
        ("https://User:Pw@Example.org/a#b", "https://User:Pw@example.org/a", "example.org"),
        ("http://[2001:DB8::1]/a", "http://[2001:db8::1]/a", "2001:db8::1"),
    ],
)
def test_normalization(url: str, normalized: str, host: str) -> None:
    assert normalize_url(url) == (normalized, host)


@pytest.mark.parametrize("url", ["http://[::1/x", "https:///nohost", "mailto:x@example.org", "http://"])
def test_unusable_urls_are_dropped(url: str) -> None:
    assert normalize_url(url) is None
    assert links(f"<a href='{url}'>x</a>") == []


def test_resolve_without_origin_matches_urljoin() -> None:
    assert resolve("/a", "https://x.example/b/c") == "https://x.example/a"
    assert resolve("a", None) is None


def test_positions_regions_and_duplicates() -> None:
    found = links("<header><nav><a href='/home'>Home</a></nav></header>"
                  "<article><p><a href='https://a.example/1'>one</a> <a href='https://a.example/1'>again</a></p>"
                  "<div class='share'><a href='https://twitter.com/intent/tweet?url=x'>Tweet</a></div></article>"
                  "<aside class='widget'><a href='https://twitter.com/ann/status/1'>latest</a></aside>"
                  "<div id='comments'><a href='https://commenter.example/'>me</a></div>"
                  "<footer><a href='/imprint'>Imprint</a></footer>")
    assert [(link.position, link.region, link.anchor_text) for link in found] == [
        (0, "nav", "Home"), (1, "body", "one"), (2, "body", "again"), (3, "aside", "Tweet"), (4, "aside", "latest"),
        (5, "comments", "me"), (6, "footer", "Imprint")]


def test_links_in_hidden_markup_are_not_page_links() -> None:
    """Textareas and attributes are re-parsed for embeds, but a reader cannot follow their links."""
    found = links("<textarea><p><a href='https://hidden.example/'>h</a></p></textarea>"
                  "<div data-html='&lt;a href=&quot;https://attr.example/&quot;&gt;a&lt;/a&gt;'></div>"
                  "<!-- <a href='https://comment.example/'>c</a> --><a href='https://shown.example/'>s</a>")
    assert [link.url for link in found] == ["https://shown.example/"]


def test_anchor_text_is_capped_and_empty_anchors_kept() -> None:
    found = links(f"<a href='https://a.example/'>{'word ' * 1000}</a><a href='https://b.example/'><img src=x></a>")
    assert (len(found[0].anchor_text), found[1].anchor_text, found[1].rel) == (2000, "", None)


def test_corpus_links(corpus_dir: Path) -> None:
    """015 readability: every outbound link of a small real page, in order."""
    page = (corpus_dir / "pages" / "015-readability-001-statuses-url.html").read_bytes()
    url = "https://nicolas.perriault.net/code/2013/get-your-frontend-javascript-code-covered/"
    found = extract_document(page, url=url).links
    assert len(found) == 30
    assert [link.position for link in found] == list(range(30))
    tweet = [link for link in found if "370525864523743232" in link.url]
    assert [(link.url, link.anchor_text, link.region) for link in tweet] == [
        ("https://twitter.com/ironshay/statuses/370525864523743232", "August 22, 2013", "body")]
    assert {link.host for link in found} >= {"nicolas.perriault.net", "twitter.com", "blanketjs.org"}
