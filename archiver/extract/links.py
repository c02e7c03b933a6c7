"""An article's outbound links: every ``<a href>``, absolute, with where it stood.

Links are half of what an article cites (embeds are the other half), and a
post that is only linked, not embedded, is still a post the article relies on.
Each link is resolved against ``<base href>`` and the page URL, kept only when
it is http(s), and normalised just enough to compare (scheme and host lower
case, fragment dropped; tracking parameters are kept, because they are part of
what the page said).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

from archiver import dom
from archiver.extract.regions import RegionMap
from archiver.models import Link
from archiver.platforms.page import Page

_ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)
# scheme://host[:port] then the rest up to a fragment; no user info, no IPv6 brackets.
_PLAIN_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@\[\]\s]*)(?=[/?#]|$)([^#]*)")
# The common case in one match: an absolute http(s) href as written (then stripped),
# read as resolve() and normalize_url() would read it.
_ABSOLUTE_PLAIN = re.compile(r"(https?)://([^/?#@\[\]\s]*)(?=[/?#]|$)([^#]*)", re.IGNORECASE)
_SCHEMES = ("http", "https")
MAX_ANCHOR_TEXT = 2_000
LINK_TAGS = ("a", "base")
"""What ``find_links`` and ``base_url`` ask the page for (extraction collects them in the page's one walk)."""


_LINK_FIELDS = ("url", "normalized_url", "host", "anchor_text", "rel", "region", "position")


def _link_constructor() -> Callable[..., Link]:
    """``Link(url, normalized_url, host, anchor_text, rel, region, position)``, built without its ``__init__``.

    A frozen dataclass's ``__init__`` sets every field through
    ``object.__setattr__``; at thousands of links per page that was a tenth of
    extraction. The object built here is the same (fields, equality, hash,
    ``asdict``), which is checked at import; should ``Link`` change shape (other
    fields, ``__slots__``, ``__post_init__``), its own constructor is used.
    """
    if (tuple(f.name for f in dataclasses.fields(Link)) != _LINK_FIELDS or hasattr(Link, "__slots__")
            or hasattr(Link, "__post_init__")):
        return Link
    new = object.__new__

    def link(url: str, normalized_url: str, host: str, anchor_text: str, rel: str | None, region: str,
             position: int) -> Link:
        obj = new(Link)
        fields = obj.__dict__  # filled in place: a third quicker than a new dict set through object.__setattr__
        fields["url"] = url
        fields["normalized_url"] = normalized_url
        fields["host"] = host
        fields["anchor_text"] = anchor_text
        fields["rel"] = rel
        fields["region"] = region
        fields["position"] = position
        return obj

    sample = ("u", "n", "h", "t", None, "body", 3)
    return link if link(*sample) == Link(*sample) and hash(link(*sample)) == hash(Link(*sample)) else Link


_new_link = _link_constructor()
_new_found = tuple.__new__  # FoundLink's own __new__ is a Python function; this is the same tuple


class FoundLink(NamedTuple):
    """A link and the element it came from (link-only detection needs the element).

    A NamedTuple, not a frozen dataclass: pages have thousands of links, and
    frozen dataclasses are several times slower to build.
    """

    element: Any
    href: str  # the attribute as written
    link: Link


def base_url(page: Page | Any, page_url: str | None) -> str | None:
    """The URL relative links resolve against: ``<base href>`` (itself resolved), else the page's.

    ``page`` is a ``Page`` or a parsed tree. Only the first ``<base>`` with an
    ``href`` counts, as browsers read it.
    """
    bases = page.tagged("base") if isinstance(page, Page) else dom.descendants(page, "base")
    href = None
    for element in bases:
        href = element.attributes.get("href")
        if href is not None:
            break
    if href is not None:
        href = href.strip()
        if href:
            joined = _join(page_url, href) if page_url else href
            if joined and _ABSOLUTE.match(joined):
                return joined
    return page_url


def find_links(page: Page | Any, page_url: str | None, regions: RegionMap) -> list[FoundLink]:
    """Every http(s) link of the page, in document order, with its region and position.

    ``page`` is a ``Page`` (its ``<a href>``s were collected in its one walk) or a parsed tree.
    The host of every link is read here anyway, so the page is handed them
    (``Page.set_routes``): detectors then read the links to their own domains
    without resolving any href again.
    """
    if not isinstance(page, Page):
        page = Page(page)
    base = page.base_url if page.base_url is not None else base_url(page, page_url)
    origin = _origin(base)
    found: list[FoundLink] = []
    region_of = regions.region_of
    plain = _ABSOLUTE_PLAIN.match
    by_host: dict[str, list[int]] = {}
    unsure: list[int] = []
    relative: set[int] = set()
    attributes_of = page.anchor_attributes
    for position, (a, href) in enumerate(page.hrefs):
        url = href.strip()
        match = plain(url)
        if match is not None:  # what resolve() and normalize_url() make of it, in one step
            scheme, netloc, rest = match.groups()
            lowered = netloc.lower()
            host = lowered if ":" not in lowered else lowered.split(":", 1)[0]
            if not host:
                unsure.append(position)
                continue
            _route(by_host, host, position)
            if lowered == netloc and (scheme == "https" or scheme == "http") and len(rest) + len(netloc) + len(
                    scheme) + 3 == len(url):
                normalized_url = url  # already lower case, no fragment: the same string, not a copy
            else:
                normalized_url = f"{scheme.lower()}://{lowered}{rest}"
        else:
            if base is None and "//" not in url:
                continue  # relative, and nothing to resolve it against (nor for absolute() either)
            resolved = resolve(href, base, origin)
            normalized = normalize_url(resolved) if resolved is not None else None
            if resolved is None or normalized is None:
                if _may_be_url(href, base):
                    unsure.append(position)
                continue
            url = resolved
            normalized_url, host = normalized
            s = href.strip()
            if s[0] < "!" or "\t" in s or "\n" in s or "\r" in s:
                unsure.append(position)  # urlsplit strips or drops these, and resolve() does not
            else:
                _route(by_host, host, position)
            if "://" not in s and not s.startswith("//"):
                relative.add(position)
        text = dom.text_content(a)
        if text:
            text = " ".join(text.split())[:MAX_ANCHOR_TEXT]
        attributes = attributes_of[position]
        rel = attributes.get("rel")
        if rel is not None:
            rel = rel.strip() or None
        link = _new_link(url, normalized_url, host, text or "", rel, region_of(a, attributes), len(found))
        found.append(_new_found(FoundLink, (a, href, link)))
    page.set_routes(by_host, unsure, relative)
    return found


def _route(by_host: dict[str, list[int]], host: str, position: int) -> None:
    if host[-1] == ".":
        host = host.rstrip(".")
        if not host:
            return
    group = by_host.get(host)
    if group is None:
        by_host[host] = [position]
    else:
        group.append(position)


def _may_be_url(href: str, base: str | None) -> bool:
    """Whether ``absolute()`` (the detectors' reading) might make a URL of an href this module turned down."""
    s = href.strip()
    if not s or s.lower().startswith(("javascript:", "data:", "about:", "mailto:", "#")):
        return False
    return base is not None or "://" in s or s.startswith("//")


def resolve(href: str, base: str | None, origin: str | None = None) -> str | None:
    """An absolute http(s) URL for an ``href``, or None (mailto:, javascript:, unresolvable).

    ``origin`` (``scheme://host`` of ``base``) resolves root-relative paths
    without urljoin, which is slow and most relative links on news sites are
    root-relative.
    """
    href = href.strip()
    if not href or href[0] == "#":
        return None
    if _ABSOLUTE.match(href):
        return href
    if href.startswith("//"):
        scheme = base.split(":", 1)[0].lower() if base else "https"
        return f"{scheme}:{href}"
    if base is None or ":" in href.split("/", 1)[0]:
        return None  # relative without a page URL, or another scheme (mailto:, tel:, javascript:)
    if origin and href[0] == "/" and "/." not in href:
        return origin + href
    joined = _join(base, href)
    return joined if joined and _ABSOLUTE.match(joined) else None


def normalize_url(url: str) -> tuple[str, str] | None:
    """(normalised URL, host): scheme and host lower-cased, fragment dropped; None if unusable."""
    match = _PLAIN_URL.match(url)
    if match is None:  # user info, IPv6 literals, odd schemes: let urllib decide
        return _normalize_slow(url)
    scheme, netloc, rest = match.groups()
    scheme = scheme.lower()
    host = netloc.split(":", 1)[0].lower()
    if scheme not in _SCHEMES or not host:
        return None
    return f"{scheme}://{netloc.lower()}{rest}", host


def _normalize_slow(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "http://[::1" and other malformed authorities
        return None
    if parts.scheme.lower() not in _SCHEMES or not host:
        return None
    netloc = parts.netloc
    at = netloc.rfind("@") + 1
    netloc = netloc[:at] + netloc[at:].lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, "")), host.lower()


def _origin(base: str | None) -> str | None:
    match = _PLAIN_URL.match(base) if base else None
    return f"{match.group(1)}://{match.group(2)}" if match else None


def _join(base: str | None, href: str) -> str | None:
    try:
        return urljoin(base or "", href)
    except ValueError:
        return None
