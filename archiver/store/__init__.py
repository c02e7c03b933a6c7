"""The archive on disk: schema, migrations, and the only code that writes it."""

from archiver.store.db import open_db
from archiver.store.writer import Store, embed_key, utc_now

__all__ = ["Store", "embed_key", "open_db", "utc_now"]
