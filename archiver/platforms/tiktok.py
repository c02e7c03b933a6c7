"""TikTok: ``blockquote.tiktok-embed``, player iframes, links; public oEmbed for status.

Identity is the numeric video id (``data-video-id``, ``/@user/video/ID``,
``/@user/photo/ID``, ``/embed/v2/ID``, ``/embed/ID``, ``/player/v1/ID``,
``/share/video/ID``, ``m.tiktok.com/v/ID.html``). The canonical URL names the
author when the URL did; otherwise it is ``https://www.tiktok.com/share/video/ID``,
which TikTok redirects to the author's URL (usernames change, ids do not).
Short links (``vm.tiktok.com/X``) hide the id until followed: None.

What the article showed: the blockquote's caption paragraph and ``@handle``
(from ``cite`` and the first link of its section).

Resolution: ``GET {tiktok_oembed}?url=POST_URL`` (no auth). 200 with ``html``
-> available (caption as text, display name, ``author_unique_id`` as handle,
thumbnail); 404, or a body ``{"status_msg": "Something went wrong"}`` (TikTok's
one answer for removed, private and unknown videos) -> not_found with that
detail, never ``deleted``. Stored: the oEmbed fields, which TikTok publishes
for embedding without auth.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef, Status
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "tiktok"
ENDPOINT = "tiktok.oembed"
DOMAINS = ("tiktok.com",)
TAGS = ("blockquote", "amp-tiktok", *oembed.FRAME_TAGS, "a")

_ID = re.compile(r"^\d{15,25}$")
_USER = re.compile(r"^@([A-Za-z0-9_.]{1,40})$")


def _parse(url: str) -> tuple[str, str | None, bool] | None:
    """(video id, user or None, is player URL); a photo post's user comes as ``user/photo``."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, _ = parts
    if oembed.bare_host(host, ("www.", "m.")) != "tiktok.com" or not segs:
        return None
    user = _USER.match(segs[0])
    if user and len(segs) >= 3 and segs[1] in ("video", "photo") and _ID.match(segs[2]):
        return segs[2], user.group(1) + ("/photo" if segs[1] == "photo" else ""), False
    if segs[0] == "embed":
        rest = segs[2:] if len(segs) >= 3 and segs[1] == "v2" else segs[1:]
        return (rest[0], None, True) if rest and _ID.match(rest[0]) else None
    if segs[0] == "player" and len(segs) >= 3 and _ID.match(segs[2]):
        return segs[2], None, True
    if segs[0] in ("share", "video") and _ID.match(segs[-1]):
        return segs[-1], None, False
    if segs[0] == "v" and len(segs) >= 2 and _ID.match(segs[1].removesuffix(".html")):
        return segs[1].removesuffix(".html"), None, False
    return None


def _ref(vid: str, user: str | None) -> PostRef:
    if not user:
        return PostRef(NAME, vid, f"https://www.tiktok.com/share/video/{vid}")
    name, _, kind = user.partition("/")
    return PostRef(NAME, vid, f"https://www.tiktok.com/@{name}/{kind or 'video'}/{vid}")


def identify(url: str) -> PostRef | None:
    found = _parse(url)
    return _ref(found[0], found[1]) if found else None


def _is_player(url: str) -> bool:
    found = _parse(url)
    return bool(found and found[2])


def _blockquote(bq: Any) -> Sighting | None:
    attributes = bq.attributes
    cite = attributes.get("cite") or ""
    found = _parse(cite)
    vid = (attributes.get("data-video-id") or "").strip() or (found[0] if found else "")
    if not _ID.match(vid):
        return None
    user = found[1].partition("/")[0] if found and found[1] and found[0] == vid else None
    if user is None:
        for a in dom.descendants(bq, "a"):
            match = _USER.match(dom.text_content(a).strip())
            if match:
                user = match.group(1)
                break
    # the caption: the first <p> in a <section> or right under the blockquote
    caption = next((p for p in dom.descendants(bq, "p")
                    if (parent := dom.parent(p)) is not None and (parent.tag == "section" or dom.same(parent, bq))),
                   None)
    return Sighting(element=bq, post=_ref(vid, user), kind="blockquote", url_as_found=cite or vid,
                    author_handle=user, fallback_text=oembed.text_of(caption))


def detect(page: Page) -> Iterator[Sighting]:
    """Blockquotes (``cite`` + ``data-video-id``), amp-tiktok, player iframes, then plain links."""
    claimed: set[Any] = set()
    for bq in page.with_class("blockquote", "tiktok-embed"):
        sighting = _blockquote(bq)
        if sighting:
            claimed.add(bq)
            yield sighting
    for el in page.tagged("amp-tiktok"):
        src = (el.attributes.get("data-src") or "").strip()
        post = _ref(src, None) if _ID.match(src) else identify(src)
        if post:
            claimed.add(el)
            yield Sighting(element=el, post=post, kind="amp", url_as_found=src)
    for el, url, kind in page.frames:
        if _is_player(url):
            claimed.add(el)
            yield Sighting(element=el, post=identify(url), kind=kind, url_as_found=url)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player, oembed.handle_in_url)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    return [Lookup(ENDPOINT, oembed.query_url(settings.endpoints.tiktok_oembed, url=post.url))]


def _fields(data: dict) -> dict:
    handle = data.get("author_unique_id")
    if not handle:
        match = re.search(r"/@([A-Za-z0-9_.]+)", str(data.get("author_url") or ""))
        handle = match.group(1) if match else None
    fields = oembed.oembed_fields(data, handle=str(handle) if handle else None)
    if data.get("embed_product_id"):
        fields["extra"]["embed_product_id"] = str(data["embed_product_id"])
    return fields


def classify(post: PostRef, answers: list[Answer]) -> Check:
    answer = oembed.answer_for(answers, ENDPOINT)
    data = oembed.json_body(answer) if answer is not None and answer.status is not None else None
    if (isinstance(data, dict) and data.get("status_msg") and not data.get("html")
            and answer is not None and answer.status is not None and answer.status < 500 and answer.status != 429):
        return Check(Status.NOT_FOUND, detail=f"TikTok oEmbed: {data['status_msg']} (removed, private or unknown)",
                     http_status=answer.status, endpoint=ENDPOINT)
    return oembed.classify_json(answers, ENDPOINT, _fields)
