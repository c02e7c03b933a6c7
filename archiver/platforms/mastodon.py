"""Mastodon: ``/@user/ID/embed`` iframes, ``blockquote.mastodon-embed``, status links.

Mastodon has no central host: any server can carry a status, so a URL is
recognised by its shape, ``https://INSTANCE/@user/ID`` (also ``@user@remote``
for a remote account seen from INSTANCE, ``/users/user/statuses/ID``, and the
``/embed`` suffix of the iframe). An iframe needs no ``embed.js`` next to it
(page 050 has none). Hosts of the other platforms (TikTok's ``/@user/video``,
Threads' ``/@user/post``, Medium) are excluded by name, and outside the
``/embed`` URL the id must have the snowflake shape every status id has had
since Mastodon 2.0 (2017): ``/@name/1599766`` is a profile on newsbreak.com.
Links to pre-2017 statuses are missed by this; their embeds are not.

Identity: ``post_id`` is ``instance/ID`` (host lower-cased), because a status
id is only unique on its server; the same status federated to another server
has another id there, and stays another key. The canonical URL is
``https://INSTANCE/@user/ID``, the handle ``user@instance`` (a bare ``user`` is
ambiguous across servers).

Resolution: ``GET https://INSTANCE/api/v1/statuses/ID`` on the status's own
server. There is no endpoint setting for it, since the instance is part of the
post; tests and mirrors map it with ``--connect-to`` (settings.connect_to).
200 -> available (content as text, account, created_at, language, media, the
content warning and sensitivity in ``extra``); 404 -> not_found (Mastodon also
answers 404 for private and followers-only statuses); 410 -> deleted (the
server says it is gone); 401 -> error (the server requires sign-in for its
API: says nothing about the post); 403 -> restricted. Public statuses are
public by the author's choice; the status is stored as served.
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

NAME = "mastodon"
ENDPOINT = "mastodon.status"
DOMAINS = None  # any server: recognised by the shape of the URL
TAGS = ("blockquote", *oembed.FRAME_TAGS, "a")

_USER = re.compile(r"^@([A-Za-z0-9_.-]{1,64})(?:@([A-Za-z0-9.-]+\.[A-Za-z]{2,}))?$")
_STATUS_ID = re.compile(r"^\d{1,20}$")
_SNOWFLAKE = re.compile(r"^\d{16,20}$")
_NOT_MASTODON = (
    "tiktok.com", "threads.net", "threads.com", "medium.com", "youtube.com", "instagram.com",
    "twitter.com", "x.com", "facebook.com", "bsky.app", "vimeo.com", "reddit.com", "t.me",
    "pinterest.com", "soundcloud.com", "flickr.com", "behance.net", "dribbble.com", "substack.com",
)
_POST_BY = re.compile(r"@([A-Za-z0-9_.-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


_URL_HINTS = ("@", "users")  # one is in every status URL: /@user/ID, /users/user/statuses/ID


def _parse(url: str) -> tuple[str, str, str, bool] | None:
    """(instance, status id, user@domain, is embed URL)."""
    if "@" not in url and "users" not in url and "\t" not in url and "\n" not in url and "\r" not in url:
        return None  # neither /@user/ID nor /users/user/statuses/ID (urlsplit drops tabs and newlines)
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, _ = parts
    if any(host == d or host.endswith("." + d) for d in _NOT_MASTODON) or "." not in host:
        return None
    embed = bool(segs) and segs[-1] == "embed"
    if embed:
        segs = segs[:-1]
    user = domain = None
    if len(segs) == 2:
        match = _USER.match(segs[0])
        # /@name/NUMBER is common off Mastodon (newsbreak.com/@c/1599766, page 044); only the embed
        # URL or a snowflake id (16+ digits, every status since Mastodon 2.0, 2017) says "status"
        if match and _STATUS_ID.match(segs[1]) and (embed or _SNOWFLAKE.match(segs[1])):
            user, domain, sid = match.group(1), match.group(2), segs[1]
    elif len(segs) == 4 and segs[0] == "users" and segs[2] == "statuses" and _STATUS_ID.match(segs[3]):
        user, sid = segs[1], segs[3]
    if not user:
        return None
    return host, sid, f"{user}@{domain or host}", embed


def identify(url: str) -> PostRef | None:
    found = _parse(url)
    if not found:
        return None
    host, sid, handle, _ = found
    user, _, domain = handle.partition("@")
    path_user = user if domain == host else handle
    return PostRef(NAME, f"{host}/{sid}", f"https://{host}/@{path_user}/{sid}")


def handle_of(url: str) -> str | None:
    """``user@instance`` of a status URL."""
    found = _parse(url)
    return found[2] if found else None


def _is_player(url: str) -> bool:
    found = _parse(url)
    return bool(found and found[3])


def detect(page: Page) -> Iterator[Sighting]:
    """Embed iframes (class or not), the 4.3+ blockquote, then plain links to statuses."""
    base_url = page.base_url
    claimed: set[Any] = set()
    for el, url, kind in page.frames:
        if _is_player(url):
            claimed.add(el)
            yield Sighting(element=el, post=identify(url), kind=kind, url_as_found=url, author_handle=handle_of(url))
    for bq in page.with_class("blockquote", "mastodon-embed"):
        candidates = [bq.attributes.get("data-embed-url")]
        candidates += [a.attributes.get("href") for a in dom.descendants(bq, "a")]
        for raw in candidates:
            url = oembed.absolute(raw, base_url)
            post = identify(url) if url else None
            if post:
                claimed.add(bq)
                match = _POST_BY.search(oembed.text_of(bq) or "")
                yield Sighting(element=bq, post=post, kind="blockquote", url_as_found=raw,
                               author_handle=match.group(1) if match else handle_of(url or ""))
                break
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player,
                                     handle=lambda post: handle_of(post.url), hints=_URL_HINTS)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    instance, _, sid = post.post_id.partition("/")
    return [Lookup(ENDPOINT, f"https://{instance}/api/v1/statuses/{sid}", (("Accept", "application/json"),))]


_STATUSES = {
    410: (Status.DELETED, "the server says the status is gone (HTTP 410)"),
    401: (Status.ERROR, "the server requires sign-in for its API (HTTP 401)"),
    403: (Status.RESTRICTED, "the server refused access (HTTP 403)"),
}


def _fields_for(post: PostRef):
    instance = post.post_id.partition("/")[0]

    def fields(data: dict) -> dict:
        account = data.get("account") or {}
        acct = str(account.get("acct") or account.get("username") or "")
        handle = acct if "@" in acct else (f"{acct}@{instance}" if acct else None)
        media = tuple(str(m.get("url") or m.get("remote_url")) for m in data.get("media_attachments") or ()
                      if isinstance(m, dict) and (m.get("url") or m.get("remote_url")))
        extra = {k: data[k] for k in ("url", "uri", "visibility", "spoiler_text", "sensitive", "edited_at",
                                      "in_reply_to_id") if data.get(k) not in (None, "", False)}
        return {"author_handle": handle, "author_name": oembed.clean(account.get("display_name")),
                "text": oembed.html_text(data.get("content")), "created_at": data.get("created_at"),
                "lang": data.get("language"), "media": media, "extra": extra}

    return fields


def classify(post: PostRef, answers: list[Answer]) -> Check:
    return oembed.classify_json(answers, ENDPOINT, _fields_for(post), _STATUSES)
