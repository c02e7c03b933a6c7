"""Page-level extraction: one document in, its embeds and links out. Pure and CPU-bound.

``extract_document`` decodes the bytes (recording which charset and why), parses
them once with libxml2, and hands the tree to every registered platform's
detector; then to the same detectors again for each snippet of markup the page
hid from the parser (consent ``<textarea>``s, HTML escaped into attributes).
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

from typing import Any

from archiver import platforms
from archiver.extract import charset as charsets
from archiver.extract.embeds import Placed, assemble, css_path, order_key
from archiver.extract.links import FoundLink, base_url, find_links
from archiver.extract.meta import page_facts
from archiver.extract.regions import RegionMap
from archiver.extract.trees import Tree, extra_trees, parse_document
from archiver.models import Embed, Extraction
from archiver.platforms.base import Sighting
from archiver.platforms.oembed import inside

__all__ = ["extract_document"]


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
        data = decoded.data if chosen == "utf-8" else text.encode("utf-8", "replace")
    if media == "text":
        return Extraction(embeds=_text_embeds(text), charset=chosen, charset_source=source)
    root = parse_document(data)
    if root is None:
        return Extraction(embeds=(), charset=chosen, charset_source=source)
    facts = page_facts(root, url)
    regions = RegionMap()
    sightings = _detect_all(root, data, base_url(root, url), regions)
    links = find_links(root, url, regions)
    placed = _body_links(sightings) + _link_only(links, sightings)
    return Extraction(
        embeds=assemble(placed),
        links=tuple(found.link for found in links),
        title=facts.title,
        canonical_url=facts.canonical_url,
        published=facts.published,
        lang=facts.lang,
        charset=chosen,
        charset_source=source,
    )


def _text_embeds(text: str) -> tuple[Embed, ...]:
    """Embeds that survive only as text; another module reads them (imported late on purpose)."""
    try:
        from archiver.extract.text import extract_text
    except ImportError:  # the text reader is optional until it lands
        return ()
    return tuple(extract_text(text))


def _detect_all(root: Any, data: bytes, base: str | None, regions: RegionMap) -> list[Placed]:
    """Every platform's sightings in the page and in the markup it hid."""
    placed: list[Placed] = []
    trees = [Tree(root=root)] + extra_trees(root, data)
    for number, tree in enumerate(trees):
        for platform in platforms.PLATFORMS:
            for sighting in platform.detect(tree.root, base):
                if sighting.kind == "link" and tree.host is not None:
                    continue  # links count where a reader can follow them: in the page itself
                placed.append(_place(platform.NAME, sighting, tree, number, regions))
    return placed


def _place(platform: str, sighting: Sighting, tree: Tree, number: int, regions: RegionMap) -> Placed:
    """Where a sighting stood; one from a re-parsed tree stands at its host element."""
    el = sighting.element
    if tree.host is None:
        return Placed(platform, sighting, order_key(el), regions.region_of(el), css_path(el))
    host_path = css_path(tree.host)
    if tree.origin and tree.origin.startswith("attr:"):
        host_path += "[" + tree.origin.split("[", 1)[1]
    inner = css_path(el, depth=2)
    return Placed(
        platform=platform,
        sighting=sighting,
        order=order_key(tree.host) + (-1, number) + order_key(el),
        region=regions.region_of(tree.host),
        css_path=f"{host_path} > {inner}" if inner else host_path,
    )


def _body_links(placed: list[Placed]) -> list[Placed]:
    """Embeds as detected; detectors' plain links only in the body and outside any embed."""
    embedded = {p.sighting.element for p in placed if p.sighting.kind != "link"}
    return [
        p for p in placed
        if p.sighting.kind != "link" or (p.region == "body" and not inside(p.sighting.element, embedded))
    ]


def _link_only(links: list[FoundLink], placed: list[Placed]) -> list[Placed]:
    """Posts the article body links to, for links no detector has already judged."""
    embedded = {p.sighting.element for p in placed if p.sighting.kind != "link"}
    judged = {p.sighting.element for p in placed if p.sighting.kind == "link"}
    found: list[Placed] = []
    for item in links:
        if item.link.region != "body" or item.element in judged:
            continue
        post = platforms.identify(item.link.url)
        if post is None or inside(item.element, embedded):
            continue
        sighting = Sighting(element=item.element, post=post, kind="link", url_as_found=item.href)
        found.append(Placed(post.platform, sighting, order_key(item.element), "body", css_path(item.element)))
    return found
