"""Vimeo: ``player.vimeo.com/video/ID`` iframes and links to videos; oEmbed for status.

Identity is the numeric video id. An unlisted video also has a privacy hash
(``vimeo.com/ID/HASH``, ``player.vimeo.com/video/ID?h=HASH``) without which
oEmbed refuses it: the hash is kept in the canonical URL, never in the id, so
both forms stay one post. Users, channels, albums and showcases are not posts.

A link to the player URL is what Condé Nast's consent banner leaves in place of
the iframe (wired.jp, page 033): it is reported as kind ``iframe``.

Resolution: ``GET {vimeo_oembed}?url=https://vimeo.com/ID``. 200 -> available
(title, author, description, thumbnail); 403 -> restricted (Vimeo's answer for
embed privacy: domain-restricted or hidden videos); 404 -> not_found. Since 2024
Vimeo sometimes answers 200 with only ``video_id`` and the player HTML: still
available, with fewer fields. ``upload_date`` has no time zone, so it goes to
``extra`` rather than ``created_at`` (which is UTC by contract).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from archiver.models import Answer, Check, Lookup, PostRef, Status
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "vimeo"
ENDPOINT = "vimeo.oembed"
DOMAINS = ("vimeo.com",)
TAGS = ("amp-vimeo", *oembed.FRAME_TAGS, "a")

_ID = re.compile(r"^\d{4,12}$")
_HASH = re.compile(r"^[0-9a-f]{6,20}$")
# vimeo.com/<kind>/<name>/[video|videos]/ID
_NESTED = {"channels", "groups", "album", "showcase"}


def _parse(url: str) -> tuple[str, str | None, bool] | None:
    """(video id, privacy hash, is player URL) or None."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, query = parts
    if host == "player.vimeo.com":
        if len(segs) >= 2 and segs[0] == "video" and _ID.match(segs[1]):
            return segs[1], oembed.first_query(query, "h"), True
        return None
    if oembed.bare_host(host) != "vimeo.com" or not segs:
        return None
    if _ID.match(segs[0]):
        hash_ = segs[1] if len(segs) > 1 and _HASH.match(segs[1]) else None
        return segs[0], hash_, False
    if segs[0] in _NESTED and len(segs) >= 3:
        tail = segs[2:]
        if tail and tail[0] in ("video", "videos"):
            tail = tail[1:]
        if tail and _ID.match(tail[0]):
            return tail[0], None, False
    if segs[0] == "video" and len(segs) >= 2 and _ID.match(segs[1]):
        return segs[1], None, False
    return None


def identify(url: str) -> PostRef | None:
    found = _parse(url)
    if not found:
        return None
    vid, hash_, _ = found
    return PostRef(NAME, vid, f"https://vimeo.com/{vid}/{hash_}" if hash_ else f"https://vimeo.com/{vid}")


def _is_player(url: str) -> bool:
    found = _parse(url)
    return bool(found and found[2])


def detect(page: Page) -> Iterator[Sighting]:
    """Player iframes (and lazy ones), amp-vimeo, then links (player links count as iframes)."""
    claimed: set[Any] = set()
    for el, url, kind in page.frames:
        post = identify(url) if _is_player(url) else None
        if post:
            claimed.add(el)
            yield Sighting(element=el, post=post, kind=kind, url_as_found=url,
                           fallback_text=oembed.clean(el.attributes.get("title")))
    for el in page.tagged("amp-vimeo"):
        vid = (el.attributes.get("data-videoid") or "").strip()
        if _ID.match(vid):
            claimed.add(el)
            yield Sighting(element=el, post=PostRef(NAME, vid, f"https://vimeo.com/{vid}"), kind="amp",
                           url_as_found=vid)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    return [Lookup(ENDPOINT, oembed.query_url(settings.endpoints.vimeo_oembed, url=post.url))]


def _fields(data: dict) -> dict:
    author_url = str(data.get("author_url") or "").rstrip("/")
    handle = author_url.rsplit("/", 1)[1] if "vimeo.com/" in author_url else None
    fields = oembed.oembed_fields(data, handle=handle)
    for key in ("description", "upload_date", "duration", "video_id"):
        if data.get(key) not in (None, ""):
            fields["extra"][key] = data[key]
    return fields


_STATUSES = {403: (Status.RESTRICTED, "embed privacy: video hidden or domain-restricted (HTTP 403)")}


def classify(post: PostRef, answers: list[Answer]) -> Check:
    return oembed.classify_json(answers, ENDPOINT, _fields, _STATUSES)
