"""Bluesky: ``blockquote.bluesky-embed``, ``embed.bsky.app`` iframes, post links; AppView for status.

Identity: the post's at-uri, ``at://AUTHORITY/app.bsky.feed.post/RKEY``, where
AUTHORITY is the DID when the markup gives one (the blockquote's
``data-bluesky-uri`` always does) and the lower-cased handle otherwise. The
at-uri, ``bsky.app/profile/X/post/RKEY`` and the embed iframe of one post give
the same key when they name the author the same way. A handle and a DID for
the same author stay two keys: turning a handle into a DID needs a network
call, which a pure module cannot make; the corpus scorer compares record keys
only, so both forms still match there. The canonical URL is
``https://bsky.app/profile/AUTHORITY/post/RKEY``.

What the article showed: the blockquote's text (``<p lang>``), and its footer
``— Name (@handle) Date``.

Resolution: ``GET {bluesky_appview}/app.bsky.feed.getPostThread?uri=AT_URI&depth=0``.
200 with ``thread.$type`` threadViewPost -> available (text, author, createdAt,
langs, images); notFoundPost or HTTP 400 ``{"error": "NotFound"}`` -> not_found;
blockedPost -> restricted. Moderation labels go to ``extra``. Everything on the
public AppView is public by design; the post record is stored whole.
"""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import unquote

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef, Status
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "bluesky"
ENDPOINT = "bluesky.getPostThread"
COLLECTION = "app.bsky.feed.post"
DOMAINS = ("bsky.app", "bsky.dev")  # and at:// URIs, which have no host (every platform sees those)
TAGS = ("blockquote", *oembed.FRAME_TAGS, "a")

_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
_DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$")
_HANDLE = re.compile(r"^(?=.{3,253}$)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_WEB_HOSTS = {"bsky.app", "staging.bsky.app", "main.bsky.dev"}
_FOOTER = re.compile(r"^(?P<name>.*?)\s*\(\s*@?(?P<handle>[^)\s]+)\s*\)\s*(?P<date>.*)$", re.S)


def _authority(value: str) -> str | None:
    value = unquote(value).strip()
    if _DID.match(value):
        return value
    if _HANDLE.match(value):
        return value.lower()
    return None


def _ref(authority: str, rkey: str) -> PostRef:
    return PostRef(NAME, f"at://{authority}/{COLLECTION}/{rkey}", f"https://bsky.app/profile/{authority}/post/{rkey}")


def _parse(url: str) -> tuple[PostRef, bool] | None:
    """(post, is embed iframe URL)."""
    url = (url or "").strip()
    if url.startswith("at://"):
        segs = [s for s in url[5:].split("?")[0].split("/") if s]
        if len(segs) == 3 and segs[1] == COLLECTION and _RKEY.match(segs[2]):
            authority = _authority(segs[0])
            return (_ref(authority, segs[2]), False) if authority else None
        return None
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, _ = parts
    if host in _WEB_HOSTS and len(segs) >= 4 and segs[0] == "profile" and segs[2] == "post":
        authority = _authority(segs[1])
        return (_ref(authority, segs[3]), False) if authority and _RKEY.match(segs[3]) else None
    if host == "embed.bsky.app" and len(segs) >= 4 and segs[0] == "embed" and segs[2] == COLLECTION:
        authority = _authority(segs[1])
        return (_ref(authority, segs[3]), True) if authority and _RKEY.match(segs[3]) else None
    return None


def identify(url: str) -> PostRef | None:
    found = _parse(url)
    return found[0] if found else None


def _is_player(url: str) -> bool:
    found = _parse(url)
    return bool(found and found[1])


def _blockquote(bq: Any, base_url: str | None) -> Sighting | None:
    uri = bq.attributes.get("data-bluesky-uri") or ""
    post = identify(uri)
    if post is None:
        for a in dom.descendants(bq, "a"):
            href = a.attributes.get("href")
            post = identify(oembed.absolute(href, base_url) or "")
            if post:
                uri = href or ""
                break
    if post is None:
        return None
    text = oembed.text_of(bq) or ""
    body, name, handle, date = text, None, None, None
    cut = text.rfind("—")
    if cut >= 0:
        footer = _FOOTER.match(text[cut + 1:].strip())
        if footer:
            body = text[:cut]
            name = oembed.clean(footer.group("name"))
            handle = footer.group("handle").lstrip("@")
            date = oembed.clean(footer.group("date"))
    return Sighting(element=bq, post=post, kind="blockquote", url_as_found=uri, author_handle=handle,
                    author_name=name, fallback_text=oembed.clean(body), shown_date=date,
                    lang=dom.first_value(bq, "p", "lang"))


def detect(page: Page) -> Iterator[Sighting]:
    """Blockquotes, embed iframes, then links to posts on bsky.app."""
    claimed: set[Any] = set()
    for bq in page.with_class("blockquote", "bluesky-embed"):
        sighting = _blockquote(bq, page.base_url)
        if sighting:
            claimed.add(bq)
            yield sighting
    for el, url, kind in page.frames:
        if _is_player(url):
            claimed.add(el)
            yield Sighting(element=el, post=identify(url), kind=kind, url_as_found=url)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player, _handle)


def _handle(post: PostRef) -> str | None:
    """The author's handle when the at-uri names one (a DID is no handle)."""
    authority = post.post_id[len("at://"):].split("/")[0]
    return None if authority.startswith("did:") else authority


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    base = settings.endpoints.bluesky_appview.rstrip("/")
    url = oembed.query_url(f"{base}/app.bsky.feed.getPostThread", uri=post.post_id, depth="0", parentHeight="0")
    return [Lookup(ENDPOINT, url)]


def _media(embed: Any) -> tuple[str, ...]:
    """Image, video thumbnail and external-card URLs from a post view's embed (and its media)."""
    if not isinstance(embed, dict):
        return ()
    urls: list[str] = []
    for image in embed.get("images") or ():
        if isinstance(image, dict) and (image.get("fullsize") or image.get("thumb")):
            urls.append(str(image.get("fullsize") or image.get("thumb")))
    for key in ("playlist", "thumbnail"):
        if embed.get(key):
            urls.append(str(embed[key]))
    return tuple(urls) + _media(embed.get("media"))


def _available(data: dict, code: int) -> Check:
    view = data["thread"].get("post")
    if not isinstance(view, dict) or not view.get("uri"):
        raise ValueError("threadViewPost without a post view")
    author = view.get("author") or {}
    record = view.get("record") or {}
    labels = [str(label.get("val")) for label in view.get("labels") or () if isinstance(label, dict)]
    extra: dict = {"uri": view.get("uri"), "cid": view.get("cid"), "did": author.get("did")}
    if labels:
        extra["labels"] = labels
    langs = record.get("langs") or []
    return Check(Status.AVAILABLE, http_status=code, endpoint=ENDPOINT, author_handle=author.get("handle"),
                 author_name=oembed.clean(author.get("displayName")), text=record.get("text"),
                 created_at=record.get("createdAt"), lang=str(langs[0]) if langs else None,
                 media=_media(view.get("embed")), extra={k: v for k, v in extra.items() if v})


def classify(post: PostRef, answers: list[Answer]) -> Check:
    answer = oembed.answer_for(answers, ENDPOINT)
    failed = oembed.transport_failure(answer, ENDPOINT)
    if failed:
        return failed
    assert answer is not None and answer.status is not None
    code, data = answer.status, oembed.json_body(answer)
    if not isinstance(data, dict):
        return Check(Status.ERROR, detail=f"HTTP {code} without a JSON object", http_status=code, endpoint=ENDPOINT)
    if code == 200 and isinstance(data.get("thread"), dict):
        kind = str(data["thread"].get("$type") or "")
        if kind.endswith("#threadViewPost"):
            try:
                return _available(data, code)
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                return Check(Status.ERROR, detail=f"unexpected JSON shape: {exc!r}", http_status=code,
                             endpoint=ENDPOINT)
        if kind.endswith("#notFoundPost"):
            return Check(Status.NOT_FOUND, detail="AppView: notFoundPost", http_status=code, endpoint=ENDPOINT)
        if kind.endswith("#blockedPost"):
            return Check(Status.RESTRICTED, detail="AppView: blockedPost (author blocks or is blocked)",
                         http_status=code, endpoint=ENDPOINT)
        return Check(Status.ERROR, detail=f"unknown thread type {kind!r}", http_status=code, endpoint=ENDPOINT)
    error, message = str(data.get("error") or ""), oembed.clean(str(data.get("message") or "")) or ""
    if error == "NotFound" or code == 404:
        return Check(Status.NOT_FOUND, detail=f"AppView: {error or code} {message}".strip(), http_status=code,
                     endpoint=ENDPOINT)
    return Check(Status.ERROR, detail=f"AppView HTTP {code}: {error} {message}".strip(), http_status=code,
                 endpoint=ENDPOINT)
