"""The article's own facts from its ``<head>``: title, canonical URL, publication time, language.

They identify the article across URL variants (the canonical URL) and date the
embeds (a tweet embedded in a 2016 article was public in 2016). Only the
common, machine-readable declarations are read: Open Graph, ``article:``
meta properties, ``link rel=canonical``, ``html[lang]``; nothing is guessed
from visible text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from archiver.extract.links import resolve

_SPACE = re.compile(r"\s+")
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


def page_facts(root: Any, page_url: str | None) -> PageFacts:
    """Title, canonical URL, publication time and language as the page declares them."""
    metas: dict[str, str] = {}
    title = canonical = None
    for el in root.iter("meta", "link", "title", "time"):
        tag = el.tag
        if tag == "meta":
            _add_meta(metas, el)
        elif tag == "time":
            if el.get("itemprop") == "datePublished" and "datepublished" not in metas:
                metas["datepublished"] = _clean(el.get("datetime") or el.text_content()) or ""
        elif tag == "title":
            title = title or _clean(el.text_content())
        elif canonical is None and "canonical" in (el.get("rel") or "").lower().split():
            canonical = resolve(el.get("href") or "", page_url)
    if canonical is None and metas.get("og:url"):
        canonical = resolve(metas["og:url"], page_url)
    published = next((metas[k] for k in _PUBLISHED_META if metas.get(k)), None)
    lang = _clean(root.get("lang")) or metas.get("content-language") or metas.get("og:locale")
    return PageFacts(
        title=_clip(metas.get("og:title") or title),
        canonical_url=canonical,
        published=_clip(published),
        lang=_clip(lang, 35),
    )


def _add_meta(values: dict[str, str], meta: Any) -> None:
    """A ``<meta>`` value by lower-cased name, property, itemprop or http-equiv; the first wins."""
    content = _clean(meta.get("content"))
    if not content:
        return
    for attr in ("property", "name", "itemprop", "http-equiv"):
        key = (meta.get(attr) or "").strip().lower()
        if key and key not in values:
            values[key] = content


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = _SPACE.sub(" ", value).strip()
    return value or None


def _clip(value: str | None, limit: int = 1000) -> str | None:
    return value[:limit] if value else None
