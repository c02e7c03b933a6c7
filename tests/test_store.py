"""The store: migrations, content-addressed bodies, idempotent re-saves, post history."""

from __future__ import annotations

import json
import zlib

import pytest

from archiver.errors import DatabaseError
from archiver.models import Capture, Check, Embed, Exchange, Extraction, Link, PostRef, Status
from archiver.store import Store, open_db
from archiver.store.schema import migrations

POST = PostRef("twitter", "1044502590266978309", "https://twitter.com/diktator/status/1044502590266978309")


def exchange(url: str, body: bytes = b"<html>hello</html>" * 40, status: int = 200, **kw) -> Exchange:
    kw.setdefault("request_headers", (("host", "site.test"), ("user-agent", "archiver/test")))
    return Exchange(url=url, method="GET", started="2026-11-24T10:00:00.000000+00:00",
                    finished="2026-11-24T10:00:00.100000+00:00", duration_ms=100.0, status=status,
                    response_headers=(("content-type", "text/html; charset=utf-8"),),
                    server_ip="127.0.0.1", body=body, **kw)


def extraction() -> Extraction:
    embed = Embed(platform="twitter", post=POST, kind="blockquote", position=0, author_handle="diktator",
                  fallback_text="Hallo Welt")
    link = Link(url="https://example.org/a", normalized_url="https://example.org/a", host="example.org",
                anchor_text="a link", rel=None, region="body", position=0)
    return Extraction(embeds=(embed,), links=(link,), title="A story")


@pytest.fixture
def store(tmp_path):
    return Store(open_db(tmp_path / "archive.db"))


def count(store: Store, table: str) -> int:
    return store.db.execute(f"select count(*) from {table}").fetchone()[0]


def test_migrations_apply_twice_without_change(tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    applied = [m.name for m in migrations.applied(db)]
    db.conn.close()
    db = open_db(path)
    assert [m.name for m in migrations.applied(db)] == applied == [m.name for m in migrations._migrations]
    assert not migrations.pending(db)
    assert {"runs", "fetches", "bodies", "articles", "embeds", "posts", "post_checks", "links"} <= set(db.table_names())
    assert {"dark_posts", "embeds_status"} <= set(db.view_names())
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_not_sqlite_is_a_clear_error(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n")
    with pytest.raises(DatabaseError, match="is not a SQLite database"):
        open_db(bogus)
    with pytest.raises(DatabaseError, match="is a directory"):
        open_db(tmp_path)


def test_capture_with_redirect_is_stored_hop_by_hop_and_body_once(store):
    run = store.start_run(["archiver", "crawl"], {"concurrency": 1})
    cap = Capture("http://site.test/a", hops=(
        exchange("http://site.test/a", body=b"", status=301),
        exchange("https://site.test/a"),
    ))
    first = store.save_capture(cap, run, "article")
    second = store.save_capture(cap, run, "article")
    rows = list(store.db.query("select * from fetches order by id"))
    assert len(rows) == 4  # two captures, two hops each: exchanges are events, never merged
    final = store.db["fetches"].get(first)
    assert final["purpose"] == "article"
    assert final["url"] == "https://site.test/a" and final["requested_url"] == "http://site.test/a"
    assert json.loads(final["redirect_chain"]) == ["http://site.test/a", "https://site.test/a"]
    assert final["server_ip"] == "127.0.0.1" and final["status"] == 200
    assert ["host", "site.test"] in json.loads(final["request_headers"])
    hop = next(r for r in rows if r["purpose"] == "redirect" and r["parent_fetch_id"] == first)
    assert hop["status"] == 301 and hop["url"] == "http://site.test/a"
    # bodies are content-addressed: the page and the empty redirect body, each once
    assert count(store, "bodies") == 2
    body = store.db["bodies"].get(final["body_sha256"])
    assert body["compression"] == "zlib" and zlib.decompress(body["content"]) == cap.final.body
    assert body["media_type"] == "text/html"
    assert second != first


def test_credentials_are_never_stored(store):
    run = store.start_run(["archiver"], {})
    hop = exchange("https://graph.test/oembed", request_headers=(("authorization", "Bearer s3cret"),))
    fid = store.save_capture(Capture(hop.url, hops=(hop,)), run, "lookup", endpoint="instagram.oembed")
    assert json.loads(store.db["fetches"].get(fid)["request_headers"]) == [["authorization", "***"]]


def test_refused_capture_is_still_recorded(store):
    run = store.start_run(["archiver"], {})
    fid = store.save_capture(Capture("http://127.0.0.1/", hops=(), error="refused: loopback address"), run, "article")
    row = store.db["fetches"].get(fid)
    assert row["error"] == "refused: loopback address" and row["status"] is None and row["body_sha256"] is None


def test_extraction_resaved_adds_no_rows(store):
    run = store.start_run(["archiver"], {})
    article = store.article_id("https://site.test/story", "argument 1")
    assert store.article_id("https://site.test/story") == article
    posts = store.record_extraction(article, None, run, extraction(), seen_at="2026-11-24T10:00:00+00:00")
    store.record_extraction(article, None, run, extraction(), seen_at="2026-11-25T10:00:00+00:00")
    assert posts == [POST]
    assert (count(store, "embeds"), count(store, "links"), count(store, "posts")) == (1, 1, 1)
    embed = next(store.db.query("select * from embeds"))
    assert embed["first_seen"].startswith("2026-11-24") and embed["last_seen"].startswith("2026-11-25")
    assert embed["post_key"] == "twitter:1044502590266978309" and embed["extractor_version"]
    assert store.db["articles"].get(article)["title"] == "A story"
    assert [r["title"] for r in store.db.query("select title from articles_fts where articles_fts match 'story'")]


def test_checks_append_history_and_status_since_moves_only_on_change(store):
    run = store.start_run(["archiver"], {})
    store.save_check(POST, Check(Status.AVAILABLE, text="Hallo Welt", endpoint="twitter.syndication"), run, [], None)
    since = store.db["posts"].get(POST.key)["status_since"]
    store.save_check(POST, Check(Status.AVAILABLE, endpoint="twitter.syndication"), run, [], None)
    assert store.db["posts"].get(POST.key)["status_since"] == since
    store.save_check(POST, Check(Status.DELETED, detail="tombstone + oEmbed 404"), run, [], None)
    post = store.db["posts"].get(POST.key)
    assert post["status"] == "deleted" and post["status_since"] > since
    assert post["text"] == "Hallo Welt"  # what the platform once served is kept
    history = [r["status"] for r in store.db.query("select status from post_checks order by id")]
    assert history == ["available", "available", "deleted"]
    assert [r["key"] for r in store.db.query("select key from dark_posts")] == [POST.key]
    assert store.unchecked([POST.key, "twitter:1"]) == set()


def test_unchecked_answers_for_more_posts_than_sqlite_takes_parameters(store):
    """A re-extraction of a large archive asks about every post it saw (300,000 here; SQLite takes 250,000)."""
    run = store.start_run(["archiver"], {})
    never, checked = PostRef("twitter", "11", "https://twitter.com/a/status/11"), POST
    article = store.article_id("https://news.test/story", "argument 1")
    store.record_extraction(article, None, run, Extraction(embeds=(
        Embed("twitter", never, "blockquote", position=0), Embed("twitter", checked, "blockquote", position=1))))
    store.save_check(checked, Check(Status.AVAILABLE, endpoint="twitter.syndication"), run, [], None)
    keys = [f"twitter:{n}" for n in range(100, 300_100)] + [never.key, checked.key]
    assert store.unchecked(keys) == {never.key}


def test_run_record(store):
    run = store.start_run(["archiver", "crawl", "x"], {"concurrency": 4})
    store.finish_run(run, "completed", {"articles": 3})
    row = store.db["runs"].get(run)
    assert row["outcome"] == "completed" and json.loads(row["counts"]) == {"articles": 3}
    assert json.loads(row["command"]) == ["archiver", "crawl", "x"] and row["version"] and row["host"]
