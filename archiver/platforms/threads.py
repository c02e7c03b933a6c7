"""Threads: ``blockquote.text-post-media[data-text-post-permalink]``, embed iframes, post links.

Identity is the post code, ``/@user/post/CODE`` on threads.net or threads.com
(Meta moved the site to threads.com in 2025; .net redirects), and the short
``/t/CODE`` form. The canonical URL uses threads.com and names the author when
the URL did. Profiles (``threads.net/@x``) are not posts.

The embed blockquote carries no post text, only the permalink (hence the
handle) and a "View on Threads" link; nothing else is recorded from it.

Resolution: not supported yet. Threads' oEmbed lives on ``graph.threads.net``
and wants a Meta token; the settings have no endpoint for it (``meta_graph``
is graph.facebook.com, another API), so ``lookups`` returns nothing and a post
is ``unsupported`` with that reason. Adding a ``threads_oembed`` endpoint to
``settings.Endpoints`` is all this module would need; the Meta terms choice
(availability only, no content) would apply as for Instagram.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "threads"
ENDPOINT = "threads.oembed"
UNSUPPORTED = "no Threads endpoint is configured (Threads oEmbed is on graph.threads.net and needs a Meta token)"

_CODE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_USER = re.compile(r"^@([A-Za-z0-9_.]{1,30})$")
_HOSTS = {"threads.net", "threads.com"}
DOMAINS = ("threads.net", "threads.com")
TAGS = ("blockquote", *oembed.FRAME_TAGS, "a")


def _parse(url: str) -> tuple[str, str | None, bool] | None:
    """(code, user, is embed URL)."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, _ = parts
    if oembed.bare_host(host) not in _HOSTS:
        return None
    embed = bool(segs) and segs[-1] == "embed"
    user = _USER.match(segs[0]) if segs else None
    if user and len(segs) >= 3 and segs[1] == "post" and _CODE.match(segs[2]):
        return segs[2], user.group(1), embed
    if len(segs) >= 2 and segs[0] in ("t", "post") and _CODE.match(segs[1]):
        return segs[1], None, embed
    return None


def identify(url: str) -> PostRef | None:
    found = _parse(url)
    if not found:
        return None
    code, user, _ = found
    url = f"https://www.threads.com/@{user}/post/{code}" if user else f"https://www.threads.com/t/{code}"
    return PostRef(NAME, code, url)


def _is_player(url: str) -> bool:
    found = _parse(url)
    return bool(found and found[2])


def detect(page: Page) -> Iterator[Sighting]:
    """Blockquotes (permalink attribute, else their first post link), iframes, plain links."""
    base_url = page.base_url
    claimed: set[Any] = set()
    for bq in page.with_class("blockquote", "text-post-media"):
        # the permalink attribute is sometimes site-relative ("/@user/post/CODE"): relative to Threads
        candidates = [(bq.attributes.get("data-text-post-permalink"), "https://www.threads.com/")]
        candidates += [(a.attributes.get("href"), base_url) for a in dom.descendants(bq, "a")]
        for raw, base in candidates:
            url = oembed.absolute(raw, base)
            found = _parse(url) if url else None
            if found:
                claimed.add(bq)
                yield Sighting(element=bq, post=identify(url or ""), kind="blockquote", url_as_found=raw,
                               author_handle=found[1])
                break
    for el, url, kind in page.frames:
        found = _parse(url) if _is_player(url) else None
        if found:
            claimed.add(el)
            yield Sighting(element=el, post=identify(url), kind=kind, url_as_found=url, author_handle=found[1])
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player, oembed.handle_in_url)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    return []


def classify(post: PostRef, answers: list[Answer]) -> Check:
    return oembed.unsupported(UNSUPPORTED, ENDPOINT)
