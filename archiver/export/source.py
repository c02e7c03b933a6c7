"""Reading an archive for export: a plain SQLite connection that cannot write.

Exports never go through ``open_db`` (which migrates, and so writes): they open
the file as it is with ``query_only`` on, so a typo'd SQL statement or a bug can
never change the archive, and an export can run beside a crawl (WAL mode).
"""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

from archiver.errors import DatabaseError
from archiver.store.db import BUSY_TIMEOUT_MS, SQLITE_MAGIC


class Source:
    """A read-only view of one archive file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise DatabaseError(f"{self.path} does not exist (pass --db)")
        if self.path.is_dir():
            raise DatabaseError(f"{self.path} is a directory, not a database file")
        with self.path.open("rb") as f:
            if f.read(16) != SQLITE_MAGIC:
                raise DatabaseError(f"{self.path} is not a SQLite database")
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("pragma query_only = on")
            names = {r[0] for r in self.conn.execute("select name from sqlite_master where type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"cannot read {self.path}: {exc}") from None
        if "fetches" not in names:
            raise DatabaseError(f"{self.path} is not an archiver database (it has no fetches table)")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def relations(self) -> dict[str, str]:
        """Table and view names -> 'table' or 'view'."""
        return {r[0]: r[1] for r in self.conn.execute(
            "select name, type from sqlite_master where type in ('table', 'view') order by name")}

    def body(self, sha256: str) -> bytes | None:
        """The stored bytes of a body, decompressed; None when no such body is stored."""
        row = self.conn.execute("select compression, content from bodies where sha256 = ?", [sha256]).fetchone()
        if row is None:
            return None
        content = bytes(row["content"] or b"")
        return zlib.decompress(content) if row["compression"] == "zlib" else content
