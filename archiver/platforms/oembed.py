"""Pure helpers shared by the platform modules: markup walking, URL parsing, oEmbed verdicts.

Every platform but Twitter is resolved the same way: one JSON (or HTML) endpoint
whose HTTP status and body say whether the post is still served. The rules for
reading those answers (what a network failure, a 429 or a 404 means) live here
once, so the platform modules only say what is specific to them: which status
codes mean "restricted" there, and which fields of the body are worth keeping.

Markup helpers serve the detectors. A detector sees lazy iframes (``data-src``,
``data-lazy-src``), protocol-relative URLs and ``<noscript>`` copies; these
helpers flatten those differences so each platform matches URLs, not markup.
Nothing here touches the network.
"""

from __future__ import annotations

import functools
import json
import re
from types import MappingProxyType
from typing import Any, Callable, Collection, Iterable, Iterator, Mapping
from urllib.parse import parse_qs, urlencode, urlsplit

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef, Status
from archiver.platforms.base import Sighting
from archiver.platforms.page import (  # noqa: F401  (re-exported: the platforms' markup helpers live here)
    FRAME_SRC_ATTRS,
    FRAME_TAGS,
    Anchor,
    Frame,
    Page,
    absolute,
    frame_url,
    has_class,
    in_noscript,
)
from archiver.settings import Settings

_WS = re.compile(r"\s+")


# -- URLs -------------------------------------------------------------------


def split(url: str) -> tuple[str, tuple[str, ...], Mapping[str, list[str]]] | None:
    """(host, path segments, query) of a URL; the host lower-cased and without port.

    Accepts a URL without scheme (``youtu.be/ID``), as people paste them.
    Memoised (a page asks the same URL of ``identify`` and ``_is_player``), so
    the answer is read-only: a tuple of segments and a read-only query mapping.
    """
    if not url:
        return None
    return _split(url)


@functools.lru_cache(maxsize=4096)
def _split(url: str) -> tuple[str, tuple[str, ...], Mapping[str, list[str]]] | None:
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    elif "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    segments = tuple(s for s in parts.path.split("/") if s)
    return host, segments, MappingProxyType(parse_qs(parts.query)) if parts.query else _NO_QUERY


_NO_QUERY: Mapping[str, list[str]] = MappingProxyType({})


def bare_host(host: str, prefixes: Iterable[str] = ("www.", "m.", "mobile.", "web.")) -> str:
    """The host without one leading www./m./mobile./web. label."""
    for prefix in prefixes:
        if host.startswith(prefix):
            return host[len(prefix):]
    return host


def query_url(base: str, **params: str) -> str:
    """``base?params`` with every value percent-encoded (post URLs go in as one parameter)."""
    return f"{base}?{urlencode(params)}"


# -- markup -----------------------------------------------------------------


def text_of(el: Any) -> str | None:
    """The element's visible text with whitespace collapsed, or None when empty."""
    if el is None:
        return None
    text = _WS.sub(" ", dom.text_content(el)).strip()
    return text or None


def clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = _WS.sub(" ", text).strip()
    return text or None


def html_text(fragment: str | None) -> str | None:
    """Plain text of an HTML fragment (a Mastodon ``content``), keeping line and paragraph breaks."""
    if not fragment or not fragment.strip():
        return None
    root = dom.parse(fragment.encode("utf-8", "replace"))
    if root is None:
        return clean(fragment)
    parts: list[str] = []
    open_elements: list[Any] = []  # the elements whose children are being read, innermost last
    node = root.child
    while node is not None or open_elements:
        if node is None:  # past the last child: the element ends
            ended = open_elements.pop()
            if ended.tag == "p":
                parts.append("\n\n")
            node = ended.next
        elif node.is_text_node:
            parts.append(node.text_content or "")
            node = node.next
        elif node.is_element_node:
            if node.tag == "br":
                parts.append("\n")
            if node.child is not None:
                open_elements.append(node)
                node = node.child
            else:
                if node.tag == "p":
                    parts.append("\n\n")
                node = node.next
        else:  # comments
            node = node.next
    lines = [" ".join(line.split()) for line in "".join(parts).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text or None


def by_class(root: Any, tag: str, name: str) -> list[Any]:
    """Elements ``tag`` (``*``: any) at or under ``root`` whose class list holds ``name``.

    For trees that are not a page's (the Telegram widget page a lookup fetched);
    detectors ask ``Page.with_class``, which reads the page's one walk. The root
    counts, because a tree re-parsed from a fragment (a consent ``<textarea>``)
    can have the embed itself as its root.
    """
    elements = dom.descendants(root) if tag == "*" else dom.descendants(root, tag)
    return [el for el in elements if has_class(el, name)]


def link_sightings(
    page: Page,
    domains: Iterable[str] | None,
    identify: Callable[[str], PostRef | None],
    claimed: set[Any],
    is_player: Callable[[str], bool] = lambda url: False,
    handle: Callable[[PostRef], str | None] = lambda post: None,
    hints: Iterable[str] | None = None,
) -> Iterator[Sighting]:
    """Plain ``<a href>`` links to single posts, outside the embeds already reported.

    Only the page's links to ``domains`` are read (None: links to any host, then
    only those holding one of ``hints``, see ``Page.links_on``).
    A link to a player URL (``player.vimeo.com/video/ID``) is what a consent banner
    leaves where it removed the iframe (wired.jp, page 033): it is reported as kind
    ``iframe``, since the article did embed the player. Profile, channel and share
    links are dropped by ``identify`` returning None. ``handle`` reads the author's
    handle from the post's canonical URL where the platform puts it there.
    """
    claimed_ids = {el.mem_id for el in claimed}
    for anchor in page.links_on(domains, hints):
        url = anchor.url
        if url is None:  # links_on leaves out the anchors without one
            continue
        post = identify(url)
        if post is None or inside(anchor.element, claimed_ids):
            continue
        kind = "iframe" if is_player(url) else "link"
        yield Sighting(element=anchor.element, post=post, kind=kind, url_as_found=anchor.href,
                       author_handle=handle(post))


def handle_in_url(post: PostRef) -> str | None:
    """The ``@user`` segment of a canonical URL (TikTok, Threads), without the @."""
    match = re.search(r"/@([A-Za-z0-9_.-]+)(?:/|$)", post.url)
    return match.group(1) if match else None


def inside(el: Any, ids: Collection[int]) -> bool:
    """True when ``el`` or one of its ancestors is one of the nodes whose ``mem_id`` is in ``ids``.

    By ``mem_id`` (what ``dom.same`` compares): callers turn their elements into
    ids once, not once per element they ask about.
    """
    if not ids:
        return False
    return el.mem_id in ids or any(a.mem_id in ids for a in dom.ancestors(el))


# -- answers ----------------------------------------------------------------


def answer_for(answers: list[Answer], endpoint: str) -> Answer | None:
    """The last answer from ``endpoint`` (a retried lookup keeps its final attempt)."""
    found = [a for a in answers if a.endpoint == endpoint]
    return found[-1] if found else None


def json_body(answer: Answer) -> Any:
    """The body parsed as JSON, or None when it is not JSON."""
    try:
        return json.loads(answer.body.decode("utf-8", errors="replace"))
    except (ValueError, AttributeError):
        return None


def transport_failure(answer: Answer | None, endpoint: str) -> Check | None:
    """The verdict when the exchange itself failed or the platform asked us to come back.

    No answer, a network error, 429 and 5xx all say nothing about the post:
    ``error`` with ``retry`` set, so the scheduler tries again later.
    """
    if answer is None:
        return Check(Status.ERROR, detail=f"no answer from {endpoint}", endpoint=endpoint, retry=True)
    if answer.status is None:
        return Check(Status.ERROR, detail=answer.error or "request failed", endpoint=endpoint, retry=True)
    if answer.status == 429:
        return Check(Status.ERROR, detail="rate limited (HTTP 429)", http_status=429, endpoint=endpoint, retry=True)
    if answer.status >= 500:
        return Check(Status.ERROR, detail=f"server error (HTTP {answer.status})", http_status=answer.status,
                     endpoint=endpoint, retry=True)
    return None


Fields = Callable[[dict], dict]


def classify_json(
    answers: list[Answer],
    endpoint: str,
    fields: Fields,
    statuses: Mapping[int, tuple[Status, str]] | None = None,
) -> Check:
    """The common oEmbed verdict: 200 + JSON object -> available with ``fields(body)``.

    ``statuses`` maps platform-specific HTTP codes to a status and detail (YouTube's
    401/403 mean embedding disabled or private). 404 is ``not_found`` everywhere;
    anything else unexpected is ``error`` with the reason, never a guess.
    """
    answer = answer_for(answers, endpoint)
    failed = transport_failure(answer, endpoint)
    if failed:
        return failed
    assert answer is not None and answer.status is not None
    code = answer.status
    if statuses and code in statuses:
        status, detail = statuses[code]
        return Check(status, detail=detail, http_status=code, endpoint=endpoint)
    if code == 404:
        return Check(Status.NOT_FOUND, detail="HTTP 404", http_status=code, endpoint=endpoint)
    if code != 200:
        return Check(Status.ERROR, detail=f"unexpected HTTP {code}", http_status=code, endpoint=endpoint)
    data = json_body(answer)
    if not isinstance(data, dict):
        return Check(Status.ERROR, detail="HTTP 200 without a JSON object", http_status=code, endpoint=endpoint)
    try:
        found = fields(data)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a body of another shape than documented
        return Check(Status.ERROR, detail=f"unexpected JSON shape: {exc!r}", http_status=code, endpoint=endpoint)
    return Check(Status.AVAILABLE, http_status=code, endpoint=endpoint, **found)


def oembed_fields(data: dict, handle: str | None = None) -> dict:
    """The fields every oEmbed answer shares: author, title as text, thumbnail as media."""
    thumb = data.get("thumbnail_url")
    return {
        "author_name": clean(str(data["author_name"])) if data.get("author_name") else None,
        "author_handle": handle,
        "text": clean(str(data["title"])) if data.get("title") else None,
        "media": (str(thumb),) if thumb else (),
        "extra": {k: data[k] for k in ("author_url", "provider_name", "type") if data.get(k)},
    }


def unsupported(detail: str, endpoint: str | None = None) -> Check:
    return Check(Status.UNSUPPORTED, detail=detail, endpoint=endpoint)


def first_query(query: Mapping[str, list[str]], *names: str) -> str | None:
    for name in names:
        values = query.get(name)
        if values and values[0]:
            return values[0]
    return None


# -- Meta (Instagram, Facebook) ---------------------------------------------

META_TOKEN_MISSING = "Meta oEmbed needs an app token (meta_access_token)"
META_WITHHELD = "Meta platform terms: availability and author kept, content not stored"
_META_RATE_CODES = {4, 17, 32, 613, 80001, 80004}
_META_TOKEN_CODES = {102, 190, 463, 467}


def meta_lookups(post: PostRef, settings: Settings, endpoint: str, graph_path: str) -> list[Lookup]:
    """One Graph API oEmbed request, or none without an app token.

    The token travels in the ``Authorization`` header, not in ``access_token=``,
    so that it never lands in a stored request URL or a WARC target URI.
    """
    token = settings.meta_access_token
    if not token:
        return []
    url = query_url(f"{settings.endpoints.meta_graph.rstrip('/')}/{graph_path}", url=post.url, omitscript="true")
    return [Lookup(endpoint=endpoint, url=url, headers=(("Authorization", f"Bearer {token}"),))]


def classify_meta(answers: list[Answer], endpoint: str, handle_is_author_name: bool) -> Check:
    """Availability from a Graph oEmbed answer, keeping only what Meta's terms allow.

    Graph errors come as HTTP 400 with ``{"error": {"code", "message"}}``; which
    codes mean "no such post" is not documented reliably, so only token problems
    and rate limits are named and the rest stays ``error`` with Meta's message
    (the raw body is kept for a later reclassification).
    """
    answer = answer_for(answers, endpoint)
    if answer is None:
        return unsupported(META_TOKEN_MISSING, endpoint)
    failed = transport_failure(answer, endpoint)
    if failed:
        return failed
    code = answer.status
    data = json_body(answer)
    if code == 200 and isinstance(data, dict) and "error" not in data:
        name = clean(str(data.get("author_name") or "")) or None
        return Check(Status.AVAILABLE, http_status=code, endpoint=endpoint, author_name=name,
                     author_handle=name if handle_is_author_name else None,
                     extra={"terms": META_WITHHELD})
    if code == 404:
        return Check(Status.NOT_FOUND, detail="HTTP 404", http_status=code, endpoint=endpoint)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        err_code = error.get("code")
        message = clean(str(error.get("message") or "")) or "no message"
        if err_code in _META_RATE_CODES:
            return Check(Status.ERROR, detail=f"Meta rate limit: {message}", http_status=code,
                         endpoint=endpoint, retry=True)
        if err_code in _META_TOKEN_CODES:
            return Check(Status.ERROR, detail=f"Meta rejected the app token: {message}", http_status=code,
                         endpoint=endpoint)
        return Check(Status.ERROR, detail=f"Meta error {err_code}: {message}", http_status=code, endpoint=endpoint)
    return Check(Status.ERROR, detail=f"unexpected HTTP {code}", http_status=code, endpoint=endpoint)
