"""YouTube: player iframes and their lazy, AMP and facade forms; oEmbed for status.

Identity is the 11-character video id, whatever URL form the article used
(``watch?v=``, ``youtu.be``, ``/embed/``, ``/shorts/``, ``/live/``, the
``youtube-nocookie.com`` privacy host). Playlists (``/embed/videoseries``),
channel live streams and channels are not single posts: ``identify`` says None.

Resolution: ``GET {youtube_oembed}?format=json&url=https://www.youtube.com/watch?v=ID``.
200 -> available (title as text, channel name, ``@handle`` when the channel URL
carries one, thumbnail as media); 401/403 -> restricted (the owner disabled
embedding, or the video is private: oEmbed does not say which); 404 -> not_found
(removed, or never existed); 400 -> error (the request was not understood, which
says nothing about the video).

Stored: what oEmbed returns. YouTube's API terms allow keeping public metadata;
the video itself is not fetched.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from archiver.models import Answer, Check, Lookup, PostRef, Status
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "youtube"
ENDPOINT = "youtube.oembed"
DOMAINS = ("youtube.com", "youtube-nocookie.com", "youtu.be")
TAGS = ("lite-youtube", "amp-youtube", *oembed.FRAME_TAGS, "a")

_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_HOSTS = {"youtube.com", "music.youtube.com", "gaming.youtube.com", "youtube-nocookie.com"}
_PATH_FORMS = {"embed", "shorts", "v", "live", "e", "watch"}
_PLAYER_FORMS = {"embed", "v", "e"}
_NOT_VIDEOS = {"videoseries", "live_stream"}  # 11 characters, like an id: playlists and channel streams


def _video_id(url: str) -> tuple[str, str] | None:
    """(video id, path form) of a YouTube URL, None when it is no single video."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segments, query = parts
    host = oembed.bare_host(host)
    if host in ("youtu.be", "www.youtu.be"):
        vid = segments[0] if segments else ""
        return (vid, "short") if _ID.match(vid) else None
    if host not in _HOSTS:
        return None
    if segments and segments[0] == "watch":
        vid = oembed.first_query(query, "v") or (segments[1] if len(segments) > 1 else "")
        return (vid, "watch") if _ID.match(vid) else None
    # the Flash-era embed code put parameters after the id without a "?": /v/ID&hl=en&fs=1
    vid = segments[1].split("&", 1)[0] if len(segments) >= 2 else ""
    if segments and segments[0] in _PATH_FORMS and _ID.match(vid) and vid not in _NOT_VIDEOS:
        return vid, segments[0]
    return None


def identify(url: str) -> PostRef | None:
    found = _video_id(url)
    if not found:
        return None
    vid = found[0]
    return PostRef(NAME, vid, f"https://www.youtube.com/watch?v={vid}")


def _is_player(url: str) -> bool:
    found = _video_id(url)
    return bool(found and found[1] in _PLAYER_FORMS)


def _ref(vid: str | None) -> PostRef | None:
    vid = (vid or "").strip()
    return PostRef(NAME, vid, f"https://www.youtube.com/watch?v={vid}") if _ID.match(vid) else None


def _title(el: Any) -> str | None:
    """The iframe title when it names the video (not the generic "YouTube video player")."""
    title = oembed.clean(el.attributes.get("title"))
    if not title or "video player" in title.lower() or title.lower() == "youtube":
        return None
    return title


def detect(page: Page) -> Iterator[Sighting]:
    """Player iframes (src or lazy data-src), lite-youtube, amp-youtube, then plain links."""
    claimed: set[Any] = set()
    for el, url, kind in page.frames:
        if not _is_player(url):
            continue
        post = identify(url)
        if post:
            claimed.add(el)
            yield Sighting(element=el, post=post, kind=kind, url_as_found=url, fallback_text=_title(el))
    for el in page.tagged("lite-youtube"):
        attributes = el.attributes
        post = _ref(attributes.get("videoid"))
        if post:
            claimed.add(el)
            # a facade for the player iframe it becomes on click: reported as that iframe
            yield Sighting(element=el, post=post, kind="iframe", url_as_found=attributes.get("videoid"),
                           fallback_text=oembed.clean(attributes.get("playlabel")) or _title(el))
    for el in page.tagged("amp-youtube"):
        vid = el.attributes.get("data-videoid")
        post = _ref(vid)
        if post:
            claimed.add(el)
            yield Sighting(element=el, post=post, kind="amp", url_as_found=vid)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    return [Lookup(ENDPOINT, oembed.query_url(settings.endpoints.youtube_oembed, format="json", url=post.url))]


def _fields(data: dict) -> dict:
    author_url = str(data.get("author_url") or "")
    handle = author_url.rsplit("/@", 1)[1].strip("/") if "/@" in author_url else None
    return oembed.oembed_fields(data, handle=handle)


_STATUSES = {
    401: (Status.RESTRICTED, "embedding disabled or video private (HTTP 401)"),
    403: (Status.RESTRICTED, "embedding disabled or video private (HTTP 403)"),
    400: (Status.ERROR, "YouTube oEmbed did not understand the request (HTTP 400)"),
}


def classify(post: PostRef, answers: list[Answer]) -> Check:
    return oembed.classify_json(answers, ENDPOINT, _fields, _STATUSES)
