"""The address guard: archiver never fetches the operator's own network by accident.

Article pages and platform answers are untrusted input: a page can embed
``http://169.254.169.254/latest/meta-data`` or a redirect can point at
``http://127.0.0.1:6379``. Before any byte is sent, the guard judges the URL's own
host, on the first request and on every redirect:

- only http and https are fetched (``file:``, ``javascript:``, ``data:``, ``ftp:``
  ... are refused even with ``allow_private``);
- an IP literal (including IPv6, IPv4-mapped IPv6, 6to4/Teredo embeddings and
  the legacy IPv4 spellings ``2130706433`` or ``0x7f.1`` that resolvers accept) is
  refused when it is private, loopback, link-local, multicast, reserved,
  unspecified or otherwise not globally routable, whether or not its origin is
  mapped: the operator mapped names, not whatever a page redirects to;
- an origin the operator mapped with ``--connect-to`` is an explicit choice and
  is not refused for where it connects;
- any other name is resolved (the event loop's getaddrinfo) and refused when
  any of its addresses is refused.

Between the guard's resolution and the connection the name could resolve
differently (DNS rebinding), so the client also judges the peer address it
actually connected to (``peer_problem``) and discards the answer when it is
refused. ``allow_private`` lifts every address rule; tests and the demo use it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

from archiver.errors import FetchError, Refused
from archiver.fetch.connect_to import SCHEMES, ConnectMap

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[list[str]]]
_ALLOW_HINT = "use --allow-private to fetch it"
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.IGNORECASE)


def address_problem(ip: IPAddress) -> str | None:
    """Why this address must not be fetched ("loopback", ...), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner:
                return f"{inner} (IPv4 {embedded} inside IPv6)"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("non-public", not ip.is_global),  # e.g. 100.64.0.0/10, shared address space
    )
    for name, hit in checks:
        if hit:
            return name
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host denotes by itself, or None when it is a name to resolve.

    Numeric forms that getaddrinfo and browsers read as IPv4 (``127.1``,
    ``2130706433``, ``0x7f000001``) count as literals, so they cannot slip past
    the "IP literals are always judged" rule.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return None
    return None


def check_scheme(url: str) -> None:
    """Refuse anything but http(s) before it reaches a client."""
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise Refused(f"unsupported URL scheme ({shown}) in {_short(url)}; only http and https are fetched")


async def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to, through the running event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class Guard:
    """Judges URLs (``check``) and connected peers (``peer_problem``).

    ``resolver`` is a parameter so tests can make a name "resolve" anywhere
    without DNS.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        connect_map: ConnectMap | None = None,
        resolver: Resolver = resolve,
        timeout: float | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout  # a hung resolver must not stall a worker past the request limit
        self.connect_map = connect_map if connect_map is not None else ConnectMap()
        self.resolver = resolver

    async def check(self, url: str) -> httpx.URL:
        """Raise Refused (or FetchError for an unparseable URL) unless ``url`` may be fetched.

        Returns the URL as parsed, for the client to send without parsing it again.
        A name that does not resolve (or not within ``timeout``) is let through:
        the connection attempt will fail with a precise error under the request's
        own time limit, and an address that changed meanwhile is caught at the peer.
        """
        check_scheme(url)
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"invalid URL {_short(url)}: {exc}") from None
        host = parsed.host
        if not host:
            raise FetchError(f"invalid URL {_short(url)}: no host")
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise FetchError(f"invalid URL {_short(url)}: port {parsed.port} out of range")
        if self.allow_private:
            return parsed
        literal = ip_literal(host)
        if literal is not None:
            problem = address_problem(literal)
            if problem:
                raise Refused(f"{_short(url)} points at a {problem} address ({literal}); {_ALLOW_HINT}")
            return parsed
        if self.connect_map.target(parsed) is not None:
            return parsed
        try:
            async with asyncio.timeout(self.timeout):
                addresses = await self.resolver(host)
        except (OSError, UnicodeError):  # TimeoutError and socket.gaierror are OSErrors
            return parsed
        for address in addresses:
            problem = _problem_of_text(address)
            if problem:
                raise Refused(f"{host} resolves to a {problem} address ({address}); {_ALLOW_HINT}")
        return parsed

    def peer_problem(self, url: str | httpx.URL, server_ip: str | None) -> str | None:
        """Why the peer actually connected to for ``url`` is refused, or None."""
        if self.allow_private or server_ip is None or self.connect_map.target(url) is not None:
            return None
        problem = _problem_of_text(server_ip)
        if problem:
            return f"{_short(str(url))} connected to a {problem} address ({server_ip}); {_ALLOW_HINT}"
        return None


def _problem_of_text(address: str) -> str | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unparseable"
    return address_problem(ip)


def _short(url: str, limit: int = 120) -> str:
    """URLs go into one-line messages; a data: URL can be megabytes."""
    url = " ".join(url.split())
    return url if len(url) <= limit else url[: limit - 3] + "..."
