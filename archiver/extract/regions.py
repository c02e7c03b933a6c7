"""Where an element stands on the page: the article body, or boilerplate around it.

A link or an embed in the article body is the journalist's choice; the same
link in a sidebar "latest tweets" widget, a share bar, a footer or the comments
is the site's furniture. Research on what articles cite must tell them apart,
and link-only posts count only in the body.

The decision reads ancestors, nearest first, with three kinds of signal:

- **tags** (strong): ``<aside>`` and ``<nav>`` anywhere; ``<header>`` and
  ``<footer>`` only outside an ``<article>`` (inside one they are the
  article's own title block and byline).
- **class and id tokens** (weak): ``sidebar``, ``widget``, ``related``,
  ``comments``, ``footer``, ``share``, ``social``, ``menu``... A token counts
  when the word opens or closes it (``widget-area``, ``entry-header``,
  ``td-sidebar``; ``widget`` only opening it, since page builders call every
  block ``elementor-widget``), after one- or two-letter namespace prefixes
  (``c-``, ``l-``) are dropped, and only in the BEM *block* part
  (``subbuzz__header`` is part of a content block, not a page header). Words
  inside a token (``elementor-widget-container``, ``sticky-sidebar-relative``)
  are layout vocabulary and do not count. A few unambiguous words count
  anywhere (``refererlist``, ``trackbacks``, ``disqus``).
- **content shields**: ``<article>``, ``<main>``, ``role=main``,
  ``itemprop=articleBody`` and tokens such as ``entry-content`` or
  ``article__body``. A shield cancels weak signals above it, because page
  layouts name their columns after the sidebar they sit beside
  (``l-sidebar-fixed`` around The Verge's article); it never cancels a tag.

On one element, a content token beats a boilerplate token, which beats a
shield tag (``<article class="comment-body">`` is a comment). Classes on
``<html>`` and ``<body>`` describe the layout of the whole page and are ignored.

States are memoised per element, so classifying every link of a page walks
each ancestor once.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from archiver import dom

REGIONS = ("body", "aside", "nav", "footer", "header", "comments")

# word -> region, when the word opens or closes a class/id token.
_EDGE_WORDS = {
    **dict.fromkeys(("comment", "comments", "commentlist", "respond", "discussion", "replies"), "comments"),
    **dict.fromkeys(("footer", "colophon", "footnav"), "footer"),
    **dict.fromkeys(("header", "masthead", "topbar"), "header"),
    **dict.fromkeys(("nav", "navbar", "navigation", "menu", "menubar", "breadcrumb", "breadcrumbs",
                     "pagination"), "nav"),
    **dict.fromkeys(("sidebar", "aside", "related", "relatedposts", "share", "shares",
                     "sharing", "sharebar", "social", "socials", "sns", "follow", "subscribe", "promo",
                     "trending", "popular", "recommended", "recommendations", "newsletter"), "aside"),
}
# Words that count only when they open a token: "widget-area", "widget_text", but
# not page builders' generic block classes ("elementor-widget").
_FIRST_WORDS = {"widget": "aside", "widgets": "aside", "widgettitle": "aside"}
# Substrings that mark boilerplate wherever they appear in a token.
_ANYWHERE = (("referer", "aside"), ("referrer", "aside"), ("trackback", "aside"), ("pingback", "aside"),
             ("backlink", "aside"), ("disqus", "comments"), ("outbrain", "aside"), ("taboola", "aside"))
_CONTENT_NOUNS = frozenset({"entry", "article", "post", "story", "news", "blog"})
_CONTENT_PARTS = frozenset({"content", "body", "text", "copy"})
_SPLIT = re.compile(r"[-_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_STRONG_TAGS = {"aside": "aside", "nav": "nav"}
_OUTSIDE_ARTICLE_TAGS = {"header": "header", "footer": "footer"}
_SHIELD_TAGS = frozenset({"article", "main"})
_IGNORED = frozenset({"html", "body"})


# A state is (region, strong, in_article): "strong" when a tag decided the region
# (no content shield overrides a tag), "in_article" for the header/footer rule.
_State = tuple[str, bool, bool]
_ROOT: _State = ("body", False, False)


_DECIDING_TAGS = frozenset(_STRONG_TAGS) | frozenset(_OUTSIDE_ARTICLE_TAGS) | _SHIELD_TAGS
_classified: dict[str, tuple[str | None, bool]] = {}  # classify_tokens without the lru wrapper, for the hot loop


def _tag_numbers(*names: str) -> frozenset[int]:
    """lexbor's numbers for standard tags (the same in every document), read from a parse."""
    root = dom.parse(("".join(f"<{name}></{name}>" for name in names)).encode())
    return frozenset(el.tag_id for el in dom.descendants(root) if el.tag in names)


# Tags are told by number: reading a number costs half of reading the name.
_IGNORED_IDS = _tag_numbers(*_IGNORED)
_DECIDING_IDS = _tag_numbers(*_DECIDING_TAGS)


class RegionMap:
    """Region oracle for one tree; elements of the same tree share the memo (keyed by node, ``mem_id``)."""

    def __init__(self) -> None:
        self._states: dict[int, _State] = {}

    def region_of(self, el: Any, attributes: dict[str, str | None] | None = None) -> str:
        """The region of an element (its own tag and classes included).

        ``attributes``: the element's, when the caller has read them already.
        The walk up ends at the document node, which says nothing (no tag that
        decides, no attributes).
        """
        states = self._states
        key = el.mem_id
        state = states.get(key)
        if state is not None:
            return state[0]
        chain = [el]
        keys = [key]
        node = el.parent
        state = _ROOT
        while node is not None:
            key = node.mem_id
            known = states.get(key)
            if known is not None:
                state = known
                break
            chain.append(node)
            keys.append(key)
            node = node.parent
        classified = _classified
        for i in range(len(chain) - 1, -1, -1):
            node = chain[i]
            number = node.tag_id
            if number not in _IGNORED_IDS:
                # the element's own signals; most elements are plain (not a deciding tag) and say nothing
                attrs = node.attributes if i or attributes is None else attributes  # el's own: the caller's
                token_region, token_shield = None, False
                classes = attrs.get("class")
                if classes:
                    found = classified.get(classes)
                    if found is None:
                        found = _classify_cached(classes)
                    token_region, token_shield = found
                ident = attrs.get("id")
                if ident and not token_shield:
                    found = classified.get(ident)
                    if found is None:
                        found = _classify_cached(ident)
                    id_region, token_shield = found
                    token_region = None if token_shield else token_region or id_region
                if token_region is not None or token_shield or number in _DECIDING_IDS:
                    state = _step(state, attrs, node.tag, token_region, token_shield)
                elif state[0] != "body" and not state[1] and (
                        attrs.get("role") == "main" or attrs.get("itemprop") == "articleBody"):
                    state = ("body", False, state[2])  # _step's answer for a plain element that shields
            states[keys[i]] = state
        return state[0]


def _classify_cached(value: str) -> tuple[str | None, bool]:
    if len(_classified) > 65536:  # a long crawl sees many sites' classes: start over rather than grow
        _classified.clear()
    found = _classified[value] = classify_tokens(value)
    return found


def _step(parent: _State, attributes: dict[str, str | None], tag: str, token_region: str | None,
          token_shield: bool) -> _State:
    """An element's state from its parent's, given its tag, its attributes and what its class and id say."""
    region, strong, in_article = parent
    tag_region = _STRONG_TAGS.get(tag)
    if tag_region is None and not in_article:
        tag_region = _OUTSIDE_ARTICLE_TAGS.get(tag)
    if tag == "article":
        in_article = True
    if tag_region is not None:
        return (token_region or tag_region, True, in_article)
    if token_region is not None:
        return (token_region, False, in_article)
    if region != "body" and not strong and (
        token_shield or tag in _SHIELD_TAGS or attributes.get("role") == "main"
        or attributes.get("itemprop") == "articleBody"
    ):
        return ("body", False, in_article)  # a content shield cancels weak signals above it
    if in_article != parent[2]:
        return (region, strong, in_article)
    return parent


@functools.lru_cache(maxsize=8192)
def classify_tokens(value: str) -> tuple[str | None, bool]:
    """(boilerplate region or None, is a content shield) for a class or id attribute.

    Memoised: the same class strings repeat on every element of a list and on
    every page of a site.
    """
    return _classify(value.split())


def _classify(tokens: list[str]) -> tuple[str | None, bool]:
    """A content token outweighs a boilerplate token on the same element.

    Page builders put their generic block class beside the specific one
    (``elementor-widget elementor-widget-theme-post-content``): the specific
    one says what the block holds.
    """
    region = None
    for token in tokens:
        if is_content_token(token):
            return None, True
        region = region or token_region(token)
    return region, False


def token_region(token: str) -> str | None:
    """The boilerplate region one class or id token names, if any."""
    lowered = token.lower()
    for word, region in _ANYWHERE:
        if word in lowered:
            return region
    block = _CAMEL.sub("-", token.split("__", 1)[0]).lower()
    words = [w for w in _SPLIT.split(block) if w]
    while len(words) > 1 and (len(words[0]) <= 2 or words[0] == "js"):
        words.pop(0)  # namespace prefixes: c-, l-, o-, u-, td-, js-
    if not words:
        return None
    return _EDGE_WORDS.get(words[0]) or _FIRST_WORDS.get(words[0]) or _EDGE_WORDS.get(words[-1])


def is_content_token(token: str) -> bool:
    """True for tokens that name the article's text container (``entry-content``)."""
    if token in ("articleBody", "articleText", "storytext", "content-body", "post-body"):
        return True
    words = set(_SPLIT.split(_CAMEL.sub("-", token).lower()))
    return bool(words & _CONTENT_NOUNS) and bool(words & _CONTENT_PARTS)
