"""How a tweet embed looks in an article's HTML, in every form found in the wild.

``detect(page)`` reads one parsed tree through its ``Page`` (the page, or markup
that extraction re-parsed from a consent placeholder or an attribute) and
yields one ``Sighting`` per embed form it recognises. It reads three things
(embed tags, attribute wrappers, status links) and dispatches on what it finds.

Forms (``shared/reference/PLATFORMS.md`` and ``shared/corpus/NOTES.md``):

- ``blockquote.twitter-tweet`` / ``twitter-video``: the official embed code and
  its fallback. The permalink is the *last* status link (the text may link
  other tweets first); ``— Name (@handle)`` is the signature line; the ``<p
  lang>`` holds the text as the article showed it, the permalink's text the date.
- the rendered widget: ``iframe[data-tweet-id]`` (inside
  ``div.twitter-tweet-rendered`` or with class ``twitter-tweet``) and iframes
  whose ``src`` is ``platform.twitter.com/embed/Tweet.html?id=ID``.
  ``creatorScreenName`` in that ``src`` names the *publisher's* account, so it
  is never taken as the author.
- ``amp-twitter[data-tweetid]``; CMS wrappers with ``data-tweet-id`` /
  ``data-tweetid`` (kind ``div``); CNN ``div.embed-twitter[data-embed-id]``;
  WordPress ``figure.wp-block-embed.is-provider-twitter`` holding only the URL;
  BuzzFeed ``div.subbuzz-tweet`` (permalink ``a.subbuzz-tweet__created-at``);
  iframely (``[data-embedded-url]``, ``iframe[data-iframely-url]``); an inline
  ``twttr.widgets.createTweet("ID", ...)`` call (kind ``script``).
- plain ``<a href>`` links to a status (kind ``link``), so that a post the
  article only links to keeps the handle its URL shows. Extraction decides
  whether a link counts (article body, not inside an embed).

An embed that exists only inside ``<noscript>`` is reported with kind
``noscript`` (as the other platforms do); when the page also has the live
copy, extraction keeps that one, which comes first.

Not posts, and never yielded: ``a.twitter-timeline``, ``twitter-moment``,
``a.twitter-tweet`` used as a share button, ``iframe.twitter-tweet-button``,
follow and share buttons. Wrappers that contain an official blockquote or a
rendered iframe are left to that inner markup, which says more.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from archiver import dom
from archiver.platforms.base import Sighting
from archiver.platforms.oembed import has_class, in_noscript
from archiver.platforms.oembed import text_of as _text
from archiver.platforms.page import Page
from archiver.platforms.twitter.ids import (
    HANDLE,
    StatusLink,
    is_handle,
    is_tweet_id,
    parse_status,
    post_ref,
)


# Tags that carry a tweet by themselves; the page collects them in its one walk.
_TAGS = ("blockquote", "iframe", "amp-twitter", "figure", "script")
TAGS = (*_TAGS, "a")
"""What ``detect`` asks the page for (the platform protocol's ``TAGS``)."""
# Publisher wrappers name the tweet in an attribute, on any tag. One selector
# list finds them: lexbor matches it in C, about 3.5 times as fast over the
# corpus pages as a Python walk reading every element's attributes. It still
# looks up four names at every element; most pages name none of them, which the
# lower-cased bytes the page keeps anyway (``Page.lowered``) tell sooner: an
# attribute name is written out in full (the parser lower-cases it; no character
# reference can spell it). Over the corpus the search with that test first took
# 0.105 ms a page against 0.138 ms without it, in turns in one process.
_WRAPPERS = "[data-tweet-id],[data-tweetid],[data-embedded-url],[data-embed-id]"
_WRAPPER_NAMES = re.compile(rb"data-(?:tweet|embed)")
_TWEET_CLASSES = frozenset({"twitter-tweet", "twitter-video"})
_WP_CLASSES = frozenset({"is-provider-twitter", "wp-block-embed-twitter"})
# The signature line: "— Name (@handle)"; the name never spans another dash.
_SIGNATURE = re.compile(rf"(?:\u2014|\u2013|--)\s*([^\u2014\u2013]{{0,120}}?)\s*\(@({HANDLE})\)")
_CREATE_TWEET = re.compile(r"twttr\.widgets\.createTweet\(\s*['\"](\d{1,20})['\"]")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+")
_IFRAME_SRC_ATTRS = ("src", "data-src", "data-lazy-src", "data-original")
# Button and timeline widgets are iframes too; none of them is a post.
_NOT_POST_CLASSES = frozenset(
    {"twitter-share-button", "twitter-tweet-button", "twitter-follow-button", "twitter-timeline",
     "twitter-mention-button", "twitter-hashtag-button", "twitter-moment"}
)


def detect(page: Page) -> Iterator[Sighting]:
    """Every tweet embed in one parsed tree (extraction puts them in document order).

    Three cheap passes instead of one search with many conditions: tags that
    are embeds by themselves (from the page's one walk), attribute-carrying
    wrappers (one selector search), and status links. The
    page's base URL is unused: tweet markup carries absolute (or
    protocol-relative) twitter.com URLs, and a relative link would point at the
    article's own site.
    """
    embeds = []
    for el in page.tagged(*_TAGS):
        sighting = _by_tag(el)
        if sighting is not None:
            embeds.append(el)
            yield sighting
    seen = set()  # the search lists an element once per selector it matches (the root included)
    lowered = page.lowered
    wrappers = page.root.css(_WRAPPERS) if lowered is None or _WRAPPER_NAMES.search(lowered) else ()
    for el in wrappers:
        if el.mem_id in seen:
            continue
        seen.add(el.mem_id)
        sighting = _by_attribute(el)
        if sighting is not None:
            embeds.append(el)
            yield sighting
    covered = None  # the links inside the embeds above: they belong to the embed, never a post of their own
    for a, href in page.hrefs:
        if href and "/status" in href:
            if "subbuzz-tweet__created-at" in (a.attributes.get("class") or ""):
                sighting = _buzzfeed(a)
            else:
                if covered is None:
                    covered = {link.mem_id for el in embeds for link in dom.descendants(el, "a")}
                sighting = _link(a, href) if a.mem_id not in covered else None
            if sighting is not None:
                yield sighting


def _by_tag(el: Any) -> Sighting | None:
    sighting = _read_tag(el)
    if sighting is not None and sighting.kind != "script" and in_noscript(el):
        return replace(sighting, kind="noscript")  # shown only to readers without JavaScript
    return sighting


def _read_tag(el: Any) -> Sighting | None:
    tag = el.tag
    attributes = el.attributes  # one dict per element, handed down: cheaper than a lookup per name
    if tag == "script" and ("src" in attributes or "createTweet" not in dom.text_content(el)):
        return None  # most scripts: what _script would say, without reading the class
    classes = set((attributes.get("class") or "").split())
    if classes & _NOT_POST_CLASSES:
        return None
    if tag == "blockquote":
        return _blockquote(el, attributes) if classes & _TWEET_CLASSES else None
    if tag == "iframe":
        return _iframe(el, attributes)
    if tag == "amp-twitter":
        return _amp(el, attributes)
    if tag == "script":
        return _script(el, attributes)
    if tag == "figure" and classes & _WP_CLASSES:
        return _wordpress(el)
    return None


def _by_attribute(el: Any) -> Sighting | None:
    tag = el.tag
    if tag in ("iframe", "amp-twitter"):
        return None  # read by _by_tag
    attributes = el.attributes
    classes = set((attributes.get("class") or "").split())
    if classes & _NOT_POST_CLASSES or (tag == "blockquote" and classes & _TWEET_CLASSES):
        return None
    # Presence, not value: a bare attribute (``<div data-tweet-id>``) reads as None.
    if "data-embedded-url" in attributes:
        return _iframely(el, attributes)
    if "data-tweet-id" in attributes or "data-tweetid" in attributes:
        return _wrapper(el, attributes.get("data-tweet-id") or attributes.get("data-tweetid"))
    if "embed-twitter" in classes:
        return _wrapper(el, attributes.get("data-embed-id"))
    return None


def _blockquote(el: Any, attributes: dict[str, str | None]) -> Sighting | None:
    links = _status_links(el)
    permalink = links[-1][0] if links else None
    link = links[-1][1] if links else _id_attr(attributes)
    if link is None:
        return None
    name, footer_handle = _signature(el)
    handle = footer_handle or link.handle
    paragraphs = list(dom.descendants(el, "p"))
    text_p = [p for p in paragraphs if "lang" in p.attributes]
    paragraphs = text_p or [p for p in paragraphs if not _SIGNATURE.match(_text(p) or "")]
    date = _text(permalink) if permalink is not None else None
    return Sighting(
        element=el,
        post=post_ref(link.post_id, handle),
        kind="blockquote",
        url_as_found=permalink.attributes.get("href") if permalink is not None else link.post_id,
        author_handle=handle,
        author_name=name,
        fallback_text=_text(paragraphs[0]) if paragraphs else None,
        shown_date=date if date and any(c.isdigit() for c in date) else None,
        lang=text_p[0].attributes.get("lang") or None if text_p else None,
    )


def _iframe(el: Any, attributes: dict[str, str | None]) -> Sighting | None:
    raw = attributes.get("data-tweet-id") or attributes.get("data-tweetid")
    if is_tweet_id(raw):
        return Sighting(element=el, post=post_ref(raw.strip()), kind="iframe", url_as_found=raw)
    for attr in _IFRAME_SRC_ATTRS:
        value = attributes.get(attr)
        link = parse_status(value)
        if link is not None:
            return _sighting(el, link, "iframe", value)
    iframely = attributes.get("data-iframely-url")
    if iframely:
        link = _status_in_query(iframely)
        if link is not None:
            return _sighting(el, link, "iframe", iframely)
    return None


def _amp(el: Any, attributes: dict[str, str | None]) -> Sighting | None:
    raw = attributes.get("data-tweetid") or attributes.get("data-tweet-id")
    if not is_tweet_id(raw):
        return None
    return Sighting(element=el, post=post_ref(raw.strip()), kind="amp", url_as_found=raw)


def _iframely(el: Any, attributes: dict[str, str | None]) -> Sighting | None:
    """iframely's ``div[data-embedded-url]``: the URL is the post, the iframe inside renders it."""
    url = attributes["data-embedded-url"]
    link = parse_status(url)
    if link is None:
        return None
    kind = "iframe" if next(dom.below(el, "iframe"), None) is not None else "div"
    return _sighting(el, link, kind, url)


def _wrapper(el: Any, raw: str | None) -> Sighting | None:
    """A publisher's wrapper that names the tweet in an attribute (``data-tweet-id`` ...)."""
    if not is_tweet_id(raw) or _inner_embed(el):
        return None
    post_id = raw.strip()
    handle = next((link.handle for _, link in _status_links(el) if link.post_id == post_id and link.handle), None)
    return Sighting(element=el, post=post_ref(post_id, handle), kind="div", url_as_found=raw, author_handle=handle)


def _wordpress(el: Any) -> Sighting | None:
    """WordPress's embed block before (or without) the oEmbed HTML: the URL alone."""
    if _inner_embed(el):
        return None
    links = _status_links(el)
    if links:
        return _sighting(el, links[0][1], "div", links[0][0].attributes.get("href"))
    for url in _URL_IN_TEXT.findall(dom.text_content(el)):
        link = parse_status(url)
        if link is not None:
            return _sighting(el, link, "div", url)
    return None


def _buzzfeed(permalink: Any) -> Sighting | None:
    """BuzzFeed's own tweet card, found from its permalink ``a.subbuzz-tweet__created-at``.

    The rendered-widget variant of the card has no permalink; the iframe rule reads it.
    """
    href = permalink.attributes.get("href")
    link = parse_status(href)
    card = next((a for a in dom.ancestors(permalink)
                 if a.tag == "div" and "subbuzz-tweet" in (a.attributes.get("class") or "").split()), None)
    if link is None or card is None:
        return None
    username = _text(_first(card, "*", "subbuzz-tweet__username"))
    shown = (username or "").lstrip("@")
    handle = link.handle or (shown if is_handle(shown) else None)
    quote = _first(card, "blockquote", "subbuzz-tweet__container")
    return Sighting(
        element=quote if quote is not None else card,
        post=post_ref(link.post_id, handle),
        kind="blockquote",
        url_as_found=href,
        author_handle=handle,
        author_name=_text(_first(card, "*", "subbuzz-tweet__display-name")),
        fallback_text=_text(_first(card, "*", "subbuzz-tweet__text")),
        shown_date=_text(permalink),
    )


def _script(el: Any, attributes: dict[str, str | None]) -> Sighting | None:
    """An inline ``twttr.widgets.createTweet("ID", ...)`` call (not JSON state blobs)."""
    text = dom.text_content(el)  # a script's text is one text node: all of it
    if "src" in attributes or not text or "createTweet" not in text:
        return None
    match = _CREATE_TWEET.search(text)
    if match is None:
        return None
    return Sighting(element=el, post=post_ref(match.group(1)), kind="script", url_as_found=match.group(1))


def _link(el: Any, href: str) -> Sighting | None:
    """A plain link to a tweet; extraction keeps it only in the article body, outside embeds."""
    link = parse_status(href)
    return _sighting(el, link, "link", href) if link is not None else None


def _sighting(el: Any, link: StatusLink, kind: str, url_as_found: str | None) -> Sighting:
    return Sighting(element=el, post=post_ref(link.post_id, link.handle), kind=kind,
                    url_as_found=url_as_found, author_handle=link.handle)


def _status_links(el: Any) -> list[tuple[Any, StatusLink]]:
    found = []
    for a in dom.below(el, "a"):  # a wrapper may be an <a> itself
        link = parse_status(a.attributes.get("href"))
        if link is not None:
            found.append((a, link))
    return found


def _inner_embed(el: Any) -> bool:
    """Whether markup under ``el`` speaks for the tweet itself: an official blockquote, a rendered iframe, AMP."""
    for inner in dom.below(el, "blockquote", "iframe", "amp-twitter"):
        tag = inner.tag
        if tag == "amp-twitter":
            return True
        if tag == "iframe":
            if "data-tweet-id" in inner.attributes:
                return True
        elif has_class(inner, "twitter-tweet") or has_class(inner, "twitter-video"):
            return True
    return False


def _status_in_query(url: str) -> StatusLink | None:
    """A status URL passed as a parameter (``cdn.iframe.ly/api/iframe?url=...``)."""
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return None
    for value in query.get("url", []):
        link = parse_status(value)
        if link is not None:
            return link
    return None


def _id_attr(attributes: dict[str, str | None]) -> StatusLink | None:
    raw = attributes.get("data-tweet-id") or attributes.get("data-tweetid")
    return StatusLink(post_id=raw.strip(), handle=None) if is_tweet_id(raw) else None


def _signature(el: Any) -> tuple[str | None, str | None]:
    """Author name and handle from the last "— Name (@handle)" line of a blockquote."""
    matches = list(_SIGNATURE.finditer(_text(el) or ""))
    if not matches:
        return None, None
    name, handle = matches[-1].group(1).strip(), matches[-1].group(2)
    return (name or None), handle


def _first(el: Any, tag: str, name: str) -> Any:
    """The first element ``tag`` (``*``: any) under ``el`` with class ``name`` (a BuzzFeed card part)."""
    elements = dom.below(el) if tag == "*" else dom.below(el, tag)
    return next((inner for inner in elements if has_class(inner, name)), None)
