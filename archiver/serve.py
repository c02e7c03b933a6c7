"""``archiver serve``: the archive in Datasette, with the metadata and dashboard archiver ships.

Datasette runs in this process (as ``datasette serve`` does: an instance, its
startup hooks, then uvicorn), so the app a researcher opens is the very one the
tests drive through ``Datasette.client``. The archive is opened once through
``open_db`` first, so an older file gets its migrations, search tables and views
before Datasette reads it; Datasette itself only reads.

Datasette and datasette-dashboards are the ``serve`` extra; without them the
command says how to install them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from archiver.errors import DatabaseError
from archiver.export.metadata import MissingServeDependency, build_metadata
from archiver.store import open_db

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
DATASETTE_SETTINGS = {
    "truncate_cells_html": 300,  # a 20,000-character snippet shows as its first 300, as text
    "facet_time_limit_ms": 500,
    "sql_time_limit_ms": 5000,  # the canned queries aggregate whole tables
}


def database_name(db_path: str | Path) -> str:
    """The name Datasette gives the file: its stem (``data/archive.db`` -> ``archive``)."""
    return Path(db_path).stem


def prepare(db_path: str | Path) -> Path:
    """Check the archive exists and bring its shape up to date (migrations, FTS, views)."""
    path = Path(db_path)
    if not path.exists():
        raise DatabaseError(f"{path} does not exist (crawl into it first, or pass --db)")
    db = open_db(path, create=False)
    if "fetches" not in db.table_names():
        raise DatabaseError(f"{path} is not an archiver database")
    db.conn.close()
    return path


def make_datasette(db_path: str | Path, extra_metadata: dict[str, Any] | None = None) -> Any:
    """A Datasette instance on the archive with archiver's metadata (plugins load by entry point)."""
    try:
        from datasette.app import Datasette
    except ImportError:
        raise MissingServeDependency(
            "Datasette is not installed; install the serve extra: pip install 'archiver[serve]'"
        ) from None
    path = str(Path(db_path))
    metadata = build_metadata(database_name(path), extra_metadata)
    return Datasette([path], metadata=metadata, settings=dict(DATASETTE_SETTINGS))


def serve(db_path: str | Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          extra_metadata: dict[str, Any] | None = None, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the archive until interrupted. ``on_ready`` gets the URL before the server starts."""
    path = prepare(db_path)
    ds = make_datasette(path, extra_metadata)
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - uvicorn comes with datasette
        raise MissingServeDependency("uvicorn is not installed: pip install 'archiver[serve]'") from None
    asyncio.run(ds.invoke_startup())
    if on_ready is not None:
        on_ready(f"http://{host}:{port}/")
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)
