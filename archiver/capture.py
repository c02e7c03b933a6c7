"""One URL followed through its redirects: a ``Capture`` with every hop's provenance.

Redirects are followed here, not by httpx, because every hop is a stored fact
(a ``fetches`` row: status, headers, server address, timings) and because the
address guard must judge every hop before a byte is sent to it. Retries happen
here too, per hop, as ``archiver.fetch.retry`` decides; only the last attempt's
exchange is kept, and a failure that survived retries says how many attempts it
took.

``capture`` never raises for a failed fetch: the Capture comes back with
``error`` set to one line (refused by the guard, disallowed by robots.txt,
invalid URL, too many redirects, redirect loop, timeout, connection error, body
too large). Its ``hops`` are never empty: a URL refused before any request
still gets an exchange, with no status and the refusal as its error, so
``capture.final`` is always safe to read. Even an exception nobody foresaw in
the network stack (a bug, or a server that found a new way to break a parser)
becomes the item's one-line error instead of killing the worker that asked:
a crawl of thousands of hostile servers must account for every URL.

robots.txt is consulted when the caller passes a ``robots`` gate
(``archiver.fetch.robots.Robots``): on every hop, after the address guard, so
a redirect into a disallowed path of another site is refused too. Platform
API lookups pass none (see that module's docstring for why).
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Protocol
from urllib.parse import urlsplit

import httpx

from archiver.errors import FetchError, Refused
from archiver.fetch.client import Attempt, ClientPool, unsent
from archiver.fetch.connect_to import SCHEMES, origin_of
from archiver.models import Capture, Exchange

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class Verdict(Protocol):
    allowed: bool
    reason: str


class RobotsGate(Protocol):
    """What ``capture`` needs of robots.txt: ``archiver.fetch.robots.Robots`` is one."""

    async def check(self, url: str) -> Verdict: ...


async def capture(
    pool: ClientPool,
    url: str,
    *,
    method: str = "GET",
    headers: Iterable[tuple[str, str]] = (),
    robots: RobotsGate | None = None,
) -> Capture:
    """Fetch ``url`` through ``pool``, following up to ``settings.max_redirects`` redirects.

    With ``robots``, every hop must be allowed by its origin's robots.txt.
    """
    max_redirects = pool.settings.max_redirects
    method = method.upper()
    extra = tuple(headers)
    hops: list[Exchange] = []
    seen: list[str] = []
    current = url
    for _ in range(max_redirects + 1):
        try:
            parsed = await pool.guard.check(current)
        except FetchError as exc:
            message = f"refused: {exc}" if isinstance(exc, Refused) else str(exc)
            hops.append(unsent(current, method, message))
            return Capture(url, tuple(hops), error=message)
        if robots is not None:
            verdict = await robots.check(current)
            if not verdict.allowed:
                hops.append(unsent(current, method, verdict.reason))
                return Capture(url, tuple(hops), error=verdict.reason)
        exchange = await _fetch_with_retries(pool, current, method, extra, parsed)
        hops.append(exchange)
        if exchange.error is not None:
            return Capture(url, tuple(hops), error=exchange.error)
        location = _header(exchange.response_headers, "location")
        if exchange.status not in REDIRECT_STATUSES or location is None:
            return Capture(url, tuple(hops))
        try:
            target = _resolve_location(exchange.url, location)
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            return Capture(url, tuple(hops), error=f"invalid redirect Location {location!r}: {exc}")
        seen.append(exchange.url)
        if target in seen:
            loop = seen[seen.index(target) :] + [target]
            return Capture(url, tuple(hops), error="redirect loop: " + " -> ".join(loop))
        method, extra = _redirected_request(exchange, target, method, extra)
        current = target
    return Capture(url, tuple(hops), error=f"too many redirects (more than {max_redirects})")


async def _fetch_with_retries(pool: ClientPool, url: str, method: str, headers: tuple,
                             parsed: httpx.URL | None = None) -> Exchange:
    """The last attempt's exchange, with the number of attempts it took.

    ``parsed``: the URL as the guard parsed it (a guard that returns nothing lets the client parse it).
    """
    attempt = 0
    while True:
        result = await _fetch_once(pool, url, method, headers, parsed)
        exchange = result.exchange
        delay = pool.retry.decide(
            attempt,
            status=exchange.status if result.exc is None else None,
            exc=result.exc,
            retry_after=_header(exchange.response_headers, "retry-after"),
            method=method,
        )
        if delay is None:
            break
        await pool.sleep(delay)
        attempt += 1
    if attempt and exchange.error is not None:
        exchange = dataclasses.replace(exchange, error=f"{exchange.error} (after {attempt + 1} attempts)")
    return dataclasses.replace(exchange, attempts=attempt + 1) if attempt else exchange


async def _fetch_once(pool: ClientPool, url: str, method: str, headers: tuple,
                      parsed: httpx.URL | None = None) -> Attempt:
    """``pool.fetch``, with an unforeseen exception turned into the exchange's error.

    ``pool.fetch`` already records every failure we know of (network, protocol,
    timeout, decoding); anything else is a bug, named as one so it is reported,
    and never retried. Cancellation (a BaseException) still goes through.
    """
    try:
        return await pool.fetch(url, method=method, headers=headers,
                                parsed=parsed if isinstance(parsed, httpx.URL) else None)
    except Exception as exc:  # noqa: BLE001 - recorded as the item's failure, not swallowed
        text = " ".join(str(exc).split())[:300]
        return Attempt(unsent(url, method, f"internal error (please report): {type(exc).__name__}: {text}"), None)


def _redirected_request(
    exchange: Exchange, target: str, method: str, headers: tuple[tuple[str, str], ...]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The method and headers of the next hop, as browsers and httpx do it.

    303 turns anything but HEAD into GET; 301/302 turn POST into GET. Credentials
    given by the caller are not carried to another origin.
    """
    if (exchange.status == 303 and method != "HEAD") or (exchange.status in (301, 302) and method == "POST"):
        method = "GET"
    if origin_of(exchange.url) != origin_of(target):
        headers = tuple((k, v) for k, v in headers if k.lower() not in _CREDENTIAL_HEADERS)
    return method, headers


def _resolve_location(base: str, location: str) -> str:
    """The absolute URL a Location names, fragment dropped.

    A Location in another scheme (``javascript:``, ``file:``) is kept as written,
    so the guard refuses it by name rather than httpx failing to parse it.
    """
    location = location.strip()
    scheme = urlsplit(location).scheme.lower()
    if scheme and scheme not in SCHEMES:
        return location
    return str(httpx.URL(base).join(location).copy_with(fragment=None))


def _header(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    for key, value in pairs:
        if key.lower() == name:
            return value
    return None
