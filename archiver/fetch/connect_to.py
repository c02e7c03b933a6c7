"""``--connect-to``: send the requests for one origin to another, curl style.

Tests and the demo serve ``https://cdn.syndication.twimg.com`` or
``https://site1.news.test`` from a mirror on 127.0.0.1 without touching DNS,
/etc/hosts or the code that builds URLs: the mapping ``FROM=TO`` changes only
where the socket connects. The URL, the ``Host`` header, the TLS server name and
everything recorded stay those of FROM; the exchange additionally records the
origin dialled (``connected_to``) and the peer address (``server_ip``), so a
stored fact never hides that it came from a mirror.

Requests are sent with their own URL, Host header and TLS server name: the
mapping is applied where a connection opens its socket (``http11.Http11Transport``:
connections keyed by FROM, dialled to TO), so no request is rebuilt and a
mapped connection serves FROM alone. ``ConnectToTransport``
does the same by rewriting requests, for transports that are not the network.

Origins are normalised the way the URL standard serialises them:
``scheme://host[:port]``, scheme and host lower-cased, IDNA hosts in their
``xn--`` form, IPv6 hosts in brackets, and the port written only when it is not
the scheme's default (``https://a.test:443`` becomes ``https://a.test``).
"""

from __future__ import annotations

import functools
from typing import Iterable, Mapping

import httpx

from archiver.errors import ConfigError

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
_EXAMPLE = "https://site.test=http://127.0.0.1:8080"


def origin_of(url: httpx.URL | str) -> str:
    """The normalised origin of an http(s) URL (see the module docstring).

    An ``httpx.URL`` is not parsed again; for text, the answers for recent
    URLs are cached (robots.txt, the redirect rules and the records ask again
    for the origins of the URLs just fetched), as a function of the text alone.
    """
    if isinstance(url, str):
        return _origin_of_text(url)
    return _origin(url.scheme, url.raw_host, url.port)


@functools.lru_cache(maxsize=4096)
def _origin_of_text(url: str) -> str:
    return origin_of(httpx.URL(url))


def _origin(scheme: str, raw_host: bytes, port: int | None) -> str:
    scheme = scheme.lower()
    host = raw_host.decode("ascii").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    # httpx drops a default port only when the scheme was written in lower case
    shown = "" if port in (None, DEFAULT_PORTS.get(scheme)) else f":{port}"
    return f"{scheme}://{host}{shown}"


def normalize_origin(text: str) -> str:
    """Validate one side of a mapping and return its normalised origin.

    Raises ConfigError (one line) for anything that is not exactly an origin: a
    path, query, fragment or user name would be silently ignored, so it is refused.
    """
    text = text.strip()
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ConfigError(f"--connect-to: {text!r} is not a valid origin ({exc})") from None
    if url.scheme.lower() not in SCHEMES:
        raise ConfigError(f"--connect-to: {text!r} must start with http:// or https://")
    if url.port is not None and not 0 < url.port < 65536:
        raise ConfigError(f"--connect-to: {text!r} is not a valid origin (port {url.port} out of range)")
    if not url.raw_host:
        raise ConfigError(f"--connect-to: {text!r} has no host")
    if url.userinfo:
        raise ConfigError(f"--connect-to: {text!r} must not contain a user name or password")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ConfigError(f"--connect-to: {text!r} must be an origin only (scheme://host[:port]), without a path")
    return origin_of(url)


def parse_mapping(text: str) -> tuple[str, str]:
    """Parse ``FROM=TO`` into two normalised origins.

    >>> parse_mapping("HTTPS://Site.Test:443=http://127.0.0.1:8080")
    ('https://site.test', 'http://127.0.0.1:8080')
    """
    parts = text.split("=")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise ConfigError(f"--connect-to: {text!r} is not FROM=TO (for example {_EXAMPLE})")
    return normalize_origin(parts[0]), normalize_origin(parts[1])


class ConnectMap:
    """The operator's mappings, looked up by a request URL's origin.

    One object answers both "where does this request really go" (the transport)
    and "was this origin mapped on purpose" (the address guard), so the two can
    never disagree.
    """

    def __init__(self, mappings: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = mappings.items() if isinstance(mappings, Mapping) else mappings
        self._map = {normalize_origin(a): normalize_origin(b) for a, b in pairs}

    def __bool__(self) -> bool:
        return bool(self._map)

    def target(self, url: httpx.URL | str) -> str | None:
        """The origin that requests for ``url`` are sent to, or None when not mapped."""
        if not self._map:
            return None
        try:
            return self._map.get(origin_of(url))
        except (httpx.InvalidURL, UnicodeError):
            return None

    def target_of(self, origin: str) -> str | None:
        """``target`` for an origin already normalised."""
        return self._map.get(origin)


class ConnectToTransport(httpx.AsyncBaseTransport):
    """``--connect-to`` around a transport that is not a network one (tests inject such transports).

    The inner request is a copy whose URL points at TO, while the headers (Host
    included) are the original's; httpx sets ``response.request`` back to the
    original request, so nothing downstream sees the rewritten URL. When TO is
    https the TLS server name stays FROM's host (``sni_hostname``), like curl.
    The origin dialled is put in ``response.extensions["connected_to"]``.
    Real requests take ``http11.Http11Transport``, which maps where a
    connection's socket goes instead of rewriting every request.
    """

    def __init__(self, connect_map: ConnectMap, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.connect_map = connect_map
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self.connect_map.target(request.url)
        if target is None:
            return await self.transport.handle_async_request(request)
        to = httpx.URL(target)
        extensions = dict(request.extensions)
        if to.scheme == "https":
            extensions["sni_hostname"] = request.url.host
        inner = httpx.Request(
            request.method,
            request.url.copy_with(scheme=to.scheme, host=to.host, port=to.port),
            headers=request.headers,  # Host stays FROM's: it was set when the request was built
            stream=request.stream,
            extensions=extensions,
        )
        response = await self.transport.handle_async_request(inner)
        response.extensions["connected_to"] = target
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()
