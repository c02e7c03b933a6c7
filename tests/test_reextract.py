"""`archiver reextract`: today's extractors over stored bodies, nothing fetched but new posts.

The "older archiver" is played through the store's own API, as an older version
would have written the archive: the page is captured and its extraction stored
as an extractor that missed one tweet (an ``<amp-twitter>``) and took a share
link for a post (a false positive), labelled with an older version. Then the
real `archiver reextract` runs against a loopback mirror that can only answer
the lookups of the post nobody has checked yet.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from archiver import __version__
from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.models import Capture, Check, Embed, Exchange, Extraction, PostRef, Status
from archiver.reextract import run_reextract, stored_pages
from archiver.settings import Settings
from archiver.store import Store, open_db

SYN = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"
ARTICLE = "https://news.test/2026/05/story"
ORIGINS = ("https://news.test", "https://t.co", "https://cdn.syndication.twimg.com", "https://publish.twitter.com")
JS = {"content-type": "application/json"}
FOUND, MISSED, WRONG = "1700000000000000001", "1700000000000000002", "1700000000000000003"
OLD_VERSION = "0.0.1"

PAGE = f"""<!doctype html><html><head><title>Story</title></head><body><article>
<p>First the reaction:</p>
<blockquote class="twitter-tweet"><p lang="en">Polls are closed.</p>&mdash; Ana (@ana)
<a href="https://twitter.com/ana/status/{FOUND}">May 4, 2026</a></blockquote>
<p>Then the count:</p>
<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{MISSED}"></amp-twitter>
</article></body></html>""".encode()


def tweet_route(status_id: str, handle: str, text: str) -> Route:
    body = {"__typename": "Tweet", "id_str": status_id, "text": text, "lang": "en",
            "user": {"screen_name": handle, "name": handle.title(), "id_str": "3"}}
    return Route(f"{SYN}?id={status_id}", body=json.dumps(body).encode(), headers=JS)


def old_archive(path) -> None:
    """The archive an older extractor left: FOUND and a false positive WRONG, both checked; MISSED not seen."""
    store = Store(open_db(path))
    run = store.start_run(["archiver", "crawl", ARTICLE], {"note": "an older archiver"})
    article = store.article_id(ARTICLE, "argument 1")
    when = "2026-05-04T21:00:00.000000Z"
    capture = Capture(ARTICLE, (Exchange(ARTICLE, "GET", when, when, 12.0, status=200, body=PAGE,
                                         response_headers=(("content-type", "text/html; charset=utf-8"),)),))
    fetch = store.save_capture(capture, run, "article", article_id=article)
    store.record_article_fetch(article, fetch, capture)
    found = PostRef("twitter", FOUND, f"https://twitter.com/ana/status/{FOUND}")
    wrong = PostRef("twitter", WRONG, f"https://twitter.com/i/web/status/{WRONG}")
    store.record_extraction(article, fetch, run, Extraction(embeds=(
        Embed("twitter", found, "blockquote", position=0, author_handle="ana"),
        Embed("twitter", wrong, "link", position=1),
    ), title="Story"))
    for post in (found, wrong):
        store.save_check(post, Check(Status.AVAILABLE, "syndication returned the Tweet", 200, "twitter.syndication",
                                     text="Polls are closed."), run, [], None)
    store.finish_run(run, "completed", {})
    store.db.execute("update embeds set extractor_version = ?", [OLD_VERSION])  # the older version's label
    store.db.conn.commit()
    store.db.conn.close()


def archiver(*args: str, target: str, db) -> int:
    argv = list(args) + ["--db", str(db), "--delay", "0"]
    for origin in ORIGINS:
        argv += ["--connect-to", f"{origin}={target}"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    return exit_.value.code


def embeds(path) -> dict[str, dict]:
    return {r["embed_key"]: r for r in open_db(path).query("select * from embeds")}


def last_run(path) -> dict:
    row = next(open_db(path).query("select * from runs order by id desc limit 1"))
    return {**row, "counts": json.loads(row["counts"])}


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    path = tmp_path / "archive.db"
    old_archive(path)
    routes = [tweet_route(MISSED, "ben", "Counting has started."),
              Route(OEMBED, status=404, body=b'{"errors":[{"message":"Not Found"}]}', headers=JS)]
    with Mirror(routes) as mirror:  # no route for the article: fetching it would fail the test
        target = mirror.start()
        yield mirror, (lambda *args: archiver(*args, target=target, db=path)), path


def test_reextract_updates_adds_retracts_and_checks_only_new_posts(study):
    mirror, run, path = study
    before = embeds(path)
    article = next(open_db(path).query("select * from articles"))

    assert run("reextract") == 0
    hosts = sorted({r.host.split(":")[0] for r in mirror.requests})
    assert hosts == ["cdn.syndication.twimg.com", "publish.twitter.com"]  # the new post's lookups, nothing else
    assert all(MISSED in r.path for r in mirror.requests)

    after = embeds(path)
    report = last_run(path)
    assert report["outcome"] == "completed"
    found = after[f"twitter:{FOUND}"]
    assert found["extractor_version"] == __version__ and found["retracted_run_id"] is None
    assert found["fallback_text"] == "Polls are closed."  # what the current extractor reads, updated in place
    assert (found["first_seen"], found["last_seen"], found["run_id"]) == (
        before[f"twitter:{FOUND}"]["first_seen"], before[f"twitter:{FOUND}"]["last_seen"], 1)
    missed = after[f"twitter:{MISSED}"]
    assert (missed["kind"], missed["run_id"], missed["extractor_version"]) == ("amp", report["id"], __version__)
    assert missed["first_seen"] == missed["last_seen"] == article["last_extracted"]  # as old as the bytes
    wrong = after[f"twitter:{WRONG}"]
    assert wrong["retracted_run_id"] == report["id"] and wrong["extractor_version"] == OLD_VERSION
    assert {k: report["counts"][k] for k in ("reextracted", "embeds", "new_embeds", "retracted", "posts_new",
                                             "posts_checked")} == {
        "reextracted": 1, "embeds": 2, "new_embeds": 1, "retracted": 1, "posts_new": 1, "posts_checked": 1}
    db = open_db(path)
    assert db["posts"].get(f"twitter:{MISSED}")["status"] == "available"
    liveness = next(db.query("select * from embed_liveness_by_article"))
    assert (liveness["embeds"], liveness["available"], liveness["removed"]) == (2, 2, 0)  # the retracted one is out

    # again: the same extractor over the same bytes changes nothing and asks nobody
    mirror.clear_requests()
    assert run("reextract") == 0
    assert mirror.requests == []
    assert embeds(path) == after
    counts = last_run(path)["counts"]
    assert (counts["new_embeds"], counts["retracted"], counts.get("posts_checked", 0)) == (0, 0, 0)


def test_platform_and_since_limit_what_is_touched(study, capsys):
    mirror, run, path = study
    before = embeds(path)
    assert run("reextract", "--platform", "youtube") == 0
    assert embeds(path) == before and mirror.requests == []  # no twitter embed judged, none added

    assert run("reextract", "--since", "2999-01-01") == 0
    assert last_run(path)["counts"].get("reextracted", 0) == 0 and embeds(path) == before

    assert run("reextract", "--since", "2026-05-04T20:00:00Z", "--platform", "twitter") == 0
    assert last_run(path)["counts"]["reextracted"] == 1 and f"twitter:{MISSED}" in embeds(path)

    assert run("reextract", "--since", "last tuesday") == 2
    assert "--since: 'last tuesday' is not a date" in capsys.readouterr().err


def test_text_embeds_resolve_through_stored_redirects_only(tmp_path, monkeypatch):
    """A crawl followed t.co once; reextract reads that redirect from the archive and asks nobody."""
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    path = tmp_path / "archive.db"
    text = ("The minister resigned this morning.\n"
            "I have today offered my resignation to the Prime Minister https://t.co/Xy12AbCd9e\n"
            "\u2014 Jo Minister (@jo_minister) May 5, 2026\n"
            "Reactions followed.\n")
    target_url = f"https://twitter.com/jo_minister/status/{FOUND}"
    routes = [
        Route("https://news.test/text", body=text.encode(), headers={"content-type": "text/plain; charset=utf-8"}),
        Route("https://t.co/Xy12AbCd9e", status=301, headers={"Location": target_url}),
        Route(target_url, body=b"<html></html>", headers={"content-type": "text/html"}),
        tweet_route(FOUND, "jo_minister", "I have today offered my resignation"),
        Route(OEMBED, status=404, body=b'{"errors":[{"message":"Not Found"}]}', headers=JS),
    ]
    with Mirror(routes) as mirror:
        target = mirror.start()
        extra = ["--connect-to", f"https://twitter.com={target}"]
        assert archiver("crawl", "https://news.test/text", *extra, target=target, db=path) == 0
        before = embeds(path)
        assert list(before) == [f"twitter:{FOUND}"] and before[f"twitter:{FOUND}"]["kind"] == "text"
        mirror.clear_requests()
        assert archiver("reextract", *extra, target=target, db=path) == 0
        assert mirror.requests == []
    assert embeds(path) == before  # still one embed, attached to its post, never a text: duplicate
    assert last_run(path)["counts"].get("short_links_unresolved", 0) == 0


def fetched_articles(tmp_path, bodies: list[bytes | None]) -> Store:
    """An archive whose articles https://news.test/N were fetched with these bodies (None: never fetched)."""
    store = Store(open_db(tmp_path / "archive.db"))
    run = store.start_run(["archiver", "crawl"], {})
    when = "2026-05-04T21:00:00.000000Z"
    for n, body in enumerate(bodies):
        url = f"https://news.test/{n}"
        article = store.article_id(url, "argument 1")
        if body is None:
            continue
        capture = Capture(url, (Exchange(url, "GET", when, when, 1.0, status=200, body=body,
                                         response_headers=(("content-type", "text/html"),)),))
        store.record_article_fetch(article, store.save_capture(capture, run, "article", article_id=article), capture)
    return store


def test_stored_pages_reads_the_articles_a_page_at_a_time(tmp_path):
    # the fourth never fetched: counted as a page without a body
    store = fetched_articles(tmp_path, [b"<p>%d</p>" % n if n != 3 else None for n in range(5)])
    whole = [(p.article_id, p.url, p.body_sha256 != "") for p in stored_pages(store)]
    assert [(p.article_id, p.url, p.body_sha256 != "") for p in stored_pages(store, page=2)] == whole
    assert [url for _, url, _ in whole] == [f"https://news.test/{n}" for n in range(5)]
    assert [has_body for _, _, has_body in whole] == [True, True, True, False, True]


def test_reextract_commits_its_articles_together_each_one_atomic(tmp_path):
    store = fetched_articles(tmp_path, [b'<p>See <a href="https://example.org/source-%d">the source</a>.</p>' % n
                                        for n in range(30)])
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    report = run_reextract(Settings(extract_workers=0), store, ["archiver", "reextract"])
    store.conn.set_trace_callback(None)
    assert report.outcome == "completed" and report.counts["reextracted"] == 30
    assert store.db.execute("select count(distinct article_id) from links").fetchone()[0] == 30
    commits = [s for s in statements if s.strip().lower() == "commit"]
    assert len(commits) <= 5  # one per article (30) when each article was its own transaction
    assert any(s.startswith("savepoint") for s in statements)  # each article still one atomic unit


def test_an_interrupted_reextract_keeps_the_articles_it_finished(tmp_path):
    path = tmp_path / "archive.db"
    store = fetched_articles(tmp_path, [b'<p><a href="https://example.org/source-%d">source</a></p>' % n
                                        for n in range(20)])
    done = []

    def after_article() -> None:  # SIGINT, as a user's Ctrl-C, once five articles are re-extracted
        done.append(1)
        if len(done) == 5:
            os.kill(os.getpid(), signal.SIGINT)

    report = run_reextract(Settings(extract_workers=0), store, ["archiver", "reextract"], on_article=after_article)
    assert report.outcome == "interrupted" and report.counts["reextracted"] == 5
    other = open_db(path)  # what another connection sees: the batch was committed, not left open
    assert other.execute("select count(distinct article_id) from links").fetchone()[0] == 5
    assert other.execute("select outcome from runs order by id desc limit 1").fetchone()[0] == "interrupted"
