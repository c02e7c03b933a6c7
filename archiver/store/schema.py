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
}


def ensure_db_shape(db: sqlite_utils.Database) -> None:
    """Migrate, then create FTS tables and views if missing: safe to call on every open."""
    migrations.apply(db)
    for table, columns in FTS.items():
        if not db[table].detect_fts():
            db[table].enable_fts(columns, create_triggers=True, tokenize="unicode61")
    existing = set(db.view_names())
    for name, sql in VIEWS.items():
        if name not in existing:
            db.create_view(name, sql.strip())
