"""The platform registry: adding a platform is one module and one line here."""

from __future__ import annotations

import functools
from typing import Any

from archiver.models import PostRef
from archiver.platforms import (
    bluesky,
    facebook,
    instagram,
    mastodon,
    reddit,
    telegram,
    threads,
    tiktok,
    twitter,
    vimeo,
    youtube,
)
from archiver.platforms.base import Platform, Sighting
from archiver.platforms.page import Page, domains_of, host_of

PLATFORMS: tuple[Platform, ...] = (
    twitter,
    youtube,
    instagram,
    facebook,
    tiktok,
    bluesky,
    threads,
    reddit,
    telegram,
    vimeo,
    mastodon,  # last: it recognises status URLs by shape on any host
)

_BY_NAME = {p.NAME: p for p in PLATFORMS}


def _declared(platform: Any, name: str) -> Any:
    """A platform's ``DOMAINS`` or ``TAGS``; a package may keep it in its ``ids`` or ``markup`` module.

    Missing altogether, a platform is asked about every URL (``DOMAINS`` None)
    and its detector walks for its own tags: slower, never wrong.
    """
    if hasattr(platform, name):
        return getattr(platform, name)
    for part in ("ids", "markup"):
        module = getattr(platform, part, None)
        if module is not None and hasattr(module, name):
            return getattr(module, name)
    return None


DOMAINS: dict[str, tuple[str, ...] | None] = {p.NAME: _declared(p, "DOMAINS") for p in PLATFORMS}
"""Each platform's domains (None: any host)."""

TAGS: tuple[str, ...] = tuple(dict.fromkeys(tag for p in PLATFORMS for tag in (_declared(p, "TAGS") or ())))
"""Every tag some detector asks the page for: extraction collects them in one walk."""

_ANY_HOST = tuple(p for p in PLATFORMS if DOMAINS[p.NAME] is None)
_BY_DOMAIN: dict[str, tuple[Platform, ...]] = {}
for _p in PLATFORMS:
    for _domain in DOMAINS[_p.NAME] or ():
        _BY_DOMAIN[_domain] = _BY_DOMAIN.get(_domain, ()) + (_p,)


def get(name: str) -> Platform:
    """The platform module called ``name``; KeyError names the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(_BY_NAME))})") from None


def names() -> list[str]:
    return [p.NAME for p in PLATFORMS]


def identify(url: str) -> PostRef | None:
    """The post a URL points at, on whichever platform recognises it (the first, in registry order).

    Only the platforms whose domains hold the URL's host are asked (and those
    that accept any host); a URL whose host cannot be read plainly is asked of
    every platform.
    """
    host = host_of(url) if url else None
    for platform in candidates(host):
        post = platform.identify(url)
        if post is not None:
            return post
    return None


def identify_at(url: str, host: str | None) -> PostRef | None:
    """``identify`` for a URL whose host the caller already read (``Link.host``: lower case, no port)."""
    for platform in candidates(host.rstrip(".") or None if host else None):
        post = platform.identify(url)
        if post is not None:
            return post
    return None


@functools.lru_cache(maxsize=4096)
def candidates(host: str | None) -> tuple[Platform, ...]:
    """The platforms that may recognise a URL on ``host`` (None: unknown host), in registry order."""
    if host is None:
        return PLATFORMS
    found = set(_ANY_HOST)
    for domain in domains_of(host):
        found.update(_BY_DOMAIN.get(domain, ()))
    return tuple(p for p in PLATFORMS if p in found)


__all__ = ["DOMAINS", "PLATFORMS", "TAGS", "Page", "Platform", "Sighting", "candidates", "get", "identify",
           "identify_at", "names"]
