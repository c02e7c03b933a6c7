"""A tweet's canonical identity, from whichever URL form an article used.

Articles link one tweet in many spellings: ``twitter.com`` and ``x.com``, the
``mobile.``/``www.``/``m.`` hosts, ``/statuses/`` (old API style), the
handle-less ``/i/web/status/ID``, the 2010-era ``/#!/user/status/ID`` hash-bang,
trailing ``/photo/1`` or ``?ref_src=...``, and the widget iframe
``platform.twitter.com/embed/Tweet.html?id=ID``. All of them are one post, keyed
by the numeric status id, so the archive never stores one tweet twice.

Everything else on those hosts (profiles, share and follow intents, timelines,
search, hashtags, lists, moments) is *not* one post: ``identify`` returns None so
that links to them stay plain links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeGuard
from urllib.parse import parse_qs, urlsplit

from archiver.models import PostRef

NAME = "twitter"
DOMAINS = ("twitter.com", "x.com")
"""Where tweet URLs live (the platform protocol's ``DOMAINS``): every host ``parse_status`` accepts is under one."""

# Hosts whose /<handle>/status/<id> paths are tweets (lower case, compared exactly).
STATUS_HOSTS = frozenset(
    {
        "twitter.com",
        "www.twitter.com",
        "mobile.twitter.com",
        "m.twitter.com",
        "x.com",
        "www.x.com",
        "mobile.x.com",
    }
)
# Hosts of the embed widget's own iframe pages.
WIDGET_HOSTS = frozenset({"platform.twitter.com", "platform.x.com"})

# Twitter's own limit is 15 characters; a few legacy accounts are longer, so allow 20.
HANDLE = r"[A-Za-z0-9_]{1,20}"
_HANDLE_RE = re.compile(rf"^{HANDLE}$")
_STATUS_PATH = re.compile(rf"^/(?:(?P<handle>{HANDLE})/)?(?:i/web/|i/)?status(?:es)?/(?P<id>\d{{1,20}})(?:[/?#.]|$)")
_WIDGET_PATH = re.compile(r"^/embed/(?:Tweet|index)\.html$", re.IGNORECASE)
_DIGITS = re.compile(r"^\d{1,20}$")
# First path segments that are site sections, never an account name.
RESERVED = frozenset(
    {"i", "intent", "share", "home", "search", "hashtag", "settings", "explore", "login", "signup",
     "messages", "notifications", "compose", "tos", "privacy", "account", "statuses", "status"}
)


@dataclass(frozen=True)
class StatusLink:
    """What a status URL says: the id, and the handle when the URL names one."""

    post_id: str
    handle: str | None


def status_url(post_id: str, handle: str | None = None) -> str:
    """The canonical URL of a tweet: with the handle when known, the i/web form otherwise."""
    if handle:
        return f"https://twitter.com/{handle}/status/{post_id}"
    return f"https://twitter.com/i/web/status/{post_id}"


def post_ref(post_id: str, handle: str | None = None) -> PostRef:
    """The PostRef of a tweet; the id is the key, the handle only shapes the URL."""
    return PostRef(platform=NAME, post_id=post_id, url=status_url(post_id, handle))


def is_tweet_id(value: str | None) -> TypeGuard[str]:
    """True for a string of digits that can be a status id (attribute values are untrusted)."""
    return value is not None and _DIGITS.match(value.strip()) is not None and int(value) > 0


def is_handle(value: str | None) -> bool:
    return value is not None and _HANDLE_RE.match(value) is not None and value.lower() not in RESERVED


def parse_status(url: str | None) -> StatusLink | None:
    """The status id (and handle) a URL points at, or None when it is not one tweet."""
    if not url:
        return None
    lowered = url.lower()
    if "twitter.com" not in lowered and "x.com" not in lowered:
        return None  # the common case, decided without parsing
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    elif "://" not in url[:12]:
        url = "https://" + url  # "twitter.com/user/status/1" written without a scheme
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:  # malformed ports or IPv6 brackets
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    if host in WIDGET_HOSTS:
        return _parse_widget(parts.path, parts.query)
    if host not in STATUS_HOSTS:
        return None
    path = parts.path
    if parts.fragment.startswith("!/"):  # https://twitter.com/#!/user/status/ID
        path = parts.fragment[1:]
    match = _STATUS_PATH.match(path)
    if match is None:
        return None
    handle = match.group("handle")
    if handle is not None and handle.lower() in RESERVED:
        handle = None
    if handle is None and not re.match(r"^/(?:i/web/|i/)?status", path):
        return None  # "/search/status/1" and the like: a reserved section, not an account
    if not is_tweet_id(match.group("id")):
        return None
    return StatusLink(post_id=match.group("id"), handle=handle)


def _parse_widget(path: str, query: str) -> StatusLink | None:
    """``platform.twitter.com/embed/Tweet.html?id=ID``: the rendered widget's own page."""
    if not _WIDGET_PATH.match(path):
        return None  # tweet_button.html, follow_button.html, timeline pages
    values = parse_qs(query).get("id", [])
    for value in values:
        if is_tweet_id(value):
            return StatusLink(post_id=value.strip(), handle=None)
    return None


def identify(url: str) -> PostRef | None:
    """The canonical identity of the one tweet a URL points at; None for anything else."""
    link = parse_status(url)
    if link is None:
        return None
    return post_ref(link.post_id, link.handle)
