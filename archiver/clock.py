"""The one way archiver writes a time: UTC, ISO 8601, microseconds, ``+00:00``.

Stored times compare correctly as text only if they are all written alike.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
