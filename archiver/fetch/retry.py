"""Retry as a pure decision (the scrapy ``RetryMiddleware`` idea).

``decide`` looks at one failed attempt (its status or exception) and answers
with a delay in seconds, or None to give up. It never sleeps and never touches
the network, so every rule is a one-line unit test; ``archiver.capture`` owns the
loop that sleeps and tries again.

Rules:

- only idempotent methods (GET, HEAD) are retried: repeating a POST could act twice;
- retried: connection errors, timeouts, a connection closed mid-answer, and the
  statuses 429, 500, 502, 503, 504;
- at most ``retries`` extra attempts (``attempt`` counts from 0 for the first);
- delay ``backoff * 2**attempt``, times a jitter factor in [0.5, 1.5) so that
  workers that failed together do not come back together, capped at ``max_delay``;
- on 429 and 503 a ``Retry-After`` (seconds or an HTTP date) replaces the
  backoff. When it asks for more than ``max_delay`` we give up instead of coming
  back early: the server said when it will answer, and the post can be rechecked
  later with the 429/503 kept as its answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

import httpx

from archiver.settings import DEFAULT_BACKOFF, DEFAULT_RETRIES, Settings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRY_METHODS = frozenset({"GET", "HEAD"})
MAX_DELAY = 60.0  # seconds; no single wait longer than this
RETRY_EXCEPTIONS: tuple[type[BaseException], ...] = (
    TimeoutError,  # the total time limit (asyncio.timeout)
    httpx.TimeoutException,
    httpx.NetworkError,  # connect, read, write, close errors
    httpx.RemoteProtocolError,  # the server closed the connection mid-answer
)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)  # RFC 9110 says an integer; a decimal is read leniently
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = now or datetime.now(timezone.utc)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def retryable(status: int | None = None, exc: BaseException | None = None) -> bool:
    """Whether this outcome is worth another attempt, whatever the attempt count."""
    if exc is not None:
        return isinstance(exc, RETRY_EXCEPTIONS)
    return status in RETRY_STATUSES


def decide(
    attempt: int,
    status: int | None = None,
    exc: BaseException | None = None,
    retry_after: str | None = None,
    method: str = "GET",
    *,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    max_delay: float = MAX_DELAY,
    rand: Callable[[], float] = random.random,
    now: datetime | None = None,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None to give up."""
    if method.upper() not in RETRY_METHODS or attempt >= retries or not retryable(status, exc):
        return None
    if exc is None and status in RETRY_AFTER_STATUSES:
        asked = parse_retry_after(retry_after, now)
        if asked is not None:
            return asked if asked <= max_delay else None
    return min(max_delay, backoff * 2**attempt * (0.5 + rand()))


@dataclass(frozen=True)
class RetryPolicy:
    """``decide`` bound to the run's settings; what the client pool carries."""

    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    max_delay: float = MAX_DELAY
    rand: Callable[[], float] = random.random

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(retries=settings.retries, backoff=settings.backoff)

    def decide(
        self,
        attempt: int,
        status: int | None = None,
        exc: BaseException | None = None,
        retry_after: str | None = None,
        method: str = "GET",
    ) -> float | None:
        return decide(
            attempt,
            status,
            exc,
            retry_after,
            method,
            retries=self.retries,
            backoff=self.backoff,
            max_delay=self.max_delay,
            rand=self.rand,
        )
