"""Reddit: ``blockquote.reddit-embed-bq`` (older ``reddit-card``), embed iframes, post links.

Identity is the submission id from ``/comments/ID/`` (any of www, old, new, np,
m, embed.reddit.com, redditmedia.com) or ``redd.it/ID``, lower-cased. A
comment permalink (``/comments/ID/slug/COMMENT`` or ``/comments/ID/comment/COMMENT``)
is keyed by its submission too, as the corpus scorer does; the comment path is
kept in the canonical URL so oEmbed still resolves the comment itself. Subreddits,
users, share links (``/r/x/s/CODE``, opaque until followed) and media hosts
(``i.redd.it``, ``v.redd.it``) are not posts.

What the article showed: the blockquote's title link, and ``u/author`` and
``r/subreddit`` when the newer embed code carries them.

Resolution: ``GET {reddit_oembed}?url=POST_URL``. 200 -> available (title,
author); 404 -> not_found; 403 -> restricted (private or quarantined
subreddit). A post whose author shows as ``[deleted]`` is still served: it
stays available, with the detail saying so. Stored: the oEmbed fields.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterator

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef, Status
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "reddit"
ENDPOINT = "reddit.oembed"

_ID = re.compile(r"^[a-z0-9]{2,12}$", re.I)
_HOSTS = {"reddit.com", "redditmedia.com"}
DOMAINS = ("reddit.com", "redditmedia.com", "redd.it")
TAGS = ("blockquote", "amp-reddit", *oembed.FRAME_TAGS, "a")
_SUB = re.compile(r"^[A-Za-z0-9_]{2,32}$")


def _parse(url: str) -> tuple[PostRef, bool] | None:
    """(post, is embed URL)."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, _ = parts
    if host in ("redd.it", "www.redd.it"):
        return (PostRef(NAME, segs[0].lower(), f"https://www.reddit.com/comments/{segs[0].lower()}/"), False) \
            if len(segs) == 1 and _ID.match(segs[0]) else None
    labels = host.split(".")
    if ".".join(labels[-2:]) not in _HOSTS:
        return None
    embed = labels[0] == "embed" or labels[-2] == "redditmedia"
    if "comments" not in segs:
        return None
    i = segs.index("comments")
    if i + 1 >= len(segs) or not _ID.match(segs[i + 1]):
        return None
    sub = segs[1] if i >= 2 and segs[0] == "r" and _SUB.match(segs[1]) else None
    pid = segs[i + 1].lower()
    base = f"https://www.reddit.com/r/{sub}/comments/{pid}/" if sub else f"https://www.reddit.com/comments/{pid}/"
    rest = segs[i + 2:]
    comment = None
    if len(rest) >= 2 and _ID.match(rest[1]) and rest[1].lower() != pid:
        comment = rest[1].lower()  # /slug/COMMENT or /comment/COMMENT
    return PostRef(NAME, pid, f"{base}comment/{comment}/" if comment else base), embed


def identify(url: str) -> PostRef | None:
    found = _parse(url)
    return found[0] if found else None


def _is_player(url: str) -> bool:
    found = _parse(url)
    return bool(found and found[1])


def _blockquote(bq: Any, base_url: str | None) -> Sighting | None:
    anchors = list(dom.descendants(bq, "a"))
    for a in anchors:
        href = a.attributes.get("href")
        post = identify(oembed.absolute(href, base_url) or "")
        if not post:
            continue
        handle = None
        for other in anchors:
            match = re.search(r"/(?:user|u)/([A-Za-z0-9_-]{2,32})/?$", other.attributes.get("href") or "")
            if match:
                handle = match.group(1)
                break
        return Sighting(element=bq, post=post, kind="blockquote", url_as_found=href, author_handle=handle,
                        fallback_text=oembed.text_of(a))
    return None


def detect(page: Page) -> Iterator[Sighting]:
    """Blockquotes (both generations), amp-reddit, embed iframes, then plain links to posts."""
    base_url = page.base_url
    claimed: set[Any] = set()
    for cls in ("reddit-embed-bq", "reddit-card"):
        for bq in page.with_class("blockquote", cls):
            sighting = _blockquote(bq, base_url)
            if sighting:
                claimed.add(bq)
                yield sighting
    for el in page.tagged("amp-reddit"):
        src = el.attributes.get("data-src")
        post = identify(oembed.absolute(src, base_url) or "")
        if post:
            claimed.add(el)
            yield Sighting(element=el, post=post, kind="amp", url_as_found=src)
    for el, url, kind in page.frames:
        if _is_player(url):
            claimed.add(el)
            yield Sighting(element=el, post=identify(url), kind=kind, url_as_found=url)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    return [Lookup(ENDPOINT, oembed.query_url(settings.endpoints.reddit_oembed, url=post.url))]


def _fields(data: dict) -> dict:
    author = str(data.get("author_name") or "") or None
    fields = oembed.oembed_fields(data, handle=author if author and author != "[deleted]" else None)
    if author == "[deleted]":
        fields["extra"]["author_deleted"] = True
    return fields


_STATUSES = {403: (Status.RESTRICTED, "private or quarantined subreddit (HTTP 403)")}


def classify(post: PostRef, answers: list[Answer]) -> Check:
    check = oembed.classify_json(answers, ENDPOINT, _fields, _STATUSES)
    if check.extra.get("author_deleted"):
        return dataclasses.replace(check, detail="served, but the author shows as [deleted]")
    return check
