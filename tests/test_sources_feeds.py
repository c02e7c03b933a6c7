"""Feeds (RSS 2.0, RSS 1.0/RDF, Atom) as inputs, plus the shared helpers they lean on:
which reader a path or URL needs, dates, ``--since`` and safe XML."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archiver.errors import InputError
from archiver.sources.base import ArticleInput
from archiver.sources.detect import (
    detect,
    detect_path,
    keep_since,
    parse_date,
    parse_since,
    read_bounded,
    sniff,
)
from archiver.sources.feeds import read_feed, read_feed_file

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel>
  <title>Example News</title>
  <link>https://news.example/</link>
  <item>
    <title>One</title>
    <link>https://news.example/2024/05/one</link>
    <pubDate>Wed, 01 May 2024 10:00:00 +0200</pubDate>
  </item>
  <item>
    <title>Two, a guid that is the permalink</title>
    <guid>https://news.example/2024/04/two</guid>
    <dc:date>2024-04-20T08:30:00Z</dc:date>
  </item>
  <item>
    <title>Three, through FeedBurner</title>
    <link>https://feeds.feedburner.example/~r/x/~3/abc</link>
    <feedburner:origLink>https://news.example/2024/05/three</feedburner:origLink>
  </item>
  <item>
    <title>One again</title>
    <link>https://news.example/2024/05/one</link>
  </item>
  <item>
    <title>Relative link</title>
    <link>/2024/05/four</link>
    <pubDate>not a date</pubDate>
  </item>
  <item>
    <title>No link at all</title>
    <guid isPermaLink="false">tag:news.example,2024:5</guid>
  </item>
  <item>
    <title>Not http</title>
    <link>mailto:desk@news.example</link>
  </item>
</channel>
</rss>
"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://blog.example/">
    <title>Blog</title>
    <link>https://blog.example/</link>
  </channel>
  <item rdf:about="https://blog.example/a">
    <title>A</title>
    <link>https://blog.example/a</link>
    <dc:date>2024-03-02T12:00:00+01:00</dc:date>
  </item>
  <item rdf:about="https://blog.example/b">
    <title>B (no link element, rdf:about)</title>
  </item>
</rdf:RDF>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/news/">
  <title>Atom News</title>
  <updated>2024-05-02T00:00:00Z</updated>
  <entry>
    <title>Published</title>
    <link rel="self" type="application/atom+xml" href="https://atom.example/api/1"/>
    <link rel="alternate" type="text/html" href="2024/first"/>
    <published>2024-05-01T09:00:00-04:00</published>
    <updated>2024-05-02T00:00:00Z</updated>
  </entry>
  <entry>
    <title>Updated only</title>
    <link href="https://atom.example/news/2023/old"/>
    <updated>2023-01-01T00:00:00Z</updated>
  </entry>
  <entry>
    <title>Undated</title>
    <link href="https://atom.example/news/undated"/>
  </entry>
</feed>
"""


def urls(articles: list[ArticleInput]) -> list[str]:
    return [a.url for a in articles]


def test_rss2_entries_links_dates_and_bad_items():
    articles, bad = read_feed(RSS2, where="https://news.example/feed")
    assert urls(articles) == [
        "https://news.example/2024/05/one",
        "https://news.example/2024/04/two",
        "https://news.example/2024/05/three",
        "https://news.example/2024/05/four",  # resolved against the feed's URL
    ]
    assert [a.published for a in articles] == [
        "2024-05-01T08:00:00+00:00",
        "2024-04-20T08:30:00+00:00",
        None,
        None,
    ]
    assert {a.source for a in articles} == {"feed https://news.example/feed"}
    problems = [str(b) for b in bad]
    assert problems == [
        "https://news.example/feed:26: unreadable date 'not a date'; entry kept without a date",
        "https://news.example/feed:31: entry without a link",
        "https://news.example/feed:35: entry link: not an http(s) URL (unsupported scheme 'mailto'): "
        "'mailto:desk@news.example'",
    ]


def test_rss1_rdf():
    articles, bad = read_feed(RSS1, where="blog.rdf")
    assert urls(articles) == ["https://blog.example/a", "https://blog.example/b"]
    assert articles[0].published == "2024-03-02T11:00:00+00:00"
    assert bad == []


def test_atom_alternate_link_xml_base_and_dates():
    articles, bad = read_feed(ATOM, where="https://atom.example/feed.atom")
    assert urls(articles) == [
        "https://atom.example/news/2024/first",
        "https://atom.example/news/2023/old",
        "https://atom.example/news/undated",
    ]
    # <updated> is a modification date: never stored as published.
    assert [a.published for a in articles] == ["2024-05-01T13:00:00+00:00", None, None]
    assert bad == []


def test_since_drops_older_entries_and_keeps_undated_ones():
    since = datetime(2024, 4, 25, tzinfo=timezone.utc)
    articles, _ = read_feed(RSS2, where="https://news.example/feed", since=since)
    assert urls(articles) == [
        "https://news.example/2024/05/one",
        "https://news.example/2024/05/three",  # undated: kept
        "https://news.example/2024/05/four",  # unreadable date: kept
    ]
    # Atom: --since falls back on <updated> when there is no <published>.
    articles, _ = read_feed(ATOM, where="https://atom.example/feed.atom", since=since)
    assert urls(articles) == ["https://atom.example/news/2024/first", "https://atom.example/news/undated"]


def test_feed_file_plain_and_gzipped(tmp_path: Path):
    (tmp_path / "feed.xml").write_bytes(RSS1)
    (tmp_path / "feed.xml.gz").write_bytes(gzip.compress(ATOM))
    articles, bad = read_feed_file(tmp_path / "feed.xml")
    assert urls(articles) == ["https://blog.example/a", "https://blog.example/b"]
    assert articles[0].source == f"feed {tmp_path / 'feed.xml'}"
    articles, bad = read_feed_file(tmp_path / "feed.xml.gz")
    assert len(articles) == 3 and bad == []


def test_broken_feed_is_recovered_and_reported(tmp_path: Path):
    broken = RSS2.replace(b"</channel>", b"")  # unclosed elements
    path = tmp_path / "broken.rss"
    path.write_bytes(broken)
    articles, bad = read_feed_file(path)
    assert urls(articles) == [
        "https://news.example/2024/05/one",
        "https://news.example/2024/04/two",
        "https://news.example/2024/05/three",
    ]
    assert str(bad[0]) == (f"{path}: broken XML (Opening and ending tag mismatch: channel line 4 and rss, "
                           "line 40, column 7); read what could be recovered")
    # A local feed has no URL for a relative link to resolve against.
    assert str(bad[1]) == f"{path}:26: entry link: not an http(s) URL (no scheme): '/2024/05/four'"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "not a feed: empty document"),
        (b"   \n", "not a feed: empty document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00garbage\xff\xfe", "not a feed: not XML ("),
        (b"<html><body><p>a web page</p></body></html>", "not a feed (root element <html>"),
        (b"\x1f\x8b\x08\x00garbage", "feed is truncated gzip"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff\xff garbage", "feed is broken gzip ("),
    ],
)
def test_malformed_feeds_give_one_line_bad_inputs(body: bytes, problem: str):
    articles, bad = read_feed(body, where="https://news.example/feed")
    assert articles == []
    assert len(bad) == 1
    assert bad[0].where == "https://news.example/feed"
    assert bad[0].problem.startswith(problem), bad[0].problem
    assert "\n" not in bad[0].problem


def test_external_entities_are_not_loaded(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}"> <!ENTITY lol "lol">]>
<rss version="2.0"><channel>
<item><title>&xxe;&lol;</title><link>https://news.example/x?a=&xxe;</link></item>
</channel></rss>""".encode()
    articles, bad = read_feed(body, where="evil.xml")
    for article in articles:
        assert "TOP-SECRET" not in article.url
    assert all("TOP-SECRET" not in str(b) for b in bad)


def test_missing_or_oversized_feed_file_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="no such file"):
        read_feed_file(tmp_path / "nope.xml")
    with pytest.raises(InputError, match="is a directory"):
        read_feed_file(tmp_path)
    big = tmp_path / "big.xml"
    big.write_bytes(b"<rss>" + b" " * 2000 + b"</rss>")
    with pytest.raises(InputError, match=r"larger than 1000 bytes; not read"):
        read_bounded(big, 1000, what="feed")
    bomb = tmp_path / "bomb.xml.gz"
    bomb.write_bytes(gzip.compress(b"<rss>" + b" " * 100_000 + b"</rss>"))
    with pytest.raises(InputError, match="larger than 1000 bytes once decompressed"):
        read_bounded(bomb, 1000, what="feed")


# -- detect: which reader applies ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("https://news.example/feed", RSS2, "feed"),
        ("https://news.example/feed", None, None),  # nothing to go on before fetching
        ("https://news.example/index.rss", None, "feed"),
        ("https://blog.example/feed.xml", RSS1, "feed"),
        ("https://atom.example/x.xml", ATOM, "feed"),
        ("https://news.example/sitemap.xml", None, "sitemap"),
        ("https://news.example/news.xml", b"\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c -->\n<urlset>", "sitemap"),
        ("https://news.example/s.xml.gz", gzip.compress(b"<sitemapindex xmlns='x'>"), "sitemap"),
        ("page", b"<!DOCTYPE html>\n<html><head>", "html"),
        ("page.html", b"", "html"),
        ("notes.txt", b"Some article text.\nMore of it.", "text"),
        ("list.txt", b"# articles\nhttps://a.example/1\n\nhttps://b.example/2\n", "urls"),
        ("data.jsonl.gz", None, "jsonl"),
        ("rows", b'{"url": "https://a.example/"}\n', "jsonl"),
        ("data.TSV", None, "csv"),
        ("crawl.warc.gz", None, "warc"),
        ("crawl.bin", gzip.compress(b"WARC/1.1\r\n"), "warc"),
        ("crawl.wacz", None, "wacz"),
        ("blob", b"\x00\x01\x02binary", None),
    ],
)
def test_detect(name: str, head: bytes | None, kind: str | None):
    assert detect(name, head) == kind


def test_detect_path(tmp_path: Path):
    (tmp_path / "feed.xml").write_bytes(ATOM)
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "blob").write_bytes(b"\x00\xff" * 10)
    assert detect_path(tmp_path / "feed.xml") == "feed"
    assert detect_path(tmp_path) == "directory"
    with pytest.raises(InputError, match="empty file"):
        detect_path(tmp_path / "empty")
    with pytest.raises(InputError, match="cannot tell what kind of input"):
        detect_path(tmp_path / "blob")
    with pytest.raises(InputError, match="no such file"):
        detect_path(tmp_path / "nope")
    assert sniff(b"WARC/1.0\r\n") == "warc"


# -- dates and --since ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024", "2024-01-01T00:00:00+00:00"),
        ("2024-05", "2024-05-01T00:00:00+00:00"),
        ("2024-05-01", "2024-05-01T00:00:00+00:00"),
        ("2024-05-01T10:00Z", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01T10:00:00.75+02:00", "2024-05-01T08:00:00+00:00"),
        ("2024-05-01 10:00:00", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01 10:00:00 UTC", "2024-05-01T10:00:00+00:00"),
        ("Wed, 01 May 2024 10:00:00 GMT", "2024-05-01T10:00:00+00:00"),
        ("Wed, 01 May 2024 10:00:00 EST", "2024-05-01T15:00:00+00:00"),
        (1714557600, "2024-05-01T10:00:00+00:00"),
        (1714557600000, "2024-05-01T10:00:00+00:00"),
        ("1714557600", "2024-05-01T10:00:00+00:00"),
        ("20240501", "2024-05-01T00:00:00+00:00"),
        ("0001-01-01T00:00:00+01:00", None),
        ("yesterday", None),
        ("2024-13-01", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_parse_date(value, iso):
    assert parse_date(value) == iso


def test_parse_since_and_keep_since():
    now = datetime(2024, 5, 3, 12, tzinfo=timezone.utc)
    assert parse_since("2024-05-01") == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert parse_since("36h", now=now) == datetime(2024, 5, 2, 0, tzinfo=timezone.utc)
    assert parse_since("2d", now=now) == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    with pytest.raises(InputError, match="not a date"):
        parse_since("last tuesday")
    since = datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert keep_since("2024-05-01T00:00:00+00:00", since)
    assert not keep_since("2024-04-30T23:59:59+00:00", since)
    assert keep_since(None, since)  # undated: kept
    assert keep_since("2020-01-01T00:00:00+00:00", None)


def test_entity_expansion_bomb_is_not_expanded():
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]>'
            "<rss><channel><item><link>https://news.example/&e9;</link></item></channel></rss>").encode()
    articles, bad = read_feed(body, where="bomb.xml")
    assert all(len(a.url) < 100 for a in articles)
    assert all("\n" not in str(b) for b in bad)
