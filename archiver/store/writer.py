"""The only code that writes the archive.

Each public method is atomic: one transaction of its own or, inside
``Store.batched`` (a crawl), one savepoint of the batch's transaction, which is
committed every ``seconds``. A crawl's writes of half a second go to disk in one
commit instead of ~20 per article (every commit rewrites the B-tree pages it
touched into the WAL, indexes included): a crash loses at most the last
interval's writes, and the queue items they belonged to, marked done in the
same transaction, stay pending for the next run. Re-saving the same facts changes nothing but the
"last seen" times: bodies are content-addressed, articles are keyed by URL,
embeds by (article, post), links by (article, URL, anchor text).

The hot paths (exchanges, bodies, articles, extractions, checks) write with
plain SQL statements written once (``sqlite3`` keeps them compiled in its
statement cache), not with sqlite-utils' ``Table.insert``/``update``, which
rebuild their query on every call and look the table up in ``sqlite_master``
each time ``db["table"]`` is written: on a crawl that was a third of the event
loop's time. Embeds and links are upserted with one ``executemany`` of
``INSERT ... ON CONFLICT ... DO UPDATE`` per article, on their unique indexes.
sqlite-utils keeps the schema, the migrations and the cold paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit

import sqlite_utils
from sqlite_utils.db import NotFoundError

from archiver import __version__
from archiver.clock import utc_now
from archiver.store.db import Checkpointer, pragma_set
from archiver.models import Capture, Check, Embed, Exchange, Extraction, PostRef, Status
from archiver.store import history

COMPRESS_MIN_BYTES = 256  # smaller bodies are stored as they are
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _headers(headers: Iterable[tuple[str, str]]) -> str:
    """Headers as a JSON list, credentials masked: a stored exchange never carries a secret."""
    return _json([[k, "***" if k.lower() in SECRET_HEADERS else v] for k, v in headers])


def _http_error(final: Exchange | None) -> str | None:
    """An error status is an answer (stored as such) but, for an article, a failure."""
    return f"HTTP {final.status}" if final is not None and final.status is not None and final.status >= 400 else None


def embed_key(embed: Embed) -> str:
    """The identity of an embed within its article: its post, or its signature for text."""
    if embed.post is not None:
        return embed.post.key
    return f"text:{embed.platform}:@{(embed.author_handle or '').lower()}:{embed.shown_date or ''}:{embed.position}"


@dataclass(frozen=True)
class PackedBody:
    """A body as the ``bodies`` table keeps it: hashed and, from ``COMPRESS_MIN_BYTES`` on, zlib-compressed.

    ``pack_body`` is a pure function so that a crawl can run it in its
    extraction process, beside the parse of the same bytes, rather than on the
    event loop (compressing a 100 KB page costs about a millisecond).
    """

    sha256: str
    size: int
    compression: str  # "zlib" or "none"
    content: bytes


def pack_body(raw: bytes) -> PackedBody:
    if len(raw) >= COMPRESS_MIN_BYTES:
        return PackedBody(hashlib.sha256(raw).hexdigest(), len(raw), "zlib", zlib.compress(raw, 6))
    return PackedBody(hashlib.sha256(raw).hexdigest(), len(raw), "none", raw)


def read_body(db: sqlite_utils.Database, sha256: str) -> bytes:
    """The raw bytes stored under ``sha256``; KeyError when there are none."""
    return unpack_body(*stored_body(db, sha256))


def stored_body(db: sqlite_utils.Database, sha256: str) -> tuple[str | None, bytes]:
    """(compression, content) as stored under ``sha256``, for ``unpack_body`` elsewhere; KeyError when none."""
    row = db.execute("select compression, content from bodies where sha256 = ?", [sha256]).fetchone()
    if row is None:
        raise KeyError(sha256)
    return row[0], row[1]


def unpack_body(compression: str | None, content: bytes) -> bytes:
    """The raw bytes of a stored body (``stored_body``); ``pack_body`` made them."""
    return zlib.decompress(content) if compression == "zlib" else bytes(content)


# -- prepared statements (column lists written once; see the module docstring) ----------

_FETCH_COLUMNS = (
    "run_id", "purpose", "endpoint", "requested_url", "final_url", "redirect_chain", "error", "parent_fetch_id",
    "article_id", "post_key", "provenance", "url", "method", "status", "http_version", "request_headers",
    "response_headers", "started", "finished", "duration_ms", "server_ip", "connected_to", "body_sha256",
    "body_size", "truncated", "attempts",
)
_INSERT_FETCH = f"insert into fetches ({', '.join(_FETCH_COLUMNS)}) values ({', '.join('?' * len(_FETCH_COLUMNS))})"
_BODY_EXISTS = "select 1 from bodies where sha256 = ?"
_INSERT_BODY = ("insert into bodies (sha256, size, media_type, compression, content, first_seen) "
                "values (?, ?, ?, ?, ?, ?)")
_ARTICLE_BY_URL = "select id from articles where url = ?"
_INSERT_ARTICLE = "insert into articles (url, site, source, first_seen) values (?, ?, ?, ?)"
_ARTICLE_FETCHED = ("update articles set last_fetched = ?, last_fetch_id = ?, last_body_sha256 = ?, last_status = ?, "
                    "last_error = ? where id = ?")
# a value the extraction did not find (None) leaves the stored one as it was
_ARTICLE_EXTRACTED = (
    "update articles set last_extracted = ?, title = coalesce(?, title), canonical_url = coalesce(?, canonical_url), "
    "published = coalesce(?, published), lang = coalesce(?, lang), charset = coalesce(?, charset), "
    "charset_source = coalesce(?, charset_source) where id = ?"
)
_ENSURE_POST = ("insert into posts (key, platform, post_id, url, author_handle, first_seen) values (?, ?, ?, ?, ?, ?) "
                "on conflict (key) do nothing")
_EMBED_FIELDS = (
    "post_key", "platform", "kind", "position", "region", "css_path", "url_as_found", "author_handle", "author_name",
    "fallback_text", "shown_date", "lang", "snippet", "short_links", "fetch_id", "last_seen", "extractor_version",
    "retracted_run_id",
)
_EMBED_COLUMNS = _EMBED_FIELDS + ("article_id", "embed_key", "run_id", "first_seen")
# found again: every field as now seen (no longer retracted); run_id and first_seen stay those of the first sighting
_UPSERT_EMBED = (
    f"insert into embeds ({', '.join(_EMBED_COLUMNS)}) values ({', '.join('?' * len(_EMBED_COLUMNS))}) "
    f"on conflict (article_id, embed_key) do update set {', '.join(f'{c} = excluded.{c}' for c in _EMBED_FIELDS)}"
)
_UPSERT_LINK = (
    "insert into links (region, position, rel, fetch_id, last_seen, article_id, url, normalized_url, host, anchor_text, "
    "run_id, first_seen) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "on conflict (article_id, normalized_url, anchor_text) do update set region = excluded.region, "
    "position = excluded.position, rel = excluded.rel, fetch_id = excluded.fetch_id, last_seen = excluded.last_seen"
)
_INSERT_CHECK = ("insert into post_checks (post_key, run_id, checked_at, status, http_status, endpoint, fetch_id, "
                 "fetch_ids, content_sha256, detail) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_KEYS_PER_STATEMENT = 500  # parameters of one "key in (...)" query (``Store.unchecked``)
_POST_CONTENT = ("author_handle", "author_name", "text", "created_at", "lang", "media", "edit_ids", "extra")


class Store:
    """The archive's single writer. Not thread-safe by design: one writer per run."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.conn = db.conn
        self._updates: dict[tuple[str, tuple[str, ...]], str] = {}
        self._digest: tuple[bytes, str] | None = None  # the last body hashed, and its SHA-256
        self._depth = 0  # transactions and savepoints open
        self._owned = False  # the open transaction was begun here (not by a caller's db.atomic())
        self._batch = 0.0  # seconds between commits inside ``batched``; 0: every method commits
        self._checkpointer: Checkpointer | None = None  # inside ``batched``: empties a grown WAL after commits
        self._due = 0.0  # when the batch's transaction is to be committed (time.monotonic)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of writes: a transaction, or a savepoint when one is open.

        A failure rolls back this unit only. The store commits only transactions
        it began; inside ``batched`` the outermost unit leaves its transaction
        open until it is due.
        """
        conn = self.conn
        nested = conn.in_transaction
        conn.execute("savepoint store" if nested else "begin")
        if not nested:
            self._owned = True
        self._depth += 1
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # an error may have ended the transaction already
                conn.execute("rollback to store" if nested else "rollback")
                if nested:
                    conn.execute("release store")
            if not nested:
                self._owned = False
            raise
        finally:
            self._depth -= 1
        if nested:
            conn.execute("release store")
        if self._depth == 0 and (not self._batch or time.monotonic() >= self._due):
            self.commit()

    def commit(self) -> None:
        """Commit the transaction the store began, if one is open (a batch's, say)."""
        if self._owned and self.conn.in_transaction:
            self.conn.execute("commit")
        self._owned = False
        self._due = time.monotonic() + self._batch
        if self._checkpointer is not None:
            self._checkpointer.restart_if_due()

    @contextlib.contextmanager
    def batched(self, seconds: float) -> Iterator[Store]:
        """Group the writes of every ``seconds`` into one commit (see the module docstring); commits on exit.

        Meanwhile the WAL is checkpointed from another thread (``db.Checkpointer``), not inside a commit.

        Inside a batch every method is a savepoint, and with foreign keys on
        SQLite gives each statement in a savepoint a statement journal, which
        with the default ``temp_store`` is set up as a temporary file per row:
        15.8 us per link row against 10.2 with ``temp_store = memory`` (an
        article's 106 links and 6 embeds: 2.38 -> 1.80 ms). So the batch keeps
        its temporary storage in memory (one statement's undo at a time; SQLite
        reads the setting as each write transaction begins), and puts it back
        after: elsewhere a large sort may spill to disk.
        """
        previous, self._batch = self._batch, seconds
        self._due = time.monotonic() + seconds
        # "memory": this connection holds no temporary table to lose
        with pragma_set(self.conn, "temp_store", "memory"), Checkpointer(self.conn) as checkpointer:
            self._checkpointer = checkpointer
            try:
                yield self
            finally:
                self._batch = previous
                if self._depth == 0:
                    self.commit()
                self._checkpointer = None

    def _update(self, table: str, key_column: str, key: Any, fields: dict[str, Any]) -> None:
        """``update table set fields where key_column = key``; NotFoundError when there is no such row.

        The statement is built once per set of columns (a handful per table).
        """
        shape = (table, tuple(fields))
        sql = self._updates.get(shape)
        if sql is None:
            sets = ", ".join(f"{column} = ?" for column in fields)
            sql = self._updates[shape] = f"update {table} set {sets} where {key_column} = ?"
        if self.conn.execute(sql, (*fields.values(), key)).rowcount != 1:
            raise NotFoundError(f"no {table} row with {key_column} = {key!r}")

    def sha256(self, raw: bytes) -> str:
        """The body's SHA-256; a page's body is hashed for its exchange and again for its article: once here."""
        last = self._digest
        if last is not None and last[0] is raw:
            return last[1]
        digest = hashlib.sha256(raw).hexdigest()
        self._digest = (raw, digest)
        return digest

    # -- runs --------------------------------------------------------------------------

    def start_run(self, command: list[str], settings: dict[str, Any]) -> int:
        with self.transaction():
            table = self.db["runs"].insert(
                {
                    "started": utc_now(),
                    "command": _json(command),
                    "version": __version__,
                    "settings": _json(settings),
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "outcome": "running",
                }
            )
        return int(table.last_pk)

    def close_dead_runs(self) -> int:
        """Runs still marked running when the run lock is free died without closing (SIGKILL, power loss)."""
        with self.transaction():
            cursor = self.db.execute(
                "update runs set outcome = 'killed', error = 'the process ended without closing its run' "
                "where outcome = 'running'")
        return cursor.rowcount

    def finish_run(self, run_id: int, outcome: str, counts: dict[str, int], error: str | None = None) -> None:
        with self.transaction():
            self.db["runs"].update(
                run_id, {"finished": utc_now(), "outcome": outcome, "counts": _json(counts), "error": error}
            )
        self.commit()  # even inside a batch: the run's record is closed on disk

    # -- exchanges -----------------------------------------------------------------------

    def _save_body(self, exchange: Exchange, packed: PackedBody | None = None) -> str | None:
        if exchange.status is None and not exchange.body:
            return None
        return self._store_body(exchange.body, _header(exchange.response_headers, "content-type"), exchange.finished,
                                packed)

    def save_body(self, raw: bytes, content_type: str | None, seen_at: str) -> str:
        """Store bytes once under their SHA-256; returns the hash."""
        with self.transaction():
            return self._store_body(raw, content_type, seen_at)

    def _store_body(self, raw: bytes, content_type: str | None, seen_at: str,
                    packed: PackedBody | None = None) -> str:
        """``save_body`` within the caller's transaction; ``packed``: ``raw`` already packed (``pack_body``)."""
        digest = self.sha256(raw)  # a packing is used only if it is of these very bytes
        if self.conn.execute(_BODY_EXISTS, (digest,)).fetchone() is None:
            if packed is None or packed.sha256 != digest:
                packed = pack_body(raw)
            media_type = content_type.split(";")[0].strip().lower() if content_type else None
            self.conn.execute(_INSERT_BODY, (digest, packed.size, media_type, packed.compression, packed.content,
                                             seen_at))
        return digest

    def save_capture(
        self,
        capture: Capture,
        run_id: int,
        purpose: str,
        *,
        endpoint: str | None = None,
        article_id: int | None = None,
        post_key: str | None = None,
        parent_fetch_id: int | None = None,
        provenance: dict[str, str] | None = None,
        packed: PackedBody | None = None,
    ) -> int:
        """Store every hop of a capture; returns the id of the final exchange's row.

        The final row carries the purpose; earlier hops are stored as ``redirect``
        rows whose ``parent_fetch_id`` points to the final row. ``packed``: the
        final body, packed already.
        """
        chain = [hop.url for hop in capture.hops]
        final_url = chain[-1] if chain else capture.requested_url
        with self.transaction():
            final_id = self._insert_exchange(
                capture.final if capture.hops else None,
                capture,
                run_id,
                purpose=purpose,
                endpoint=endpoint,
                final_url=final_url,
                chain=chain,
                article_id=article_id,
                post_key=post_key,
                parent_fetch_id=parent_fetch_id,
                error=capture.error or (capture.final.error if capture.hops else None),
                provenance=provenance,
                packed=packed,
            )
            for hop in capture.hops[:-1]:
                self._insert_exchange(
                    hop,
                    capture,
                    run_id,
                    purpose="redirect",
                    endpoint=endpoint,
                    final_url=final_url,
                    chain=chain,
                    article_id=article_id,
                    post_key=post_key,
                    parent_fetch_id=final_id,
                    error=hop.error,
                )
        return final_id

    def _insert_exchange(self, hop: Exchange | None, capture: Capture, run_id: int, *, purpose: str,
                         endpoint: str | None, final_url: str, chain: list[str], article_id: int | None,
                         post_key: str | None, parent_fetch_id: int | None, error: str | None,
                         provenance: dict[str, str] | None = None, packed: PackedBody | None = None) -> int:
        common = (run_id, purpose, endpoint, capture.requested_url, final_url, _json(chain), error, parent_fetch_id,
                  article_id, post_key, _json(provenance))
        if hop is None:  # refused before any request
            now = utc_now()
            values = (*common, capture.requested_url, "GET", None, None, None, None, now, now, 0.0,
                      None, None, None, None, None, None)
        else:
            values = (*common, hop.url, hop.method, hop.status, hop.http_version, _headers(hop.request_headers),
                      _headers(hop.response_headers), hop.started, hop.finished, hop.duration_ms, hop.server_ip,
                      hop.connected_to, self._save_body(hop, packed), len(hop.body), int(hop.truncated), hop.attempts)
        return int(self.conn.execute(_INSERT_FETCH, values).lastrowid)

    # -- articles ------------------------------------------------------------------------

    def article_id(self, url: str, source: str | None = None) -> int:
        """The id of the article at ``url``, creating its row on first sight."""
        row = self.conn.execute(_ARTICLE_BY_URL, (url,)).fetchone()
        if row:
            return int(row[0])
        with self.transaction():
            cursor = self.conn.execute(
                _INSERT_ARTICLE, (url, (urlsplit(url).hostname or "").lower() or None, source, utc_now()))
        return int(cursor.lastrowid)

    def record_article_fetch(self, article_id: int, fetch_id: int, capture: Capture) -> None:
        final = capture.final if capture.hops else None
        body_sha = None
        if final is not None and final.status is not None:
            body_sha = self.sha256(final.body)
        values = (
            final.finished if final else utc_now(),
            fetch_id,
            body_sha,
            final.status if final else None,
            capture.error or (final.error if final else None) or _http_error(final),
            article_id,
        )
        with self.transaction():
            if self.conn.execute(_ARTICLE_FETCHED, values).rowcount != 1:
                raise NotFoundError(f"no article with id {article_id}")

    def record_extraction(self, article_id: int, fetch_id: int | None, run_id: int, extraction: Extraction,
                          *, seen_at: str | None = None) -> list[PostRef]:
        """Store what the article showed: its metadata, embeds, posts and links.

        Returns the posts it embeds (each once), for the resolver. The posts,
        the embeds and the links are each written by one ``executemany``.
        """
        seen_at = seen_at or utc_now()
        posts: dict[str, PostRef] = {}
        new_posts = []
        embeds = []
        for embed in extraction.embeds:
            post = embed.post
            if post is not None:
                if post.key not in posts:  # the first sighting names the author, as a post is created once
                    new_posts.append((post.key, post.platform, post.post_id, post.url, embed.author_handle, seen_at))
                posts[post.key] = post
            embeds.append((
                post.key if post is not None else None, embed.platform, embed.kind, embed.position, embed.region,
                embed.css_path, embed.url_as_found, embed.author_handle, embed.author_name, embed.fallback_text,
                embed.shown_date, embed.lang, embed.snippet,
                _json(list(embed.short_links)) if embed.short_links else None,
                fetch_id, seen_at,
                __version__,  # the version whose extractor last found it (crawl or reextract)
                None,  # retracted_run_id: found again, no longer retracted
                article_id, embed_key(embed), run_id, seen_at,
            ))
        links = [(link.region, link.position, link.rel, fetch_id, seen_at, article_id, link.url, link.normalized_url,
                  link.host, link.anchor_text, run_id, seen_at) for link in extraction.links]
        conn = self.conn
        with self.transaction():
            cursor = conn.execute(_ARTICLE_EXTRACTED, (
                seen_at, extraction.title, extraction.canonical_url, extraction.published, extraction.lang,
                extraction.charset, extraction.charset_source, article_id))
            if cursor.rowcount != 1:
                raise NotFoundError(f"no article with id {article_id}")
            if new_posts:
                conn.executemany(_ENSURE_POST, new_posts)
            if embeds:
                conn.executemany(_UPSERT_EMBED, embeds)
            if links:
                conn.executemany(_UPSERT_LINK, links)
        return list(posts.values())

    def touch_extraction(self, article_id: int, seen_at: str | None = None) -> None:
        """The article's body did not change: what it showed is seen again, no rows are added."""
        seen_at = seen_at or utc_now()
        conn = self.conn
        with self.transaction():
            row = conn.execute("select last_extracted from articles where id = ?", (article_id,)).fetchone()
            if row is None or row[0] is None:
                return
            for table in ("embeds", "links"):
                conn.execute(f"update {table} set last_seen = ? where article_id = ? and last_seen = ?",
                             (seen_at, article_id, row[0]))
            conn.execute("update articles set last_extracted = ? where id = ?", (seen_at, article_id))

    def last_fetch(self, article_id: int) -> tuple[str | None, str | None, int | None]:
        """(last fetched, last body sha256, last status) of an article."""
        row = self.conn.execute("select last_fetched, last_body_sha256, last_status from articles where id = ?",
                                (article_id,)).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def _ensure_post(self, post: PostRef, embed: Embed | None, seen_at: str) -> None:
        self.conn.execute(_ENSURE_POST, (post.key, post.platform, post.post_id, post.url,
                                         embed.author_handle if embed else None, seen_at))

    def resolve_text_embed(self, article_id: int, embed: Embed, post: PostRef) -> None:
        """A text embed whose short link led to a status: attach it to its post."""
        with self.transaction():
            self._ensure_post(post, embed, utc_now())
            key = embed_key(embed)
            taken = self.conn.execute(
                "select 1 from embeds where article_id = ? and embed_key = ?", (article_id, post.key)
            ).fetchone()
            if taken:  # already attached by an earlier run
                self.conn.execute("delete from embeds where article_id = ? and embed_key = ?", (article_id, key))
            else:
                self.conn.execute(
                    "update embeds set embed_key = ?, post_key = ? where article_id = ? and embed_key = ?",
                    (post.key, post.key, article_id, key),
                )

    # -- posts ---------------------------------------------------------------------------

    def unchecked(self, keys: Iterable[str]) -> set[str]:
        """Which of these posts have never been checked.

        Asked in slices: SQLite takes at most 250,000 parameters in a statement
        (as built here; 32,766 in other builds), and a re-extraction of 60,000
        articles asks about some 300,000 posts at once.
        """
        keys = list(keys)
        found: set[str] = set()
        for start in range(0, len(keys), _KEYS_PER_STATEMENT):
            part = keys[start:start + _KEYS_PER_STATEMENT]
            marks = ",".join("?" * len(part))
            rows = self.conn.execute(f"select key from posts where key in ({marks}) and last_checked is null", part)
            found.update(r[0] for r in rows)
        return found

    def save_check(self, post: PostRef, check: Check, run_id: int, fetch_ids: list[int],
                   deciding_fetch_id: int | None, content_sha256: str | None = None) -> int:
        """Append the check to the post's history and update the post's current state."""
        now = utc_now()
        conn = self.conn
        with self.transaction():
            self._ensure_post(post, None, now)
            check_id = int(conn.execute(_INSERT_CHECK, (
                post.key, run_id, now, check.status.value, check.http_status, check.endpoint, deciding_fetch_id,
                _json(fetch_ids), content_sha256, check.detail,
            )).lastrowid)
            current = conn.execute("select status from posts where key = ?", (post.key,)).fetchone()
            update: dict[str, Any] = {
                "status": check.status.value,
                "status_detail": check.detail,
                "last_checked": now,
                "last_check_id": check_id,
            }
            if check.status is Status.ERROR and current is not None and current[0] not in (None, "error"):
                del update["status"], update["status_detail"]  # an inconclusive check keeps the research status
            elif current is None or current[0] != check.status.value:
                update["status_since"] = now
            history.record_check(self.db, post.key, check, check_id, run_id, now)  # transitions, versions
            content = (
                check.author_handle,
                check.author_name,
                check.text,
                check.created_at,
                check.lang,
                _json(list(check.media)) if check.media else None,
                _json(list(check.edit_ids)) if check.edit_ids else None,
                _json(check.extra) if check.extra else None,
            )
            # a tombstone keeps the old text
            update.update({k: v for k, v in zip(_POST_CONTENT, content) if v is not None})
            self._update("posts", "key", post.key, update)
        return check_id


@contextlib.contextmanager
def closing_run(store: Store, report: Any, *, interrupted: Callable[[], bool],
                before_close: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Close the run record whatever happens: outcome, counts and error, in one place.

    ``report`` has ``run_id``, ``counts`` and ``outcome``; ``before_close`` settles
    the counts (it runs even when the body raised).
    """
    outcome, error = "failed", None
    try:
        yield
        outcome = "interrupted" if interrupted() else "completed"
    except KeyboardInterrupt:
        outcome, error = "interrupted", "interrupted by signal"
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        before_close()
        report.outcome = outcome
        store.finish_run(report.run_id, outcome, dict(report.counts), error)
