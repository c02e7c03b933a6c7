"""Telegram: ``script[data-telegram-post]`` widgets, ``t.me/CHANNEL/ID?embed=1`` iframes, post links.

Identity: ``channel/ID`` with the channel lower-cased (Telegram usernames are
case-insensitive), from ``t.me``, ``telegram.me`` and ``t.me/s/`` URLs; the
canonical URL is ``https://t.me/channel/ID``. A channel without a message id,
invite links, sticker sets, share links and ``t.me/c/...`` links (private
channels, unreadable without an account) are not public posts: None.
``script[data-telegram-discussion]`` is a comments widget, not a post (page 048).

Resolution: the widget page ``{telegram}/CHANNEL/ID?embed=1``, HTML. Telegram
answers 200 whatever happens; the page says what happened. A
``div.tgme_widget_message_error`` reading "Post not found" -> not_found (the
message was deleted, or never existed: Telegram does not tell them apart);
"Channel is private" -> protected; any other error text -> error with that
text. A ``div.tgme_widget_message`` -> available (text, channel title, date,
photo and video URLs). Posts in public channels are public; they are stored as
the widget shows them.
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

NAME = "telegram"
ENDPOINT = "telegram.widget"

_CHANNEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_ID = re.compile(r"^\d{1,12}$")
_HOSTS = {"t.me", "telegram.me", "telegram.dog"}
DOMAINS = ("t.me", "telegram.me", "telegram.dog")
TAGS = ("script", *oembed.FRAME_TAGS, "a")
_RESERVED = {"c", "s", "share", "joinchat", "addstickers", "addemoji", "addtheme", "proxy", "socks", "iv",
             "login", "setlanguage", "bg", "invoice", "boost", "contact", "confirmphone", "addlist"}
_BACKGROUND = re.compile(r"url\(['\"]?([^'\")]+)")


def _parse(url: str) -> tuple[PostRef, bool] | None:
    """(post, is widget URL)."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, query = parts
    if oembed.bare_host(host, ("www.",)) not in _HOSTS:
        return None
    if segs and segs[0] == "s":
        segs = segs[1:]
    if len(segs) < 2 or segs[0].lower() in _RESERVED or not _CHANNEL.match(segs[0]) or not _ID.match(segs[1]):
        return None
    channel = segs[0].lower()
    post = PostRef(NAME, f"{channel}/{segs[1]}", f"https://t.me/{channel}/{segs[1]}")
    return post, oembed.first_query(query, "embed") not in (None, "0")


def identify(url: str) -> PostRef | None:
    found = _parse(url)
    return found[0] if found else None


def _is_player(url: str) -> bool:
    found = _parse(url)
    return bool(found and found[1])


def detect(page: Page) -> Iterator[Sighting]:
    """Widget scripts (``data-telegram-post`` only), widget iframes, then plain links."""
    claimed: set[Any] = set()
    for script in page.tagged("script"):
        value = script.attributes.get("data-telegram-post")
        if value is None:
            continue
        value = value.strip().lstrip("@")
        post = identify(f"https://t.me/{value}")
        if post:
            claimed.add(script)
            yield Sighting(element=script, post=post, kind="script", url_as_found=value,
                           author_handle=post.post_id.split("/")[0])
    for el, url, kind in page.frames:
        if _is_player(url):
            post = identify(url)
            claimed.add(el)
            yield Sighting(element=el, post=post, kind=kind, url_as_found=url,
                           author_handle=post.post_id.split("/")[0] if post else None)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player,
                                     handle=lambda post: post.post_id.split("/")[0])


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    return [Lookup(ENDPOINT, f"{settings.endpoints.telegram.rstrip('/')}/{post.post_id}?embed=1")]


def _first(root: Any, cls: str) -> Any:
    found = oembed.by_class(root, "*", cls)
    return found[0] if found else None


def _available(message: Any, post: PostRef, code: int) -> Check:
    text_el = _first(message, "tgme_widget_message_text")
    text = oembed.html_text(dom.outer_html(text_el)) if text_el is not None else None
    name_el = _first(message, "tgme_widget_message_owner_name")
    if name_el is None:
        name_el = _first(message, "tgme_widget_message_author_name")
    media = [m.group(1) for el in oembed.by_class(message, "a", "tgme_widget_message_photo_wrap")
             for m in [_BACKGROUND.search(el.attributes.get("style") or "")] if m]
    media += [src for v in dom.descendants(message, "video") if (src := v.attributes.get("src"))]
    data_post = message.attributes.get("data-post")
    channel = (data_post or post.post_id).split("/")[0].lower()
    extra = {k: v for k, v in {"data_post": data_post,
                               "views": oembed.text_of(_first(message, "tgme_widget_message_views"))}.items() if v}
    return Check(Status.AVAILABLE, http_status=code, endpoint=ENDPOINT, author_handle=channel,
                 author_name=oembed.text_of(name_el), text=text,
                 created_at=dom.first_value(message, "time", "datetime"), media=tuple(media), extra=extra)


def classify(post: PostRef, answers: list[Answer]) -> Check:
    answer = oembed.answer_for(answers, ENDPOINT)
    failed = oembed.transport_failure(answer, ENDPOINT)
    if failed:
        return failed
    assert answer is not None and answer.status is not None
    code = answer.status
    if code == 404:
        return Check(Status.NOT_FOUND, detail="HTTP 404", http_status=code, endpoint=ENDPOINT)
    if code != 200:
        return Check(Status.ERROR, detail=f"unexpected HTTP {code}", http_status=code, endpoint=ENDPOINT)
    root = dom.parse(answer.body or b"<html></html>")  # t.me serves UTF-8
    if root is None:  # blank
        return Check(Status.ERROR, detail="widget page is not HTML", http_status=code, endpoint=ENDPOINT)
    error = _first(root, "tgme_widget_message_error")
    if error is not None:
        said = oembed.text_of(error) or "empty error"
        if "not found" in said.lower():
            return Check(Status.NOT_FOUND, detail=f"Telegram: {said}", http_status=code, endpoint=ENDPOINT)
        if "private" in said.lower():
            return Check(Status.PROTECTED, detail=f"Telegram: {said}", http_status=code, endpoint=ENDPOINT)
        return Check(Status.ERROR, detail=f"Telegram: {said}", http_status=code, endpoint=ENDPOINT)
    message = [m for m in oembed.by_class(root, "*", "tgme_widget_message") if m.attributes.get("data-post")]
    if not message:
        return Check(Status.ERROR, detail="widget page without a message or an error", http_status=code,
                     endpoint=ENDPOINT)
    return _available(message[0], post, code)
