"""Opening the archive: one SQLite file, WAL mode, foreign keys, a busy timeout."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from archiver.errors import DatabaseError
from archiver.store.schema import ensure_db_shape

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


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
