"""From detectors' sightings to the article's embeds: order, dedupe, place, snippet.

Detectors report what they see, and they see the same post more than once: the
rendered widget leaves the blockquote, a wrapper ``div`` and an ``iframe`` for
one tweet; a lazy iframe has a ``<noscript>`` twin; a consent placeholder and
an attribute both hold the same iframe; a post is embedded and also linked in
the text. The archive wants one embed per post per article, so sightings are
grouped by post and merged:

- the *primary* sighting is the first in document order that is real embed
  markup (a plain link only stands in when nothing else shows the post); its
  element gives the position, region, CSS path and snippet;
- fields the primary lacks (handle, author name, fallback text, date,
  language) are filled from the later sightings, in document order;
- the post's canonical URL comes from a sighting that showed the author's
  handle, because handle-less forms (``amp-twitter``, iframes) only know an id.

Sightings from re-parsed trees stand where their host element stands. Only
what the archive keeps is computed: the CSS path and snippet of each embed's
primary sighting, not of every sighting.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from archiver import dom
from archiver.models import Embed, PostRef
from archiver.platforms.base import Sighting

MAX_SNIPPET = 20_000
CSS_PATH_DEPTH = 4  # components in a CSS path: short enough to read, long enough to find it
_SIMPLE_NAME = re.compile(r"^-?[A-Za-z_][A-Za-z0-9_-]*$")
_MERGED_FIELDS = ("url_as_found", "author_handle", "author_name", "fallback_text", "shown_date", "lang")


class Placed(NamedTuple):
    """A sighting with everything extraction knows about where it stood."""

    platform: str
    sighting: Sighting
    order: tuple[int, ...]  # document order (sibling indexes from the root)
    region: str
    host: Any = None  # for a sighting in a re-parsed tree: the page element that tree came from
    origin: str | None = None  # and how ("textarea", "attr:<tag>[<name>]")

    @property
    def css_path(self) -> str | None:
        """Where it stood, for people: the host element's path, then the embed's inside the re-parsed markup."""
        el = self.sighting.element
        if self.host is None:
            return css_path(el)
        host_path = css_path(self.host)
        if self.origin and self.origin.startswith("attr:"):
            host_path += "[" + self.origin.split("[", 1)[1]
        inner = css_path(el, depth=2)
        return f"{host_path} > {inner}" if inner else host_path


def order_key(el: Any) -> tuple[int, ...]:
    """Sibling positions from the root down: tuples compare in document order."""
    return OrderKeys()(el)


_KEPT_DEPTH = 256


class OrderKeys:
    """``order_key`` for the elements of one tree, sharing the work for common ancestors.

    A node's position among its siblings counts the nodes before it (text and
    comments too: only the order matters), from the nearest earlier sibling
    whose position is known, so asking for the elements of a wide list in
    document order costs one step each. Keys of elements deeper than
    ``_KEPT_DEPTH`` are computed and not kept, so that a pathologically deep
    page costs time in proportion to what is asked, not memory in the square of
    its depth.
    """

    def __init__(self) -> None:
        self._keys: dict[int, tuple[int, ...]] = {}
        self._indexes: dict[int, int] = {}

    def __call__(self, el: Any) -> tuple[int, ...]:
        keys = self._keys
        key = keys.get(el.mem_id)
        if key is not None:
            return key
        chain: list[Any] = [el]  # el and its ancestors up to one whose key is known (or the root)
        parent = dom.parent(el)
        while parent is not None and parent.mem_id not in keys:
            chain.append(parent)
            parent = dom.parent(parent)
        key = () if parent is None else keys[parent.mem_id]
        for i in range(len(chain) - 1, -1, -1):  # top down, the top one too: a template's content can have several
            node = chain[i]  # (not reversed(): mypyc 2.4 fails on reversed() of a list of Any)
            key = key + (self._index(node),)
            if len(key) <= _KEPT_DEPTH:
                keys[node.mem_id] = key
        return key

    def _index(self, node: Any) -> int:
        """How many nodes stand before ``node`` among its siblings."""
        indexes = self._indexes
        steps = 0
        sibling = node.prev
        while sibling is not None:
            known = indexes.get(sibling.mem_id)
            if known is not None:
                steps += known + 1
                break
            steps += 1
            sibling = sibling.prev
        indexes[node.mem_id] = steps
        return steps


def css_path(el: Any, depth: int = CSS_PATH_DEPTH) -> str:
    """A short CSS path for people: up to ``depth`` steps, stopping at an id or at <body>."""
    steps: list[str] = []
    node = el
    while node is not None and len(steps) < depth:
        tag = node.tag
        if not tag or tag in ("html", "body"):
            break
        attributes = node.attributes
        ident = attributes.get("id") or ""
        if ident and _SIMPLE_NAME.match(ident):
            steps.append(f"{tag}#{ident}")
            break
        classes = [c for c in (attributes.get("class") or "").split() if _SIMPLE_NAME.match(c)][:2]
        steps.append(tag + "".join(f".{c}" for c in classes))
        node = dom.parent(node)
    steps.reverse()
    return " > ".join(steps)


def snippet(el: Any) -> str | None:
    """The element's outer HTML as the HTML5 serialiser writes it, capped at MAX_SNIPPET characters."""
    if el is None or not el.is_element_node:
        return None
    return dom.outer_html(el)[:MAX_SNIPPET]


def assemble(placed: list[Placed]) -> tuple[Embed, ...]:
    """One embed per post, in document order, positions numbered from 0."""
    groups: dict[tuple[str, str], list[Placed]] = {}
    for item in sorted(placed, key=lambda p: p.order):
        post = item.sighting.post
        key = (item.platform, post.post_id) if post is not None else (item.platform, f"#{id(item)}")
        groups.setdefault(key, []).append(item)
    merged = [_merge(group) for group in groups.values()]
    merged.sort(key=lambda pair: pair[0].order)
    return tuple(_embed(primary, fields, post, position) for position, (primary, fields, post) in enumerate(merged))


def _merge(group: list[Placed]) -> tuple[Placed, dict[str, Any], PostRef | None]:
    primary = next((p for p in group if p.sighting.kind != "link"), group[0])
    ordered = [primary] + [p for p in group if p is not primary]
    fields: dict[str, Any] = {}  # Embed's keyword arguments (str or None each)
    for name in _MERGED_FIELDS:
        fields[name] = next((getattr(p.sighting, name) for p in ordered if getattr(p.sighting, name)), None)
    post = next((p.sighting.post for p in ordered if p.sighting.author_handle and p.sighting.post), None)
    return primary, fields, post or primary.sighting.post


def _embed(primary: Placed, fields: dict[str, Any], post: PostRef | None, position: int) -> Embed:
    return Embed(
        platform=primary.platform,
        post=post,
        kind=primary.sighting.kind,
        position=position,
        region=primary.region,
        css_path=primary.css_path,
        snippet=snippet(primary.sighting.element),
        **fields,
    )
