"""The history of each post and each embed: status transitions, text versions, retractions.

``post_checks`` is the raw time series; researchers ask sharper questions of it
("when did this tweet go dark, and how?", "what did it say before the edit?").
This module keeps two derived tables in step with every check, inside the same
transaction as the check itself (``Store.save_check`` calls ``record_check``),
so that a crash never leaves a check without its history:

- ``post_transitions``: one row each time a post's *research status* changes.
  The research status is the latest conclusive status: an ``error`` check (a
  failure or disagreeing sources) is kept in ``post_checks`` but never moves it,
  so a rate-limited night never reads as "gone". The first conclusive status of
  a post is a transition from NULL, which makes the table a complete timeline.
- ``post_versions``: one row per version of a post's content. A new version is
  recorded when a check brings edit ids the post did not have (Twitter's
  ``edit_tweet_ids`` grows on every edit) or a different text from the same
  endpoint that gave the current version (two endpoints render one text
  differently: syndication's t.co links against oEmbed's pic.twitter.com, so
  their texts are not compared). The old version is kept. A version first seen
  through oEmbed alone is completed, not superseded, by the first answer that
  brings edit ids.

Re-extraction (``archiver reextract``) adds the third kind of history: an embed
that the current extractor no longer finds in the very body it was found in is
*retracted* (``embeds.retracted_run_id``), not deleted, so the record of what an
older extractor claimed stays inspectable.

Only ``archiver/store/`` writes SQLite; every function here expects to run in
the caller's transaction or opens its own.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

import sqlite_utils

from archiver.models import Check, Status

DARK_STATUSES = ("deleted", "protected", "suspended", "restricted", "not_found")
"""Statuses that mean "no longer publicly available" (the research result)."""


def content_digest(text: str | None, edit_ids: Iterable[str]) -> str:
    """The identity of one version: its text and its edit ids, order kept."""
    canonical = json.dumps({"text": text, "edit_ids": list(edit_ids)}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# plain statements on the check path (every post check runs them; see store/writer.py on why not Table.insert)
_LAST_TRANSITION = "select to_status from post_transitions where post_key = ? order by id desc limit 1"
_INSERT_TRANSITION = ("insert into post_transitions (post_key, from_status, to_status, at, check_id, run_id) "
                      "values (?, ?, ?, ?, ?, ?)")
_LATEST_VERSION = ("select id, version, text, edit_ids, endpoint from post_versions where post_key = ? "
                   "order by version desc limit 1")
_INSERT_VERSION = ("insert into post_versions (post_key, version, text, edit_ids, media, endpoint, content_sha256, "
                   "first_seen, last_seen, check_id, last_check_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_COMPLETE_VERSION = ("update post_versions set text = ?, edit_ids = ?, endpoint = ?, content_sha256 = ?, "
                     "last_seen = ?, last_check_id = ? where id = ?")
_SEEN_VERSION = "update post_versions set last_seen = ?, last_check_id = ? where id = ?"


def research_status(db: sqlite_utils.Database, post_key: str) -> str | None:
    """The post's latest conclusive status (None before its first conclusive check)."""
    row = db.conn.execute(_LAST_TRANSITION, (post_key,)).fetchone()
    return row[0] if row else None


def record_check(db: sqlite_utils.Database, post_key: str, check: Check, check_id: int, run_id: int,
                 at: str) -> None:
    """Derive the transition and the version a new check implies. Runs in the check's transaction."""
    if check.status is not Status.ERROR:
        previous = research_status(db, post_key)
        if previous != check.status.value:
            db.conn.execute(_INSERT_TRANSITION, (post_key, previous, check.status.value, at, check_id, run_id))
    if check.status is Status.AVAILABLE and (check.text is not None or check.edit_ids):
        _record_version(db, post_key, check, check_id, at)


def _record_version(db: sqlite_utils.Database, post_key: str, check: Check, check_id: int, at: str) -> None:
    conn = db.conn
    latest = conn.execute(_LATEST_VERSION, (post_key,)).fetchone()
    if latest is not None:
        row_id, number, text, edit_ids, endpoint = latest
        known = json.loads(edit_ids or "[]")
        same_source_edit = check.endpoint == endpoint and check.text is not None and check.text != text
        if not known and check.edit_ids and not same_source_edit:
            # the first answer that carries edit ids (version 1 came from oEmbed alone): it completes
            # the version rather than starting one, and its source becomes the one later texts are compared with
            text = check.text if check.text is not None else text
            conn.execute(_COMPLETE_VERSION, (text, json.dumps(list(check.edit_ids)), check.endpoint,
                                             content_digest(text, check.edit_ids), at, check_id, row_id))
            return
        new_ids = [i for i in check.edit_ids if i not in known]
        if not new_ids and not same_source_edit:
            conn.execute(_SEEN_VERSION, (at, check_id, row_id))
            return
        # a text-only answer (oEmbed) carries no edit ids: the version keeps the ids it knew
        ids = list(check.edit_ids) or known
        text = check.text if check.text is not None else text
    else:
        number, ids, text = 0, list(check.edit_ids), check.text
    conn.execute(_INSERT_VERSION, (
        post_key, number + 1, text, json.dumps(ids) if ids else None,
        json.dumps(list(check.media)) if check.media else None, check.endpoint, content_digest(text, ids),
        at, at, check_id, check_id,
    ))


def retract_missing(db: sqlite_utils.Database, article_id: int, body_sha256: str, found: Iterable[str],
                    run_id: int, platforms: Iterable[str] = ()) -> int:
    """Mark the article's embeds extracted from this body that the current extractor did not find.

    Only embeds whose own exchange carried the same body are judged: an embed
    from an older version of the page was removed by the outlet, not by the
    extractor, and its ``last_seen`` already says so. Returns how many were retracted.
    """
    params: list[Any] = [run_id, article_id, body_sha256]
    where = ""
    found = list(found)
    if found:
        where += f" and e.embed_key not in ({','.join('?' * len(found))})"
        params += found
    platforms = list(platforms)
    if platforms:  # a reextract limited to some platforms judges only their embeds
        where += f" and e.platform in ({','.join('?' * len(platforms))})"
        params += platforms
    cursor = db.execute(
        f"""update embeds set retracted_run_id = ? where id in (
              select e.id from embeds e join fetches f on f.id = e.fetch_id
              where e.article_id = ? and f.body_sha256 = ? and e.retracted_run_id is null {where})""",
        params,
    )
    return cursor.rowcount


def backfill(db: sqlite_utils.Database) -> None:
    """Build the history of checks made before this module existed (run once, by migration m002).

    Transitions are replayed from ``post_checks``. Versions cannot be: the text of
    earlier answers was never kept apart from ``posts.text``, so a post's version 1
    is its text as it stands, seen from its first to its last available check.
    A post whose latest check was ``error`` gets its last conclusive status back.
    """
    checks = db.execute(
        "select id, post_key, run_id, checked_at, status, detail from post_checks order by post_key, id"
    ).fetchall()
    state: dict[str, tuple[str, str | None]] = {}  # post_key -> (status, detail) of its last conclusive check
    for check_id, post_key, run_id, checked_at, status, detail in checks:
        if status == Status.ERROR.value:
            continue
        previous = state.get(post_key)
        if previous is None or previous[0] != status:
            db["post_transitions"].insert(
                {"post_key": post_key, "from_status": previous[0] if previous else None, "to_status": status,
                 "at": checked_at, "check_id": check_id, "run_id": run_id}
            )
        state[post_key] = (status, detail)
    for post_key, (status, detail) in state.items():
        since = db.execute(
            "select at from post_transitions where post_key = ? order by id desc limit 1", [post_key]
        ).fetchone()[0]
        db.execute(
            "update posts set status = ?, status_detail = ?, status_since = ? where key = ? and status = 'error'",
            [status, detail, since, post_key],
        )
    rows = db.execute(
        """select s.*, (select endpoint from post_checks where id = s.first_id) from (
               select p.key, p.text, p.edit_ids, p.media, min(c.id) as first_id, max(c.id),
                      min(c.checked_at), max(c.checked_at)
               from posts p join post_checks c on c.post_key = p.key and c.status = 'available'
               where p.text is not null or p.edit_ids is not null group by p.key) s"""
    ).fetchall()
    for key, text, edit_ids, media, first_id, last_id, first_at, last_at, endpoint in rows:
        ids = json.loads(edit_ids or "[]")
        db["post_versions"].insert(
            {"post_key": key, "version": 1, "text": text, "edit_ids": edit_ids, "media": media,
             "endpoint": endpoint, "content_sha256": content_digest(text, ids), "first_seen": first_at,
             "last_seen": last_at, "check_id": first_id, "last_check_id": last_id}
        )
