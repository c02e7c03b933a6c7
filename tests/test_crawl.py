"""End to end: `archiver crawl` against a loopback web, into a real SQLite file."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.platforms.twitter.token import syndication_token
from archiver.store import open_db, read_body

AVAILABLE, DELETED, PROTECTED, MISSING = "1460323737035677698", "1459883427446005761", "1460656155634524165", "1461000000000000001"
SYN = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"

STORY = f"""<!doctype html><html lang="en"><head><title>Border crisis, day three</title>
<link rel="canonical" href="https://site1.news.test/world/border"></head><body>
<nav><a href="https://site1.news.test/">Home</a></nav>
<article><h1>Border crisis, day three</h1>
<p>Reporters on the ground described the scene. <a href="https://example.org/report">A report</a> says more.</p>
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">People are still stuck at the border tonight.</p>
&mdash; Hanna Liubakova (@HannaLiubakova) <a href="https://twitter.com/HannaLiubakova/status/{AVAILABLE}?ref_src=twsrc%5Etfw">November 18, 2021</a></blockquote>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
<p>An earlier post, since removed: <a href="https://x.com/somebody/status/{DELETED}">this tweet</a>.</p>
<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{PROTECTED}"></amp-twitter>
</article>
<aside class="sidebar"><a class="twitter-share-button" href="https://twitter.com/intent/tweet?text=x">Tweet</a></aside>
</body></html>"""

FOLLOW_UP = f"""<!doctype html><html><head><title>Follow-up</title></head><body><article>
<p>As we reported:</p>
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">People are still stuck at the border tonight.</p>
&mdash; Hanna Liubakova (@HannaLiubakova) <a href="https://twitter.com/HannaLiubakova/status/{AVAILABLE}">November 18, 2021</a></blockquote>
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Nothing here any more.</p>
&mdash; Nobody (@nobody) <a href="https://twitter.com/nobody/status/{MISSING}">November 20, 2021</a></blockquote>
</article></body></html>"""

TWEET = {
    "__typename": "Tweet", "id_str": AVAILABLE, "lang": "en", "created_at": "2021-11-18T21:15:02.000Z",
    "text": "People are still stuck at the border tonight.", "display_text_range": [0, 45],
    "user": {"id_str": "1207", "name": "Hanna Liubakova", "screen_name": "HannaLiubakova", "verified": False},
    "edit_control": {"edit_tweet_ids": [AVAILABLE], "editable_until_msecs": "1637271302000", "edits_remaining": "5"},
    "favorite_count": 120, "conversation_count": 4, "entities": {"hashtags": [], "urls": [], "user_mentions": []},
}
TOMBSTONE = {"__typename": "TweetTombstone",
             "tombstone": {"text": {"text": "This Post was deleted by the Post author. Learn more", "entities": [],
                                    "rtl": False}}}


def routes() -> list[Route]:
    page = {"content-type": "text/html; charset=utf-8"}
    js = {"content-type": "application/json"}
    return [
        Route("https://site1.news.test/world/border", body=STORY.encode(), headers=page),
        Route("https://site2.news.test/follow-up", body=FOLLOW_UP.encode(), headers=page),
        Route(f"{SYN}?id={AVAILABLE}", body=json.dumps(TWEET).encode(), headers=js),
        Route(f"{SYN}?id={DELETED}", body=json.dumps(TOMBSTONE).encode(), headers=js),
        Route(f"{SYN}?id={PROTECTED}", body=json.dumps({"__typename": "TweetUnavailable"}).encode(), headers=js),
        Route(f"{SYN}?id={MISSING}", status=404, body=b"", headers=js),
        Route(f"{OEMBED}?url=https://twitter.com/HannaLiubakova/status/{AVAILABLE}", headers=js,
              body=json.dumps({"url": f"https://twitter.com/HannaLiubakova/status/{AVAILABLE}",
                               "author_name": "Hanna Liubakova", "type": "rich", "provider_name": "X"}).encode()),
        Route(OEMBED, status=404, body=b'{"errors":[{"message":"Not Found"}]}', headers=js),  # everything else
        Route(f"{OEMBED}?url=https://twitter.com/i/status/{PROTECTED}", status=403, headers=js,
              body=b'{"error":"Sorry, you are not authorized to see this status."}'),
    ]


@pytest.fixture
def web():
    with Mirror(routes()) as mirror:
        yield mirror, mirror.start()


def crawl(db, target: str, *extra: str, capsys=None) -> int:
    args = ["crawl", "https://site1.news.test/world/border", "https://site2.news.test/follow-up",
            "--db", str(db), "--delay", "0"]
    for origin in ("https://site1.news.test", "https://site2.news.test", "https://cdn.syndication.twimg.com",
                   "https://publish.twitter.com"):
        args += ["--connect-to", f"{origin}={target}"]
    with pytest.raises(SystemExit) as exit_:
        main(args + list(extra))
    return exit_.value.code


def counts(db) -> dict[str, int]:
    return {t: db.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("articles", "embeds", "posts", "links", "bodies", "post_checks", "fetches", "runs")}


def test_crawl_archives_embeds_posts_and_provenance(tmp_path, web, monkeypatch):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    mirror, target = web
    path = tmp_path / "archive.db"
    assert crawl(path, target) == 0
    db = open_db(path)

    statuses = {r["post_id"]: r["status"] for r in db.query("select post_id, status from posts")}
    assert statuses == {AVAILABLE: "available", DELETED: "deleted", PROTECTED: "protected", MISSING: "not_found"}
    post = db["posts"].get(f"twitter:{AVAILABLE}")
    assert post["author_handle"] == "HannaLiubakova" and post["text"].startswith("People are still stuck")

    # one post embedded in two articles is one post with two embeds, checked once
    assert db.execute("select count(*) from embeds where post_key = ?", [f"twitter:{AVAILABLE}"]).fetchone()[0] == 2
    assert db.execute("select count(*) from post_checks where post_key = ?", [f"twitter:{AVAILABLE}"]).fetchone()[0] == 1
    # the page as served, packed by the extraction process
    (sha,) = db.execute("select last_body_sha256 from articles where url like '%border'").fetchone()
    assert read_body(db, sha) == STORY.encode()
    kinds = {r["post_key"].split(":")[1]: r["kind"] for r in db.query(
        "select e.post_key, e.kind from embeds e join articles a on a.id = e.article_id where a.url like '%border'")}
    assert kinds == {AVAILABLE: "blockquote", DELETED: "link", PROTECTED: "amp"}
    shown = db.execute("select fallback_text, author_name, shown_date from embeds where post_key = ? limit 1",
                       [f"twitter:{AVAILABLE}"]).fetchone()
    assert shown == ("People are still stuck at the border tonight.", "Hanna Liubakova", "November 18, 2021")

    # outbound links, with the sidebar share button kept as a link but not as a post
    links = {r["url"]: r["region"] for r in db.query("select url, region from links")}
    assert links["https://example.org/report"] == "body"
    assert "twitter:intent" not in statuses

    # provenance: from the embed back to the exchange and the run
    row = next(db.query("""select f.* , r.outcome, r.version from embeds e join fetches f on f.id = e.fetch_id
                           join runs r on r.id = f.run_id where e.post_key = ? limit 1""", [f"twitter:{AVAILABLE}"]))
    assert row["purpose"] == "article" and row["status"] == 200 and row["server_ip"] == "127.0.0.1"
    assert row["url"].startswith("https://site") and row["connected_to"] == target
    assert ["host", urlsplit(row["url"]).hostname] in [[k.lower(), v] for k, v in json.loads(row["request_headers"])]
    assert row["body_sha256"] and row["outcome"] == "completed" and row["version"]
    check = next(db.query("""select c.*, f.endpoint, f.url from post_checks c join fetches f on f.id = c.fetch_id
                             where c.post_key = ?""", [f"twitter:{DELETED}"]))
    assert check["status"] == "deleted" and check["endpoint"] in ("twitter.syndication", "twitter.oembed")
    assert len(json.loads(check["fetch_ids"])) == 2

    # the syndication request carried the token computed as the reference describes
    sent = [urlsplit(p) for (_, host, p, _) in mirror.requests if host.startswith("cdn.syndication.twimg.com")]
    query = parse_qs(next(s for s in sent if parse_qs(s.query)["id"] == [AVAILABLE]).query)
    assert query["token"] == [syndication_token(AVAILABLE)]


def test_second_identical_run_adds_no_duplicate_rows(tmp_path, web, monkeypatch):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    _, target = web
    path = tmp_path / "archive.db"
    assert crawl(path, target) == 0
    first = counts(open_db(path))
    assert crawl(path, target) == 0  # within --refresh-after (default 20h): nothing is fetched
    second = counts(open_db(path))
    assert second["runs"] == 2 and second["fetches"] == first["fetches"]
    assert crawl(path, target, "--refresh-after", "0") == 0  # fetched again, bodies unchanged
    third = counts(open_db(path))
    assert third["fetches"] == first["fetches"] + 4  # two pages and their robots.txt; posts are not re-checked
    for table in ("articles", "embeds", "posts", "links", "bodies", "post_checks"):
        assert second[table] == third[table] == first[table], table
    db = open_db(path)
    run = db.execute("select counts from runs order by id desc limit 1").fetchone()[0]
    assert json.loads(run)["unchanged"] == 2
    assert not list(db.query("select * from embeds_removed"))


def test_changed_article_records_embeds_that_appeared_and_disappeared(tmp_path, web, monkeypatch):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    mirror, target = web
    path = tmp_path / "archive.db"
    assert crawl(path, target) == 0
    edited = STORY.replace(f'<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{PROTECTED}">'
                           '</amp-twitter>', f'<p><a href="https://twitter.com/nobody/status/{MISSING}">new</a></p>')
    assert edited != STORY
    mirror.set(Route("https://site1.news.test/world/border", body=edited.encode(),
                     headers={"content-type": "text/html; charset=utf-8"}))
    assert crawl(path, target, "--refresh-after", "0") == 0
    db = open_db(path)
    removed = [r["post_key"] for r in db.query("select post_key from embeds_removed")]
    assert removed == [f"twitter:{PROTECTED}"]
    story = db.execute("select id, last_extracted from articles where url like '%border'").fetchone()
    current = {r["post_key"]: (r["first_seen"], r["last_seen"]) for r in db.query(
        "select post_key, first_seen, last_seen from embeds where article_id = ?", [story[0]])}
    assert current[f"twitter:{MISSING}"][0] == story[1]  # appeared in the second extraction
    assert current[f"twitter:{AVAILABLE}"][1] == story[1]  # still there
    assert current[f"twitter:{PROTECTED}"][1] < story[1]  # gone since


def test_resume_takes_up_unfinished_items(tmp_path, web, monkeypatch):
    """Items left pending by a killed run are done by the next run, once."""
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    _, target = web
    path = tmp_path / "archive.db"
    from archiver.sources import ArticleInput
    from archiver.store import Queue, Store

    store = Store(open_db(path))
    run = store.start_run(["killed"], {})
    Queue(store).enqueue([ArticleInput("https://site2.news.test/follow-up", "argument 1")], run)
    store.db.conn.close()
    args = ["crawl", "--db", str(path), "--delay", "0"]
    for origin in ("https://site2.news.test", "https://cdn.syndication.twimg.com", "https://publish.twitter.com"):
        args += ["--connect-to", f"{origin}={target}"]
    with pytest.raises(SystemExit) as exit_:
        main(args)  # no URLs: only the leftovers
    assert exit_.value.code == 0
    db = open_db(path)
    assert [r["state"] for r in db.query("select state from queue")] == ["done"]
    assert db.execute("select count(*) from embeds").fetchone()[0] == 2


def test_unreachable_article_is_recorded_as_failed(tmp_path, web, monkeypatch, capsys):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    _, target = web
    path = tmp_path / "archive.db"
    code = crawl(path, target, "https://site3.news.test/gone", "--fail")
    assert code == 1
    err = capsys.readouterr().err
    assert "failed https://site3.news.test/gone" in err and "Traceback" not in err
    db = open_db(path)
    row = next(db.query("select * from articles where url = 'https://site3.news.test/gone'"))
    assert row["last_error"]
    assert counts(db)["embeds"] > 0  # what was fetched before and after the fault stays stored
