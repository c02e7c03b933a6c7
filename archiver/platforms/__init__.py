"""The platform registry: adding a platform is one module and one line here."""

from __future__ import annotations

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


def get(name: str) -> Platform:
    """The platform module called ``name``; KeyError names the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(_BY_NAME))})") from None


def names() -> list[str]:
    return [p.NAME for p in PLATFORMS]


def identify(url: str) -> PostRef | None:
    """The post a URL points at, on whichever platform recognises it."""
    for platform in PLATFORMS:
        post = platform.identify(url)
        if post is not None:
            return post
    return None


__all__ = ["PLATFORMS", "Platform", "Sighting", "get", "identify", "names"]
