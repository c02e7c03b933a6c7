"""Article URLs from sitemaps (sitemaps.org 0.9), sitemap indexes and Google News sitemaps.

Pure, like feeds: the pipeline fetches each sitemap (a ``.xml.gz`` arrives as
gzip bytes; it is decompressed here, within the protocol's 50 MB) and follows
the nested sitemaps an index names by calling ``read_sitemap`` on each.

Dates: a ``<url>``'s ``news:publication_date`` is its publication date and is
stored as ``published``; ``<lastmod>`` is only when the page last changed, so it
is never stored as published, but ``--since`` uses it when there is no
publication date. In an index, ``--since`` drops nested sitemaps whose
``lastmod`` is before the cut-off (unchanged since then, they list nothing
newer). Anything undated is kept.

The protocol's plain-text form (one URL per line) is read too.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from archiver.errors import InputError
from archiver.sources.base import ArticleInput, BadInput
from archiver.sources.detect import (
    MAX_XML_BYTES,
    child_text,
    gunzip_bounded,
    keep_since,
    local_name,
    parse_date,
    parse_xml,
    read_bounded,
)
from archiver.sources.urls import check_url

SitemapResult = tuple[list[ArticleInput], list[str], list[BadInput]]


def read_sitemap(body: bytes, *, where: str, since: datetime | None = None) -> SitemapResult:
    """(articles, nested sitemap URLs, bad items) from one sitemap or sitemap index body.

    ``where`` names the sitemap (its URL or path) in sources and messages. Each
    URL is listed once, in document order.
    """
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip_bounded([body], MAX_XML_BYTES)
        except ValueError as exc:
            return [], [], [BadInput(where, f"sitemap {exc}")]
    if _is_text_sitemap(body):
        return _text_sitemap(body, where, since)
    root, problem = parse_xml(body)
    if root is None:
        return [], [], [BadInput(where, f"not a sitemap: {problem}")]
    bad = [BadInput(where, problem)] if problem else []
    kind = local_name(root)
    if kind == "urlset":
        articles, more_bad = _urlset(root, where, since)
        return articles, [], bad + more_bad
    if kind == "sitemapindex":
        nested, more_bad = _index(root, where, since)
        return [], nested, bad + more_bad
    return [], [], bad + [BadInput(where, f"not a sitemap (root element <{kind or '?'}>, expected urlset or sitemapindex)")]


def read_sitemap_file(path: str | os.PathLike[str], *, since: datetime | None = None) -> SitemapResult:
    """``read_sitemap`` over a local file (``.xml`` or ``.xml.gz``); InputError if unreadable."""
    body = read_bounded(path, MAX_XML_BYTES, what="sitemap")
    return read_sitemap(body, where=str(path), since=since)


def _urlset(root: Any, where: str, since: datetime | None) -> tuple[list[ArticleInput], list[BadInput]]:
    source = f"sitemap {where}"
    articles: list[ArticleInput] = []
    bad: list[BadInput] = []
    seen: set[str] = set()
    for entry in root:
        if local_name(entry) != "url":
            continue
        at = f"{where}:{entry.sourceline}"
        url = _loc(entry, at, bad)
        if url is None:
            continue
        published = _date(_news_date(entry), at, bad)
        lastmod = _date(child_text(entry, "lastmod"), at, bad)
        if not keep_since(published or lastmod, since) or url in seen:
            continue
        seen.add(url)
        articles.append(ArticleInput(url, source, published=published))
    return articles, bad


def _index(root: Any, where: str, since: datetime | None) -> tuple[list[str], list[BadInput]]:
    nested: list[str] = []
    bad: list[BadInput] = []
    for entry in root:
        if local_name(entry) != "sitemap":
            continue
        at = f"{where}:{entry.sourceline}"
        url = _loc(entry, at, bad)
        if url is None:
            continue
        lastmod = _date(child_text(entry, "lastmod"), at, bad)
        if keep_since(lastmod, since) and url not in nested:
            nested.append(url)
    return nested, bad


def _is_text_sitemap(body: bytes) -> bool:
    """The text form starts with a URL; anything else goes to the XML parser (and its message)."""
    first = body.removeprefix(b"\xef\xbb\xbf").lstrip()[:8192].split(b"\n", 1)[0]
    try:
        check_url(first.decode("utf-8"))
    except (InputError, UnicodeDecodeError):
        return False
    return True


def _text_sitemap(body: bytes, where: str, since: datetime | None) -> SitemapResult:
    """One URL per line (sitemaps.org's text form); no dates, so ``since`` keeps them all."""
    del since
    articles: list[ArticleInput] = []
    bad: list[BadInput] = []
    seen: set[str] = set()
    for n, raw in enumerate(body.removeprefix(b"\xef\xbb\xbf").splitlines(), 1):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        try:
            url = check_url(line)
        except InputError as exc:
            bad.append(BadInput(f"{where}:{n}", str(exc)))
            continue
        if url not in seen:
            seen.add(url)
            articles.append(ArticleInput(url, f"sitemap {where}"))
    return articles, [], bad


def _loc(entry: Any, at: str, bad: list[BadInput]) -> str | None:
    loc = child_text(entry, "loc")
    if loc is None:
        bad.append(BadInput(at, "entry without <loc>"))
        return None
    try:
        return check_url(loc)
    except InputError as exc:
        bad.append(BadInput(at, f"<loc>: {exc}"))
        return None


def _news_date(entry: Any) -> str | None:
    for child in entry:
        if local_name(child) == "news":
            return child_text(child, "publication_date")
    return None


def _date(raw: str | None, at: str, bad: list[BadInput]) -> str | None:
    if not raw:
        return None
    value = parse_date(raw)
    if value is None:
        bad.append(BadInput(at, f"unreadable date {raw[:60]!r}; entry kept without a date"))
    return value
