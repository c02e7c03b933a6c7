"""Group commits (``Store.batched``), the paged queue, packed bodies and the narrowed FTS triggers."""

from __future__ import annotations

import sqlite3
import time
import zlib

import pytest

from archiver.models import Capture, Exchange
from archiver.sources import ArticleInput, Document
from archiver.store import Queue, Store, open_db, read_body
from archiver.store.queue import PAGE
from archiver.store.writer import pack_body


def exchange(url: str, body: bytes) -> Exchange:
    return Exchange(url=url, method="GET", started="2026-11-24T10:00:00+00:00", finished="2026-11-24T10:00:01+00:00",
                    duration_ms=1000.0, status=200, response_headers=(("content-type", "text/html"),), body=body)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "archive.db"


def on_disk(path, sql: str) -> int:
    """What another process would read now (a second connection sees committed data only)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_writes_in_a_batch_reach_disk_when_due_and_on_exit(path):
    store = Store(open_db(path))
    with store.batched(3600):  # never due during the test
        store.article_id("https://a.test/1")
        store.article_id("https://a.test/2")
        assert store.conn.execute("select count(*) from articles").fetchone()[0] == 2  # the writer sees them
        assert on_disk(path, "select count(*) from articles") == 0
    assert on_disk(path, "select count(*) from articles") == 2

    with store.batched(0.05):
        store.article_id("https://a.test/3")
        time.sleep(0.1)
        store.article_id("https://a.test/4")  # the unit that finds the batch due commits it, itself included
        assert on_disk(path, "select count(*) from articles") == 4
        store.article_id("https://a.test/5")
        assert on_disk(path, "select count(*) from articles") == 4


def test_a_batch_keeps_statement_journals_in_memory_and_puts_the_setting_back(path):
    store = Store(open_db(path))
    temp_store = lambda: store.conn.execute("pragma temp_store").fetchone()[0]  # noqa: E731
    assert temp_store() == 0  # default: as compiled (files)
    with store.batched(3600):
        assert temp_store() == 2  # memory: each savepoint's statement journal is not a file
        store.article_id("https://a.test/1")
    assert temp_store() == 0
    assert on_disk(path, "select count(*) from articles") == 1


def test_without_a_batch_every_unit_commits(path):
    store = Store(open_db(path))
    store.article_id("https://a.test/1")
    assert on_disk(path, "select count(*) from articles") == 1


def test_a_failed_unit_rolls_back_alone_and_the_batch_keeps_the_rest(path):
    store = Store(open_db(path))
    with store.batched(3600):
        store.article_id("https://a.test/kept")
        with pytest.raises(sqlite3.IntegrityError):
            with store.transaction():
                store.conn.execute("insert into articles (url, first_seen) values ('https://a.test/lost', 'x')")
                store.conn.execute("insert into articles (url, first_seen) values ('https://a.test/kept', 'x')")
        store.article_id("https://a.test/after")
    urls = [r[0] for r in sqlite3.connect(path).execute("select url from articles order by id")]
    assert urls == ["https://a.test/kept", "https://a.test/after"]


def test_an_exception_leaving_the_batch_still_commits_what_was_written(path):
    store = Store(open_db(path))
    with pytest.raises(RuntimeError):
        with store.batched(3600):
            store.article_id("https://a.test/fetched-before-the-fault")
            raise RuntimeError("a bug after the fetch")
    assert on_disk(path, "select count(*) from articles") == 1


def test_a_callers_transaction_is_left_to_the_caller(path):
    store = Store(open_db(path))
    with store.db.atomic():
        store.article_id("https://a.test/1")  # a savepoint in the caller's transaction, not a commit
        assert on_disk(path, "select count(*) from articles") == 0
    assert on_disk(path, "select count(*) from articles") == 1


def test_finish_run_reaches_disk_inside_a_batch(path):
    store = Store(open_db(path))
    run = store.start_run(["test"], {})
    with store.batched(3600):
        store.finish_run(run, "completed", {"articles": 0})
        assert on_disk(path, "select outcome from runs") == "completed"


def test_pending_reads_the_queue_a_page_at_a_time(path):
    store = Store(open_db(path))
    queue = Queue(store)
    doc = Document(body=b"<p>in hand</p>", media="html", origin="file")
    articles = [ArticleInput(f"https://a.test/{i}", "test") for i in range(7)]
    articles.append(ArticleInput("file:///tmp/page.html", "test", doc))
    queue.enqueue(articles, store.start_run(["test"], {}))
    items = queue.pending(page=3)
    first = next(items)
    queue.mark(first.id, "done", 1)  # marked while the next pages are still unread
    rest = list(items)
    assert [i.article.url for i in [first, *rest]] == [a.url for a in articles]
    assert rest[-1].article.document.body == b"<p>in hand</p>"
    assert [i.article.url for i in queue.pending(page=3)] == [a.url for a in articles[1:]]
    assert queue.has_pending()
    for item in queue.pending(page=3):
        queue.mark(item.id, "done", 1)
    assert not queue.has_pending() and list(queue.pending()) == []


def test_a_body_packed_elsewhere_is_stored_as_packed_and_reads_back(path):
    store = Store(open_db(path))
    run = store.start_run(["test"], {})
    raw = b"<html>" + b"a story " * 5000 + b"</html>"
    packed = pack_body(raw)
    assert packed.compression == "zlib" and zlib.decompress(packed.content) == raw
    fetch_id = store.save_capture(Capture("https://a.test/1", (exchange("https://a.test/1", raw),)), run, "article",
                                  packed=packed)
    sha = store.db.execute("select body_sha256 from fetches where id = ?", [fetch_id]).fetchone()[0]
    assert sha == packed.sha256
    assert store.db.execute("select content from bodies").fetchone()[0] == packed.content
    assert read_body(store.db, sha) == raw


def test_a_packing_that_does_not_match_the_body_is_not_trusted(path):
    store = Store(open_db(path))
    raw = b"<html>" + b"the real body " * 100 + b"</html>"
    other = pack_body(raw.replace(b"real", b"fake"))
    store.save_capture(Capture("https://a.test/1", (exchange("https://a.test/1", raw),)), store.start_run([], {}),
                       "article", packed=other)
    (sha,) = store.db.execute("select sha256 from bodies").fetchone()
    assert read_body(store.db, sha) == raw and sha == pack_body(raw).sha256


def test_fts_reindexes_a_row_only_when_an_indexed_column_changes(path):
    store = Store(open_db(path))
    article_id = store.article_id("https://a.test/1")
    conn = store.conn

    def rows_changed(sql: str) -> int:  # total_changes counts the rows the triggers write too
        before = conn.total_changes
        conn.execute(sql, [article_id])
        return conn.total_changes - before

    assert rows_changed("update articles set last_status = 200 where id = ?") == 1
    assert rows_changed("update articles set title = coalesce(null, title) where id = ?") == 1
    assert rows_changed("update articles set title = 'Ballots counted' where id = ?") > 1  # the index follows
    store.commit()
    found = store.db.execute("select rowid from articles_fts where articles_fts match 'ballots'").fetchall()
    assert found == [(article_id,)]


def test_a_batch_checkpoints_the_wal_from_its_own_thread_not_in_a_commit(path):
    """Inside a batch the writer never checkpoints; the committed pages still reach the database file."""
    import os
    import random

    store = Store(open_db(path))
    run_id = store.start_run(["test"], {})
    store.commit()
    size_before = os.path.getsize(path)
    noise = random.Random(7)
    with store.batched(0.05):
        assert store.conn.execute("pragma wal_autocheckpoint").fetchone()[0] == 0
        for n in range(40):  # ~2.6 MB of incompressible bodies: ~640 pages in the WAL
            body = noise.randbytes(64 * 1024)
            store.save_capture(Capture(f"https://a.test/{n}", (exchange(f"https://a.test/{n}", body),)), run_id,
                               "article")
            time.sleep(0.01)
        time.sleep(1.5)  # a few of the checkpointer's rounds (every 0.5 s)
        size_during = os.path.getsize(path)
    assert store.conn.execute("pragma wal_autocheckpoint").fetchone()[0] == 1000  # the writer's own, back
    assert size_during > size_before + 2_000_000  # the pages left the WAL for the file while the batch ran
    assert on_disk(path, "select count(*) from bodies") == 40


def test_a_wal_grown_past_the_limit_is_emptied_between_two_transactions(path, monkeypatch):
    """Passive checkpoints alone never restart the WAL while the writer keeps writing: the writer truncates it."""
    import os
    import random

    from archiver.store import db as dbmod

    monkeypatch.setattr(dbmod, "WAL_RESTART_BYTES", 1_000_000)
    store = Store(open_db(path))
    run_id = store.start_run(["test"], {})
    noise = random.Random(8)
    wal = f"{path}-wal"
    sizes = []
    with store.batched(0.05):
        for n in range(120):  # ~7.7 MB of incompressible bodies, written without pause between commits
            body = noise.randbytes(64 * 1024)
            store.save_capture(Capture(f"https://a.test/{n}", (exchange(f"https://a.test/{n}", body),)), run_id,
                               "article")
            time.sleep(0.005)
            sizes.append(os.path.getsize(wal))
        restarts = store._checkpointer.restarts
    assert restarts >= 1
    assert max(sizes) < 7_000_000  # never the whole run's worth of pages
    assert on_disk(path, "select count(*) from bodies") == 120


def test_enqueue_reads_a_stream_a_page_at_a_time_and_keeps_what_came_before_a_failure(path):
    store = Store(open_db(path))
    run = store.start_run(["test"], {})
    seen_on_disk: list[int] = []

    def stream():
        for i in range(2 * PAGE + 10):
            if i in (PAGE, 2 * PAGE):  # what another process sees as the reader reaches a page's end
                seen_on_disk.append(on_disk(path, "select count(*) from queue"))
            doc = Document(body=b"<p>%d</p>" % i, media="html", origin="warc")
            yield ArticleInput(f"https://a.test/{i}", "test.warc", doc)
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="went away"):
        Queue(store).enqueue(stream(), run)
    assert seen_on_disk == [PAGE, 2 * PAGE]  # each page committed before the next is read
    assert on_disk(path, "select count(*) from queue") == 2 * PAGE
    assert on_disk(path, "select count(*) from bodies") == 2 * PAGE


def test_enqueue_skips_what_is_pending_already_and_repeats_within_the_stream(path):
    store = Store(open_db(path))
    run = store.start_run(["test"], {})
    queue = Queue(store)
    assert queue.enqueue([ArticleInput("https://a.test/1", "test")], run) == 1
    again = (ArticleInput(f"https://a.test/{i % 3}", "test") for i in range(PAGE + 5))
    assert queue.enqueue(again, run) == 2  # /0 and /2; /1 was pending, and each repeat is skipped
    assert [i.article.url for i in queue.pending()] == ["https://a.test/1", "https://a.test/0", "https://a.test/2"]


def test_enqueue_gives_back_the_page_cache_it_widened(path):
    store = Store(open_db(path))
    store.db.conn.execute("pragma cache_size = -1234")
    Queue(store).enqueue((ArticleInput(f"https://a.test/{i}", "test") for i in range(3)), store.start_run(["t"], {}))
    assert store.db.conn.execute("pragma cache_size").fetchone()[0] == -1234
