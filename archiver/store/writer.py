"""The only code that writes the archive.

Each public method is one short transaction (``db.atomic()``), so a crash loses
at most the item in flight. Re-saving the same facts changes nothing but the
"last seen" times: bodies are content-addressed, articles are keyed by URL,
embeds by (article, post), links by (article, URL, anchor text).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import zlib
from typing import Any, Iterable
from urllib.parse import urlsplit

import sqlite_utils

from archiver import __version__
from archiver.clock import utc_now
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


def read_body(db: sqlite_utils.Database, sha256: str) -> bytes:
    """The raw bytes stored under ``sha256``; KeyError when there are none."""
    row = db.execute("select compression, content from bodies where sha256 = ?", [sha256]).fetchone()
    if row is None:
        raise KeyError(sha256)
    return zlib.decompress(row[1]) if row[0] == "zlib" else bytes(row[1])


class Store:
    """The archive's single writer. Not thread-safe by design: one writer per run."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    # -- runs --------------------------------------------------------------------------

    def start_run(self, command: list[str], settings: dict[str, Any]) -> int:
        with self.db.atomic():
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
        with self.db.atomic():
            cursor = self.db.execute(
                "update runs set outcome = 'killed', error = 'the process ended without closing its run' "
                "where outcome = 'running'")
        return cursor.rowcount

    def finish_run(self, run_id: int, outcome: str, counts: dict[str, int], error: str | None = None) -> None:
        with self.db.atomic():
            self.db["runs"].update(
                run_id, {"finished": utc_now(), "outcome": outcome, "counts": _json(counts), "error": error}
            )

    # -- exchanges -----------------------------------------------------------------------

    def _save_body(self, exchange: Exchange) -> str | None:
        if exchange.status is None and not exchange.body:
            return None
        return self.save_body(exchange.body, _header(exchange.response_headers, "content-type"), exchange.finished)

    def save_body(self, raw: bytes, content_type: str | None, seen_at: str) -> str:
        """Store bytes once under their SHA-256; returns the hash."""
        digest = hashlib.sha256(raw).hexdigest()
        if self.db.execute("select 1 from bodies where sha256 = ?", [digest]).fetchone() is None:
            packed, compression = (zlib.compress(raw, 6), "zlib") if len(raw) >= COMPRESS_MIN_BYTES else (raw, "none")
            self.db["bodies"].insert(
                {
                    "sha256": digest,
                    "size": len(raw),
                    "media_type": content_type.split(";")[0].strip().lower() if content_type else None,
                    "compression": compression,
                    "content": packed,
                    "first_seen": seen_at,
                }
            )
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
    ) -> int:
        """Store every hop of a capture; returns the id of the final exchange's row.

        The final row carries the purpose; earlier hops are stored as ``redirect``
        rows whose ``parent_fetch_id`` points to the final row.
        """
        chain = [hop.url for hop in capture.hops]
        final_url = chain[-1] if chain else capture.requested_url
        with self.db.atomic():
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
                         provenance: dict[str, str] | None = None) -> int:
        row: dict[str, Any] = {
            "run_id": run_id,
            "purpose": purpose,
            "endpoint": endpoint,
            "requested_url": capture.requested_url,
            "final_url": final_url,
            "redirect_chain": _json(chain),
            "error": error,
            "parent_fetch_id": parent_fetch_id,
            "article_id": article_id,
            "post_key": post_key,
            "provenance": _json(provenance),
        }
        if hop is None:  # refused before any request
            now = utc_now()
            row.update(url=capture.requested_url, method="GET", started=now, finished=now, duration_ms=0.0)
        else:
            row.update(
                url=hop.url,
                method=hop.method,
                status=hop.status,
                http_version=hop.http_version,
                request_headers=_headers(hop.request_headers),
                response_headers=_headers(hop.response_headers),
                started=hop.started,
                finished=hop.finished,
                duration_ms=hop.duration_ms,
                server_ip=hop.server_ip,
                connected_to=hop.connected_to,
                body_sha256=self._save_body(hop),
                body_size=len(hop.body),
                truncated=int(hop.truncated),
                attempts=hop.attempts,
            )
        return int(self.db["fetches"].insert(row).last_pk)

    # -- articles ------------------------------------------------------------------------

    def article_id(self, url: str, source: str | None = None) -> int:
        """The id of the article at ``url``, creating its row on first sight."""
        row = self.db.execute("select id from articles where url = ?", [url]).fetchone()
        if row:
            return int(row[0])
        with self.db.atomic():
            table = self.db["articles"].insert(
                {"url": url, "site": (urlsplit(url).hostname or "").lower() or None, "source": source,
                 "first_seen": utc_now()}
            )
        return int(table.last_pk)

    def record_article_fetch(self, article_id: int, fetch_id: int, capture: Capture) -> None:
        final = capture.final if capture.hops else None
        body_sha = None
        if final is not None and final.status is not None:
            body_sha = hashlib.sha256(final.body).hexdigest()
        with self.db.atomic():
            self.db["articles"].update(
                article_id,
                {
                    "last_fetched": final.finished if final else utc_now(),
                    "last_fetch_id": fetch_id,
                    "last_body_sha256": body_sha,
                    "last_status": final.status if final else None,
                    "last_error": capture.error or (final.error if final else None) or _http_error(final),
                },
            )

    def record_extraction(self, article_id: int, fetch_id: int | None, run_id: int, extraction: Extraction,
                          *, seen_at: str | None = None) -> list[PostRef]:
        """Store what the article showed: its metadata, embeds, posts and links.

        Returns the posts it embeds (each once), for the resolver.
        """
        seen_at = seen_at or utc_now()
        posts: dict[str, PostRef] = {}
        with self.db.atomic():
            self.db["articles"].update(
                article_id,
                {k: v for k, v in {
                    "last_extracted": seen_at,
                    "title": extraction.title,
                    "canonical_url": extraction.canonical_url,
                    "published": extraction.published,
                    "lang": extraction.lang,
                    "charset": extraction.charset,
                    "charset_source": extraction.charset_source,
                }.items() if v is not None},
            )
            for embed in extraction.embeds:
                if embed.post is not None:
                    self._ensure_post(embed.post, embed, seen_at)
                    posts[embed.post.key] = embed.post
                self._upsert_embed(article_id, fetch_id, run_id, embed, seen_at)
            for link in extraction.links:
                self._upsert_link(article_id, fetch_id, run_id, link, seen_at)
        return list(posts.values())

    def touch_extraction(self, article_id: int, seen_at: str | None = None) -> None:
        """The article's body did not change: what it showed is seen again, no rows are added."""
        seen_at = seen_at or utc_now()
        with self.db.atomic():
            row = self.db.execute("select last_extracted from articles where id = ?", [article_id]).fetchone()
            if row is None or row[0] is None:
                return
            for table in ("embeds", "links"):
                self.db.execute(f"update {table} set last_seen = ? where article_id = ? and last_seen = ?",
                                [seen_at, article_id, row[0]])
            self.db.execute("update articles set last_extracted = ? where id = ?", [seen_at, article_id])

    def last_fetch(self, article_id: int) -> tuple[str | None, str | None, int | None]:
        """(last fetched, last body sha256, last status) of an article."""
        row = self.db.execute("select last_fetched, last_body_sha256, last_status from articles where id = ?",
                              [article_id]).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def _ensure_post(self, post: PostRef, embed: Embed | None, seen_at: str) -> None:
        if self.db.execute("select 1 from posts where key = ?", [post.key]).fetchone():
            return
        self.db["posts"].insert(
            {
                "key": post.key,
                "platform": post.platform,
                "post_id": post.post_id,
                "url": post.url,
                "author_handle": embed.author_handle if embed else None,
                "first_seen": seen_at,
            }
        )

    def _upsert_embed(self, article_id: int, fetch_id: int | None, run_id: int, embed: Embed, seen_at: str) -> None:
        key = embed_key(embed)
        existing = self.db.execute(
            "select id from embeds where article_id = ? and embed_key = ?", [article_id, key]
        ).fetchone()
        fields = {
            "post_key": embed.post.key if embed.post else None,
            "platform": embed.platform,
            "kind": embed.kind,
            "position": embed.position,
            "region": embed.region,
            "css_path": embed.css_path,
            "url_as_found": embed.url_as_found,
            "author_handle": embed.author_handle,
            "author_name": embed.author_name,
            "fallback_text": embed.fallback_text,
            "shown_date": embed.shown_date,
            "lang": embed.lang,
            "snippet": embed.snippet,
            "short_links": _json(list(embed.short_links)) if embed.short_links else None,
            "fetch_id": fetch_id,
            "last_seen": seen_at,
            "extractor_version": __version__,  # the version whose extractor last found it (crawl or reextract)
            "retracted_run_id": None,  # found again: no longer retracted
        }
        if existing:
            self.db["embeds"].update(existing[0], fields)
        else:
            self.db["embeds"].insert(
                {**fields, "article_id": article_id, "embed_key": key, "run_id": run_id, "first_seen": seen_at}
            )

    def _upsert_link(self, article_id: int, fetch_id: int | None, run_id: int, link: Any, seen_at: str) -> None:
        existing = self.db.execute(
            "select id from links where article_id = ? and normalized_url = ? and anchor_text = ?",
            [article_id, link.normalized_url, link.anchor_text],
        ).fetchone()
        fields = {"region": link.region, "position": link.position, "rel": link.rel, "fetch_id": fetch_id,
                  "last_seen": seen_at}
        if existing:
            self.db["links"].update(existing[0], fields)
        else:
            self.db["links"].insert(
                {**fields, "article_id": article_id, "url": link.url, "normalized_url": link.normalized_url,
                 "host": link.host, "anchor_text": link.anchor_text, "run_id": run_id, "first_seen": seen_at}
            )

    def resolve_text_embed(self, article_id: int, embed: Embed, post: PostRef) -> None:
        """A text embed whose short link led to a status: attach it to its post."""
        with self.db.atomic():
            self._ensure_post(post, embed, utc_now())
            key = embed_key(embed)
            taken = self.db.execute(
                "select 1 from embeds where article_id = ? and embed_key = ?", [article_id, post.key]
            ).fetchone()
            if taken:  # already attached by an earlier run
                self.db.execute("delete from embeds where article_id = ? and embed_key = ?", [article_id, key])
            else:
                self.db.execute(
                    "update embeds set embed_key = ?, post_key = ? where article_id = ? and embed_key = ?",
                    [post.key, post.key, article_id, key],
                )

    # -- posts ---------------------------------------------------------------------------

    def unchecked(self, keys: Iterable[str]) -> set[str]:
        """Which of these posts have never been checked."""
        keys = list(keys)
        if not keys:
            return set()
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(f"select key from posts where key in ({marks}) and last_checked is null", keys)
        return {r[0] for r in rows}

    def save_check(self, post: PostRef, check: Check, run_id: int, fetch_ids: list[int],
                   deciding_fetch_id: int | None, content_sha256: str | None = None) -> int:
        """Append the check to the post's history and update the post's current state."""
        now = utc_now()
        with self.db.atomic():
            self._ensure_post(post, None, now)
            check_id = int(self.db["post_checks"].insert(
                {
                    "post_key": post.key,
                    "run_id": run_id,
                    "checked_at": now,
                    "status": check.status.value,
                    "http_status": check.http_status,
                    "endpoint": check.endpoint,
                    "fetch_id": deciding_fetch_id,
                    "fetch_ids": _json(fetch_ids),
                    "content_sha256": content_sha256,
                    "detail": check.detail,
                }
            ).last_pk)
            current = self.db.execute("select status from posts where key = ?", [post.key]).fetchone()
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
            content = {
                "author_handle": check.author_handle,
                "author_name": check.author_name,
                "text": check.text,
                "created_at": check.created_at,
                "lang": check.lang,
                "media": _json(list(check.media)) if check.media else None,
                "edit_ids": _json(list(check.edit_ids)) if check.edit_ids else None,
                "extra": _json(check.extra) if check.extra else None,
            }
            update.update({k: v for k, v in content.items() if v is not None})  # a tombstone keeps the old text
            self.db["posts"].update(post.key, update)
        return check_id
