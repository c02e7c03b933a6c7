"""One run at a time per database: an OS lock on ``<db>.lock`` beside the file.

``flock`` is released by the kernel when the process dies, even by SIGKILL, so
a killed run never leaves a stale lock behind. The lock file holds a line naming
the run that holds it, which a second run quotes when it refuses to start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from archiver.errors import DatabaseBusy


class RunLock:
    def __init__(self, db_path: str | Path):
        self.path = Path(str(db_path) + ".lock")
        self._fd: int | None = None

    def acquire(self, holder: str) -> None:
        """Take the lock or raise DatabaseBusy naming who holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            db = str(self.path)[: -len(".lock")]
            raise DatabaseBusy(f"database {db} is busy: {held_by} holds it") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode("utf-8") + b"\n", 0)
        self._fd = fd

    def update(self, holder: str) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, holder.encode("utf-8") + b"\n", 0)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
