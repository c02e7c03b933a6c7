"""The work queue, in the archive itself.

Items are enqueued before any work starts (a page at a time as the inputs are
read) and marked done or failed one by one,
each atomically with the store's writes (``Store.transaction``: inside a
crawl's batch, in the same commit as the item's snapshots). A run killed at any moment leaves its unfinished
items pending; the next run on the same database takes them up first. Nothing
is duplicated by a replay: the store's upserts make re-doing an item that was
done but not yet marked a no-op apart from a new exchange row.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from sqlite_utils.db import NotFoundError

from archiver.sources import ArticleInput, Document
from archiver.store.db import pages_by_id, pragma_set
from archiver.store.writer import Store, read_body, utc_now

# plain statements, not sqlite-utils' Table.insert/update: marking is on every item's path (store/writer.py)
_ENQUEUE = ("insert into queue (url, source, state, document, published, row_id, enqueued, enqueued_run_id) "
            "values (?, ?, 'pending', ?, ?, ?, ?, ?)")
_PENDING_PAGE = ("select id, url, source, document, published, row_id from queue "
                 "where state = 'pending' and id > ? order by id limit ?")
_IS_PENDING = "select 1 from queue where url = ? and state = 'pending' limit 1"  # on the (url, state) index
PAGE = 256  # queue rows read (and inputs committed) at a time
# SQLite's page cache while queueing, in KiB: "pending already?" walks the (url, state)
# index for every input, and past the default 2 MiB cache each walk reads pages
# again. 100,000 URLs: 8.8 s at 2 MiB, 5.7 s at 16 MiB (the cache's 16 MiB is the
# bound, whatever the input's length); the default comes back afterwards.
ENQUEUE_CACHE_KIB = 16_384
_MARK = "update queue set state = ?, finished = ?, run_id = ?, article_id = ?, error = ? where id = ?"


@dataclass(frozen=True)
class QueueItem:
    id: int
    article: ArticleInput


def _document_json(store: Store, doc: Document) -> str:
    """Keep the document's bytes in ``bodies`` and the rest as JSON on the queue row."""
    digest = store.save_body(doc.body, doc.content_type, doc.captured_at or utc_now())
    return json.dumps({
        "sha256": digest, "media": doc.media, "origin": doc.origin, "content_type": doc.content_type,
        "provenance": [list(p) for p in doc.provenance], "status": doc.status,
        "response_headers": [list(h) for h in doc.response_headers], "captured_at": doc.captured_at,
        "server_ip": doc.server_ip,
    })


class Queue:
    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    def enqueue(self, articles: Iterable[ArticleInput], run_id: int) -> int:
        """Add articles not already pending, ``PAGE`` at a time as they are read; returns how many.

        Each page of items is one unit of writes (``Store.transaction``: its own
        commit, or a savepoint of the caller's batch, which commits less often).
        ``articles`` may be a stream (a WARC, a dataset read as it goes): each
        document's bytes go to ``bodies`` and are dropped, and what is pending
        is asked of the database, not kept in a set, so memory does not grow
        with the input; should reading it fail part way, what was queued before
        stays queued for the next run.
        """
        added = 0
        conn = self.db.conn
        stream = iter(articles)
        with pragma_set(conn, "cache_size", -ENQUEUE_CACHE_KIB):
            while True:
                taken = 0
                with self.store.transaction():
                    for article in itertools.islice(stream, PAGE):
                        taken += 1
                        if conn.execute(_IS_PENDING, (article.url,)).fetchone() is not None:
                            continue
                        document = _document_json(self.store, article.document) if article.document else None
                        conn.execute(_ENQUEUE, (article.url, article.source, document, article.published,
                                                article.row_id, utc_now(), run_id))
                        added += 1
                if taken < PAGE:
                    return added

    def pending(self, page: int = PAGE) -> Iterator[QueueItem]:
        """Every unfinished item, oldest first (leftovers of a killed run included), read ``page`` at a time.

        Memory stays flat whatever the queue's length: rows (and the bodies of
        documents in hand) are read a page ahead of the workers (``pages_by_id``),
        and items marked meanwhile are behind the last id read.
        """
        for row in pages_by_id(self.db.conn, _PENDING_PAGE, (), page):
            yield self._item(*row)

    def has_pending(self) -> bool:
        return self.db.conn.execute("select 1 from queue where state = 'pending' limit 1").fetchone() is not None

    def _item(self, item_id: int, url: str, source: str | None, document: str | None, published: str | None,
              row_id: str | None) -> QueueItem:
        doc = None
        if document:
            meta = json.loads(document)
            doc = Document(
                body=self.body(meta["sha256"]),
                media=meta["media"],
                origin=meta["origin"],
                content_type=meta["content_type"],
                provenance=tuple(tuple(p) for p in meta["provenance"]),
                status=meta["status"],
                response_headers=tuple(tuple(h) for h in meta["response_headers"]),
                captured_at=meta["captured_at"],
                server_ip=meta["server_ip"],
            )
        return QueueItem(item_id, ArticleInput(url, source, doc, published, row_id))

    def body(self, sha256: str) -> bytes:
        return read_body(self.db, sha256)

    def mark(self, item_id: int, state: str, run_id: int, *, article_id: int | None = None,
             error: str | None = None) -> None:
        with self.store.transaction():
            cursor = self.db.conn.execute(_MARK, (state, utc_now(), run_id, article_id, error, item_id))
            if cursor.rowcount != 1:
                raise NotFoundError(f"no queue item with id {item_id}")
