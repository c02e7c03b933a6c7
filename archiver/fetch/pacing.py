"""Per-host politeness: how many requests one host sees at once, and how often.

A news site or a platform endpoint should see archiver as one patient reader,
whatever the number of workers: at most ``concurrency`` requests in flight to a
host, and request starts at least ``delay`` seconds apart. Start times are
reserved in order at the moment a request gets its slot (no await between
reading and writing the reservation), so waiters keep their order and never
start together.

A host can ask for more room than the run gives every host: its robots.txt's
``Crawl-delay`` (``space``, called by ``fetch.robots``). Such a host's starts
are then spaced by the larger of the two.

The clock and the sleep are parameters (the edgi wayback client's injectable
rate limits): tests pass a fake clock whose sleep advances it, and run at full
speed.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
_SWEEP_AT = 1024  # idle hosts whose spacing has elapsed are forgotten beyond this many
_MAX_SPACED_HOSTS = 65_536  # hosts with a spacing of their own; beyond, the table starts over


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    next_start: float = float("-inf")
    users: int = field(default=0)  # holders and waiters; the entry is dropped at 0


class Pacer:
    """Per-host concurrency and spacing of request starts."""

    def __init__(
        self,
        concurrency: int,
        delay: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"per-host concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self.delay = max(0.0, delay)
        self.clock = clock
        self.sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._spacing: dict[str, float] = {}  # host -> its own spacing, when larger than ``delay``

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of ``host``'s slots for the duration of a request.

        Entered once the host has a free slot and its reserved start time has
        come; the request runs inside the block and the slot frees on exit.
        """
        key = host.lower()
        state = self._hosts.get(key)
        if state is None:
            if len(self._hosts) >= _SWEEP_AT:
                self._sweep()
            state = self._hosts[key] = _Host(asyncio.Semaphore(self.concurrency))
        state.users += 1
        try:
            async with state.semaphore:
                now = self.clock()
                start = max(now, state.next_start)
                state.next_start = start + self._spacing.get(key, self.delay)
                if start > now:
                    await self.sleep(start - now)
                yield
        finally:
            state.users -= 1
            # Forget idle hosts (a crawl meets thousands), but only once their
            # spacing has elapsed, or the next request would start too early.
            if state.users == 0 and state.next_start <= self.clock() and self._hosts.get(key) is state:
                del self._hosts[key]

    def space(self, host: str, seconds: float) -> float:
        """Space ``host``'s request starts by at least ``seconds`` from now on; returns the spacing in force."""
        key = host.lower()
        spacing = max(self.delay, seconds)
        if spacing > self.delay:
            if len(self._spacing) >= _MAX_SPACED_HOSTS and key not in self._spacing:
                self._spacing.clear()
            self._spacing[key] = spacing
        return spacing

    def _sweep(self) -> None:
        now = self.clock()
        for key in [k for k, s in self._hosts.items() if s.users == 0 and s.next_start <= now]:
            del self._hosts[key]

    def tracked_hosts(self) -> int:
        """How many hosts the pacer currently remembers (for tests and stats)."""
        return len(self._hosts)
