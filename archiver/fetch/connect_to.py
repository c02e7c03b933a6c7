"""``--connect-to``: send the requests for one origin to another, curl style.

Tests and the demo serve ``https://cdn.syndication.twimg.com`` or
``https://site1.news.test`` from a mirror on 127.0.0.1 without touching DNS,
/etc/hosts or the code that builds URLs: the mapping ``FROM=TO`` changes only
where the socket connects. The URL, the ``Host`` header, the TLS server name and
everything recorded stay those of FROM; the exchange additionally records the
origin dialled (``connected_to``) and the peer address (``server_ip``), so a
stored fact never hides that it came from a mirror.

Requests are sent with their own URL, Host header and TLS server name: the
mapping is applied where a connection opens its socket (``NetworkTransport``:
httpcore's pool keyed by FROM, a network backend that dials TO), so no request
is rebuilt and a mapped connection serves FROM alone. ``ConnectToTransport``
does the same by rewriting requests, for transports that are not the network.

Origins are normalised the way the URL standard serialises them:
``scheme://host[:port]``, scheme and host lower-cased, IDNA hosts in their
``xn--`` form, IPv6 hosts in brackets, and the port written only when it is not
the scheme's default (``https://a.test:443`` becomes ``https://a.test``).
"""

from __future__ import annotations

import functools
import select
import socket
import ssl
import time
from typing import Any, Iterable, Mapping

import httpcore
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
    Real requests take ``NetworkTransport``, which maps where a connection's
    socket goes instead of rewriting every request.
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


# -- the network path: connections, not requests, are sent elsewhere ---------------------

_HTTPCORE_1_0 = httpcore.__version__.startswith("1.0.")  # whose pool internals _Pool relies on


def _outlived(connection: httpcore.AsyncConnectionInterface, now: float) -> bool:
    """Past its keep-alive time, by the clock alone (httpcore 1.0's ``_expire_at``; no socket asked)."""
    expire_at = getattr(getattr(connection, "_connection", None), "_expire_at", None)
    return expire_at is not None and now > expire_at


def _readable(sock: socket.socket | None) -> bool:
    """httpcore's idle-connection test (``is_readable``): data or EOF waiting on the socket."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:  # closed: as readable as a socket about to return b""
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """One connection's stream, with what never changes during its life read once.

    httpcore asks every idle connection of a pool whether it is readable each
    time a request starts or ends, and archiver asks every response for the
    server address; through anyio each question builds a dict of attribute
    getters. The socket and both addresses are fixed for the connection's life.
    ``plain`` (FROM is https, TO is http): the TLS httpcore asks for is skipped,
    as the mapped origin speaks plain HTTP.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream, *, plain: bool = False) -> None:
        self._stream = stream
        self._plain = plain
        self._fixed = {name: stream.get_extra_info(name) for name in ("socket", "server_addr", "client_addr")}
        self._fixed["ssl_object"] = stream.get_extra_info("ssl_object")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        if self._plain:
            return self
        return _Stream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._fixed["socket"])
        if info in self._fixed:
            return self._fixed[info]
        return self._stream.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """Opens sockets through httpcore's own backend; ``target`` set: to the mapped origin instead.

    ``connect_tcp`` receives the host and port of FROM (the connection's
    origin) and dials TO's. httpcore wraps the socket in TLS when FROM is
    https; the stream skips that when TO is http, and this backend adds it
    (server name FROM's host) when FROM is http and TO https.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend, target: httpx.URL | None = None,
                 from_scheme: str = "", from_host: str = "", ssl_context: ssl.SSLContext | None = None) -> None:
        self.inner = inner
        self.target = target
        self.from_scheme = from_scheme
        self.from_host = from_host
        self.ssl_context = ssl_context

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        to = self.target
        if to is None:
            return _Stream(await self.inner.connect_tcp(host, port, timeout, local_address, socket_options))
        stream = await self.inner.connect_tcp(to.raw_host.decode("ascii"), to.port or DEFAULT_PORTS[to.scheme],
                                              timeout, local_address, socket_options)
        if to.scheme == "https" and self.from_scheme != "https":
            context = self.ssl_context or httpx.create_ssl_context()
            stream = await stream.start_tls(context, self.from_host, timeout)
        return _Stream(stream, plain=to.scheme != "https")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        return await self.inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool, each connection's socket opened where ``--connect-to`` says.

    Connections are keyed by the request's own origin (FROM), as without any
    mapping, so TLS (server name, certificate check) is FROM's and a mapped
    connection is never reused for another origin mapped to the same place.
    """

    def __init__(self, connect_map: ConnectMap, *, ssl_context: ssl.SSLContext | None, max_connections: int | None,
                 max_keepalive_connections: int | None, keepalive_expiry: float | None) -> None:
        self.connect_map = connect_map
        self._options = dict(ssl_context=ssl_context, keepalive_expiry=keepalive_expiry)  # of every connection
        self.backend = httpcore.AnyIOBackend()
        super().__init__(ssl_context=ssl_context, max_connections=max_connections,
                         max_keepalive_connections=max_keepalive_connections, keepalive_expiry=keepalive_expiry,
                         network_backend=_Backend(self.backend))
        self._mapped: dict[str, _Backend] = {}

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        """httpcore 1.0's assignment pass, in linear time and asking a socket only when it is reused.

        httpcore runs this pass on every request's start and end. Its version
        counts the pool again for every idle connection (quadratic,
        encode/httpx#3215) and asks every idle connection's socket whether the
        server closed it (``has_expired``: one ``poll`` each, ~20 per request
        event here). This one drops idle connections past their keep-alive
        time by the clock alone, and asks the socket of an idle connection only
        when it is about to be handed a request: one that the server closed is
        then closed and the next one tried, so a dead connection is never
        reused, as in httpcore. Otherwise the pass is httpcore's: the first
        connection that fits, new connections up to the limit, the oldest idle
        one closed when the pool is full. Another httpcore than 1.0 gets its own pass.
        """
        if not _HTTPCORE_1_0:
            return super()._assign_requests_to_connections()
        closing = []
        connections = self._connections
        now = time.monotonic()
        for connection in list(connections):
            if connection.is_closed():
                connections.remove(connection)
            elif connection.is_idle() and (_outlived(connection, now) or
                                           len(connections) > self._max_keepalive_connections):
                connections.remove(connection)
                closing.append(connection)
            elif not connection.is_idle() and connection.has_expired():  # no socket poll unless idle
                connections.remove(connection)
                closing.append(connection)
        for pool_request in [request for request in self._requests if request.is_queued()]:
            origin = pool_request.request.url.origin
            available = self._reusable(origin, closing)
            if available is not None:
                pool_request.assign_to_connection(available)
            elif len(connections) < self._max_connections:
                connection = self.create_connection(origin)
                connections.append(connection)
                pool_request.assign_to_connection(connection)
            else:
                idle = next((c for c in connections if c.is_idle()), None)
                if idle is not None:
                    connections.remove(idle)
                    closing.append(idle)
                    connection = self.create_connection(origin)
                    connections.append(connection)
                    pool_request.assign_to_connection(connection)
        return closing

    def _reusable(self, origin: httpcore.Origin, closing: list) -> httpcore.AsyncConnectionInterface | None:
        """The first connection that can take a request for ``origin``; idle ones the server closed are dropped."""
        for connection in list(self._connections):
            if not (connection.can_handle_request(origin) and connection.is_available()):
                continue
            if connection.is_idle() and connection.has_expired():  # the one socket poll: this one is reused
                self._connections.remove(connection)
                closing.append(connection)
                continue
            return connection
        return None

    def create_connection(self, origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
        scheme = origin.scheme.decode("ascii")
        source = _origin(scheme, origin.host, origin.port)
        backend = self._mapped.get(source)
        if backend is None:
            target = self.connect_map.target_of(source)
            if target is None:
                return super().create_connection(origin)
            backend = self._mapped[source] = _Backend(self.backend, httpx.URL(target), scheme,
                                                      origin.host.decode("ascii"), self._options["ssl_context"])
        return httpcore.AsyncHTTPConnection(origin=origin, network_backend=backend, **self._options)


class NetworkTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (request mapping, errors) over ``_Pool``: ``--connect-to`` without rewriting requests."""

    def __init__(self, connect_map: ConnectMap, *, ssl_context: ssl.SSLContext,
                 limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20,
                                                     keepalive_expiry=5.0)) -> None:
        super().__init__(verify=ssl_context, limits=limits, retries=0)
        self._pool = _Pool(connect_map, ssl_context=ssl_context, max_connections=limits.max_connections,
                           max_keepalive_connections=limits.max_keepalive_connections,
                           keepalive_expiry=limits.keepalive_expiry)
