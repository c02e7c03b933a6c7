"""Article URLs from RSS 2.0 (and 0.9x), RSS 1.0 (RDF) and Atom feeds.

Pure: the pipeline fetches the feed and hands over the body; ``read_feed_file``
reads a local copy. Elements are matched by local name, so the many namespace
variants found in the wild (RSS 0.90's Netscape namespace, Atom 0.3, feeds that
put Atom elements in RSS) read the same way.

Per entry:

- URL: ``feedburner:origLink`` (the article behind a FeedBurner redirect), else
  ``<link>`` (RSS: its text; Atom: the ``alternate`` link's ``href``, resolved
  against ``xml:base`` and the feed's address), else an RSS ``<guid>`` that is a
  permalink, else RSS 1.0's ``rdf:about``;
- ``published``: ``pubDate``, ``dc:date``, Atom ``published`` (``issued`` in 0.3);
  Atom's ``updated`` is a modification date, so it is not stored as published,
  but ``--since`` does use it when an entry has no publication date.

An entry without a usable URL, or with a date that cannot be read (the entry is
then kept, undated), is reported as a ``BadInput`` at its line. A broken feed is
read as far as libxml2 can recover it, and the breakage is reported too.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

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

_ENTRY = {"item", "entry"}
_FEED_ROOTS = {"rss", "rdf", "feed", "channel"}
_ATOM_PUBLISHED = ("published", "issued")
_RSS_PUBLISHED = ("pubdate", "date")  # dc:date has the local name "date"


def read_feed(body: bytes, *, where: str, since: datetime | None = None,
              ) -> tuple[list[ArticleInput], list[BadInput]]:
    """The articles a feed lists (first occurrence of each URL, in feed order) and its bad entries.

    ``where`` names the feed (its URL, or a path) in sources and messages;
    relative links resolve against it when it is a URL. With ``since``, entries
    dated before it are dropped; undated entries are kept.
    """
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip_bounded([body], MAX_XML_BYTES)
        except ValueError as exc:
            return [], [BadInput(where, f"feed {exc}")]
    base = where if where.lower().startswith(("http://", "https://")) else None
    root, problem = parse_xml(body, base_url=base)
    bad: list[BadInput] = []
    if root is None:
        return [], [BadInput(where, f"not a feed: {problem}")]
    if problem:
        bad.append(BadInput(where, problem))
    kind = local_name(root)
    if kind not in _FEED_ROOTS:
        return [], bad + [BadInput(where, f"not a feed (root element <{kind or '?'}>, expected rss, rdf:RDF or feed)")]
    atom = kind == "feed"
    source = f"feed {where}"
    articles: list[ArticleInput] = []
    seen: set[str] = set()
    for entry in root.iter():
        if local_name(entry) not in _ENTRY:
            continue
        at = f"{where}:{entry.sourceline}" if entry.sourceline else where
        link = _atom_link(entry, base) if atom else _rss_link(entry, base)
        if link is None:
            bad.append(BadInput(at, "entry without a link"))
            continue
        try:
            url = check_url(link)
        except InputError as exc:
            bad.append(BadInput(at, f"entry link: {exc}"))
            continue
        raw_published = child_text(entry, *(_ATOM_PUBLISHED if atom else _RSS_PUBLISHED))
        published = parse_date(raw_published) if raw_published else None
        if raw_published and published is None:
            bad.append(BadInput(at, f"unreadable date {raw_published[:60]!r}; entry kept without a date"))
        when = published
        if when is None and atom:
            when = parse_date(child_text(entry, "updated", "modified"))
        if not keep_since(when, since) or url in seen:
            continue
        seen.add(url)
        articles.append(ArticleInput(url, source, published=published))
    return articles, bad


def read_feed_file(path: str | os.PathLike[str], *, since: datetime | None = None,
                   ) -> tuple[list[ArticleInput], list[BadInput]]:
    """``read_feed`` over a local file (gzip allowed); InputError if it cannot be read at all."""
    body = read_bounded(path, MAX_XML_BYTES, what="feed")
    return read_feed(body, where=str(path), since=since)


def _rss_link(item: Any, base: str | None) -> str | None:
    orig = child_text(item, "origlink")
    if orig:
        return _absolute(orig, item, base)
    for child in item:
        if local_name(child) != "link":
            continue
        href = child.get("href")  # an atom:link inside an RSS item
        if href and child.get("rel", "alternate") != "alternate":
            continue
        text = (href or "".join(child.itertext())).strip()
        if text:
            return _absolute(text, item, base)
    for child in item:
        if local_name(child) == "guid" and (child.get("isPermaLink") or "true").strip().lower() != "false":
            text = "".join(child.itertext()).strip()
            if text.lower().startswith(("http://", "https://")):
                return text
    about = _rdf_about(item)
    return about.strip() if about else None


def _atom_link(entry: Any, base: str | None) -> str | None:
    orig = child_text(entry, "origlink")
    if orig:
        return _absolute(orig, entry, base)
    best: tuple[int, str] | None = None
    for child in entry:
        if local_name(child) != "link" or not (child.get("href") or "").strip():
            continue
        rel = (child.get("rel") or "alternate").strip().lower()
        if rel != "alternate":
            continue
        kind = (child.get("type") or "text/html").lower()
        rank = 0 if "html" in kind else 1
        if best is None or rank < best[0]:
            best = (rank, _absolute(child.get("href").strip(), child, base))
    return best[1] if best else None


def _absolute(href: str, el: Any, base: str | None) -> str:
    """``href`` resolved against ``xml:base`` (lxml's ``el.base`` folds in ancestors and the feed URL)."""
    if href.lower().startswith(("http://", "https://")):
        return href
    element_base = el.base if isinstance(el.base, str) else None
    anchor = element_base or base
    return urljoin(anchor, href) if anchor else href


def _rdf_about(item: Any) -> str | None:
    for name, value in item.attrib.items():
        if name.rsplit("}", 1)[-1] == "about":
            return value
    return None
