"""A clock for pacing tests: time moves only when someone sleeps on it, and every sleep is recorded."""

from __future__ import annotations

import asyncio


class FakeClock:
    """``clock()`` reads the time; ``await clock.sleep(s)`` advances it by ``s`` and records ``s`` in ``slept``."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
