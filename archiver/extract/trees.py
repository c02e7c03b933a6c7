"""Parsing: the page once, plus the markup that pages hide from a DOM parser.

lexbor (``archiver.dom``) builds the one tree every detector reads. Some
embeds are not elements of that tree, because the publisher parked them as
text until the reader consents or scrolls, or as inert markup:

- ``<textarea>`` contents (GDPR consent placeholders keep the original embed
  code there, ``corpus/pages/003``);
- HTML escaped into attribute values (``data-html``, ``data-iframe``, lazy
  loaders), sometimes inside JSON (Squarespace's ``data-block-json``,
  ``corpus/pages/028`` and ``031``);
- ``<template>`` contents, which an HTML5 parser keeps in a fragment of their
  own, outside the document tree (scripts clone them in later).

Each of those becomes an *extra tree* that remembers its *host*, the element
of the page it came from, so that position, region and CSS path are the
host's. Markup in HTML comments and inside ``<script>`` (JSON state blobs
that repeat the article, ``corpus/pages/035``) is deliberately never parsed:
a comment is not shown, and a script string is a copy, not an embed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from archiver import dom
from archiver.platforms.page import Page

_MARKUP = re.compile(r"<\s*[A-Za-z!]")
_EMBED_IN_ATTR = re.compile(r"<\s*(?:iframe|blockquote)\b", re.IGNORECASE)
# The attribute scan looks for values holding "<iframe" or "<blockquote" (any
# case, spaces allowed after "<"), which in the raw bytes is one of those words
# after an escaped "<" (&lt; &#60; &#x3c;) or after a raw "<" that is not one of
# the page's own start tags. A look at every place the bytes name those words
# tells whether either can be, and most pages then skip the scan (see
# _markup_in_attributes).
# Each word is found by a part of it that bytes.find skips through quickly: a needle
# ending in "e", the commonest letter of markup, is compared at almost every
# byte; "ifram" is a third quicker over the corpus pages than "iframe".
_EMBED_WORDS = (("iframe", b"ifram", b"e"), ("blockquote", b"blockquote", b""))  # (tag, searched for, the rest)
_ESCAPED_LT = re.compile(rb"&(?:lt|#0*60|#x0*3c);")  # on lower-cased bytes
_ENTITY_CHARS = frozenset(b"&#0123456789abcdefltx;")
_SPACE = frozenset(b" \t\n\r\x0b\x0c")  # what \s matches in a bytes pattern
MAX_EXTRA_TREES = 200  # a page with more hidden embeds than this is an attack, not an article
EXTRA_TREE_TAGS = ("textarea", "template")
"""What ``extra_trees`` asks the page for (extraction collects it in the page's one walk)."""


@dataclass(frozen=True)
class Tree:
    """A parsed tree, and the element of the main page it was found in (None for the page)."""

    root: Any
    host: Any = None
    origin: str | None = None  # "textarea", "template" or "attr:<tag>[<name>]", for notes and tests


def parse_document(data: bytes) -> Any | None:
    """The page's tree from UTF-8 bytes; None when there is nothing to parse."""
    return dom.parse(data)


def parse_fragment(markup: str) -> Any | None:
    """A tree for a snippet of markup found as text (textarea contents, attribute values)."""
    return parse_document(markup.encode("utf-8", "replace"))


def extra_trees(page: Page | Any, data: bytes | None = None) -> list[Tree]:
    """Trees from the page's templates, and re-parsed from its textareas and attribute values.

    ``page`` is a ``Page`` or a parsed tree. The bytes the page was parsed from
    (the page's ``data``, or ``data``) let the attribute scan be skipped when the
    raw markup shows there is nothing to find.
    """
    if not isinstance(page, Page):
        page = Page(page, data=data)
    trees: list[Tree] = list(_textarea_trees(page))
    trees.extend(_template_trees(page))
    if _markup_in_attributes(page):
        trees.extend(_attribute_trees(page.root))
    return trees[:MAX_EXTRA_TREES]


def _markup_in_attributes(page: Page) -> bool:
    """Whether an attribute value of the page may hold iframe or blockquote markup.

    Every place the lower-cased bytes say "iframe" or "blockquote" is looked at:
    after an escaped "<" (``&lt;``, ``&#60;``, ``&#x3c;``, spaces allowed), or
    after "<" and spaces (never a tag), it is markup held as text: yes. Right
    after "<" it is a start tag or markup that only looks like one; when there
    are as many of those as the tree has such elements (each element comes from
    one start tag), none is markup in an attribute. No bytes: yes.
    """
    lowered = page.lowered
    if lowered is None:
        return True
    for tag, needle, rest in _EMBED_WORDS:
        starts = 0
        at = lowered.find(needle)
        while at >= 0:
            if rest and not lowered.startswith(rest, at + len(needle)):
                at = lowered.find(needle, at + 1)
                continue
            i = at
            while i > 0 and lowered[i - 1] in _SPACE:
                i -= 1
            if i > 0 and lowered[i - 1] == 0x3C:  # "<"
                if i < at:
                    return True  # "< iframe": not a tag, so markup as text
                starts += 1
            elif i > 0 and lowered[i - 1] == 0x3B and _escaped_lt_before(lowered, i):  # ";"
                return True
            at = lowered.find(needle, at + len(needle))
        if starts != len(page.tagged(tag)):
            return True
    return False


def _escaped_lt_before(lowered: bytes, end: int) -> bool:
    """Whether the bytes before ``end`` (which end with ";") are an escaped "<"."""
    start = end - 1
    while start > 0 and lowered[start - 1] in _ENTITY_CHARS and lowered[start] != 0x26:  # back to "&"
        start -= 1
    return lowered[start] == 0x26 and _ESCAPED_LT.fullmatch(lowered, start, end) is not None


def _textarea_trees(page: Page) -> Iterator[Tree]:
    for textarea in page.tagged("textarea"):
        text = dom.text_content(textarea)
        if _MARKUP.search(text) is None:
            continue
        tree = parse_fragment(text)
        if tree is not None:
            yield Tree(root=tree, host=textarea, origin="textarea")


def _template_trees(page: Page) -> Iterator[Tree]:
    """A ``<template>``'s content: already parsed, in a fragment whose parent is the template."""
    for template in page.tagged("template"):
        for fragment in template.template_fragments()[:1]:  # the template's own (nested ones stay inert)
            yield Tree(root=fragment, host=template, origin="template")


def _attribute_trees(root: Any) -> Iterator[Tree]:
    for host in dom.descendants(root):
        for name, value in host.attributes.items():
            if not value or "<" not in value or _EMBED_IN_ATTR.search(value) is None:
                continue
            origin = f"attr:{host.tag}[{name}]"
            for markup in _markup_in_value(value):
                tree = parse_fragment(markup)
                if tree is not None:
                    yield Tree(root=tree, host=host, origin=origin)


def _markup_in_value(value: str) -> list[str]:
    """The HTML snippets an attribute value holds: itself, or the strings of its JSON."""
    stripped = value.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except ValueError:
            return [value]
        return [s for s in _json_strings(data) if _EMBED_IN_ATTR.search(s)]
    return [value]


def _json_strings(data: Any, depth: int = 0) -> Iterator[str]:
    if depth > 50:
        return
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for item in data.values():
            yield from _json_strings(item, depth + 1)
    elif isinstance(data, list):
        for item in data:
            yield from _json_strings(item, depth + 1)
