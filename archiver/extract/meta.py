"""The article's own facts from its ``<head>``: title, canonical URL, publication time, language.

They identify the article across URL variants (the canonical URL) and date the
embeds (a tweet embedded in a 2016 article was public in 2016). Only the
common, machine-readable declarations are read: Open Graph, ``article:``
meta properties, ``link rel=canonical``, ``html[lang]``; nothing is guessed
from visible text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver import dom
from archiver.extract.embeds import order_key
from archiver.extract.links import resolve
from archiver.platforms.page import Page

FACT_TAGS = ("meta", "link", "title", "time")
"""The tags the facts are read from (extraction collects them in the page's one walk)."""

_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)


@dataclass(frozen=True)
class PageFacts:
    title: str | None = None
    canonical_url: str | None = None
    published: str | None = None
    lang: str | None = None


def page_facts(page: Page | Any, page_url: str | None) -> PageFacts:
    """Title, canonical URL, publication time and language as the page declares them.

    ``page`` is a ``Page`` (the elements come from its one walk) or a parsed tree.
    """
    if not isinstance(page, Page):
        page = Page(page)
    root = page.root
    metas: dict[str, str] = {}
    published_by: Any = None  # the <meta> that said "datepublished" first
    for el in page.tagged("meta"):
        if _add_meta(metas, el) and published_by is None and "datepublished" in metas:
            published_by = el
    for el in page.tagged("time"):
        attributes = el.attributes
        if attributes.get("itemprop") == "datePublished":
            # the first in document order wins, between a <meta> and a <time> too
            if published_by is None or order_key(el) < order_key(published_by):
                metas["datepublished"] = _clean(attributes.get("datetime") or dom.text_content(el)) or ""
            break
    title = None
    for el in page.tagged("title"):
        shown = _clean(dom.text_content(el))
        if shown:
            title = shown
            break
    canonical = None
    for el in page.tagged("link"):
        attributes = el.attributes
        if "canonical" in (attributes.get("rel") or "").lower().split():
            canonical = resolve(attributes.get("href") or "", page_url)
            break
    if canonical is None and metas.get("og:url"):
        canonical = resolve(metas["og:url"], page_url)
    published = next((metas[k] for k in _PUBLISHED_META if metas.get(k)), None)
    lang = _clean(root.attributes.get("lang")) or metas.get("content-language") or metas.get("og:locale")
    return PageFacts(
        title=_clip(metas.get("og:title") or title),
        canonical_url=canonical,
        published=_clip(published),
        lang=_clip(lang, 35),
    )


def _add_meta(values: dict[str, str], meta: Any) -> bool:
    """A ``<meta>`` value by lower-cased name, property, itemprop or http-equiv; the first wins.

    True when the element had a value to add.
    """
    attributes = meta.attributes
    content = _clean(attributes.get("content"))
    if not content:
        return False
    for attr in ("property", "name", "itemprop", "http-equiv"):
        key = (attributes.get(attr) or "").strip().lower()
        if key and key not in values:
            values[key] = content
    return True


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())  # what sub(r"\s+", " ") and strip() make of it, a third of the time
    return value or None


def _clip(value: str | None, limit: int = 1000) -> str | None:
    return value[:limit] if value else None
