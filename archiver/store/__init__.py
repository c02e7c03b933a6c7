"""The archive on disk: schema, migrations, and the only code that writes it."""

from archiver.store.db import open_db
from archiver.store.queue import Queue, QueueItem
from archiver.store.writer import Store, closing_run, embed_key, read_body, utc_now

__all__ = ["Queue", "QueueItem", "Store", "closing_run", "embed_key", "open_db", "read_body", "utc_now"]
