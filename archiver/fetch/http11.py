"""The network path: HTTP/1.1 over asyncio protocols and h11, under httpx's transport interface.

httpx builds every request and reads every response; this module carries
them. It replaces httpcore's connection pool and anyio's streams, which cost
about a millisecond of CPU per request on a crawl's event loop (the pool's
bookkeeping, anyio's cancel scopes and locks around every read and write);
a connection here is an ``asyncio.Protocol`` feeding h11, the same parser
httpcore uses, so what is accepted and the wording of every protocol error
are h11's (``tests/test_faults.py`` checks them).

Connections are keyed by the request's own origin (FROM) and dialled where
``--connect-to`` sends that origin (TO): TLS is used when TO (or FROM, when
unmapped) is https, with FROM's host as the server name, so the request keeps
its URL, its Host header and its certificate check, and a mapped connection
serves FROM alone. Idle connections wait per origin (the most recently used
is taken first) for ``keepalive_expiry`` seconds, at most ``max_idle_per_origin``
per origin and ``max_idle`` in all (the oldest closed first). A server's close
of an idle connection is seen at once (``connection_lost``), so a closed one is
never reused. One request per connection at a time; a response that was not
read to its end closes its connection.

Errors are httpx's, as ``fetch.client.describe`` words them: ``ConnectError``
(dialling, TLS), ``ReadError`` (a reset while waiting for the answer),
``RemoteProtocolError`` (h11's verdicts; "Server disconnected without sending
a response." for a close before any byte of the answer).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from typing import Any, AsyncIterator

import h11
import httpx

from archiver.fetch.connect_to import DEFAULT_PORTS, ConnectMap

PAUSE_AT = 256 * 1024  # bytes received and not yet read by the caller: stop reading the socket
EMPTY_ANSWER = "Server disconnected without sending a response."


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: bytes in go to h11, the caller pulls events."""

    def __init__(self, key: tuple) -> None:
        self.key = key
        self.h11 = h11.Connection(h11.CLIENT)
        self.transport: asyncio.Transport | None = None
        self.eof = False  # the server closed its side (or the connection is gone)
        self.error: BaseException | None = None  # why the connection was lost, if not a clean close
        self.idle_since = 0.0
        self.in_pool = False
        self._fed_eof = False
        self._unread = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._peer: Any = None

    # -- asyncio's side ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._peer = transport.get_extra_info("peername")

    def data_received(self, data: bytes) -> None:
        if self.in_pool:  # bytes nobody asked for on an idle connection: not reusable
            self.close()
            return
        try:
            self.h11.receive_data(data)
        except RuntimeError:  # data after the end we were told of
            self.close()
            return
        self._unread += len(data)
        if self._unread > PAUSE_AT and not self._paused and self.transport is not None:
            self.transport.pause_reading()
            self._paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # asyncio closes the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self.transport = None
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the caller's side ------------------------------------------------------------

    def get_extra_info(self, name: str) -> Any:
        """``server_addr`` (what the response records as the server's address), like httpcore's streams."""
        if name == "server_addr":
            return self._peer
        return self.transport.get_extra_info(name) if self.transport is not None else None

    @property
    def usable(self) -> bool:
        return not self.eof and self.transport is not None and not self.transport.is_closing()

    def send(self, request: httpx.Request, body: bytes) -> None:
        try:
            data = self.h11.send(h11.Request(method=request.method, target=request.url.raw_path,
                                             headers=request.headers.raw))
            if body:
                data += self.h11.send(h11.Data(data=body))
            data += self.h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        if self.transport is None:
            raise httpx.WriteError(str(self.error) if self.error else "connection closed before the request")
        self.transport.write(data)

    async def next_event(self) -> Any:
        """h11's next event of the answer, waiting for bytes as needed."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                if type(event) is h11.Data:
                    self._unread -= len(event.data)
                return event
            self._unread = 0
            if self._paused and self.transport is not None:
                self._paused = False
                self.transport.resume_reading()
            if self.eof:
                if self.error is not None:
                    raise httpx.ReadError(str(self.error) or type(self.error).__name__) from self.error
                if self.h11.their_state is h11.SEND_RESPONSE:
                    raise httpx.RemoteProtocolError(EMPTY_ANSWER)
                if self._fed_eof:  # h11 asked for more after the end: treat as a close mid-answer
                    raise httpx.RemoteProtocolError(EMPTY_ANSWER)
                self._fed_eof = True
                self.h11.receive_data(b"")
                continue
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def reusable(self) -> bool:
        """Both sides done and the server did not ask to close: ready for the next request."""
        if not self.usable or self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
            return False
        self.h11.start_next_cycle()
        if self._paused and self.transport is not None:  # watch for the server's close while idle
            self._paused = False
            self.transport.resume_reading()
        return True

    def close(self) -> None:
        self.eof = True
        if self.transport is not None:
            self.transport.close()
        self._wake()


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection; closing it hands the connection back or closes it."""

    def __init__(self, connection: _Connection, pool: Http11Transport) -> None:
        self._connection = connection
        self._pool = pool
        self._done = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while not self._done:
            event = await connection.next_event()
            kind = type(event)
            if kind is h11.Data:
                yield bytes(event.data)
            elif kind is h11.EndOfMessage or kind is h11.ConnectionClosed:
                self._done = True

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if self._done and self._connection.reusable():
                self._pool.release(self._connection)
            else:
                self._connection.close()


class Http11Transport(httpx.AsyncBaseTransport):
    """``--connect-to``-aware HTTP/1.1 connections with a per-origin idle pool (see the module docstring)."""

    def __init__(self, connect_map: ConnectMap, *, ssl_context: ssl.SSLContext, keepalive_expiry: float = 5.0,
                 max_idle_per_origin: int = 8, max_idle: int = 100) -> None:
        self.connect_map = connect_map
        self.ssl_context = ssl_context
        self.keepalive_expiry = keepalive_expiry
        self.max_idle_per_origin = max_idle_per_origin
        self.max_idle = max_idle
        self._idle: dict[tuple, list[_Connection]] = {}  # origin -> idle connections, most recent last
        self._all_idle: collections.OrderedDict[_Connection, None] = collections.OrderedDict()  # oldest first
        self._targets: dict[tuple, tuple[str, int, bool]] = {}  # origin -> (host, port, tls) to dial
        self.opened = 0  # connections dialled, for tests and the benchmark

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.raw_host, url.port)
        body = b"" if request.method in ("GET", "HEAD") and "content-length" not in request.headers else (
            b"".join([part async for part in request.stream]))  # type: ignore[union-attr]
        connection = self._take(key) or await self._connect(key, url)
        try:
            connection.send(request, body)
            event = await connection.next_event()
            while type(event) is h11.InformationalResponse:  # 100 Continue and the like: not the answer
                event = await connection.next_event()
            if type(event) is not h11.Response:
                raise httpx.RemoteProtocolError(EMPTY_ANSWER)
        except BaseException:
            connection.close()
            raise
        return httpx.Response(
            status_code=event.status_code,
            headers=event.headers.raw_items(),
            stream=_Body(connection, self),
            extensions={"http_version": b"HTTP/" + event.http_version, "reason_phrase": event.reason,
                        "network_stream": connection},
        )

    def _take(self, key: tuple) -> _Connection | None:
        """The most recently used idle connection of ``key`` still good, if any."""
        self._expire()
        stack = self._idle.get(key)
        while stack:
            connection = stack.pop()
            del self._all_idle[connection]
            connection.in_pool = False
            if connection.usable:
                return connection
            connection.close()
        return None

    def release(self, connection: _Connection) -> None:
        """A connection whose answer was read to its end waits for the next request to its origin."""
        self._expire()
        stack = self._idle.setdefault(connection.key, [])
        if len(stack) >= self.max_idle_per_origin:
            self._drop(stack[0])
        if len(self._all_idle) >= self.max_idle:
            self._drop(next(iter(self._all_idle)))
        connection.in_pool = True
        connection.idle_since = time.monotonic()
        stack.append(connection)
        self._all_idle[connection] = None

    def _expire(self) -> None:
        """Close the idle connections past their keep-alive time, from the oldest: by the clock alone."""
        if not self._all_idle:
            return
        limit = time.monotonic() - self.keepalive_expiry
        while self._all_idle:
            oldest = next(iter(self._all_idle))
            if oldest.idle_since > limit and oldest.usable:
                return
            self._drop(oldest)

    def _drop(self, connection: _Connection) -> None:
        del self._all_idle[connection]
        stack = self._idle[connection.key]
        stack.remove(connection)
        if not stack:
            del self._idle[connection.key]
        connection.in_pool = False
        connection.close()

    async def _connect(self, key: tuple, url: httpx.URL) -> _Connection:
        target = self._targets.get(key)
        if target is None:
            scheme, _, port = key
            to = self.connect_map.target(url)
            if to is None:
                target = (url.host, port or DEFAULT_PORTS[scheme], scheme == "https")
            else:
                mapped = httpx.URL(to)
                target = (mapped.host, mapped.port or DEFAULT_PORTS[mapped.scheme], mapped.scheme == "https")
            if len(self._targets) >= 65536:  # a crawl meets many origins; the lookup is cheap to redo
                self._targets.clear()
            self._targets[key] = target
        host, port, tls = target
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(key), host, port,
                ssl=self.ssl_context if tls else None, server_hostname=url.host if tls else None)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        self.opened += 1
        return connection

    async def aclose(self) -> None:
        for connection in list(self._all_idle):
            self._drop(connection)
