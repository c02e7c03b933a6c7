"""Every input kind through `archiver crawl`, with its provenance stored."""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.sources import Columns
from archiver.sources.local import Gathered, read_local
from archiver.store import open_db

TWEET = "1460323737035677698"


def article(n: int) -> str:
    return (f'<html><head><title>Local story {n}</title></head><body><article><p>Story {n}</p>'
            f'<blockquote class="twitter-tweet"><p lang="en">Shared</p>&mdash; A (@a) '
            f'<a href="https://twitter.com/a/status/{TWEET}">May 1, 2021</a></blockquote></article></body></html>')


@pytest.fixture
def platform(monkeypatch):
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    js = {"content-type": "application/json"}
    routes = [
        Route("https://cdn.syndication.twimg.com/tweet-result", headers=js,
              body=json.dumps({"__typename": "Tweet", "id_str": TWEET, "text": "Shared",
                               "user": {"screen_name": "a", "name": "A"}}).encode()),
        Route("https://publish.twitter.com/oembed", headers=js, body=b'{"author_name": "A"}'),
    ]
    with Mirror(routes) as mirror:
        yield mirror, mirror.start()


def run(db, target, *args, capsys=None):
    argv = ["crawl", *args, "--db", str(db), "--delay", "0"]
    for origin in ("https://cdn.syndication.twimg.com", "https://publish.twitter.com", "https://news.test"):
        argv += ["--connect-to", f"{origin}={target}"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    return exit_.value.code


def test_local_directory_of_files(tmp_path, platform):
    _, target = platform
    pages = tmp_path / "saved"
    pages.mkdir()
    for n in range(3):
        (pages / f"story{n}.html").write_text(article(n))
    db = tmp_path / "a.db"
    assert run(db, target, str(pages)) == 0
    conn = open_db(db)
    rows = list(conn.query("select * from fetches where purpose = 'file' order by id"))
    assert len(rows) == 3
    prov = json.loads(rows[0]["provenance"])
    assert prov["path"].endswith("story0.html")
    assert prov["sha256"] == hashlib.sha256((pages / "story0.html").read_bytes()).hexdigest() == rows[0]["body_sha256"]
    assert conn.execute("select count(*) from embeds").fetchone()[0] == 3
    assert conn.execute("select status from posts").fetchone()[0] == "available"
    # the same files again: nothing new is extracted
    assert run(db, target, str(pages)) == 0
    assert conn.execute("select count(*) from embeds").fetchone()[0] == 3


def test_dataset_with_a_bad_row(tmp_path, platform, capsys):
    _, target = platform
    data = tmp_path / "articles.jsonl"
    rows = [{"id": "a1", "link": "https://news.test/1", "body": article(1), "date": "2021-05-02"},
            "this line is not JSON",
            {"id": "a3", "link": "https://news.test/3", "body": article(3), "date": "2021-05-03"}]
    data.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    db = tmp_path / "a.db"
    code = run(db, target, str(data), "--url-column", "link", "--html-column", "body", "--id-column", "id",
               "--date-column", "date")
    assert code == 0
    err = capsys.readouterr().err
    assert f"skipped {data}:2" in err
    conn = open_db(db)
    assert sorted(r[0] for r in conn.execute("select url from articles")) == ["https://news.test/1",
                                                                              "https://news.test/3"]
    assert [r[0] for r in conn.execute("select row_id from queue order by id")] == ["a1", "a3"]
    prov = json.loads(conn.execute("select provenance from fetches where purpose = 'dataset' limit 1").fetchone()[0])
    assert prov.get("row_id") == "a1" or "line" in prov
    assert conn.execute("select count(*) from embeds").fetchone()[0] == 2


def test_feed_and_sitemap_over_the_network(tmp_path, platform, capsys):
    mirror, target = platform
    feed = ("<?xml version='1.0'?><rss version='2.0'><channel><title>News</title>"
            "<item><title>One</title><link>https://news.test/1</link><pubDate>Sun, 02 May 2021 10:00:00 GMT</pubDate></item>"
            "<item><title>Old</title><link>https://news.test/old</link><pubDate>Sun, 02 May 2010 10:00:00 GMT</pubDate></item>"
            "<item><title>Broken</title><link>not a url</link></item>"
            "</channel></rss>")
    index = ("<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             "<sitemap><loc>https://news.test/sitemap-1.xml</loc></sitemap>"
             "<sitemap><loc>https://news.test/sitemap.xml</loc></sitemap></sitemapindex>")  # lists itself
    nested = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
              "<url><loc>https://news.test/2</loc><lastmod>2021-05-03</lastmod></url></urlset>")
    page = {"content-type": "text/html"}
    for route in (Route("https://news.test/rss.xml", body=feed.encode(), headers={"content-type": "application/rss+xml"}),
                  Route("https://news.test/sitemap.xml", body=index.encode(), headers={"content-type": "application/xml"}),
                  Route("https://news.test/sitemap-1.xml", body=nested.encode(), headers={"content-type": "application/xml"}),
                  Route("https://news.test/1", body=article(1).encode(), headers=page),
                  Route("https://news.test/2", body=article(2).encode(), headers=page)):
        mirror.set(route)
    db = tmp_path / "a.db"
    code = run(db, target, "--feed", "https://news.test/rss.xml", "--sitemap", "https://news.test/sitemap.xml",
               "--since", "2021-01-01")
    assert code == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "not a url" in err.lower()
    conn = open_db(db)
    assert sorted(r[0] for r in conn.execute("select url from articles")) == ["https://news.test/1",
                                                                              "https://news.test/2"]
    purposes = [r[0] for r in conn.execute("select purpose from fetches where purpose in ('feed', 'sitemap') order by id")]
    assert purposes == ["feed", "sitemap", "sitemap"]  # the index listing itself is fetched once
    assert json.loads(conn.execute("select counts from runs").fetchone()[0])["skipped"] >= 1


def test_warc_records_with_a_corrupt_one(tmp_path, platform, capsys):
    _, target = platform
    path = tmp_path / "crawl.warc"
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=False)
        for n in range(3):
            body = article(n).encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
                                       protocol="HTTP/1.1")
            record = writer.create_warc_record(f"https://news.test/w{n}", "response", payload=io.BytesIO(body),
                                               http_headers=headers)
            writer.write_record(record)
    data = bytearray(path.read_bytes())
    second = data.find(b"WARC/1.", 10)
    third = data.find(b"WARC/1.", second + 10)
    data[second + 30: second + 60] = b"\x00" * 30  # damage the second record's header
    path.write_bytes(bytes(data))
    assert third > second > 0
    db = tmp_path / "a.db"
    assert run(db, target, str(path)) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and str(path) in err
    conn = open_db(db)
    urls = sorted(r[0] for r in conn.execute("select url from articles"))
    assert urls == ["https://news.test/w0", "https://news.test/w2"]
    prov = json.loads(conn.execute("select provenance from fetches where purpose = 'warc' limit 1").fetchone()[0])
    assert prov["warc_file"].endswith("crawl.warc") and "offset" in prov and prov["record_id"]


def test_inputs_without_an_article_say_so_and_record_no_run(tmp_path, platform, capsys):
    _, target = platform
    urls = tmp_path / "urls.txt"
    urls.write_text("not a url\nftp://news.test/1\n")
    db = tmp_path / "a.db"
    assert run(db, target, "-i", str(urls)) == 2
    err = capsys.readouterr().err
    assert f"skipped {urls}:1" in err and f"skipped {urls}:2" in err
    assert "no articles given" in err
    assert open_db(db).execute("select count(*) from runs").fetchone()[0] == 0


def test_an_input_of_bad_rows_before_one_with_articles(tmp_path, platform, capsys):
    _, target = platform
    data = tmp_path / "rows.jsonl"
    data.write_text('{"link": "not a url"}\n[1, 2]\n')
    pages = tmp_path / "saved"
    pages.mkdir()
    for n in range(2):
        (pages / f"story{n}.html").write_text(article(n))
    db = tmp_path / "a.db"
    assert run(db, target, str(data), str(pages), "--url-column", "link") == 0
    err = capsys.readouterr().err
    assert f"skipped {data}:1" in err and f"skipped {data}:2" in err
    conn = open_db(db)
    assert conn.execute("select count(*) from articles").fetchone()[0] == 2
    counts = json.loads(conn.execute("select counts from runs").fetchone()[0])
    assert counts["skipped"] == 2 and counts["articles"] == 2


def test_many_input_files_hold_no_descriptor_until_their_turn(tmp_path):
    paths = []
    for n in range(300):
        path = tmp_path / f"day{n}.jsonl"
        path.write_text(json.dumps({"url": f"https://news.test/{n}", "html": article(n)}) + "\n")
        paths.append(path)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 50, hard))
    try:  # 300 files, 50 descriptors to spare: each file is closed once checked, opened again in its turn
        gathered = Gathered()
        for path in paths:
            read_local(str(path), gathered, columns=Columns(url="url", html="html"))
        items = list(gathered.items())
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert [item.url for item in items] == [f"https://news.test/{n}" for n in range(300)]
    assert all(item.document is not None and b"Local story" in item.document.body for item in items)


def test_a_list_on_standard_input_is_read_once_as_it_comes(tmp_path, platform, capsys, monkeypatch):
    _, target = platform
    monkeypatch.setattr("sys.stdin", io.StringIO("https://news.test/1\nnot a url\n# a comment\nhttps://news.test/2\n"))
    db = tmp_path / "a.db"
    run(db, target, "-i", "-")
    assert "skipped stdin:2" in capsys.readouterr().err
    conn = open_db(db)
    assert [tuple(r) for r in conn.execute("select url, source from queue order by id")] == [
        ("https://news.test/1", "stdin:1"), ("https://news.test/2", "stdin:4")]
