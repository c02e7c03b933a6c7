"""The parsed page as extraction reads it: lexbor's HTML5 tree, through selectolax.

Every detector, the link and fact readers and the region map read one tree,
built by lexbor (``selectolax.lexbor``): an HTML5 parser that builds the tree a
browser builds (misnested tags, ``<template>``, foster-parented tables), in
about a third of the time libxml2 takes over the same pages (``docs/performance.md``).
Its nodes are thin wrappers created on every access; this module holds the few
operations the readers need and the two traps of those wrappers:

- ``node == other`` compares the serialised HTML of both nodes: slow, and true
  for two different ``<a href="/x">x</a>``. Compare with ``same``; a node's
  ``hash`` is its ``mem_id`` (the address of the lexbor node), so sets and dict
  keys work, but memo tables here key on ``mem_id`` directly so that a lookup
  never serialises anything.
- ``node.attrs.get(name)`` raises and catches a ``KeyError`` inside for a
  missing attribute; ``node.attributes`` builds a dict of all of them at once,
  cheaper as soon as one is missing. Readers take ``attributes`` once per node.

lexbor builds a tree in time that grows with the square of its nesting depth
(every start tag looks through the stack of open elements), so 100,000 nested
``<div>``s took 36 s. ``parse`` flattens such markup first (``flatten``): a
page that cannot be that deep is parsed as it is.
"""

from __future__ import annotations

import re
from array import array
from typing import Any, Iterator

from selectolax.lexbor import LexborHTMLParser

MAX_DEPTH = 512
"""Nesting the parser is given at most (about): deeper markup is flattened first."""
DEPTH_CHECKED_ABOVE = 10_000
"""Pages with fewer "<" than this cannot nest deeper than MAX_DEPTH: no scan."""
_KEEP_DEPTH = MAX_DEPTH // 2

# A start or end tag, a comment, or a raw-text element's start (its text is not markup).
_TOKEN = re.compile(rb"<(?:(!--)|(/?)([A-Za-z][^\t\n\f\r />]*))[^>]*>?")
_RAW_TEXT = frozenset((b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed",
                       b"noframes", b"plaintext"))
# Tags that do not pile up: void elements, and those whose start closes an open one of their kind
# (or, for a nested <form>, is ignored), so that their depth is at most one however many there are.
_FLAT = frozenset((b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
                   b"source", b"track", b"wbr", b"param", b"keygen", b"p", b"li", b"dt", b"dd", b"option",
                   b"optgroup", b"tr", b"td", b"th", b"a", b"button", b"form", b"nobr"))


def parse(data: bytes) -> Any | None:
    """The root (``<html>``) of the tree built from UTF-8 bytes; None when there is nothing to parse."""
    if not data or data.isspace():
        return None
    parser = LexborHTMLParser(flatten(data))
    return parser.root


def flatten(data: bytes) -> bytes:
    """``data`` with the tags of the deepest nesting taken out, or ``data`` itself when it nests sanely.

    A scan of the tags (comments and raw text skipped) follows nesting as the
    parser would for well-formed markup. An element that stands deeper than
    MAX_DEPTH / 2 and has MAX_DEPTH / 2 levels or more below it loses its start
    and end tags, its content kept in place: the leaves of a deep pile (where an
    embed would be) keep their own markup, and no element ends up much deeper
    than MAX_DEPTH. The scan runs only on pages with more than
    DEPTH_CHECKED_ABOVE tags' worth of "<". Its memory is a few machine words
    per open element and one byte per byte of ``data`` when something is cut.
    """
    if data.count(b"<") <= DEPTH_CHECKED_ABOVE:
        return data
    lowered = data.lower()  # tag names and raw-text ends in any case; the same offsets as data
    names: list[bytes] = []  # the open elements, outermost first: name, start tag, end tag, deepest below
    starts, ends, deepest = array("q"), array("q"), array("q")
    interned: dict[bytes, bytes] = {}
    cuts: bytearray | None = None  # 1 where a tag that is taken out starts

    def close() -> None:
        nonlocal cuts
        depth = len(names)
        names.pop()
        start, end, below = starts.pop(), ends.pop(), deepest.pop()
        if deepest and deepest[-1] < below:
            deepest[-1] = below
        if depth > _KEEP_DEPTH and below - depth >= _KEEP_DEPTH:
            if cuts is None:
                cuts = bytearray(len(data))
            cuts[start] = 1
            if end >= 0:
                cuts[end] = 1

    search = _TOKEN.search
    pos = 0
    while (match := search(lowered, pos)) is not None:
        pos = match.end()
        if match.group(1):  # a comment: skip to its end
            pos = lowered.find(b"-->", match.start() + 4)
            if pos < 0:
                break
            pos += 3
            continue
        name = match.group(3)
        if match.group(2):  # an end tag: close the nearest open element of that name (if near)
            for i in range(len(names) - 1, max(len(names) - 64, 0) - 1, -1):
                if names[i] == name:
                    ends[i] = match.start()
                    while len(names) > i:
                        close()
                    break
            continue
        if name in _RAW_TEXT:  # its text runs to its end tag; none: to the end of the page
            pos = lowered.find(b"</" + name, pos)
            if pos < 0:
                break
            continue
        if name in _FLAT or match.group(0).endswith(b"/>"):
            continue
        names.append(interned.setdefault(name, name))
        starts.append(match.start())
        ends.append(-1)
        deepest.append(len(names))
    while names:
        close()
    if cuts is None:
        return data
    parts: list[bytes] = []
    at = 0
    cut = cuts.find(1)
    while cut >= 0:
        parts.append(data[at:cut])
        end = data.find(b">", cut)  # where the tag's match ended
        at = len(data) if end < 0 else end + 1
        cut = cuts.find(1, at)
    parts.append(data[at:])
    return b"".join(parts)


def same(a: Any, b: Any) -> bool:
    """Whether two wrappers stand for the same node (``==`` compares their HTML instead)."""
    return a is b or (a is not None and b is not None and a.mem_id == b.mem_id)


def parent(el: Any) -> Any | None:
    """The parent element; None at the root (the document node above ``<html>`` is not an element)."""
    node = el.parent
    if node is None or not node.is_element_node:
        return None
    return node


def ancestors(el: Any) -> Iterator[Any]:
    """The element's ancestors, nearest first, up to the root."""
    node = parent(el)
    while node is not None:
        yield node
        node = parent(node)


def descendants(el: Any, *tags: str) -> Iterator[Any]:
    """The element and every element below it, in document order; only ``tags`` when given."""
    if not tags:  # the walk without text still yields comments
        for node in el.traverse(include_text=False):
            if node.is_element_node:
                yield node
        return
    wanted = frozenset(tags)
    for node in el.traverse(include_text=False):
        if node.tag in wanted:
            yield node


def below(el: Any, *tags: str) -> Iterator[Any]:
    """``descendants`` without the element itself: every element under it, only ``tags`` when given."""
    key = el.mem_id
    for node in descendants(el, *tags):
        if node.mem_id != key:
            yield node


def children(el: Any) -> Iterator[Any]:
    """The element's child elements, in order."""
    node = el.child
    while node is not None:
        if node.is_element_node:
            yield node
        node = node.next


def first_value(el: Any, tag: str, name: str) -> str | None:
    """Attribute ``name`` of the first ``tag`` element at or under ``el`` that has it.

    "" for a bare attribute (``<p lang>``), as the detectors read it under lxml.
    """
    for node in descendants(el, tag):
        attributes = node.attributes
        if name in attributes:
            return attributes[name] or ""  # lexbor reads a bare attribute as None
    return None


def text_content(el: Any) -> str:
    """Every text node below the element, joined as written (what a DOM's ``textContent`` gives)."""
    return el.text(deep=True) or ""


def outer_html(el: Any) -> str:
    """The element serialised as HTML5 serialises it."""
    return el.html or ""
