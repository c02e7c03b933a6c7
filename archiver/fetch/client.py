"""The client layer: the one place that holds httpx clients and sends requests.

Why a pool of clients, not one: measured on this workload, one
``httpx.AsyncClient`` at 64 concurrent requests manages about 93 requests/s at
about 10 ms of CPU per request, its connection pool being the cost
(encode/httpx#3215: every request's start and end scans every connection of the
pool, in quadratic time); the same load split over 8 clients reaches about 566/s.
So ``ClientPool`` holds ``settings.clients`` clients and gives each origin a home
client by a stable hash of the origin. (That pool was httpcore's; on the network
the clients now carry ``http11.Http11Transport``, whose idle connections are
taken and returned per origin in constant time, so the split no longer saves
CPU; it stays, unmeasured since, for the spread of a hot origin below.)
Requests to one origin go through the
same client and reuse its connections, and the choice is the same in every
process. A hot origin (a platform endpoint takes a third of a crawl's requests)
would crowd its home client's pool, so once ``SPREAD_AT`` of its requests are in
flight, the next go to the following clients: ``SPREAD_AT`` more per client, a
few connections per client instead of most of them in one.

Every request goes through, in order: the host's pacing slot (``Pacer``), the
global concurrency limit, then one total time limit around the whole exchange,
body included (``asyncio.timeout``), so a server that drips a byte a second
cannot stretch a request past ``settings.timeout``. Redirects are not followed
here (``capture`` follows them, recording each hop) and nothing is retried here
(``capture`` asks ``retry.decide``). Cookies are not kept between requests:
what one request sends must not depend on which others ran before it.

Bodies are kept decoded (gzip/deflate removed, see ``body.py``) while the
response headers stay as received, ``Content-Encoding`` included: an exporter
that rebuilds the HTTP message (WARC) must drop that header or re-encode.

``fetch`` never raises for a network failure: it returns an ``Attempt`` whose
exchange has ``error`` set, plus the exception for the retry decision.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.cookiejar
import time
from typing import AsyncContextManager, Iterable, NamedTuple

import httpx

from archiver.clock import utc_now
from archiver.errors import FetchError, Refused
from archiver.fetch.body import ACCEPT_ENCODING, BodyReader
from archiver.fetch.connect_to import ConnectMap, ConnectToTransport, origin_of
from archiver.fetch.http11 import Http11Transport
from archiver.fetch.guard import Guard
from archiver.fetch.pacing import Pacer, Sleep
from archiver.fetch.retry import RetryPolicy
from archiver.models import Exchange
from archiver.settings import Settings

Headers = Iterable[tuple[str, str]]
Limit = AsyncContextManager[object]  # the request slots: an asyncio.Semaphore, or resolver.LentSlots
_FIXED_HEADERS = frozenset({"user-agent", "host"})
SPREAD_AT = 4  # requests in flight to one origin per client before the next client takes more


class Attempt(NamedTuple):
    """One request's outcome: the exchange to record, and the exception if it failed."""

    exchange: Exchange
    exc: BaseException | None = None


def pool_index(origin: str, size: int) -> int:
    """A client index for an origin that is the same in every process (unlike ``hash``)."""
    digest = hashlib.blake2b(origin.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % size


def unsent(url: str, method: str, error: str) -> Exchange:
    """The record of a request that was never sent (refused, invalid URL)."""
    now = utc_now()
    return Exchange(url=url, method=method, started=now, finished=now, duration_ms=0.0, error=error)


def describe(exc: BaseException) -> str:
    """A one-line message for a failed request.

    httpx often wraps the OS error in exceptions with no message (a reset
    arrives as an empty ``ReadError``), so the first cause that says something
    is used: "connection broken (ReadError): [Errno 104] Connection reset by peer".
    """
    text = _first_words(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {text}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__}): {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {text}"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return f"connection broken ({type(exc).__name__}): {text}"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {text}"
    if isinstance(exc, Refused):
        return f"refused: {text}"
    return text


def _first_words(exc: BaseException, limit: int = 300) -> str:
    """The message of ``exc`` or of the first cause in its chain that has one, on one line."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = " ".join(str(current).split())
        if text:
            return text if len(text) <= limit else text[: limit - 3] + "..."
        current = current.__cause__ or current.__context__
    return ""


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _pairs(raw: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    """Headers as they went over the wire: original case, order and repeats."""
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)


def _server_ip(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    address = stream.get_extra_info("server_addr")
    return str(address[0]) if address else None


class ClientPool:
    """``settings.clients`` httpx clients, pacing, limits and the address guard.

    ``async with ClientPool(settings) as pool: attempt = await pool.fetch(url)``.
    ``transport`` (shared by every client) replaces the network for unit tests;
    ``pacer``, ``guard``, ``retry`` and ``sleep`` are injectable for the same reason;
    ``limit``, the request slots, too: the resolver process's are lent by the crawl's.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: Pacer | None = None,
        guard: Guard | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        limit: Limit | None = None,
    ) -> None:
        if settings.clients < 1:
            raise ValueError(f"clients must be at least 1, not {settings.clients}")
        self.settings = settings
        self.connect_map = ConnectMap(settings.connect_to)
        self.guard = guard or Guard(
            allow_private=settings.allow_private, connect_map=self.connect_map, timeout=settings.timeout
        )
        self.retry = retry or RetryPolicy.from_settings(settings)
        self.sleep = sleep
        self.pacer = pacer or Pacer(settings.per_host_concurrency, settings.per_host_delay, sleep=sleep)
        # the request slots (``--concurrency``); another process's requests can hold some (resolver.py)
        self.limit: Limit = limit if limit is not None else asyncio.Semaphore(settings.concurrency)
        if transport is None:
            ssl_context = httpx.create_ssl_context()  # one, shared: each costs ms
            per_origin = max(1, min(settings.per_host_concurrency, settings.concurrency))  # the pacer's bound
            self.transports: tuple[httpx.AsyncBaseTransport, ...] = tuple(
                Http11Transport(self.connect_map, ssl_context=ssl_context, max_idle_per_origin=per_origin,
                                max_idle=max(100, settings.concurrency)) for _ in range(settings.clients))
        else:
            self.transports = tuple(ConnectToTransport(self.connect_map, transport) for _ in range(settings.clients))
        self.clients = tuple(self._client(t) for t in self.transports)
        self._homes: dict[str, int] = {}  # origin -> its home client
        self._in_flight: dict[str, int] = {}  # origin -> requests being exchanged

    def _client(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self.settings.timeout),  # the total limit is asyncio.timeout
            headers={"User-Agent": self.settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            cookies=_no_cookies(),
            trust_env=False,  # no proxy from the environment: server_ip must be the server's
        )

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

    def index_for(self, url: str | httpx.URL) -> int:
        """The home client of ``url``: a function of its origin only."""
        return self._home(origin_of(url))

    def _home(self, origin: str) -> int:
        index = self._homes.get(origin)
        if index is None:
            if len(self._homes) >= 65536:  # a crawl meets many origins; the hash is cheap to redo
                self._homes.clear()
            index = self._homes[origin] = pool_index(origin, len(self.clients))
        return index

    def client_for(self, url: str | httpx.URL) -> httpx.AsyncClient:
        return self.clients[self.index_for(url)]

    async def fetch(self, url: str, *, method: str = "GET", headers: Headers = (),
                    parsed: httpx.URL | None = None) -> Attempt:
        """One request, paced and limited; no redirect followed, no retry.

        The guard's URL check is the caller's (``capture`` runs it on every hop,
        and passes on the URL the guard ``parsed``, so that it is parsed once);
        the peer address is checked here, where it becomes known. A caller's
        ``User-Agent`` or ``Host`` header is ignored: every request names the tool
        (STYLE.md), and the Host is the URL's, so what is recorded is what was asked.
        """
        method = method.upper()
        headers = [(k, v) for k, v in headers if k.lower() not in _FIXED_HEADERS]
        try:
            target = parsed if parsed is not None else url
            origin = origin_of(target)
            home = self._home(origin)
            request = self.clients[home].build_request(method, target, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, UnicodeError) as exc:
            error = FetchError(f"invalid URL {url!r}: {' '.join(str(exc).split())}")
            return Attempt(unsent(url, method, str(error)), error)
        async with self.pacer.slot(request.url.host), self.limit:
            # the clients differ only by their connections: any one can send what another built
            busy = self._in_flight.get(origin, 0)
            self._in_flight[origin] = busy + 1
            try:
                return await self._exchange(self.transports[(home + busy // SPREAD_AT) % len(self.transports)],
                                            request)
            finally:
                busy = self._in_flight.pop(origin) - 1
                if busy:
                    self._in_flight[origin] = busy

    async def _exchange(self, transport: httpx.AsyncBaseTransport, request: httpx.Request) -> Attempt:
        """Send through the client's transport, not ``client.send``.

        ``AsyncClient.send`` builds the follow-up request of every 3xx even with
        ``follow_redirects=False``, and raises on a malformed ``Location``
        (``javascript:...``), losing the response we must record. The client
        still builds the request (user agent, timeouts) and owns the transport.
        """
        url = str(request.url)
        limit = self.settings.max_body_bytes
        started, t0 = utc_now(), time.perf_counter()
        response: httpx.Response | None = None
        reader: BodyReader | None = None
        server_ip: str | None = None
        error: str | None = None
        exc: BaseException | None = None
        try:
            async with asyncio.timeout(self.settings.timeout):
                response = await transport.handle_async_request(request)
                response.request = request
                try:
                    server_ip = _server_ip(response)
                    problem = self.guard.peer_problem(request.url, server_ip)
                    if problem:
                        raise Refused(problem)
                    reader = BodyReader(response.headers.get("content-encoding"), limit)
                    if request.method != "HEAD":
                        async for chunk in response.aiter_raw():
                            reader.feed(chunk)
                            if reader.full:
                                break
                        else:
                            reader.finish()
                finally:
                    await response.aclose()
        except TimeoutError as caught:
            exc = caught
            error = f"timed out after {self.settings.timeout:g} s (total limit per request)"
            if response is not None:
                error += "; body incomplete"
        except (httpx.HTTPError, FetchError, OSError) as caught:
            exc, error = caught, describe(caught)
        if reader is not None and reader.truncated and error is None:
            error = f"body larger than {limit} bytes after decompression; truncated"
        finished = utc_now()
        return Attempt(
            Exchange(
                url=url,
                method=request.method,
                started=started,
                finished=finished,
                duration_ms=round((time.perf_counter() - t0) * 1000, 3),
                status=response.status_code if response is not None else None,
                request_headers=_pairs(request.headers.raw),
                response_headers=_pairs(response.headers.raw) if response is not None else (),
                http_version=response.http_version if response is not None else None,
                server_ip=server_ip,
                connected_to=self.connect_map.target(request.url),
                body=reader.body if reader is not None else b"",
                truncated=reader.truncated if reader is not None else False,
                error=error,
            ),
            exc,
        )
