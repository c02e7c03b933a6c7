"""The shared vocabulary that travels between the pipeline's stages.

Every stage hands the next one frozen dataclasses from this module, never untyped
dicts: a reader can see what an embed, a capture or a check carries by reading
one file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    """What the platform says about a post now (the research result).

    Never concluded from one ambiguous signal: a platform module returns ``error``
    with a reason when its sources disagree, and the raw answers are kept.
    """

    AVAILABLE = "available"  # the platform serves the post publicly
    DELETED = "deleted"  # the platform says the post existed and is gone
    PROTECTED = "protected"  # the author made the account private
    SUSPENDED = "suspended"  # the platform suspended the account
    RESTRICTED = "restricted"  # sensitive, age or region gated
    NOT_FOUND = "not_found"  # every source answers "no such post" (404 / empty)
    UNSUPPORTED = "unsupported"  # archiver cannot ask this platform (reason in detail)
    ERROR = "error"  # the check failed or was inconclusive (reason in detail)


EMBED_KINDS = ("blockquote", "iframe", "amp", "div", "script", "noscript", "text", "link")
"""The markup forms an embed can take (``Embed.kind``)."""


@dataclass(frozen=True)
class PostRef:
    """A post's canonical identity: one key whatever URL form the article used."""

    platform: str  # lower case: twitter, instagram, youtube, ...
    post_id: str  # the platform's own id, always text (64-bit ids lose precision elsewhere)
    url: str  # the canonical URL of the post

    @property
    def key(self) -> str:
        """The primary key of the post in the ``posts`` table."""
        return f"{self.platform}:{self.post_id}"


@dataclass(frozen=True)
class Embed:
    """One embedded post as the article showed it.

    ``post`` is None only for embeds that survive as text without a status URL;
    such an embed becomes resolvable once its short links are followed.
    """

    platform: str
    post: PostRef | None
    kind: str  # one of EMBED_KINDS
    position: int = 0  # order among the article's embeds, from 0
    region: str = "body"  # body, aside, nav, footer, header, comments
    css_path: str | None = None
    url_as_found: str | None = None  # the post URL or id exactly as the markup gave it
    author_handle: str | None = None
    author_name: str | None = None
    fallback_text: str | None = None
    shown_date: str | None = None  # the date as the article printed it
    lang: str | None = None
    snippet: str | None = None  # the raw markup (or text) of the embed
    short_links: tuple[str, ...] = ()  # t.co / pic.twitter.com links inside a text embed


@dataclass(frozen=True)
class Link:
    """One outbound link of an article."""

    url: str  # absolute, as found (resolved against the page URL)
    normalized_url: str  # lower-cased scheme and host, fragment dropped, tracking params kept
    host: str
    anchor_text: str
    rel: str | None
    region: str  # body, aside, nav, footer, header, comments
    position: int


@dataclass(frozen=True)
class Extraction:
    """Everything extraction found in one document."""

    embeds: tuple[Embed, ...]
    links: tuple[Link, ...] = ()
    title: str | None = None
    canonical_url: str | None = None
    published: str | None = None
    lang: str | None = None
    charset: str | None = None  # the character set the bytes were decoded with
    charset_source: str | None = None  # where that choice came from: header, bom, meta, detected


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response (or its failure): one ``fetches`` row."""

    url: str
    method: str
    started: str  # UTC ISO 8601
    finished: str
    duration_ms: float
    status: int | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()
    http_version: str | None = None
    server_ip: str | None = None  # the address actually connected to
    connected_to: str | None = None  # the origin dialled when --connect-to mapped this one
    body: bytes = b""
    truncated: bool = False  # the body hit the size limit
    attempts: int = 1  # requests made for this hop (retries included); only the last is kept
    error: str | None = None  # why no (complete) response came back


@dataclass(frozen=True)
class Capture:
    """A request followed through its redirects: the hops in order, the last one final."""

    requested_url: str
    hops: tuple[Exchange, ...]
    error: str | None = None  # why the capture failed as a whole (guard, loop, limit)

    @property
    def final(self) -> Exchange:
        return self.hops[-1]

    @property
    def ok(self) -> bool:
        return self.error is None and self.final.error is None and self.final.status is not None


@dataclass(frozen=True)
class Lookup:
    """A request a platform asks the network layer to make to resolve a post."""

    endpoint: str  # the name of the endpoint, stored as the fetch's purpose: "twitter.syndication"
    url: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Answer:
    """What one lookup brought back, as the platform's classifier sees it."""

    endpoint: str
    status: int | None  # None when the request failed
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    fetch_id: int | None = None


@dataclass(frozen=True)
class Check:
    """The verdict on a post from one round of lookups: one ``post_checks`` row."""

    status: Status
    detail: str | None = None
    http_status: int | None = None
    endpoint: str | None = None  # the endpoint whose answer decided the status
    retry: bool = False  # an answer said "try again later" (e.g. syndication's {})
    author_handle: str | None = None
    author_name: str | None = None
    text: str | None = None
    created_at: str | None = None
    lang: str | None = None
    media: tuple[str, ...] = ()  # media URLs
    edit_ids: tuple[str, ...] = ()  # ids of the post's versions (Twitter edit_tweet_ids)
    extra: dict = field(default_factory=dict, hash=False, compare=False)  # platform-specific fields
