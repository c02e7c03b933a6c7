"""The archive's schema: ordered migrations, then the idempotent shape (FTS, views).

Migrations follow sqlite-utils 4's ``Migrations``: each runs in its own
transaction; never edit one that has run on somebody's database, append a new
one. ``docs/schema.md`` describes every table and column; keep it in step.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("archiver")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "command": str,  # JSON list: argv as invoked
            "version": str,
            "settings": str,  # JSON object, secrets masked
            "host": str,
            "pid": int,
            "outcome": str,  # running, completed, failed, interrupted
            "counts": str,  # JSON object
            "error": str,
        },
        pk="id",
    )
    db["bodies"].create(
        {
            "sha256": str,
            "size": int,  # bytes before compression
            "media_type": str,
            "compression": str,  # zlib or none
            "content": bytes,
            "first_seen": str,
        },
        pk="sha256",
    )
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "canonical_url": str,
            "site": str,
            "title": str,
            "published": str,
            "lang": str,
            "source": str,  # where the URL came from: argument, file:LINE, stdin
            "first_seen": str,
            "last_fetched": str,
            "last_fetch_id": int,
            "last_body_sha256": str,
            "last_status": int,
            "last_error": str,
            "charset": str,
            "charset_source": str,
        },
        pk="id",
    )
    db["articles"].create_index(["url"], unique=True)
    db["fetches"].create(
        {
            "id": int,
            "run_id": int,
            "purpose": str,  # article, lookup, shortlink, redirect
            "endpoint": str,  # for lookups: twitter.syndication, youtube.oembed, ...
            "requested_url": str,  # what was asked for first
            "url": str,  # the URL of this exchange
            "final_url": str,  # where the redirects ended
            "redirect_chain": str,  # JSON list of URLs, first to last
            "method": str,
            "status": int,
            "http_version": str,
            "request_headers": str,  # JSON list of [name, value]
            "response_headers": str,
            "started": str,
            "finished": str,
            "duration_ms": float,
            "server_ip": str,
            "connected_to": str,
            "body_sha256": str,
            "body_size": int,
            "truncated": int,
            "attempts": int,  # requests made for this exchange, retries included
            "error": str,
            "parent_fetch_id": int,
            "article_id": int,
            "post_key": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("body_sha256", "bodies", "sha256"),
            ("article_id", "articles", "id"),
        ],
    )
    db["fetches"].create_index(["article_id"])
    db["fetches"].create_index(["post_key"])
    db["fetches"].create_index(["run_id"])
    db["posts"].create(
        {
            "key": str,  # platform:post_id
            "platform": str,
            "post_id": str,
            "url": str,
            "author_handle": str,
            "author_name": str,
            "text": str,
            "created_at": str,
            "lang": str,
            "media": str,  # JSON list of URLs
            "edit_ids": str,  # JSON list of ids (Twitter edit history)
            "extra": str,  # JSON object, platform-specific fields
            "status": str,  # current status, see docs/schema.md
            "status_detail": str,
            "status_since": str,
            "first_seen": str,
            "last_checked": str,
            "last_check_id": int,
        },
        pk="key",
    )
    db["posts"].create_index(["platform", "status"])
    db["embeds"].create(
        {
            "id": int,
            "article_id": int,
            "embed_key": str,  # post key, or text:@handle:date for an unresolved text embed
            "post_key": str,
            "platform": str,
            "kind": str,
            "position": int,
            "region": str,
            "css_path": str,
            "url_as_found": str,
            "author_handle": str,
            "author_name": str,
            "fallback_text": str,
            "shown_date": str,
            "lang": str,
            "snippet": str,
            "short_links": str,  # JSON list
            "fetch_id": int,
            "run_id": int,
            "extractor_version": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        foreign_keys=[
            ("article_id", "articles", "id"),
            ("post_key", "posts", "key"),
            ("fetch_id", "fetches", "id"),
            ("run_id", "runs", "id"),
        ],
    )
    db["embeds"].create_index(["article_id", "embed_key"], unique=True)
    db["embeds"].create_index(["post_key"])
    db["post_checks"].create(
        {
            "id": int,
            "post_key": str,
            "run_id": int,
            "checked_at": str,
            "status": str,
            "http_status": int,
            "endpoint": str,
            "fetch_id": int,  # the exchange whose answer decided the status
            "fetch_ids": str,  # JSON list: every exchange of this check
            "content_sha256": str,
            "detail": str,
        },
        pk="id",
        foreign_keys=[("post_key", "posts", "key"), ("run_id", "runs", "id"), ("fetch_id", "fetches", "id")],
    )
    db["post_checks"].create_index(["post_key", "checked_at"])
    db["links"].create(
        {
            "id": int,
            "article_id": int,
            "url": str,
            "normalized_url": str,
            "host": str,
            "anchor_text": str,
            "rel": str,
            "region": str,
            "position": int,
            "fetch_id": int,
            "run_id": int,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("fetch_id", "fetches", "id"), ("run_id", "runs", "id")],
    )
    db["links"].create_index(["article_id", "normalized_url", "anchor_text"], unique=True)
    db["links"].create_index(["host"])


@migrations()
def m002_queue(db: sqlite_utils.Database) -> None:
    """The work queue lives in the database, so a killed run resumes where it stopped."""
    db["queue"].create(
        {
            "id": int,
            "url": str,
            "source": str,
            "state": str,  # pending, done, failed
            "document": str,  # JSON: an article in hand (origin, media, body sha256, provenance)
            "published": str,
            "row_id": str,
            "enqueued": str,
            "enqueued_run_id": int,
            "started": str,
            "finished": str,
            "run_id": int,  # the run that finished it
            "article_id": int,
            "error": str,
        },
        pk="id",
    )
    db["queue"].create_index(["state"])
    db["queue"].create_index(["url", "state"])
    db["articles"].add_column("last_extracted", str)  # when embeds were last extracted (see embeds.last_seen)
    db["fetches"].add_column("provenance", str)  # JSON: where an in-hand document came from (file, dataset, WARC)


@migrations()
def m003_history(db: sqlite_utils.Database) -> None:
    """Each post's status transitions and text versions, and retracted embeds (store/history.py)."""
    from archiver.store.history import backfill

    db["post_transitions"].create(
        {
            "id": int,
            "post_key": str,
            "from_status": str,  # NULL for the post's first conclusive status
            "to_status": str,
            "at": str,  # checked_at of the check that found the new status
            "check_id": int,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[("post_key", "posts", "key"), ("check_id", "post_checks", "id"), ("run_id", "runs", "id")],
    )
    db["post_transitions"].create_index(["post_key", "at"])
    db["post_transitions"].create_index(["to_status"])
    db["post_versions"].create(
        {
            "id": int,
            "post_key": str,
            "version": int,  # 1, 2, ... in the order archiver saw them
            "text": str,
            "edit_ids": str,  # JSON list (Twitter edit_tweet_ids) as this version's answer gave them
            "media": str,  # JSON list of media URLs
            "endpoint": str,  # the endpoint whose answer first showed this version
            "content_sha256": str,  # SHA-256 of {"edit_ids": [...], "text": ...} as canonical JSON
            "first_seen": str,
            "last_seen": str,
            "check_id": int,  # the check that first saw it
            "last_check_id": int,  # the check that last saw it
        },
        pk="id",
        foreign_keys=[("post_key", "posts", "key"), ("check_id", "post_checks", "id")],
    )
    db["post_versions"].create_index(["post_key", "version"], unique=True)
    db["embeds"].add_column("retracted_run_id", int)  # the reextract run whose extractor no longer finds it
    backfill(db)


FTS = {
    "posts": ["text", "author_handle", "author_name"],
    "embeds": ["fallback_text", "author_handle", "author_name"],
    "articles": ["title", "url"],
}

VIEWS = {
    # One row per embed with its article and the post's current status.
    "embeds_status": """
        select e.id as embed_id, a.url as article_url, a.site, e.platform, e.kind, e.position,
               e.region, e.post_key, p.url as post_url, coalesce(p.author_handle, e.author_handle) as author_handle,
               e.fallback_text, p.status, p.status_since, p.last_checked, e.first_seen, e.last_seen
        from embeds e join articles a on a.id = e.article_id
        left join posts p on p.key = e.post_key
    """,
    # Embeds an article no longer shows: absent from its latest extraction.
    "embeds_removed": """
        select e.id as embed_id, a.url as article_url, a.site, e.platform, e.post_key, e.kind,
               e.first_seen, e.last_seen, a.last_extracted as article_last_extracted
        from embeds e join articles a on a.id = e.article_id
        where a.last_extracted is not null and e.last_seen < a.last_extracted
    """,
    # Posts that are no longer publicly available, with when that was first seen.
    "dark_posts": """
        select p.key, p.platform, p.post_id, p.url, p.author_handle, p.status, p.status_detail,
               p.status_since, p.last_checked,
               (select count(*) from embeds e where e.post_key = p.key) as embedded_in
        from posts p
        where p.status in ('deleted', 'protected', 'suspended', 'restricted', 'not_found')
    """,
    # Posts seen live that are dark now: how (from which status to which), and when (between the last
    # live check and the first dark check). Posts dark from their first check are in dark_posts only.
    "posts_gone_dark": """
        select p.key as post_key, p.platform, p.post_id, p.url, p.author_handle,
               went.from_status, went.to_status as went_to, now.to_status as status,
               (select max(c.checked_at) from post_checks c
                 where c.post_key = p.key and c.id < went.check_id and c.status = went.from_status)
                 as last_live_check_at,
               went.at as went_dark_at, went.check_id as dark_check_id, went.run_id as dark_run_id,
               (select c.detail from post_checks c where c.id = went.check_id) as how,
               (select count(*) from embeds e where e.post_key = p.key and e.retracted_run_id is null)
                 as embedded_in
        from posts p
        join post_transitions now on now.id = (select max(t.id) from post_transitions t where t.post_key = p.key)
        join post_transitions went on went.id = (
            select min(t.id) from post_transitions t
            where t.post_key = p.key
              and t.to_status in ('deleted', 'protected', 'suspended', 'restricted', 'not_found')
              and t.id > coalesce((select max(u.id) from post_transitions u where u.post_key = p.key
                  and u.to_status not in ('deleted', 'protected', 'suspended', 'restricted', 'not_found')), 0))
        where now.to_status in ('deleted', 'protected', 'suspended', 'restricted', 'not_found')
          and went.from_status is not null
    """,
    # Per article, the embeds it shows now (its latest extraction) by their posts' status now;
    # removed: embeds it showed before and no longer does.
    "embed_liveness_by_article": """
        select a.id as article_id, a.url as article_url, a.site, a.title, a.last_fetched,
               count(e.id) as embeds,
               sum(case when p.status = 'available' then 1 else 0 end) as available,
               sum(case when p.status in ('deleted', 'protected', 'suspended', 'restricted', 'not_found')
                   then 1 else 0 end) as dark,
               sum(case when e.id is not null and p.status is null then 1 else 0 end) as unchecked,
               sum(case when p.status in ('error', 'unsupported') then 1 else 0 end) as undetermined,
               (select count(*) from embeds r where r.article_id = a.id and r.retracted_run_id is null
                  and r.last_seen < coalesce(a.last_extracted,
                      (select max(x.last_seen) from embeds x where x.article_id = a.id))) as removed
        from articles a
        left join embeds e on e.article_id = a.id and e.retracted_run_id is null
             and e.last_seen >= coalesce(a.last_extracted,
                 (select max(x.last_seen) from embeds x where x.article_id = a.id))
        left join posts p on p.key = e.post_key
        group by a.id
    """,
    # Per site and per UTC day on which checks ran: the embeds its articles had shown by then, by
    # their posts' status as of the end of that day (the latest conclusive status by then).
    "embed_liveness_by_site_day": """
        with days as (
            select day, date(day, '+1 day') as next
            from (select distinct substr(checked_at, 1, 10) as day from post_checks)
        ),
        site_embeds as (
            select a.site, e.post_key, substr(e.first_seen, 1, 10) as since
            from embeds e join articles a on a.id = e.article_id where e.retracted_run_id is null
        ),
        state as materialized (
            select s.site, d.day,
                   (select t.to_status from post_transitions t where t.post_key = s.post_key
                      and t.at < d.next order by t.at desc, t.id desc limit 1) as status,
                   exists(select 1 from post_checks c where c.post_key = s.post_key and c.checked_at < d.next)
                     as checked
            from site_embeds s join days d on d.day >= s.since
        )
        select site, day, count(*) as embeds,
               sum(case when status = 'available' then 1 else 0 end) as available,
               sum(case when status in ('deleted', 'protected', 'suspended', 'restricted', 'not_found')
                   then 1 else 0 end) as dark,
               sum(case when not checked then 1 else 0 end) as unchecked,
               sum(case when checked and (status is null or status = 'unsupported') then 1 else 0 end)
                 as undetermined
        from state group by site, day order by site, day
    """,
}


def ensure_db_shape(db: sqlite_utils.Database) -> None:
    """Migrate, then create FTS tables and views if missing: safe to call on every open."""
    migrations.apply(db)
    for table, columns in FTS.items():
        if not db[table].detect_fts():
            db[table].enable_fts(columns, create_triggers=True, tokenize="unicode61")
        _narrow_fts_update_trigger(db, table, columns)
    existing = set(db.view_names())
    for name, sql in VIEWS.items():
        if name not in existing:
            db.create_view(name, sql.strip())


def _narrow_fts_update_trigger(db: sqlite_utils.Database, table: str, columns: list[str]) -> None:
    """Re-index a row in its FTS table only when an indexed column changed.

    sqlite-utils' update trigger deletes and re-inserts the row's index entry on
    every update of any column; a crawl updates each article twice and each
    embed and post on every sighting and check without touching their text.
    """
    name = f"{table}_au"
    cols = ", ".join(f'"{c}"' for c in columns)
    olds = ", ".join(f'old."{c}"' for c in columns)
    news = ", ".join(f'new."{c}"' for c in columns)
    changed = " or ".join(f'old."{c}" is not new."{c}"' for c in columns)
    sql = (
        f'CREATE TRIGGER "{name}" AFTER UPDATE OF {cols} ON "{table}" WHEN {changed} BEGIN\n'
        f'  INSERT INTO "{table}_fts" ("{table}_fts", rowid, {cols}) VALUES(\'delete\', old.rowid, {olds});\n'
        f'  INSERT INTO "{table}_fts" (rowid, {cols}) VALUES (new.rowid, {news});\n'
        "END"
    )
    row = db.execute("select sql from sqlite_master where type = 'trigger' and name = ?", [name]).fetchone()
    if row is None or row[0] != sql:
        with db.atomic():
            db.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            db.execute(sql)
