"""Facebook: ``fb-post``/``fb-video`` divs, post and video plugin iframes, AMP; Meta oEmbed.

Identity: the numeric id Facebook puts in the URL when there is one
(``story_fbid=``, ``/posts/ID``, ``/videos/ID``, ``/photos/a.X/ID``,
``photo.php?fbid=``, ``watch?v=``, ``/groups/G/permalink/ID``, ``/reel/ID``;
also ``pfbid...`` ids). Otherwise (notes, ``fb.watch`` and ``/share/`` short
links) the key is the host and path, lower-cased, as the corpus scorer
normalises them. ``m.``, ``mobile.``, ``web.`` and ``www.`` hosts are one site:
the canonical URL is the href as found on ``https://www.facebook.com``, with
the query kept only when the id lives in it. Plugin URLs
(``plugins/post.php?href=``) are unwrapped to the post they show. Profiles,
pages, events, the like/page/comments plugins and share dialogs are not posts.

What the article showed: the SDK's fallback blockquote inside the div (text,
"Posted by NAME on DATE").

Resolution: Meta's Graph ``oembed_post`` (``oembed_video`` for videos and reels),
only with ``meta_access_token`` set; otherwise no lookup and ``unsupported``.
Platform terms: Meta restricts storing oEmbed content, so a check keeps the
availability and the page or person's name, nothing else.
"""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import urlsplit

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "facebook"
POST_ENDPOINT = "facebook.oembed_post"
VIDEO_ENDPOINT = "facebook.oembed_video"
DOMAINS = ("facebook.com", "fb.watch")
TAGS = ("div", "amp-facebook", *oembed.FRAME_TAGS, "a")

_HOSTS = {"facebook.com", "business.facebook.com"}
_PREFIXES = ("www.", "m.", "mobile.", "web.", "touch.", "mbasic.")
_KEYWORDS = ("posts", "videos", "photos", "permalink", "reel", "reels")
_QUERY_PAGES = {"photo.php", "photo", "video.php", "watch", "story.php", "permalink.php"}
_PLUGINS = {"post.php", "video.php"}
_SHORT_HOSTS = {"fb.watch"}
_ID = re.compile(r"^\d{5,25}$")
_WORD_ID = re.compile(r"^(?:\d{5,25}|pfbid\w{10,})$")
_VIDEO_HINTS = ("/videos/", "/watch", "video.php", "/reel", "fb.watch")


def _key(url: str, depth: int = 0) -> tuple[str, str, bool] | None:
    """(post id, canonical url, is plugin URL) of a Facebook post URL."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, query = parts
    if oembed.bare_host(host, ("www.",)) in _SHORT_HOSTS:
        if not segs:
            return None
        path = "/".join(segs)
        return f"fb.watch/{path}".lower(), f"https://fb.watch/{path}/", False
    if oembed.bare_host(host, _PREFIXES) not in _HOSTS:
        return None
    if len(segs) == 2 and segs[0] == "plugins":
        href = oembed.first_query(query, "href")
        if segs[1] in _PLUGINS and href and depth == 0:
            inner = _key(href, depth + 1)
            return (inner[0], inner[1], True) if inner else None
        return None
    raw = urlsplit(url if "://" in url else "https://" + url.lstrip("/"))
    path = "/" + "/".join(segs)
    canonical = "https://www.facebook.com" + (raw.path or "/")
    post_id = oembed.first_query(query, "story_fbid")
    if not post_id and segs and segs[0] in _QUERY_PAGES:
        post_id = oembed.first_query(query, "fbid", "v", "id")
    if post_id:
        return post_id, f"{canonical}?{raw.query}" if raw.query else canonical, False
    for i, seg in enumerate(segs):
        if seg in _KEYWORDS:
            tail = segs[i + 1:]
            numeric = [s for s in tail if _ID.match(s)]
            word = [s for s in tail if _WORD_ID.match(s)]
            found = numeric[-1] if numeric else (word[0] if word else None)
            if found:
                return found, canonical, False
            return None
    if len(segs) >= 2 and segs[0] in ("notes", "share"):
        return ("facebook.com" + path).lower(), canonical, False
    return None


def identify(url: str) -> PostRef | None:
    found = _key(url)
    return PostRef(NAME, found[0], found[1]) if found else None


def _is_player(url: str) -> bool:
    found = _key(url)
    return bool(found and found[2])


def _fallback(el: Any) -> tuple[str | None, str | None, str | None]:
    """(text, author name, date) from the SDK's fallback ``blockquote.fb-xfbml-parse-ignore``."""
    text = name = date = None
    for bq in dom.descendants(el, "blockquote"):
        for p in dom.descendants(bq, "p"):
            body = oembed.text_of(p)
            if body and body.lower().startswith("posted by"):
                links = list(dom.descendants(p, "a"))
                name = oembed.text_of(links[0]) if links else None
                date = oembed.text_of(links[-1]) if len(links) > 1 else None
            elif body and text is None:
                text = body
        if name is None:  # oEmbed's variant: "Posted by" is a bare text node in the blockquote
            links = [child for child in dom.children(bq) if child.tag == "a"]
            if len(links) >= 2:
                name, date = oembed.text_of(links[0]), oembed.text_of(links[-1])
        break
    return text, name, date


def detect(page: Page) -> Iterator[Sighting]:
    """SDK divs, amp-facebook (posts and videos only), plugin iframes, then plain links."""
    base_url = page.base_url
    claimed: set[Any] = set()
    for cls in ("fb-post", "fb-video"):
        for div in page.with_class("div", cls):
            href = div.attributes.get("data-href")
            post = identify(oembed.absolute(href, base_url) or "") if href else None
            if post:
                claimed.add(div)
                text, name, date = _fallback(div)
                yield Sighting(element=div, post=post, kind="div", url_as_found=href, author_name=name,
                               fallback_text=text, shown_date=date)
    for el in page.tagged("amp-facebook"):
        attributes = el.attributes
        if (attributes.get("data-embed-as") or "post") not in ("post", "video"):
            continue  # comment embeds are not posts
        href = attributes.get("data-href")
        post = identify(oembed.absolute(href, base_url) or "") if href else None
        if post:
            claimed.add(el)
            yield Sighting(element=el, post=post, kind="amp", url_as_found=href)
    for el, url, kind in page.frames:
        if _is_player(url):
            claimed.add(el)
            yield Sighting(element=el, post=identify(url), kind=kind, url_as_found=url)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player)


def _endpoint(post: PostRef) -> tuple[str, str]:
    if any(hint in post.url for hint in _VIDEO_HINTS):
        return VIDEO_ENDPOINT, "oembed_video"
    return POST_ENDPOINT, "oembed_post"


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    endpoint, path = _endpoint(post)
    return oembed.meta_lookups(post, settings, endpoint, path)


def classify(post: PostRef, answers: list[Answer]) -> Check:
    endpoint, _ = _endpoint(post)
    return oembed.classify_meta(answers, endpoint, handle_is_author_name=False)
