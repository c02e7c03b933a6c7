"""Opening the archive: one SQLite file, WAL mode, foreign keys, a busy timeout."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

import sqlite_utils

from archiver.errors import DatabaseError
from archiver.store.schema import ensure_db_shape

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


@contextlib.contextmanager
def pragma_set(conn: sqlite3.Connection, name: str, value: int | str) -> Iterator[None]:
    """``pragma name = value`` on ``conn`` for the block, the connection's own value back after it."""
    (previous,) = conn.execute(f"pragma {name}").fetchone()
    conn.execute(f"pragma {name} = {value}")
    try:
        yield
    finally:
        conn.execute(f"pragma {name} = {previous}")


def pages_by_id(conn: sqlite3.Connection, sql: str, params: Sequence[Any], page: int) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` read ``page`` at a time, in id order, never all at once.

    ``sql`` selects the id first, takes the last id read as its first parameter
    (``id > ?``) and the page size as its last (``order by id limit ?``). Each
    page is its own query, so no cursor stays open across the caller's writes
    in between; rows the caller changes meanwhile are behind the last id read.
    """
    last = 0
    while True:
        rows = conn.execute(sql, (last, *params, page)).fetchall()
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1][0]


def open_db(path: str | Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the archive at ``path``.

    Raises DatabaseError with a one-line reason when the file is not SQLite, is
    locked past the busy timeout, or cannot be created.
    """
    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise DatabaseError(f"{path} is a directory, not a database file")
        with path.open("rb") as f:
            head = f.read(16)
        if head and head != SQLITE_MAGIC:
            raise DatabaseError(f"{path} is not a SQLite database")
    elif not create:
        raise DatabaseError(f"{path} does not exist")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create {path.parent}: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute("pragma journal_mode = wal")
        conn.execute("pragma foreign_keys = on")
        conn.execute("pragma synchronous = normal")
        db = sqlite_utils.Database(conn)
        ensure_db_shape(db)
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"cannot open {path}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is not a usable SQLite database: {exc}") from None
    return db


WAL_RESTART_BYTES = 64 * 1024 * 1024
"""A WAL past this size is copied out and truncated by the writer at its next commit (``Checkpointer``)."""


class Checkpointer:
    """Copies the WAL into the database file from a thread of its own, while a crawl writes.

    SQLite checkpoints inside the commit that finds the WAL past 1,000 pages:
    in a crawl that was one commit in three taking 30-85 ms on the event loop
    (copying ~4 MB and syncing the file) while every exchange in flight
    waited. ``with Checkpointer(conn):`` turns that off for the writer and
    runs passive checkpoints (which never block the writer nor wait for it)
    every ``every`` seconds on a connection of its own, in a thread; SQLite
    releases the GIL while it works. It writes no row, only moves committed
    pages from the WAL to the file, as the writer's own checkpoint would have.

    A passive checkpoint never empties the WAL file: SQLite starts it over
    only when a write begins after every frame was copied, and the writer,
    busy, always begins again first (a 100,000-article run had a 3 GB WAL at
    12,000). So when the thread finds the WAL past ``WAL_RESTART_BYTES``, the
    writer, between two transactions, runs one ``TRUNCATE`` checkpoint
    (``restart_if_due``, called after each commit): little is left to copy,
    the thread having copied the rest; it never waits for readers (busy
    timeout 0: with a reader in the way it copies what it can and tries at a
    later commit). On exit the writer's automatic checkpoints are back and
    one last checkpoint runs. An in-memory database has no WAL: nothing is
    done.
    """

    def __init__(self, conn: sqlite3.Connection, every: float = 0.5) -> None:
        self.conn = conn
        self.every = every
        row = next((r for r in conn.execute("pragma database_list") if r[1] == "main"), None)
        self.path = row[2] if row and row[2] else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._working = threading.Lock()  # one checkpoint at a time: the thread's or the writer's
        self.wal_bytes = 0  # the WAL file's size after the thread's last checkpoint
        self.checkpoints = 0
        self.restarts = 0
        self.error: str | None = None  # the last failure (the writer's own checkpoint is the fallback)

    def __enter__(self) -> Checkpointer:
        if self.path is not None:
            (self._autocheckpoint,) = self.conn.execute("pragma wal_autocheckpoint").fetchone()
            self.conn.execute("pragma wal_autocheckpoint = 0")
            self._thread = threading.Thread(target=self._run, name="archiver-checkpoint", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.conn.execute(f"pragma wal_autocheckpoint = {int(self._autocheckpoint)}")

    def restart_if_due(self) -> None:
        """Between two transactions of the writer: empty a WAL grown past the limit (see the class docstring)."""
        if self.wal_bytes <= WAL_RESTART_BYTES or self.conn.in_transaction:
            return
        if not self._working.acquire(blocking=False):
            return  # the thread is checkpointing: at a later commit
        try:
            with pragma_set(self.conn, "busy_timeout", 0):
                busy, _, _ = self.conn.execute("pragma wal_checkpoint(truncate)").fetchone()
            if not busy:
                self.wal_bytes = 0
                self.restarts += 1
        except sqlite3.Error as exc:
            self.error = str(exc)
        finally:
            self._working.release()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            self.error = str(exc)
            return
        wal = f"{self.path}-wal"
        try:
            while True:
                stopping = self._stop.wait(self.every)
                try:
                    with self._working:
                        conn.execute("pragma wal_checkpoint(passive)").fetchone()
                    self.checkpoints += 1
                    self.wal_bytes = os.path.getsize(wal) if os.path.exists(wal) else 0
                except (sqlite3.Error, OSError) as exc:
                    self.error = str(exc)
                if stopping:
                    return
        finally:
            conn.close()
