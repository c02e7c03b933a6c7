"""One parsed tree as the detectors read it: walked once, shared by every platform.

Every detector looks for the same few things: links, iframes, blockquotes,
``amp-*`` tags, a class on a ``div``. Asked of the tree by each of eleven
detectors, that was dozens of walks over a page of tens of thousands of nodes
and every link's URL parsed by every platform. A ``Page`` walks the tree once
(for the tags extraction asks for), keeps the elements by tag in document
order, resolves each link once and indexes the links by host, so that a
platform reads only the links to its own domains.

A platform module declares what it reads (``platforms.base`` describes the
protocol): ``DOMAINS``, the registrable domains its URLs live on (a host matches
when it is one of them or a subdomain; ``None`` for a platform recognised by URL
shape on any host), and ``TAGS``, the tags its detector asks the page for.
Extraction builds one ``Page`` per tree with the union of every platform's
``TAGS``; a ``Page`` built without ``tags`` (tests, other callers) walks once per
tag asked instead, with the same answers.

Nothing here changes what a detector finds: ``links_on`` returns every link
whose host could be on those domains, and the links whose host this module
cannot read quickly and surely (user info, odd ports, backslashes) go to every
platform, which parses them in full as before.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, NamedTuple
from urllib.parse import urljoin

from archiver import dom

FRAME_TAGS = ("iframe", "embed", "amp-iframe")
FRAME_SRC_ATTRS = ("src", "data-src", "data-lazy-src", "data-original", "data-url")
"""Where an iframe's address can sit: lazy loaders move ``src`` into a data attribute."""

# scheme://host[:port] then the path, query or end; anything else (user info,
# IPv6 brackets, backslashes, whitespace, ports that are not numbers) is "unsure".
_HOST = re.compile(r"https?://([^/?#@\[\]\\:\s]+)(?::[0-9]*)?(?=[/?#]|\Z)", re.IGNORECASE)
# The same for an href as written (``absolute`` strips it first): absolute, or
# protocol-relative (which ``absolute`` makes https).
_ABSOLUTE_HREF = re.compile(r"\s*(?:https?:)?//([^/?#@\[\]\\:\s]+)(?::[0-9]*)?(?=[/?#]|\s*\Z)", re.IGNORECASE)
_NO_URL = ("javascript:", "data:", "about:", "mailto:", "#")  # hrefs ``absolute`` turns down
_CLASS_SPACE = str.maketrans("\t\r\n", "   ")  # XPath normalize-space() whitespace


class Anchor(NamedTuple):
    """An ``<a href>`` of the page, its URL resolved once for every platform."""

    element: Any
    href: str  # the attribute as written
    url: str | None  # absolute http(s) (``absolute``), None for fragments, mailto:, javascript: ...
    host: str | None  # lower-case host of ``url``; None when there is no url or it is not read surely
    position: int  # among the page's anchors with an href, from 0


class Frame(NamedTuple):
    """An iframe-like element (iframe, embed, amp-iframe) and the address it loads."""

    element: Any
    url: str
    kind: str  # "iframe", "amp" (amp-iframe) or "noscript" (a copy inside <noscript>)


def absolute(url: str | None, base_url: str | None = None) -> str | None:
    """An absolute http(s) URL, or None for empty, ``javascript:``, ``data:`` and ``about:`` values.

    Protocol-relative URLs (``//www.youtube.com/embed/..``) get https, because the
    platforms serve embeds over https whatever the article used.
    """
    if not url:
        return None
    url = url.strip()
    if not url or url.lower().startswith(_NO_URL):
        return None
    if url.startswith("//"):
        return "https:" + url
    if "://" in url:
        return url if url.lower().startswith(("http://", "https://")) else None
    if base_url:
        joined = urljoin(base_url, url)
        return joined if joined.lower().startswith(("http://", "https://")) else None
    return None


def host_of(url: str) -> str | None:
    """The host ``oembed.split`` would read from ``url`` (lower case, no port, no final dot).

    None when the URL is not plainly ``http(s)://host[:port]`` followed by a path,
    query, fragment or nothing: the caller must then treat the host as unknown.
    Like ``split``, a URL without a scheme (``youtu.be/ID``) is read as https.
    """
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    elif "://" not in url:
        url = "https://" + url
    match = _HOST.match(url)
    if match is None:
        return None
    return match.group(1).lower().rstrip(".") or None


def domains_of(host: str) -> list[str]:
    """The host and every parent domain: ``a.b.c`` -> ``a.b.c``, ``b.c``, ``c``."""
    found = [host]
    dot = host.find(".")
    while dot >= 0:
        found.append(host[dot + 1:])
        dot = host.find(".", dot + 1)
    return found


def class_tokens(value: str | None) -> list[str]:
    """Class tokens as XPath's ``normalize-space(@class)`` splits them (space, tab, CR, LF)."""
    if not value:
        return []
    return value.translate(_CLASS_SPACE).split(" ")


def has_class(el: Any, name: str) -> bool:
    """``contains(concat(' ', normalize-space(@class), ' '), ' name ')``, without XPath."""
    value = el.attributes.get("class")
    return bool(value) and name in value and name in class_tokens(value)


def in_noscript(el: Any) -> bool:
    return any(a.tag == "noscript" for a in dom.ancestors(el))


def frame_url(el: Any, base_url: str | None) -> str | None:
    """The address an iframe (or lazy iframe) loads; the first attribute holding a real URL."""
    attributes = el.attributes
    for attr in FRAME_SRC_ATTRS:
        url = absolute(attributes.get(attr), base_url)
        if url:
            return url
    return None


_UNSEEN: Any = object()


class Page:
    """A parsed tree and what detectors read from it, each computed once.

    ``root`` is the parsed tree (``archiver.dom``: the page, or markup it hid), ``base_url``
    the URL relative links resolve against. ``tags``: the tags to collect in one
    walk when the page is built (others are walked for when first asked).
    ``data``: the bytes the tree was parsed from, for readers that look at the
    raw markup before walking for something rare (None: unknown, walk anyway;
    see ``lowered``). ``walks`` counts the walks over the tree: one for
    ``tags``, then one for each tag asked for later.
    """

    def __init__(self, root: Any, base_url: str | None = None, *, tags: Iterable[str] | None = None,
                 data: bytes | None = None) -> None:
        self.root = root
        self.base_url = base_url
        self.data = data
        self._lowered: bytes | None = None
        self._tagged: dict[str, list[Any]] = {}
        self._hrefs: list[tuple[Any, str]] | None = None
        self._anchor_attributes: list[dict[str, str | None]] | None = None
        self._anchors: dict[int, Anchor] = {}
        self._by_domain: dict[str, list[str]] | None = None
        self._by_host: dict[str, list[int]] | None = None
        self._unsure: list[int] = []
        self._relative: set[int] = set()
        self._frames: list[Frame] | None = None
        self._classed: dict[str, list[tuple[Any, str]]] = {}
        self.walks = 0
        if tags is not None:
            self._collect(tuple(dict.fromkeys(tags)))

    def _collect(self, tags: tuple[str, ...]) -> None:
        """One walk for every tag asked.

        Elements are told apart by lexbor's tag number, an int read without
        building the name's string; the name is read once per number (custom
        elements such as ``amp-iframe`` get numbers of their own per document).
        """
        buckets: dict[str, list[Any]] = {tag: [] for tag in tags}
        if tags:
            self.walks += 1
            by_number: dict[int, list[Any] | None] = {}
            for el in self.root.traverse(include_text=False):
                number = el.tag_id
                bucket = by_number.get(number, _UNSEEN)
                if bucket is _UNSEEN:
                    bucket = by_number[number] = buckets.get(el.tag)
                if bucket is not None:
                    bucket.append(el)
        self._tagged.update(buckets)

    # -- elements ---------------------------------------------------------------

    def tagged(self, *tags: str) -> list[Any]:
        """Elements with these tags (the root included), in document order tag by tag."""
        found: list[Any] = []
        for tag in tags:
            bucket = self._tagged.get(tag)
            if bucket is None:
                self.walks += 1
                bucket = self._tagged[tag] = list(dom.descendants(self.root, tag))
            found.extend(bucket)
        return found

    def with_class(self, tag: str, name: str) -> list[Any]:
        """Elements ``tag`` whose class list holds ``name``, in document order."""
        classed = self._classed.get(tag)
        if classed is None:
            classed = self._classed[tag] = [(el, c) for el in self.tagged(tag) if (c := el.attributes.get("class"))]
        return [el for el, value in classed if name in value and name in class_tokens(value)]

    # -- links and frames -------------------------------------------------------

    @property
    def hrefs(self) -> list[tuple[Any, str]]:
        """(element, href as written) for every ``<a href>``, in document order (a bare ``href``: "")."""
        if self._hrefs is None:
            self._read_anchors()
        return self._hrefs  # type: ignore[return-value]

    @property
    def anchor_attributes(self) -> list[dict[str, str | None]]:
        """The attributes of each of ``hrefs`` (lexbor's dict: a bare attribute is None), read in the same pass."""
        if self._anchor_attributes is None:
            self._read_anchors()
        return self._anchor_attributes  # type: ignore[return-value]

    def _read_anchors(self) -> None:
        hrefs: list[tuple[Any, str]] = []
        attributes_of: list[dict[str, str | None]] = []
        for a in self.tagged("a"):
            attributes = a.attributes
            if "href" in attributes:
                hrefs.append((a, attributes["href"] or ""))
                attributes_of.append(attributes)
        self._hrefs, self._anchor_attributes = hrefs, attributes_of

    @property
    def anchors(self) -> list[Anchor]:
        """Every ``<a href>`` with its absolute URL and host, in document order."""
        return [self._anchor(position) for position in range(len(self.hrefs))]

    def links_on(self, domains: Iterable[str] | None, hints: Iterable[str] | None = None) -> list[Anchor]:
        """The anchors with a URL whose host is one of ``domains`` or under one, in document order.

        Links whose host cannot be read plainly come too (the caller's ``identify``
        decides). ``domains`` None means any host; then ``hints``, strings one of
        which every URL the caller can use holds (Mastodon: ``@`` or ``users``;
        none may contain ``/``, ``?``, ``#`` or occur in ``https:``), skip the
        links that cannot be one without resolving them.
        """
        by_host, unsure, relative = self._routes()
        if domains is not None:
            hosts = {host for domain in domains for host in self._hosts_under(domain)}
            positions = [p for host in hosts for p in by_host[host]] + unsure
            if len(hosts) > 1 or (hosts and unsure):
                positions.sort()
        elif hints is None:
            positions = sorted(p for group in (*by_host.values(), unsure) for p in group)
        else:
            positions = sorted(self._hinted(by_host, unsure, relative, tuple(hints)))
        anchors = [self._anchor(p) for p in positions]
        return [a for a in anchors if a.url is not None]

    def _hinted(self, by_host: dict[str, list[int]], unsure: list[int], relative: set[int],
                hints: tuple[str, ...]) -> Iterator[int]:
        """Positions whose URL may hold one of ``hints`` (or that urlsplit would rewrite)."""
        hints = (*hints, "\t", "\n", "\r")  # urlsplit drops these, joining what stood around them
        base_hinted = self.base_url is not None and any(h in self.base_url for h in hints)
        hrefs = self.hrefs
        for group in (*by_host.values(), unsure):
            for position in group:
                href = hrefs[position][1]
                for hint in hints:
                    if hint in href:
                        yield position
                        break
                else:
                    if base_hinted and position in relative:
                        yield position

    def _anchor(self, position: int) -> Anchor:
        anchor = self._anchors.get(position)
        if anchor is None:
            el, href = self.hrefs[position]
            url = absolute(href, self.base_url)
            anchor = self._anchors[position] = Anchor(el, href, url, host_of(url) if url else None, position)
        return anchor

    def _hosts_under(self, domain: str) -> list[str]:
        """The hosts of the page's links that are ``domain`` or under it."""
        if self._by_domain is None:
            by_domain: dict[str, list[str]] = {}
            for host in self._routes()[0]:
                for parent in domains_of(host):
                    by_domain.setdefault(parent, []).append(host)
            self._by_domain = by_domain
        return self._by_domain.get(domain, [])

    def set_routes(self, by_host: dict[str, list[int]], unsure: list[int], relative: set[int]) -> None:
        """Hand over the links' hosts, read by a caller that resolved every href already.

        Extraction's link pass reads each href's host anyway; with this the page
        does not read them again. ``by_host`` maps a host (lower case, no port,
        no final dot: what ``oembed.split`` reads from ``absolute(href)``) to the
        positions in ``hrefs`` of the links to it, in order; ``unsure`` lists the
        positions whose URL must be read in full (anything that rule cannot vouch
        for, see ``_routes``); ``relative``, the positions resolved against the base.
        """
        self._by_host, self._unsure, self._relative = by_host, unsure, relative
        self._by_domain = None

    def _routes(self) -> tuple[dict[str, list[int]], list[int], set[int]]:
        """(host -> positions of links to it, positions to read in full, positions resolved against the base).

        Without resolving anything: an absolute or protocol-relative href shows its
        host; a relative one takes the base's (``urljoin`` keeps the base's
        authority unless the href brings its own, which needs ``//``). What the
        cheap reading cannot vouch for (other forms with ``://``, control
        characters that urlsplit strips or drops, a base whose host is not plain)
        is read in full when asked for. Fragments, ``javascript:`` and the like,
        and relative links without a base lead nowhere and are left out.
        """
        if self._by_host is None:
            base = self.base_url
            base_host = host_of(base) if base else None
            by_host: dict[str, list[int]] = {}
            unsure: list[int] = []
            relative: set[int] = set()
            plain = _ABSOLUTE_HREF.match
            for position, (_, href) in enumerate(self.hrefs):
                match = plain(href)
                if match is not None:
                    host = match.group(1).lower().rstrip(".")
                    if host:
                        group = by_host.get(host)
                        if group is None:
                            by_host[host] = [position]
                        else:
                            group.append(position)
                    else:
                        unsure.append(position)
                    continue
                s = href.strip()
                if "://" in s or s.startswith("//"):
                    unsure.append(position)  # absolute forms the pattern does not read: absolute() decides
                elif base is None or not s or s.lower().startswith(_NO_URL):
                    continue
                elif s[0] < "!" or "\t" in s or "\n" in s or "\r" in s or base_host is None:
                    unsure.append(position)
                    relative.add(position)
                else:
                    by_host.setdefault(base_host, []).append(position)
                    relative.add(position)
            self._by_host, self._unsure, self._relative = by_host, unsure, relative
        return self._by_host, self._unsure, self._relative

    @property
    def frames(self) -> list[Frame]:
        """Every iframe-like element with the address it loads, in document order per tag.

        The kind is ``noscript`` for the copy a page keeps inside ``<noscript>`` (the
        extraction layer dedupes it against the lazy original) and ``amp`` for amp-iframe.
        """
        if self._frames is None:
            frames = []
            for el in self.tagged(*FRAME_TAGS):
                url = frame_url(el, self.base_url)
                if not url:
                    continue
                if in_noscript(el):
                    kind = "noscript"
                elif el.tag == "amp-iframe":
                    kind = "amp"
                else:
                    kind = "iframe"
                frames.append(Frame(el, url, kind))
            self._frames = frames
        return self._frames

    # -- the raw bytes ----------------------------------------------------------

    @property
    def lowered(self) -> bytes | None:
        """The bytes the tree was parsed from, in lower case (computed once); None when unknown."""
        if self._lowered is None and self.data is not None:
            self._lowered = self.data.lower()
        return self._lowered
