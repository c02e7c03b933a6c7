"""Interrupted and killed runs, with a real subprocess and real signals; the run lock."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.store import open_db
from archiver.store.lock import RunLock

N = 24
TWEET = "1460323737035677698"


def page(n: int) -> bytes:
    return (f'<html><head><title>Story {n}</title></head><body><article><p>Story {n}.</p>'
            f'<blockquote class="twitter-tweet"><p lang="en">Shared post</p>&mdash; A (@a) '
            f'<a href="https://twitter.com/a/status/{TWEET}">May 1, 2021</a></blockquote>'
            f'<p><a href="https://example.org/{n}">source {n}</a></p></article></body></html>').encode()


@pytest.fixture
def slow_web(tmp_path):
    routes = [Route(f"https://slow.news.test/story/{n}", body=page(n), delay=0.25,
                    headers={"content-type": "text/html"}) for n in range(N)]
    routes.append(Route("https://cdn.syndication.twimg.com/tweet-result", headers={"content-type": "application/json"},
                        body=json.dumps({"__typename": "Tweet", "id_str": TWEET, "text": "Shared post",
                                         "user": {"screen_name": "a", "name": "A"}}).encode()))
    routes.append(Route("https://publish.twitter.com/oembed", headers={"content-type": "application/json"},
                        body=json.dumps({"author_name": "A", "url": f"https://twitter.com/a/status/{TWEET}"}).encode()))
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"https://slow.news.test/story/{n}\n" for n in range(N)))
    with Mirror(routes) as mirror:
        target = mirror.start()
        yield urls, target


def command(db: Path, urls: Path, target: str) -> list[str]:
    cmd = [sys.executable, "-m", "archiver", "crawl", "-i", str(urls), "--db", str(db), "--delay", "0",
           "--concurrency", "2"]
    for origin in ("https://slow.news.test", "https://cdn.syndication.twimg.com", "https://publish.twitter.com"):
        cmd += ["--connect-to", f"{origin}={target}"]
    return cmd


def done_items(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("select count(*) from queue where state = 'done'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


ENV = {**os.environ, "ARCHIVER_RETRIES": "0", "ARCHIVER_EXTRACT_WORKERS": "0"}


def test_sigkill_then_rerun_completes_with_nothing_lost_or_duplicated(tmp_path, slow_web):
    urls, target = slow_web
    db = tmp_path / "archive.db"
    first = subprocess.Popen(command(db, urls, target), env=ENV, stderr=subprocess.PIPE)
    wait_for(lambda: done_items(db) >= 4)
    first.kill()  # SIGKILL: no chance to clean up
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert 4 <= done_items(db) < N

    second = subprocess.run(command(db, urls, target), env=ENV, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    conn = open_db(db)
    assert conn.execute("select count(*) from articles").fetchone()[0] == N
    assert conn.execute("select count(*) from queue where state != 'done'").fetchone()[0] == 0
    # every article extracted exactly once into embeds and links, the shared post checked once
    assert conn.execute("select count(*) from embeds").fetchone()[0] == N
    assert conn.execute("select count(distinct article_id) from embeds").fetchone()[0] == N
    assert conn.execute("select count(*) from links").fetchone()[0] == 2 * N  # the status link and the source
    assert conn.execute("select count(*) from post_checks").fetchone()[0] == 1
    runs = [r["outcome"] for r in conn.query("select outcome from runs order by id")]
    assert runs == ["killed", "completed"]  # the next run closed the dead run's record


def test_sigterm_stops_gracefully_and_marks_the_run_interrupted(tmp_path, slow_web):
    urls, target = slow_web
    db = tmp_path / "archive.db"
    proc = subprocess.Popen(command(db, urls, target), env=ENV, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: done_items(db) >= 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    conn = open_db(db)
    run = conn.execute("select outcome, finished from runs").fetchone()
    assert run[0] == "interrupted" and run[1]
    states = dict(conn.execute("select state, count(*) from queue group by state").fetchall())
    assert states.get("done", 0) + states.get("pending", 0) == N and states.get("pending", 0) > 0
    # the items in flight finished: every done item has its article extracted
    assert conn.execute("select count(distinct article_id) from embeds").fetchone()[0] == states["done"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_whole_process_group_stops_gracefully_with_worker_processes(tmp_path, slow_web, sig):
    """Ctrl-C at a terminal, or systemd's default KillMode, signals every process of the crawl, workers included:
    the extraction and resolver processes leave the decision to the crawl, and the items in flight finish."""
    urls, target = slow_web
    db = tmp_path / "archive.db"
    env = {**os.environ, "ARCHIVER_RETRIES": "0", "ARCHIVER_EXTRACT_WORKERS": "1", "ARCHIVER_RESOLVER_PROCESS": "1"}
    proc = subprocess.Popen(command(db, urls, target), env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_for(lambda: done_items(db) >= 2)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    conn = open_db(db)
    states = dict(conn.execute("select state, count(*) from queue group by state").fetchall())
    assert states.get("failed", 0) == 0, conn.execute("select error from queue where state = 'failed'").fetchall()
    assert states.get("done", 0) + states.get("pending", 0) == N and states.get("pending", 0) > 0
    assert conn.execute("select count(distinct article_id) from embeds").fetchone()[0] == states["done"]


def test_a_second_run_on_a_busy_database_exits_3_naming_the_holder(tmp_path, capsys):
    db = tmp_path / "archive.db"
    lock = RunLock(db)
    lock.acquire("run 7 (pid 4242 on lab-server)")
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["crawl", "https://example.com/", "--db", str(db)])
    finally:
        lock.release()
    assert exit_.value.code == 3
    err = capsys.readouterr().err.strip()
    assert err == f"archiver: database {db} is busy: run 7 (pid 4242 on lab-server) holds it"
