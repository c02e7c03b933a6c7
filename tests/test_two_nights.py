"""Issue 4's done-when test: a two-night study over loopback shows exactly what changed.

Night one (``archiver crawl``) archives three articles on two sites whose seven
tweets are all available. Then a day passes: the archive is aged by 24 hours
(every stored time moved back, as if night one had run yesterday; the clock is
the one thing a test cannot wait for), and the web changes: one tweet is deleted
(syndication tombstone, oEmbed 404), one protected (oEmbed 403), one returns 404
from both sources, one is edited (new text, ``edit_tweet_ids`` grows) and one
embed is removed from its article. Night two is what cron would run:
``archiver recheck`` with its default (posts checked more than 20 hours ago) and
a second ``archiver crawl`` (pages fetched more than 20 hours ago are fetched
again). The views must show exactly those changes, and nothing else may change.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

import pytest

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.store import open_db

SYN = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"
ORIGINS = ("https://site1.news.test", "https://site2.news.test", "https://cdn.syndication.twimg.com",
           "https://publish.twitter.com")
JS = {"content-type": "application/json"}
PAGE = {"content-type": "text/html; charset=utf-8"}

# name -> (status id, handle, text)
TWEETS = {
    "deleted": ("1500000000000000001", "alice", "The bridge is closed in both directions."),
    "protected": ("1500000000000000002", "bob", "Queues at the border since six this morning."),
    "gone": ("1500000000000000003", "carol", "Polling stations open until eight."),
    "edited": ("1500000000000000004", "dana", "Turnout at noon: 31 per cent."),
    "kept": ("1500000000000000005", "erin", "Results expected after midnight."),
    "unembedded": ("1500000000000000006", "frank", "A correction to our earlier figures."),
    "steady": ("1500000000000000007", "gina", "Counting has started in the capital."),
}
EDIT_ID, EDITED_TEXT = "1500000000000000099", "Turnout at noon: 32 per cent (corrected)."
ONE, TWO, THREE = ("https://site1.news.test/politics/one", "https://site1.news.test/politics/two",
                   "https://site2.news.test/world/three")


def key(name: str) -> str:
    return f"twitter:{TWEETS[name][0]}"


def blockquote(name: str) -> str:
    status_id, handle, text = TWEETS[name]
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; {handle.title()} '
            f'(@{handle}) <a href="https://twitter.com/{handle}/status/{status_id}">March 3, 2026</a></blockquote>')


def page(title: str, *parts: str) -> bytes:
    body = "\n".join(f"<p>Paragraph {n} of the story.</p>\n{part}" for n, part in enumerate(parts))
    return (f"<!doctype html><html lang=en><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{body}<script async src=\"https://platform.twitter.com/widgets.js\"></script></article></body></html>"
            ).encode()


def tweet(name: str, text: str | None = None, edit_ids: tuple[str, ...] = ()) -> Route:
    status_id, handle, original = TWEETS[name]
    data = {"__typename": "Tweet", "id_str": status_id, "lang": "en", "created_at": "2026-03-03T10:00:00.000Z",
            "text": text or original, "user": {"id_str": "99", "name": handle.title(), "screen_name": handle},
            "edit_control": {"edit_tweet_ids": list(edit_ids or (status_id,)), "editable_until_msecs": "0"},
            "favorite_count": 3}
    return Route(f"{SYN}?id={status_id}", body=json.dumps(data).encode(), headers=JS)


def oembed(name: str, status: int = 200, body: bytes | None = None) -> Route:
    status_id, handle, text = TWEETS[name]
    url = f"https://twitter.com/{handle}/status/{status_id}"
    if body is None:
        body = json.dumps({"url": url, "author_name": handle.title(), "author_url": f"https://twitter.com/{handle}",
                           "html": f"<blockquote class=\"twitter-tweet\"><p lang=\"en\">{text}</p></blockquote>",
                           "type": "rich", "provider_name": "X"}).encode()
    return Route(f"{OEMBED}?url={url}", status=status, body=body, headers=JS)


def night_one_web() -> list[Route]:
    routes = [
        Route(ONE, body=page("One", blockquote("deleted"), blockquote("edited"), blockquote("kept")), headers=PAGE),
        Route(TWO, body=page("Two", blockquote("protected"), blockquote("unembedded")), headers=PAGE),
        Route(THREE, body=page("Three", f'<p>As <a href="https://x.com/carol/status/{TWEETS["gone"][0]}">carol '
                                        f'wrote</a>.</p>', blockquote("kept"), blockquote("steady")), headers=PAGE),
        Route(OEMBED, status=404, body=b'{"errors":[{"message":"Not Found"}]}', headers=JS),
    ]
    for name in TWEETS:
        routes += [tweet(name), oembed(name)]
    return routes


def night_two_changes(mirror: Mirror) -> None:
    deleted, protected, gone = TWEETS["deleted"][0], TWEETS["protected"][0], TWEETS["gone"][0]
    tombstone = {"__typename": "TweetTombstone",
                 "tombstone": {"text": {"text": "This Post was deleted by the Post author. Learn more"}}}
    mirror.set(Route(f"{SYN}?id={deleted}", body=json.dumps(tombstone).encode(), headers=JS))
    mirror.set(oembed("deleted", 404, b'{"errors":[{"message":"Not Found"}]}'))
    mirror.set(Route(f"{SYN}?id={protected}", body=b'{"__typename":"TweetUnavailable"}', headers=JS))
    mirror.set(oembed("protected", 403, b'{"error":"Sorry, you are not authorized to see this status."}'))
    mirror.set(Route(f"{SYN}?id={gone}", status=404, headers=JS))
    mirror.set(oembed("gone", 404, b'{"errors":[{"message":"Not Found"}]}'))
    mirror.set(tweet("edited", EDITED_TEXT, (TWEETS["edited"][0], EDIT_ID)))
    mirror.set(Route(TWO, body=page("Two", blockquote("protected")), headers=PAGE))


def archiver(*args: str, target: str) -> int:
    argv = list(args) + ["--delay", "0"]
    for origin in ORIGINS:
        argv += ["--connect-to", f"{origin}={target}"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    return exit_.value.code


STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)$")  # exchanges use Z


def age(path, hours: float) -> None:
    """Move every stored time back by ``hours``: the archive as it would be had its runs been that long ago."""
    db = open_db(path)
    tables = [t for t in db.table_names() if not t.startswith("_") and "_fts" not in t]
    with db.atomic():
        for table in tables:
            text_columns = [c.name for c in db[table].columns if c.type == "TEXT"]
            for column in text_columns:
                rows = db.execute(f"select rowid, [{column}] from [{table}] where [{column}] like '____-__-__T%'")
                for rowid, value in rows.fetchall():
                    if STAMP.match(value):
                        moved = (datetime.fromisoformat(value) - timedelta(hours=hours)).isoformat(
                            timespec="microseconds")
                        moved = moved.replace("+00:00", "Z") if value.endswith("Z") else moved
                        db.execute(f"update [{table}] set [{column}] = ? where rowid = ?", [moved, rowid])
    db.conn.close()


def snapshot(path) -> dict:
    db = open_db(path)
    state = {
        "posts": {r["key"]: r for r in db.query(
            "select key, url, author_handle, text, edit_ids, status, first_seen, last_checked from posts")},
        "embeds": {(r["article_url"], r["embed_key"]): r for r in db.query(
            """select a.url as article_url, e.embed_key, e.kind, e.position, e.fallback_text, e.first_seen,
                      e.last_seen, e.retracted_run_id from embeds e join articles a on a.id = e.article_id""")},
        "articles": {r["url"]: r for r in db.query("select url, title, first_seen, last_fetched from articles")},
        "links": {(r["article_id"], r["normalized_url"]) for r in db.query("select * from links")},
        "transitions": [tuple(r) for r in db.execute(
            "select post_key, from_status, to_status, at from post_transitions order by id")],
        "versions": [r for r in db.query("select * from post_versions order by post_key, version")],
        "checks": db.execute("select count(*) from post_checks").fetchone()[0],
    }
    db.conn.close()
    return state


def test_two_nights(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    path = tmp_path / "study.db"
    with Mirror(night_one_web()) as mirror:
        target = mirror.start()

        started = time.monotonic()
        assert archiver("crawl", ONE, TWO, THREE, "--db", str(path), target=target) == 0
        night_one = time.monotonic() - started
        requests_one = len(mirror.requests)

        first = snapshot(path)
        assert {k: p["status"] for k, p in first["posts"].items()} == {key(n): "available" for n in TWEETS}
        assert len(first["embeds"]) == 8 and first["checks"] == 7

        age(path, 24)
        before = snapshot(path)
        night_two_changes(mirror)
        mirror.clear_requests()
        night_two_start = datetime.now().astimezone().isoformat(timespec="microseconds")

        started = time.monotonic()
        report = tmp_path / "recheck.json"
        assert archiver("recheck", "--db", str(path), "--report", str(report), target=target) == 0
        rechecked = time.monotonic() - started
        assert archiver("crawl", ONE, TWO, THREE, "--db", str(path), target=target) == 0
        night_two = time.monotonic() - started
        requests_two = len(mirror.requests)

    after = snapshot(path)
    db = open_db(path)

    # -- the recheck's own account -----------------------------------------------------------
    recheck = json.loads(report.read_text())
    assert recheck["outcome"] == "completed" and recheck["counts"]["posts_checked"] == 7
    assert sorted((c["post_key"], c["from"], c["to"]) for c in recheck["changes"]) == sorted([
        (key("deleted"), "available", "deleted"), (key("protected"), "available", "protected"),
        (key("gone"), "available", "not_found")])
    assert recheck["counts"]["new_versions"] == 1
    assert [r["outcome"] for r in db.query("select outcome from runs order by id")] == ["completed"] * 3

    # -- posts_gone_dark: exactly the three, with how and when -------------------------------
    dark = {r["post_key"]: r for r in db.query("select * from posts_gone_dark")}
    assert {k: (r["from_status"], r["went_to"], r["status"]) for k, r in dark.items()} == {
        key("deleted"): ("available", "deleted", "deleted"),
        key("protected"): ("available", "protected", "protected"),
        key("gone"): ("available", "not_found", "not_found"),
    }
    for row in dark.values():
        assert row["went_dark_at"] > night_two_start > row["last_live_check_at"]
        assert row["embedded_in"] == 1 and row["how"]

    # -- post_versions: the edited post has two versions, the old one kept -------------------
    edited = [r for r in after["versions"] if r["post_key"] == key("edited")]
    assert [(v["version"], v["text"], json.loads(v["edit_ids"])) for v in edited] == [
        (1, TWEETS["edited"][2], [TWEETS["edited"][0]]),
        (2, EDITED_TEXT, [TWEETS["edited"][0], EDIT_ID]),
    ]
    assert edited[0]["last_seen"] < night_two_start < edited[1]["first_seen"]
    others = [r for r in after["versions"] if r["post_key"] != key("edited")]
    assert sorted(r["post_key"] for r in others) == sorted(key(n) for n in TWEETS if n != "edited")
    assert all(r["version"] == 1 for r in others)

    # -- embeds: the removed one stopped at night one, every other one moved -----------------
    removed = (TWO, key("unembedded"))
    assert set(after["embeds"]) == set(before["embeds"])
    assert after["embeds"][removed]["last_seen"] == before["embeds"][removed]["last_seen"] < night_two_start
    for ident, row in after["embeds"].items():
        assert row["first_seen"] == before["embeds"][ident]["first_seen"]
        if ident != removed:
            assert row["last_seen"] > night_two_start, ident
    assert [r["post_key"] for r in db.query("select post_key from embeds_removed")] == [key("unembedded")]

    # -- the liveness views -------------------------------------------------------------------
    liveness = {r["article_url"]: (r["embeds"], r["available"], r["dark"], r["unchecked"], r["undetermined"],
                                   r["removed"]) for r in db.query("select * from embed_liveness_by_article")}
    assert liveness == {ONE: (3, 2, 1, 0, 0, 0), TWO: (1, 0, 1, 0, 0, 1), THREE: (3, 2, 1, 0, 0, 0)}
    yesterday = before["transitions"][0][3][:10]
    today = after["transitions"][-1][3][:10]
    by_day = {(r["site"], r["day"]): (r["embeds"], r["available"], r["dark"], r["unchecked"])
              for r in db.query("select * from embed_liveness_by_site_day")}
    assert by_day == {
        ("site1.news.test", yesterday): (5, 5, 0, 0),
        ("site1.news.test", today): (5, 3, 2, 0),  # the removed embed still counts: its post is alive
        ("site2.news.test", yesterday): (3, 3, 0, 0),
        ("site2.news.test", today): (3, 2, 1, 0),
    }

    # -- and nothing else changed ---------------------------------------------------------------
    changed = {k for k in after["posts"] if after["posts"][k] != before["posts"][k]}
    assert changed == set(after["posts"])  # every post was checked again (last_checked moved) ...
    for k, post in after["posts"].items():  # ... but only these changed in substance
        was = before["posts"][k]
        same = {f: post[f] == was[f] for f in ("url", "author_handle", "text", "edit_ids", "status", "first_seen")}
        if k in (key("deleted"), key("protected"), key("gone")):
            assert not same.pop("status") and all(same.values()), k  # the old text is kept
        elif k == key("edited"):
            assert not same.pop("text") and not same.pop("edit_ids") and all(same.values())
        else:
            assert all(same.values()), k
    assert after["transitions"][:len(before["transitions"])] == before["transitions"]
    assert len(after["transitions"]) == len(before["transitions"]) + 3
    assert after["articles"].keys() == before["articles"].keys() and after["links"] == before["links"]
    assert after["checks"] == before["checks"] + 7  # the second crawl checked nothing: no post was new

    with capsys.disabled():
        print(f"\ntwo nights on the same data: night one (crawl) {night_one:.2f}s, {requests_one} requests; "
              f"night two {night_two:.2f}s (recheck {rechecked:.2f}s + crawl {night_two - rechecked:.2f}s), "
              f"{requests_two} requests "
              f"({night_two / night_one:.2f}x)")
