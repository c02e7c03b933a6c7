"""Page-level extraction: one document in, its embeds and links out. Pure and CPU-bound.

``extract_document`` decodes the bytes (recording which charset and why), parses
them once with lexbor (``archiver.dom``), walks the tree once for every tag any detector or the
link and fact readers ask for (``platforms.page.Page``), and hands that page to
every registered platform's detector; then to the same detectors again for each
snippet of markup the page hid from the parser (consent ``<textarea>``s, HTML
escaped into attributes, ``<template>`` contents).
It adds the posts the article only links to from its body (a detector may
report such links itself, kind "link", to add what only it can read from the
URL; either way a link counts only in the body and outside any embed), merges the
sightings into one embed per post, and places each embed: position, region,
CSS path, snippet.

No network, no files, no global state: the pipeline runs it in a process pool,
and the same bytes always give the same records. It never raises on a
document, however broken: a body nothing can be read from yields an empty
``Extraction``.
"""

from __future__ import annotations

import gc
from typing import Any, NamedTuple

from archiver import dom, platforms
from archiver.extract import charset as charsets
from archiver.extract.embeds import OrderKeys, Placed, assemble, order_key
from archiver.extract.links import LINK_TAGS, FoundLink, base_url, find_links
from archiver.extract.meta import FACT_TAGS, page_facts
from archiver.extract.regions import RegionMap
from archiver.extract.trees import EXTRA_TREE_TAGS, Tree, extra_trees, parse_document
from archiver.models import Embed, Extraction
from archiver.platforms.base import Sighting
from archiver.platforms.oembed import inside
from archiver.platforms.page import Page

__all__ = ["PAGE_TAGS", "extract_document", "extract_page"]


def extract_document(
    body: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    media: str = "html",
) -> Extraction:
    """Everything extraction finds in one document.

    ``body`` is the raw bytes (preferred: the charset decision is recorded) or
    text already decoded. ``url`` resolves relative links; ``content_type`` is
    the HTTP header, whose charset parameter comes first. ``media`` is "html"
    or "text" (scraped article text, where embeds survive only as text).
    """
    if isinstance(body, str):
        text, data, chosen, source = body, body.encode("utf-8", "replace"), None, None
    else:
        decoded = charsets.decode(bytes(body), content_type)
        text, chosen, source = decoded.text, decoded.charset, decoded.source
        data = decoded.utf8
    if media == "text":
        return Extraction(embeds=_text_embeds(text), charset=chosen, charset_source=source)
    root = parse_document(data)
    if root is None:
        return Extraction(embeds=(), charset=chosen, charset_source=source)
    collecting = gc.isenabled()
    gc.disable()  # nothing here makes reference cycles; the collector only walked the page's objects
    try:
        return extract_page(Page(root, tags=PAGE_TAGS, data=data), url, charset=chosen, charset_source=source)
    finally:
        if collecting:
            gc.enable()


def extract_page(page: Page, url: str | None, *, charset: str | None = None,
                 charset_source: str | None = None) -> Extraction:
    """What ``extract_document`` finds in a page it has parsed; ``page`` walked for ``PAGE_TAGS``.

    Every reader asks the page only for tags its one walk collected: a tag
    missing from ``PAGE_TAGS`` costs a walk of the whole tree (``page.walks``).
    """
    page.base_url = base_url(page, url)
    facts = page_facts(page, url)
    regions = RegionMap()
    links = find_links(page, url, regions)  # first: it hands the page its links' hosts
    found = _detect_all(page)
    placed = _placed(found, links, regions)
    return Extraction(
        embeds=assemble(placed),
        links=tuple(found.link for found in links),
        title=facts.title,
        canonical_url=facts.canonical_url,
        published=facts.published,
        lang=facts.lang,
        charset=charset,
        charset_source=charset_source,
    )


def _text_embeds(text: str) -> tuple[Embed, ...]:
    """Embeds that survive only as text; another module reads them (imported late on purpose)."""
    try:
        from archiver.extract.text import extract_text
    except ImportError:  # the text reader is optional until it lands
        return ()
    return tuple(extract_text(text))


PAGE_TAGS = tuple(dict.fromkeys(platforms.TAGS + LINK_TAGS + FACT_TAGS + EXTRA_TREE_TAGS))
"""What the page's one walk collects: every tag the detectors, links, facts and hidden markup read."""
_TREE_TAGS = tuple(dict.fromkeys(platforms.TAGS + ("a",)))


class _Found(NamedTuple):
    platform: str
    sighting: Sighting
    number: int  # of the tree: 0 for the page, then the re-parsed trees in order
    tree: Tree


def _detect_all(page: Page) -> list[_Found]:
    """Every platform's sightings in the page and in the markup it hid."""
    found: list[_Found] = []
    trees = [Tree(root=page.root)] + extra_trees(page)
    for number, tree in enumerate(trees):
        view = page if tree.host is None else Page(tree.root, page.base_url, tags=_TREE_TAGS)
        for platform in platforms.PLATFORMS:
            for sighting in platform.detect(view):
                if sighting.kind == "link" and tree.host is not None:
                    continue  # links count where a reader can follow them: in the page itself
                found.append(_Found(platform.NAME, sighting, number, tree))
    return found


def _placed(found: list[_Found], links: list[FoundLink], regions: RegionMap) -> list[Placed]:
    """The sightings that count, placed; then the posts the body only links to.

    Detectors' plain links count only in the body and outside any embed; the
    article's other body links count when no detector judged them and they name
    a post. Only what counts is placed (order, region): most links do not.
    """
    embedded = [f.sighting.element for f in found if f.sighting.kind != "link"]
    covered = _Covered(embedded)
    orders = OrderKeys()
    placed: list[Placed] = []
    judged: set[int] = set()  # mem_id of the links a detector reported
    for item in found:
        el = item.sighting.element
        if item.sighting.kind == "link":
            judged.add(el.mem_id)
            if regions.region_of(el) != "body" or covered(el):
                continue
        placed.append(_place(item, regions, orders))
    for link in links:
        if link.link.region != "body" or link.element.mem_id in judged:
            continue
        post = platforms.identify_at(link.link.url, link.link.host)
        if post is None or covered(link.element):
            continue
        sighting = Sighting(element=link.element, post=post, kind="link", url_as_found=link.href)
        placed.append(Placed(post.platform, sighting, orders(link.element), "body"))
    return placed


def _place(item: _Found, regions: RegionMap, orders: OrderKeys) -> Placed:
    """Where a sighting stood; one from a re-parsed tree stands at its host element."""
    el, tree = item.sighting.element, item.tree
    if tree.host is None:
        return Placed(item.platform, item.sighting, orders(el), regions.region_of(el))
    return Placed(item.platform, item.sighting, orders(tree.host) + (-1, item.number) + order_key(el),
                  regions.region_of(tree.host), tree.host, tree.origin)


class _Covered:
    """Whether an element is an embed's or inside one (a link there belongs to the embed)."""

    def __init__(self, embedded: list[Any]) -> None:
        self.embedded = embedded
        self._ids = {e.mem_id for e in embedded}
        self._anchors: set[int] | None = None

    def __call__(self, el: Any) -> bool:
        if not self.embedded:
            return False
        if el.tag != "a":
            return inside(el, self._ids)
        if self._anchors is None:  # the links inside embeds, found from the (few, small) embeds down
            self._anchors = {a.mem_id for e in self.embedded for a in dom.descendants(e, "a")}
        return el.mem_id in self._anchors or el.mem_id in self._ids
