"""An article's outbound links: every ``<a href>``, absolute, with where it stood.

Links are half of what an article cites (embeds are the other half), and a
post that is only linked, not embedded, is still a post the article relies on.
Each link is resolved against ``<base href>`` and the page URL, kept only when
it is http(s), and normalised just enough to compare (scheme and host lower
case, fragment dropped; tracking parameters are kept, because they are part of
what the page said).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

from archiver.extract.regions import RegionMap
from archiver.models import Link

_ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)
# scheme://host[:port] then the rest up to a fragment; no user info, no IPv6 brackets.
_PLAIN_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@\[\]\s]*)(?=[/?#]|$)([^#]*)")
_SCHEMES = ("http", "https")
MAX_ANCHOR_TEXT = 2_000


class FoundLink(NamedTuple):
    """A link and the element it came from (link-only detection needs the element).

    A NamedTuple, not a frozen dataclass: pages have thousands of links, and
    frozen dataclasses are several times slower to build.
    """

    element: Any
    href: str  # the attribute as written
    link: Link


def base_url(root: Any, page_url: str | None) -> str | None:
    """The URL relative links resolve against: ``<base href>`` (itself resolved), else the page's."""
    for href in root.xpath("//base/@href")[:1]:
        href = str(href).strip()
        if href:
            joined = _join(page_url, href) if page_url else href
            if joined and _ABSOLUTE.match(joined):
                return joined
    return page_url


def find_links(root: Any, page_url: str | None, regions: RegionMap) -> list[FoundLink]:
    """Every http(s) link of the page, in document order, with its region and position."""
    base = base_url(root, page_url)
    origin = _origin(base)
    found: list[FoundLink] = []
    for a in root.iter("a"):
        href = a.get("href")
        if href is None:
            continue
        url = resolve(href, base, origin)
        normalized = normalize_url(url) if url is not None else None
        if normalized is None:
            continue
        text = a.text if len(a) == 0 else a.text_content()  # most anchors hold one text node
        link = Link(
            url=url,
            normalized_url=normalized[0],
            host=normalized[1],
            anchor_text=" ".join(text.split())[:MAX_ANCHOR_TEXT] if text else "",
            rel=(a.get("rel") or "").strip() or None,
            region=regions.region_of(a),
            position=len(found),
        )
        found.append(FoundLink(element=a, href=href, link=link))
    return found


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
