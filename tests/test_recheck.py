"""`archiver recheck`: which posts are due, transitions (and back), errors, versions, the migration.

Every test crawls a small loopback web first (a real `archiver crawl`), changes
what the mirror answers, and runs the real `archiver recheck` against it.
"""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.store import open_db
from archiver.store.history import content_digest
from archiver.store.schema import migrations

SYN = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"
ARTICLE = "https://news.test/story"
ORIGINS = ("https://news.test", "https://cdn.syndication.twimg.com", "https://publish.twitter.com")
JS = {"content-type": "application/json"}
FIRST, SECOND = "1600000000000000001", "1600000000000000002"
HANDLES = {FIRST: "ana", SECOND: "ben"}
NOT_FOUND = b'{"errors":[{"message":"Not Found"}]}'


def quote(status_id: str, text: str) -> str:
    handle = HANDLES[status_id]
    return (f'<blockquote class="twitter-tweet"><p>{text}</p>&mdash; {handle} (@{handle}) '
            f'<a href="https://twitter.com/{handle}/status/{status_id}">May 1, 2026</a></blockquote>')


def tweet(status_id: str, text: str, edit_ids: tuple[str, ...] = ()) -> Route:
    handle = HANDLES[status_id]
    data = {"__typename": "Tweet", "id_str": status_id, "text": text, "lang": "en",
            "user": {"screen_name": handle, "name": handle.title(), "id_str": "7"},
            "edit_control": {"edit_tweet_ids": list(edit_ids or (status_id,))}}
    return Route(f"{SYN}?id={status_id}", body=json.dumps(data).encode(), headers=JS)


def oembed(status_id: str, status: int = 200, text: str | None = None) -> Route:
    url = f"https://twitter.com/{HANDLES[status_id]}/status/{status_id}"
    body = NOT_FOUND if status == 404 else json.dumps({
        "url": url, "author_name": HANDLES[status_id], "author_url": f"https://twitter.com/{HANDLES[status_id]}",
        "html": f"<blockquote class=\"twitter-tweet\"><p lang=\"en\">{text}</p></blockquote>"}).encode()
    return Route(f"{OEMBED}?url={url}", status=status, body=body, headers=JS)


def web() -> Mirror:
    page = f"<html><body><article>{quote(FIRST, 'One.')}{quote(SECOND, 'Two.')}</article></body></html>"
    return Mirror([
        Route(ARTICLE, body=page.encode(), headers={"content-type": "text/html"}),
        tweet(FIRST, "One."), tweet(SECOND, "Two."),
        Route(OEMBED, status=404, body=NOT_FOUND, headers=JS),
    ])


def archiver(*args: str, target: str, db) -> int:
    argv = list(args) + ["--db", str(db), "--delay", "0"]
    for origin in ORIGINS:
        argv += ["--connect-to", f"{origin}={target}"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    return exit_.value.code


@pytest.fixture
def study(tmp_path, monkeypatch):
    """A crawled archive and its mirror: (mirror, run(*args) -> exit code, db path)."""
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    path = tmp_path / "archive.db"
    with web() as mirror:
        target = mirror.start()
        assert archiver("crawl", ARTICLE, target=target, db=path) == 0
        mirror.clear_requests()
        yield mirror, (lambda *args: archiver(*args, target=target, db=path)), path


def last_run(path) -> dict:
    row = next(open_db(path).query("select * from runs order by id desc limit 1"))
    return {**row, "counts": json.loads(row["counts"])}


def test_which_posts_are_due(study, capsys):
    mirror, run, path = study
    assert run("recheck") == 0  # both were checked moments ago: nothing is older than 20h
    assert mirror.requests == [] and last_run(path)["counts"]["posts_due"] == 0
    assert run("recheck", "--older-than", "0s", "--limit", "1") == 0
    assert last_run(path)["counts"]["posts_checked"] == 1 and len(mirror.requests) == 2
    assert run("recheck", "--older-than", "30m", "--platform", "twitter") == 0
    assert last_run(path)["counts"]["posts_due"] == 0
    assert run("recheck", "--older-than", "0s", "--platform", "youtube") == 0
    assert last_run(path)["counts"]["posts_due"] == 0
    # the post not checked by the --limit 1 run is now the longest unchecked: it comes first
    checked = {r[0] for r in open_db(path).execute("select post_key from post_checks where run_id = 3")}
    assert run("recheck", "--older-than", "0s", "--limit", "1") == 0
    assert {r[0] for r in open_db(path).execute(
        "select post_key from post_checks where run_id = (select max(id) from runs)")} != checked
    assert "recheck run" in capsys.readouterr().err

    assert run("recheck", "--platform", "myspace") == 2
    assert "unknown platform 'myspace' (known: bluesky" in capsys.readouterr().err
    assert run("recheck", "--older-than", "3 fortnights") == 2
    assert "--older-than: '3 fortnights' is not a duration" in capsys.readouterr().err


def test_dark_and_back_and_errors_never_count(study, capsys):
    mirror, run, path = study
    first = f"twitter:{FIRST}"

    def states() -> tuple[str, list[tuple], list[str]]:
        db = open_db(path)
        status = db.execute("select status from posts where key = ?", [first]).fetchone()[0]
        moves = [tuple(r) for r in db.execute(
            "select from_status, to_status from post_transitions where post_key = ? order by id", [first])]
        return status, moves, [r[0] for r in db.execute("select post_key from posts_gone_dark")]

    # a failing night: 500 from both sources is an error check, never a change of status
    mirror.set(Route(f"{SYN}?id={FIRST}", status=500, body=b"oops"))
    mirror.set(Route(OEMBED, status=500, body=b"oops"))
    assert run("recheck", "--older-than", "0s", "--fail") == 1
    assert f"failed {first}: request failed" in capsys.readouterr().err
    assert states() == ("available", [(None, "available")], [])
    assert open_db(path).execute("select status from post_checks where post_key = ? order by id desc limit 1",
                                 [first]).fetchone()[0] == "error"

    # deleted: tombstone and oEmbed 404
    mirror.set(Route(f"{SYN}?id={FIRST}", body=b'{"__typename":"TweetTombstone","tombstone":{"text":'
                                             b'{"text":"This Post was deleted by the Post author."}}}'))
    mirror.set(Route(OEMBED, status=404, body=NOT_FOUND, headers=JS))
    assert run("recheck", "--older-than", "0s") == 0
    assert states() == ("deleted", [(None, "available"), ("available", "deleted")], [first])

    # another failing night keeps it deleted, and in posts_gone_dark
    mirror.set(Route(f"{SYN}?id={FIRST}", status=500, body=b"oops"))
    mirror.set(Route(OEMBED, status=500, body=b"oops"))
    assert run("recheck", "--older-than", "0s") == 0
    assert states() == ("deleted", [(None, "available"), ("available", "deleted")], [first])

    # ... and back: the author restored it
    mirror.set(tweet(FIRST, "One."))
    mirror.set(Route(OEMBED, status=404, body=NOT_FOUND, headers=JS))
    assert run("recheck", "--older-than", "0s") == 0
    assert states() == ("available", [(None, "available"), ("available", "deleted"), ("deleted", "available")], [])
    db = open_db(path)
    assert db.execute("select count(*) from post_checks where post_key = ?", [first]).fetchone()[0] == 5
    assert db.execute("select count(*) from post_versions where post_key = ?", [first]).fetchone()[0] == 1
    report = last_run(path)
    assert report["outcome"] == "completed" and report["counts"]["status_changes"] == 1


def test_versions_compare_like_with_like(study):
    mirror, run, path = study
    second = f"twitter:{SECOND}"

    def versions() -> list[tuple]:
        return [tuple(r) for r in open_db(path).execute(
            "select version, text, edit_ids, endpoint from post_versions where post_key = ? order by version",
            [second])]

    # syndication does not know it any more; oEmbed serves it, its text rendered differently:
    # not an edit (two endpoints are not compared), the version is only seen again
    mirror.set(Route(f"{SYN}?id={SECOND}", status=404, body=b""))
    mirror.set(oembed(SECOND, text="Two. pic.twitter.com/abc"))
    assert run("recheck", "--older-than", "0s") == 0
    assert versions() == [(1, "Two.", json.dumps([SECOND]), "twitter.syndication")]
    db = open_db(path)
    seen = db.execute("select first_seen, last_seen from post_versions where post_key = ?", [second]).fetchone()
    assert seen[1] > seen[0]

    # an edit: new text and a new edit id, from the endpoint that gave version 1
    edit = "1600000000000000077"
    mirror.set(tweet(SECOND, "Two, corrected.", (SECOND, edit)))
    assert run("recheck", "--older-than", "0s") == 0
    assert versions() == [(1, "Two.", json.dumps([SECOND]), "twitter.syndication"),
                          (2, "Two, corrected.", json.dumps([SECOND, edit]), "twitter.syndication")]
    row = next(open_db(path).query("select * from post_versions where post_key = ? and version = 2", [second]))
    assert row["content_sha256"] == content_digest("Two, corrected.", [SECOND, edit])
    # seen again unchanged: no third version
    assert run("recheck", "--older-than", "0s") == 0
    assert len(versions()) == 2


def test_a_version_first_seen_through_oembed_is_completed_not_superseded(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    path = tmp_path / "archive.db"
    with web() as mirror:
        target = mirror.start()
        mirror.set(Route(f"{SYN}?id={FIRST}", status=404, body=b""))  # syndication does not answer for it yet
        mirror.set(oembed(FIRST, text="One. pic.twitter.com/xyz"))
        assert archiver("crawl", ARTICLE, target=target, db=path) == 0
        mirror.set(tweet(FIRST, "One. https://t.co/xyz"))
        assert archiver("recheck", "--older-than", "0s", target=target, db=path) == 0
        mirror.set(tweet(FIRST, "One, edited.", (FIRST, "1600000000000000055")))
        assert archiver("recheck", "--older-than", "0s", target=target, db=path) == 0
    rows = [tuple(r) for r in open_db(path).execute(
        "select version, text, edit_ids, endpoint from post_versions where post_key = ? order by version",
        [f"twitter:{FIRST}"])]
    assert rows == [(1, "One. https://t.co/xyz", json.dumps([FIRST]), "twitter.syndication"),
                    (2, "One, edited.", json.dumps([FIRST, "1600000000000000055"]), "twitter.syndication")]


def test_migration_builds_the_history_of_older_archives(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m003_history")  # an archive made before the history existed
    db["runs"].insert({"id": 1, "started": "2026-01-01T00:00:00+00:00", "outcome": "completed"})
    db["posts"].insert({"key": "twitter:5", "platform": "twitter", "post_id": "5", "text": "Hello",
                        "edit_ids": '["5"]', "status": "error", "status_detail": "rate limited"})
    for n, (day, status) in enumerate([("01", "available"), ("02", "available"), ("03", "deleted"),
                                       ("04", "error")], 1):
        db["post_checks"].insert({"id": n, "post_key": "twitter:5", "run_id": 1, "status": status,
                                  "checked_at": f"2026-01-{day}T00:00:00+00:00", "endpoint": "twitter.syndication",
                                  "detail": f"check {n}"})
    db.conn.close()

    archive = open_db(path)  # migrates
    assert [tuple(r) for r in archive.execute("select from_status, to_status, at, check_id from post_transitions")] == [
        (None, "available", "2026-01-01T00:00:00+00:00", 1),
        ("available", "deleted", "2026-01-03T00:00:00+00:00", 3),
    ]
    post = archive["posts"].get("twitter:5")
    assert (post["status"], post["status_detail"], post["status_since"]) == (
        "deleted", "check 3", "2026-01-03T00:00:00+00:00")
    version = next(archive.query("select * from post_versions"))
    assert (version["version"], version["text"], version["first_seen"], version["last_seen"], version["check_id"],
            version["last_check_id"]) == (1, "Hello", "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00",
                                         1, 2)
    assert [r["post_key"] for r in archive.query("select * from posts_gone_dark")] == ["twitter:5"]
    archive.conn.close()
    again = open_db(path)  # applying the migrations again changes nothing
    assert again.execute("select count(*) from post_transitions").fetchone()[0] == 2
    assert again.execute("select count(*) from post_versions").fetchone()[0] == 1
