"""Parsing: the page once, plus the markup that pages hide from a DOM parser.

libxml2 (through lxml.html) builds the one tree every detector reads. Some
embeds are not elements of that tree, because the publisher parked them as
text until the reader consents or scrolls:

- ``<textarea>`` contents (GDPR consent placeholders keep the original embed
  code there, ``corpus/pages/003``);
- HTML escaped into attribute values (``data-html``, ``data-iframe``, lazy
  loaders), sometimes inside JSON (Squarespace's ``data-block-json``,
  ``corpus/pages/028`` and ``031``).

Each of those is re-parsed into an *extra tree* that remembers its *host*, the
element of the page it came from, so that position, region and CSS path are
the host's. Markup in HTML comments and inside ``<script>`` (JSON state blobs
that repeat the article, ``corpus/pages/035``) is deliberately never parsed:
a comment is not shown, and a script string is a copy, not an embed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

import lxml.html
from lxml import etree

# One parser per process: libxml2's HTML parser, fed UTF-8 bytes (extraction
# decodes first, so the document's own <meta charset> cannot override the choice).
# Elements are lxml.html's HtmlElement (text_content() and friends), chosen by
# lxml's C-level default lookup: lxml.html's own lookup runs Python code for
# every element proxy, which made walking ancestors about three times slower.
# The price: <form>, <input>, <select>, <textarea> and <label> are plain
# HtmlElements here, without lxml.html's form helpers (no detector needs them).
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=False)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
_MARKUP = re.compile(r"<\s*[A-Za-z!]")
_EMBED_IN_ATTR = re.compile(r"<\s*(?:iframe|blockquote)\b", re.IGNORECASE)
# Attribute values holding "<": the test runs in libxml2; one contains() is cheap, four are not.
_ATTRS_WITH_MARKUP = "//@*[contains(., '<')]"
# A look at the raw bytes first: embed markup escaped (&lt;iframe) or an attribute
# value that opens with a tag (data-html="<div ...). Most pages have neither, and
# then the attribute scan is skipped.
# (Two patterns: as one alternation the regex engine is ten times slower.)
_ESCAPED_EMBED = re.compile(rb"&(?:lt|#0*60|#x0*3c);\s*(?:iframe|blockquote)", re.IGNORECASE)
_VALUE_OPENS_TAG = re.compile(rb"=\s*[\"']\s*<\s*[A-Za-z]")
_TEXTAREA = re.compile(rb"<textarea", re.IGNORECASE)
MAX_EXTRA_TREES = 200  # a page with more hidden embeds than this is an attack, not an article


@dataclass(frozen=True)
class Tree:
    """A parsed tree, and the element of the main page it was found in (None for the page)."""

    root: Any
    host: Any = None
    origin: str | None = None  # "textarea" or "attr:<name>", for notes and tests


def parse_document(data: bytes) -> Any | None:
    """The page's tree from UTF-8 bytes; None when there is nothing to parse."""
    if not data.strip():
        return None
    try:
        root = lxml.html.document_fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return root


def parse_fragment(markup: str) -> Any | None:
    """A tree for a snippet of markup found as text (textarea contents, attribute values)."""
    return parse_document(markup.encode("utf-8", "replace"))


def extra_trees(root: Any, data: bytes | None = None) -> list[Tree]:
    """Trees re-parsed from textareas and attribute values of the page.

    ``data``, the bytes the page was parsed from, lets both searches be skipped
    when the raw markup shows there is nothing to find.
    """
    trees: list[Tree] = []
    if data is None or _TEXTAREA.search(data):
        trees.extend(_textarea_trees(root))
    if data is None or _ESCAPED_EMBED.search(data) or _VALUE_OPENS_TAG.search(data):
        trees.extend(_attribute_trees(root))
    return trees[:MAX_EXTRA_TREES]


def _textarea_trees(root: Any) -> Iterator[Tree]:
    for textarea in root.iter("textarea"):
        text = textarea.text or ""
        if _MARKUP.search(text) is None:
            continue
        tree = parse_fragment(text)
        if tree is not None:
            yield Tree(root=tree, host=textarea, origin="textarea")


def _attribute_trees(root: Any) -> Iterator[Tree]:
    for value in root.xpath(_ATTRS_WITH_MARKUP):
        if _EMBED_IN_ATTR.search(value) is None:
            continue
        host = value.getparent()
        if host is None or not isinstance(host.tag, str):
            continue
        origin = f"attr:{host.tag}[{value.attrname}]"
        for markup in _markup_in_value(str(value)):
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
