"""What every platform module provides, and the record its detector returns.

A platform module is pure: it reads parsed markup and bytes, and says which
requests would resolve a post and what their answers mean. It never touches the
network; ``archiver.resolve`` performs the lookups it asks for.

A module provides, at module level:

- ``NAME``: the platform's lower-case name (``twitter``);
- ``DOMAINS``: the registrable domains its post URLs live on (``("youtube.com",
  "youtu.be", ...)``; a host matches when it is one of them or a subdomain), or
  None for a platform that recognises posts by URL shape on any host
  (Mastodon). ``identify`` must return None for every URL on other hosts:
  extraction and ``platforms.identify`` only ask a platform about links to its
  domains;
- ``TAGS``: the tags its detector asks the page for (``page.tagged``,
  ``page.with_class``, ``page.frames``); extraction collects them all in one
  walk of the tree. A tag left out still works, at the price of its own walk;
- ``detect(page) -> Iterable[Sighting]``: the embeds in one parsed tree, read
  through a ``Page`` (``archiver.platforms.page``: the tree walked once, elements
  by tag, links resolved once and indexed by host, iframes with their URL);
  ``archiver.extract`` calls it once per tree it parses (the page, and markup
  re-parsed from consent placeholders or attributes). Tests build the page
  with ``Page(dom.parse(markup), base_url)``;
- ``identify(url) -> PostRef | None``: the canonical identity of a single post
  from any URL form, None for anything that is not one post (profiles, share
  intents, timelines);
- ``lookups(post, settings) -> list[Lookup]``: the requests that resolve a post;
- ``classify(post, answers) -> Check``: a status from the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Protocol

from archiver.models import Answer, Check, Lookup, PostRef
from archiver.platforms.page import Page
from archiver.settings import Settings


@dataclass(frozen=True)
class Sighting:
    """One embed as a detector found it in a tree; extraction adds position and region."""

    element: Any  # the element the embed stands on (archiver.dom) (for region, order and snippet)
    post: PostRef | None
    kind: str  # one of archiver.models.EMBED_KINDS
    url_as_found: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    fallback_text: str | None = None
    shown_date: str | None = None
    lang: str | None = None


class Platform(Protocol):
    NAME: str
    DOMAINS: tuple[str, ...] | None
    TAGS: tuple[str, ...]

    def detect(self, page: Page) -> Iterable[Sighting]: ...

    def identify(self, url: str) -> PostRef | None: ...

    def lookups(self, post: PostRef, settings: Settings) -> list[Lookup]: ...

    def classify(self, post: PostRef, answers: list[Answer]) -> Check: ...
