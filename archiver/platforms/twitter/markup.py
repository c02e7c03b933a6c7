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

from lxml import etree

from archiver.platforms.base import Sighting
from archiver.platforms.oembed import in_noscript
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


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# Tags that carry a tweet by themselves; the page collects them in its one walk.
_TAGS = ("blockquote", "iframe", "amp-twitter", "figure", "script")
TAGS = (*_TAGS, "a")
"""What ``detect`` asks the page for (the platform protocol's ``TAGS``)."""
# Publisher wrappers name the tweet in an attribute, on any tag. A union of
# attribute steps is about twice as fast in libxml2 as one predicate with "or".
_WRAPPER_NAMES = ("data-tweet-id", "data-tweetid", "data-embedded-url", "data-embed-id")
_WRAPPER_ATTRS = tuple(f"descendant-or-self::*/@{name}" for name in _WRAPPER_NAMES)
_WRAPPERS = " | ".join(_WRAPPER_ATTRS)
_WRAPPER_XPATH = etree.XPath(_WRAPPERS)
# The attribute names in the page's bytes (any case: the parser lower-cases names,
# and a name cannot hold a character reference). Most pages have none, and skip the XPath.
_WRAPPER_MARKERS = (b"data-tweet", b"data-embed")
# Markup inside a wrapper that speaks for the tweet itself.
_INNER_EMBED = etree.XPath(
    f".//blockquote[{_has_class('twitter-tweet')} or {_has_class('twitter-video')}]"
    " | .//iframe[@data-tweet-id] | .//amp-twitter"
)
# Compiled once: el.xpath(string) compiles its expression on every call.
_TEXT_P = etree.XPath(".//p[@lang]")
_P = etree.XPath(".//p")
_IFRAMES = etree.XPath(".//iframe")
_LINKS = etree.XPath(".//a[@href]")
_BUZZFEED = {name: etree.XPath(f".//{tag}[{_has_class(name)}]") for tag, name in (
    ("*", "subbuzz-tweet__username"), ("blockquote", "subbuzz-tweet__container"),
    ("*", "subbuzz-tweet__display-name"), ("*", "subbuzz-tweet__text"))}
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

    Three cheap passes instead of one XPath with many predicates (libxml2's
    XPath is several times slower than lxml's tag iteration): tags that are
    embeds by themselves, attribute-carrying wrappers (one XPath, when the
    page's bytes name such an attribute), and status links. The
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
    if page.mentions(*_WRAPPER_MARKERS):
        seen = set()
        for attribute in _WRAPPER_XPATH(page.root):
            el = attribute.getparent()
            if el in seen:
                continue
            seen.add(el)
            sighting = _by_attribute(el)
            if sighting is not None:
                embeds.append(el)
                yield sighting
    covered = None  # the links inside the embeds above: they belong to the embed, never a post of their own
    for a, href in page.hrefs:
        if href and "/status" in href:
            if "subbuzz-tweet__created-at" in (a.get("class") or ""):
                sighting = _buzzfeed(a)
            else:
                if covered is None:
                    covered = {link for el in embeds for link in el.iter("a")}
                sighting = _link(a) if a not in covered else None
            if sighting is not None:
                yield sighting



def _by_tag(el: Any) -> Sighting | None:
    sighting = _read_tag(el)
    if sighting is not None and sighting.kind != "script" and in_noscript(el):
        return replace(sighting, kind="noscript")  # shown only to readers without JavaScript
    return sighting


def _read_tag(el: Any) -> Sighting | None:
    tag = el.tag
    if tag == "script" and (el.get("src") is not None or "createTweet" not in (el.text or "")):
        return None  # most scripts: what _script would say, without reading the class
    classes = set((el.get("class") or "").split())
    if classes & _NOT_POST_CLASSES:
        return None
    if tag == "blockquote":
        return _blockquote(el) if classes & _TWEET_CLASSES else None
    if tag == "iframe":
        return _iframe(el)
    if tag == "amp-twitter":
        return _amp(el)
    if tag == "script":
        return _script(el)
    if tag == "figure" and classes & _WP_CLASSES:
        return _wordpress(el)
    return None


def _by_attribute(el: Any) -> Sighting | None:
    tag = el.tag
    if tag in ("iframe", "amp-twitter"):
        return None  # read by _by_tag
    classes = set((el.get("class") or "").split())
    if classes & _NOT_POST_CLASSES or (tag == "blockquote" and classes & _TWEET_CLASSES):
        return None
    if el.get("data-embedded-url") is not None:
        return _iframely(el)
    if el.get("data-tweet-id") is not None or el.get("data-tweetid") is not None:
        return _wrapper(el, el.get("data-tweet-id") or el.get("data-tweetid"))
    if "embed-twitter" in classes:
        return _wrapper(el, el.get("data-embed-id"))
    return None


def _blockquote(el: Any) -> Sighting | None:
    links = _status_links(el)
    permalink = links[-1][0] if links else None
    link = links[-1][1] if links else _id_attr(el)
    if link is None:
        return None
    name, footer_handle = _signature(el)
    handle = footer_handle or link.handle
    text_p = _TEXT_P(el)
    paragraphs = text_p or [p for p in _P(el) if not _SIGNATURE.match(_text(p) or "")]
    date = _text(permalink) if permalink is not None else None
    return Sighting(
        element=el,
        post=post_ref(link.post_id, handle),
        kind="blockquote",
        url_as_found=permalink.get("href") if permalink is not None else link.post_id,
        author_handle=handle,
        author_name=name,
        fallback_text=_text(paragraphs[0]) if paragraphs else None,
        shown_date=date if date and any(c.isdigit() for c in date) else None,
        lang=text_p[0].get("lang") or None if text_p else None,
    )


def _iframe(el: Any) -> Sighting | None:
    raw = el.get("data-tweet-id") or el.get("data-tweetid")
    if is_tweet_id(raw):
        return Sighting(element=el, post=post_ref(raw.strip()), kind="iframe", url_as_found=raw)
    for attr in _IFRAME_SRC_ATTRS:
        value = el.get(attr)
        link = parse_status(value)
        if link is not None:
            return _sighting(el, link, "iframe", value)
    iframely = el.get("data-iframely-url")
    if iframely:
        link = _status_in_query(iframely)
        if link is not None:
            return _sighting(el, link, "iframe", iframely)
    return None


def _amp(el: Any) -> Sighting | None:
    raw = el.get("data-tweetid") or el.get("data-tweet-id")
    if not is_tweet_id(raw):
        return None
    return Sighting(element=el, post=post_ref(raw.strip()), kind="amp", url_as_found=raw)


def _iframely(el: Any) -> Sighting | None:
    """iframely's ``div[data-embedded-url]``: the URL is the post, the iframe inside renders it."""
    url = el.get("data-embedded-url")
    link = parse_status(url)
    if link is None:
        return None
    kind = "iframe" if _IFRAMES(el) else "div"
    return _sighting(el, link, kind, url)


def _wrapper(el: Any, raw: str | None) -> Sighting | None:
    """A publisher's wrapper that names the tweet in an attribute (``data-tweet-id`` ...)."""
    if not is_tweet_id(raw) or _INNER_EMBED(el):
        return None
    post_id = raw.strip()
    handle = next((link.handle for _, link in _status_links(el) if link.post_id == post_id and link.handle), None)
    return Sighting(element=el, post=post_ref(post_id, handle), kind="div", url_as_found=raw, author_handle=handle)


def _wordpress(el: Any) -> Sighting | None:
    """WordPress's embed block before (or without) the oEmbed HTML: the URL alone."""
    if _INNER_EMBED(el):
        return None
    links = _status_links(el)
    if links:
        return _sighting(el, links[0][1], "div", links[0][0].get("href"))
    for url in _URL_IN_TEXT.findall(el.text_content()):
        link = parse_status(url)
        if link is not None:
            return _sighting(el, link, "div", url)
    return None


def _buzzfeed(permalink: Any) -> Sighting | None:
    """BuzzFeed's own tweet card, found from its permalink ``a.subbuzz-tweet__created-at``.

    The rendered-widget variant of the card has no permalink; the iframe rule reads it.
    """
    link = parse_status(permalink.get("href"))
    card = next((a for a in permalink.iterancestors("div") if "subbuzz-tweet" in (a.get("class") or "").split()), None)
    if link is None or card is None:
        return None
    username = _text(_first(card, "subbuzz-tweet__username"))
    handle = link.handle or (username.lstrip("@") if is_handle((username or "").lstrip("@")) else None)
    quote = _first(card, "subbuzz-tweet__container")
    return Sighting(
        element=quote if quote is not None else card,
        post=post_ref(link.post_id, handle),
        kind="blockquote",
        url_as_found=permalink.get("href"),
        author_handle=handle,
        author_name=_text(_first(card, "subbuzz-tweet__display-name")),
        fallback_text=_text(_first(card, "subbuzz-tweet__text")),
        shown_date=_text(permalink),
    )


def _script(el: Any) -> Sighting | None:
    """An inline ``twttr.widgets.createTweet("ID", ...)`` call (not JSON state blobs)."""
    text = el.text
    if el.get("src") is not None or not text or "createTweet" not in text:
        return None
    match = _CREATE_TWEET.search(text)
    if match is None:
        return None
    return Sighting(element=el, post=post_ref(match.group(1)), kind="script", url_as_found=match.group(1))


def _link(el: Any) -> Sighting | None:
    """A plain link to a tweet; extraction keeps it only in the article body, outside embeds."""
    href = el.get("href")
    link = parse_status(href)
    return _sighting(el, link, "link", href) if link is not None else None


def _sighting(el: Any, link: StatusLink, kind: str, url_as_found: str | None) -> Sighting:
    return Sighting(element=el, post=post_ref(link.post_id, link.handle), kind=kind,
                    url_as_found=url_as_found, author_handle=link.handle)


def _status_links(el: Any) -> list[tuple[Any, StatusLink]]:
    found = []
    for a in _LINKS(el):
        link = parse_status(a.get("href"))
        if link is not None:
            found.append((a, link))
    return found


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


def _id_attr(el: Any) -> StatusLink | None:
    raw = el.get("data-tweet-id") or el.get("data-tweetid")
    return StatusLink(post_id=raw.strip(), handle=None) if is_tweet_id(raw) else None


def _signature(el: Any) -> tuple[str | None, str | None]:
    """Author name and handle from the last "— Name (@handle)" line of a blockquote."""
    matches = list(_SIGNATURE.finditer(_text(el) or ""))
    if not matches:
        return None, None
    name, handle = matches[-1].group(1).strip(), matches[-1].group(2)
    return (name or None), handle


def _first(el: Any, name: str) -> Any:
    """The first element under ``el`` with class ``name`` (a BuzzFeed card part)."""
    found = _BUZZFEED[name](el)
    return found[0] if found else None
