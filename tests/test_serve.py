"""archiver serve: the archive in Datasette, as a researcher meets it.

The archive is built the real way: ``archiver crawl`` over a loopback web (the
mirror), then one later check of a post that was deleted in the meantime
(``resolve`` over loopback, as a recheck does), so the canned queries have a
status history to show. ``build_archive`` is shared with the export and browser
tests.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib.util
import json
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest

from archiver.cli import main
from archiver.export import queries
from archiver.export.metadata import build_metadata, fts_tables
from archiver.fetch.client import ClientPool
from archiver.mirror import Mirror, Route
from archiver.models import PostRef
from archiver.resolve import resolve
from archiver.serve import make_datasette
from archiver.settings import load_settings
from archiver.store import Store, open_db

# only this file's tests need Datasette; the export tests import build_archive from here
pytestmark = pytest.mark.skipif(importlib.util.find_spec("datasette_dashboards") is None,
                                reason="the serve extra is not installed: pip install -e '.[test]'")

A1, A2 = "1460323737035677698", "1460400000000000002"  # available; available, then deleted
DELETED, PROTECTED, MISSING = "1459883427446005761", "1460656155634524165", "1461000000000000001"
SYN = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"
BORDER = "https://site1.news.test/world/border"
FOLLOW_UP = "https://site2.news.test/follow-up"
CALM_SHORT, CALM = "https://site2.news.test/calm-short", "https://site2.news.test/calm"
ORIGINS = ("https://site1.news.test", "https://site2.news.test", "https://cdn.syndication.twimg.com",
           "https://publish.twitter.com")


def _tweet(tweet_id: str, handle: str, name: str, text: str) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; {name} (@{handle}) '
            f'<a href="https://twitter.com/{handle}/status/{tweet_id}?ref_src=twsrc%5Etfw">November 18, 2021</a>'
            f'</blockquote>')


def _page(title: str, published: str, body: str, home: str) -> bytes:
    return f"""<!doctype html><html lang="en"><head><title>{title}</title>
<meta property="article:published_time" content="{published}"></head><body>
<nav><a href="{home}/">Home</a></nav><article><h1>{title}</h1>{body}</article>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script></body></html>""".encode()


STUCK = "People are still stuck at the border tonight."
PAGES = {
    BORDER: _page("Border crisis, day three", "2021-11-19T10:00:00Z", f"""
<p>Reporters described the scene. <a href="https://example.org/report">A report</a> says more.</p>
{_tweet(A1, "HannaLiubakova", "Hanna Liubakova", STUCK)}
<p>An earlier post, since removed: <a href="https://x.com/somebody/status/{DELETED}">this tweet</a>.</p>
<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{PROTECTED}"></amp-twitter>""",
                  "https://site1.news.test"),
    FOLLOW_UP: _page("Follow-up: the crossing", "2021-12-02T08:00:00Z", f"""
<p>As we reported (<a href="https://example.org/report">report</a>,
<a href="https://news.example.com/story">elsewhere</a>):</p>
{_tweet(A1, "HannaLiubakova", "Hanna Liubakova", STUCK)}
{_tweet(A2, "reporter", "A Reporter", "Queues of trucks for kilometres.")}
{_tweet(MISSING, "nobody", "Nobody", "Nothing here any more.")}""", "https://site2.news.test"),
    CALM: _page("A calm night", "2021-12-05T22:00:00Z", f"""
<p>Quiet now. <a href="https://example.org/other">Background</a>.</p>
{_tweet(A1, "HannaLiubakova", "Hanna Liubakova", STUCK)}""", "https://site2.news.test"),
}


def _syndication(tweet_id: str, handle: str, name: str, text: str) -> bytes:
    return json.dumps({
        "__typename": "Tweet", "id_str": tweet_id, "lang": "en", "created_at": "2021-11-18T21:15:02.000Z",
        "text": text, "display_text_range": [0, len(text)],
        "user": {"id_str": "1207", "name": name, "screen_name": handle, "verified": False},
        "edit_control": {"edit_tweet_ids": [tweet_id], "editable_until_msecs": "1637271302000",
                         "edits_remaining": "5"},
        "favorite_count": 120, "conversation_count": 4,
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    }).encode()


TOMBSTONE = json.dumps({"__typename": "TweetTombstone", "tombstone": {"text": {
    "text": "This Post was deleted by the Post author. Learn more", "entities": [], "rtl": False}}}).encode()
JS = {"content-type": "application/json"}


def _oembed(handle: str, tweet_id: str) -> Route:
    url = f"https://twitter.com/{handle}/status/{tweet_id}"
    return Route(f"{OEMBED}?url={url}", headers=JS,
                 body=json.dumps({"url": url, "author_name": handle, "type": "rich", "provider_name": "X"}).encode())


def routes() -> list[Route]:
    html = {"content-type": "text/html; charset=utf-8"}
    return [
        Route(BORDER, body=PAGES[BORDER], headers=html),
        Route(FOLLOW_UP, body=PAGES[FOLLOW_UP], headers=html),
        Route(CALM_SHORT, status=301, headers={"Location": CALM}),
        # gzip on the wire: archiver stores the decoded body, the WARC must say so consistently
        Route(CALM, body=gzip.compress(PAGES[CALM]), headers={**html, "content-encoding": "gzip"}),
        Route(f"{SYN}?id={A1}", body=_syndication(A1, "HannaLiubakova", "Hanna Liubakova", STUCK), headers=JS),
        Route(f"{SYN}?id={A2}", headers=JS,
              body=_syndication(A2, "reporter", "A Reporter", "Queues of trucks for kilometres.")),
        Route(f"{SYN}?id={DELETED}", body=TOMBSTONE, headers=JS),
        Route(f"{SYN}?id={PROTECTED}", body=json.dumps({"__typename": "TweetUnavailable"}).encode(), headers=JS),
        Route(f"{SYN}?id={MISSING}", status=404, body=b"", headers=JS),
        _oembed("HannaLiubakova", A1),
        _oembed("reporter", A2),
        Route(OEMBED, status=404, body=b'{"errors":[{"message":"Not Found"}]}', headers=JS),  # everything else
        Route(f"{OEMBED}?url=https://twitter.com/i/status/{PROTECTED}", status=403, headers=JS,
              body=b'{"error":"Sorry, you are not authorized to see this status."}'),
    ]


@dataclass(frozen=True)
class Archive:
    path: Path
    crawl_run: int
    recheck_run: int


def build_archive(path: Path) -> Archive:
    """Crawl three articles on two sites over loopback, then recheck A2 after its deletion."""
    env = {"ARCHIVER_RETRIES": "0", "ARCHIVER_EXTRACT_WORKERS": "0"}
    with Mirror(routes()) as mirror, mock.patch.dict(os.environ, env):
        target = mirror.start()
        args = ["crawl", BORDER, FOLLOW_UP, CALM_SHORT, "--db", str(path), "--delay", "0"]
        for origin in ORIGINS:
            args += ["--connect-to", f"{origin}={target}"]
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 0

        # the post is deleted; a later check finds it gone (two runs, two checks of A2)
        mirror.set(Route(f"{SYN}?id={A2}", body=TOMBSTONE, headers=JS))
        mirror.remove(f"{OEMBED}?url=https://twitter.com/reporter/status/{A2}")
        settings = load_settings(db_path=str(path), per_host_delay=0, connect_to=[f"{o}={target}" for o in ORIGINS])
        store = Store(open_db(path))
        run_id = store.start_run(["recheck", f"twitter:{A2}"], settings.public())
        post = PostRef("twitter", A2, f"https://twitter.com/reporter/status/{A2}")

        async def recheck():
            async with ClientPool(settings) as pool:
                return await resolve(pool, post, settings, lambda cap, endpoint: store.save_capture(
                    cap, run_id, "lookup", endpoint=endpoint, post_key=post.key))

        res = asyncio.run(recheck())
        store.save_check(res.post, res.check, run_id, list(res.fetch_ids), res.deciding_fetch_id, res.content_sha256)
        store.finish_run(run_id, "completed", {"posts_checked": 1})
        store.db.conn.close()
    assert res.check.status.value == "deleted", res.check
    return Archive(path, crawl_run=1, recheck_run=run_id)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("serve") / "archive.db")


@pytest.fixture(scope="module")
def ds(archive):
    datasette = make_datasette(archive.path)
    asyncio.run(datasette.invoke_startup())
    return datasette


def get(ds, path: str):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response


def rows(ds, name: str, **params: str) -> list[dict]:
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return get(ds, f"/archive/{name}.json?_shape=array&{query}").json()


# -- canned queries, each against the crawled archive ------------------------------------

def test_every_canned_query_is_served(ds):
    listed = {q["name"] for q in get(ds, "/archive.json").json()["queries"]}
    assert listed == {q.name for q in queries.CANNED}
    assert len(listed) >= 6


def test_posts_now_dark(ds):
    got = rows(ds, "posts_now_dark")
    assert {r["post_id"]: r["status"] for r in got} == {
        A2: "deleted", DELETED: "deleted", PROTECTED: "protected", MISSING: "not_found"}
    assert got[0]["post_id"] == A2  # newest first: it went dark at the recheck
    a2 = got[0]
    assert a2["last_seen_available"] and a2["last_seen_available"] < a2["status_since"]
    assert a2["articles"] == 1 and a2["sites"] == "site2.news.test"
    assert all(r["last_seen_available"] is None for r in got[1:])  # dark at their first check
    assert all(isinstance(r["post_id"], str) for r in got)


def test_most_embedded_accounts(ds):
    got = rows(ds, "most_embedded_accounts")
    assert got[0] == {"platform": "twitter", "author_handle": "HannaLiubakova", "embeds": 3, "articles": 3,
                      "sites": 2, "posts": 1, "posts_dark": 0}
    by_handle = {r["author_handle"]: r for r in got}
    assert by_handle["reporter"]["posts_dark"] == 1 and by_handle["nobody"]["posts_dark"] == 1
    assert all(r["embeds"] == 1 for r in got[1:])


def test_embeds_per_site_per_month(ds):
    assert rows(ds, "embeds_per_site_per_month") == [
        {"site": "site1.news.test", "month": "2021-11", "embeds": 3, "articles": 1, "posts": 3,
         "still_available": 1, "gone_dark": 2},
        {"site": "site2.news.test", "month": "2021-12", "embeds": 4, "articles": 2, "posts": 3,
         "still_available": 2, "gone_dark": 2},
    ]


def test_articles_with_unavailable_embeds(ds):
    got = rows(ds, "articles_with_unavailable_embeds")
    assert [(r["url"], r["embeds"], r["unavailable"]) for r in got] == [(BORDER, 3, 2), (FOLLOW_UP, 3, 2)]
    assert sorted(got[0]["unavailable_posts"].split(", ")) == [
        f"twitter:{DELETED} deleted", f"twitter:{PROTECTED} protected"]
    assert sorted(got[1]["unavailable_posts"].split(", ")) == [f"twitter:{A2} deleted", f"twitter:{MISSING} not_found"]
    # the calm article embeds only a post that is still there
    assert CALM_SHORT not in {r["url"] for r in got}


def test_post_status_history(ds, archive):
    history = rows(ds, "post_status_history", key=f"twitter:{A2}")
    assert [(r["status"], r["previous_status"], r["run_id"]) for r in history] == [
        ("available", None, archive.crawl_run), ("deleted", "available", archive.recheck_run)]
    assert history[1]["endpoint"] in ("twitter.syndication", "twitter.oembed")
    assert history[1]["deciding_url"].startswith(("https://cdn.syndication.twimg.com/", "https://publish.twitter.com/"))
    assert history[1]["server_ip"] == "127.0.0.1"
    # the post's URL or bare id find it too; an unknown key finds nothing
    assert rows(ds, "post_status_history", key=A2) == history
    assert rows(ds, "post_status_history", key=f"https://twitter.com/reporter/status/{A2}") == history
    assert rows(ds, "post_status_history", key="twitter:1") == []


def test_outbound_links_by_host(ds, archive):
    got = rows(ds, "outbound_links_by_host")
    by_host = {r["host"]: r for r in got}
    assert by_host["example.org"]["links"] == 3 and by_host["example.org"]["articles"] == 3
    assert by_host["example.org"]["linking_sites"] == 2 and by_host["example.org"]["in_body"] == 3
    assert by_host["news.example.com"]["links"] == 1
    assert not {"site1.news.test", "site2.news.test"} & set(by_host)  # a site's links to itself are left out
    # the same figures computed here from the links table
    conn = sqlite3.connect(archive.path)
    expected = Counter(h for h, site in conn.execute(
        "select l.host, a.site from links l join articles a on a.id = l.article_id") if h != site)
    assert {h: r["links"] for h, r in by_host.items()} == dict(expected)
    assert [r["links"] for r in got] == sorted((r["links"] for r in got), reverse=True)


def test_embed_provenance(ds, archive):
    got = rows(ds, "embed_provenance")
    assert len(got) == 7
    assert {r["article_url"] for r in got} == {BORDER, FOLLOW_UP, CALM_SHORT}
    calm = [r for r in got if r["article_url"] == CALM_SHORT]
    assert calm[0]["fetched_url"] == CALM  # the final hop of the redirect is what was parsed
    assert all(r["status"] == 200 and r["server_ip"] == "127.0.0.1" and r["run_id"] == archive.crawl_run
               and r["body_sha256"] for r in got)


# -- the dashboard and `archiver stats` show the same figures ----------------------------

def test_dashboard_charts_and_stats_agree(ds, archive, capsys):
    page = get(ds, "/-/dashboards/archive-health").text
    for title in ("Posts going dark per week, by platform", "Share of each site&#39;s embeds still available",
                  "Checks per night, by outcome"):
        assert title in page
    charts = build_metadata("archive")["plugins"]["datasette-dashboards"]["archive-health"]["charts"]

    def chart(name):  # what the dashboard's JavaScript fetches
        return get(ds, f"/archive.json?sql={quote(charts[name]['query'])}&_shape=array").json()

    per_week = chart("dark-per-week")  # one week, unless the test ran across a Sunday midnight (UTC)
    assert {r["platform"] for r in per_week} == {"twitter"} and sum(r["posts"] for r in per_week) == 4
    assert chart("site-availability") == [
        {"site": "site1.news.test", "embeds": 3, "known": 3, "available": 1, "share_available": 0.333},
        {"site": "site2.news.test", "embeds": 4, "known": 4, "available": 2, "share_available": 0.5},
    ]
    per_status = Counter()
    for r in chart("checks-per-night"):
        per_status[r["status"]] += r["checks"]
    assert per_status == {"available": 2, "deleted": 2, "protected": 1, "not_found": 1}
    headline = chart("posts")[0]
    assert (headline["posts_known"], headline["posts_dark"], headline["percent_dark"]) == (5, 4, 80.0)

    with pytest.raises(SystemExit) as exit_:
        main(["stats", "--db", str(archive.path), "--format", "json"])
    assert exit_.value.code == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["headline"] == headline
    assert stats["sites"] == chart("site-availability")
    assert stats["dark_per_week"] == per_week
    with pytest.raises(SystemExit):
        main(["stats", "--db", str(archive.path)])
    text = capsys.readouterr().out
    assert "gone dark: 4 of 5 posts with a known status (80.0%)" in text
    assert "site1.news.test" in text and "33.3%" in text


# -- the database explains itself -------------------------------------------------------

def test_every_table_and_column_is_described(archive):
    described = build_metadata("archive")["databases"]["archive"]["tables"]
    conn = sqlite3.connect(archive.path)
    relations = [r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view')")]
    missing = []
    for name in relations:
        if name in fts_tables():
            assert described[name]["hidden"] is True
            continue
        columns = [r[1] for r in conn.execute(f"pragma table_info('{name}')")]
        meta = described.get(name, {})
        if not meta.get("description"):
            missing.append(name)
        missing += [f"{name}.{c}" for c in columns if not meta.get("columns", {}).get(c)]
    assert not missing, f"describe these in archiver/data/metadata.yml (and docs/schema.md): {missing}"


def test_schema_doc_columns_are_in_the_metadata():
    """Every column docs/schema.md documents has a description in the shipped metadata."""
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text(encoding="utf-8")
    described = build_metadata("archive")["databases"]["archive"]["tables"]
    table, columns_table, missing = None, False, []
    for line in doc.splitlines():
        heading = re.match(r"## `(\w+)`", line)
        if line.startswith("## "):
            table = heading.group(1) if heading else None
        columns_table = line.startswith("| column |") or (columns_table and line.startswith("|"))
        if table and columns_table and line.startswith("| `"):
            for column in re.findall(r"`(\w+)`", line.split("|")[1]):
                if not described.get(table, {}).get("columns", {}).get(column):
                    missing.append(f"{table}.{column}")
    assert not missing, missing


def test_hidden_tables_labels_facets_and_search(ds):
    tables = {t["name"]: t for t in get(ds, "/archive.json").json()["tables"]}
    for name in ["bodies", "_sqlite_migrations", *fts_tables()]:
        assert tables[name]["hidden"] is True, name
    for name in ("posts", "embeds", "articles", "fetches", "post_checks", "links", "runs"):
        assert tables[name]["hidden"] is False, name

    facets = get(ds, "/archive/posts.json").json()["facet_results"]
    assert {"platform", "status"} <= set(facets)
    labelled = get(ds, f"/archive/embeds.json?_labels=on&post_key={quote('twitter:' + A1)}&_shape=array").json()
    assert labelled[0]["post_key"] == {"value": f"twitter:{A1}", "label": "HannaLiubakova"}

    assert [r["post_id"] for r in get(ds, "/archive/posts.json?_search=stuck&_shape=array").json()] == [A1]
    assert len(get(ds, "/archive/embeds.json?_search=trucks&_shape=array").json()) == 1
    assert [r["url"] for r in get(ds, "/archive/articles.json?_search=calm&_shape=array").json()] == [CALM_SHORT]


def test_title_descriptions_and_licence_are_shown(ds):
    index = get(ds, "/").text
    assert "Embedded posts archive" in index
    table = get(ds, "/archive/post_checks").text
    assert "The time series, one row per check of a post" in table
    assert "<dt>checked_at</dt><dd>when</dd>" in table  # every column, with its meaning
    metadata = get(ds, "/-/metadata.json").json()
    assert metadata["license"].startswith("Apache-2.0") and metadata["source"] == "archiver"


def test_stored_html_is_never_rendered(ds):
    """Snippets are raw markup: Datasette must show them as text, and no plugin may render them."""
    page = get(ds, f"/archive/embeds?post_key={quote('twitter:' + A1)}").text
    assert "&lt;blockquote class=" in page
    assert '<blockquote class="twitter-tweet"' not in page
    row = get(ds, "/archive/embeds/1").text
    assert '<blockquote class="twitter-tweet"' not in row
    canned = get(ds, "/archive?sql=" + quote("select snippet from embeds")).text
    assert '<blockquote class="twitter-tweet"' not in canned and "&lt;blockquote" in canned


def test_serve_refuses_a_missing_database(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--db", str(tmp_path / "nothing.db")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "nothing.db does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "nothing.db").exists()


def test_print_metadata_merges_the_users_own(archive, tmp_path, capsys):
    own = tmp_path / "study.yml"
    own.write_text("title: Border study 2021\nlicense: CC-BY-4.0\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--db", str(archive.path), "--metadata", str(own), "--print-metadata"])
    assert exit_.value.code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["title"] == "Border study 2021" and printed["license"] == "CC-BY-4.0"
    assert set(printed["databases"]["archive"]["queries"]) == {q.name for q in queries.CANNED}
    assert printed["plugins"]["datasette-render-markdown"]["patterns"] == []
