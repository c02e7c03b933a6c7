"""Sitemaps as inputs: urlset, sitemap index, Google News sitemaps, gzip'd and text forms."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archiver.errors import InputError
from archiver.sources.sitemaps import read_sitemap, read_sitemap_file

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url>
    <loc>https://news.example/2024/05/one</loc>
    <lastmod>2024-05-01T10:00:00+02:00</lastmod>
  </url>
  <url>
    <loc> https://news.example/2023/old </loc>
    <lastmod>2023-02-01</lastmod>
  </url>
  <url>
    <loc>https://news.example/undated</loc>
  </url>
  <url>
    <lastmod>2024-05-01</lastmod>
  </url>
  <url>
    <loc>news.example/no-scheme</loc>
  </url>
  <url>
    <loc>https://news.example/2024/05/one</loc>
  </url>
</urlset>
"""

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example/business/article55.html</loc>
    <lastmod>2024-05-03T00:00:00Z</lastmod>
    <news:news>
      <news:publication>
        <news:name>The Example Times</news:name>
        <news:language>en</news:language>
      </news:publication>
      <news:publication_date>2024-04-30T18:30:00-05:00</news:publication_date>
      <news:title>Companies A, B in Merger Talks</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://news.example/business/article56.html</loc>
    <news:news>
      <news:publication_date>someday</news:publication_date>
    </news:news>
  </url>
</urlset>
"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap>
    <loc>https://news.example/sitemap-2024-05.xml.gz</loc>
    <lastmod>2024-05-02T00:00:00Z</lastmod>
  </sitemap>
  <sitemap>
    <loc>https://news.example/sitemap-2023.xml</loc>
    <lastmod>2023-12-31</lastmod>
  </sitemap>
  <sitemap>
    <loc>https://news.example/sitemap-news.xml</loc>
  </sitemap>
  <sitemap>
    <loc>ftp://news.example/sitemap-x.xml</loc>
  </sitemap>
</sitemapindex>
"""

WHERE = "https://news.example/sitemap.xml"


def test_urlset_locs_and_bad_entries():
    articles, nested, bad = read_sitemap(URLSET, where=WHERE)
    assert [a.url for a in articles] == [
        "https://news.example/2024/05/one",
        "https://news.example/2023/old",
        "https://news.example/undated",
    ]
    assert nested == []
    # lastmod is when the page changed, not when it was published.
    assert {a.published for a in articles} == {None}
    assert {a.source for a in articles} == {f"sitemap {WHERE}"}
    assert [str(b) for b in bad] == [
        f"{WHERE}:14: entry without <loc>",
        f"{WHERE}:17: <loc>: not an http(s) URL (no scheme): 'news.example/no-scheme'",
    ]


def test_since_uses_lastmod_and_keeps_undated():
    since = datetime(2024, 1, 1, tzinfo=timezone.utc)
    articles, _, _ = read_sitemap(URLSET, where=WHERE, since=since)
    assert [a.url for a in articles] == ["https://news.example/2024/05/one", "https://news.example/undated"]


def test_news_sitemap_publication_date():
    articles, nested, bad = read_sitemap(NEWS, where=WHERE)
    assert [(a.url, a.published) for a in articles] == [
        ("https://news.example/business/article55.html", "2024-04-30T23:30:00+00:00"),
        ("https://news.example/business/article56.html", None),
    ]
    assert [str(b) for b in bad] == [f"{WHERE}:16: unreadable date 'someday'; entry kept without a date"]
    # The publication date, not lastmod, decides --since when both are there.
    since = datetime(2024, 5, 1, tzinfo=timezone.utc)
    articles, _, _ = read_sitemap(NEWS, where=WHERE, since=since)
    assert [a.url for a in articles] == ["https://news.example/business/article56.html"]


def test_sitemap_index_lists_nested_sitemaps():
    articles, nested, bad = read_sitemap(INDEX, where=WHERE)
    assert articles == []
    assert nested == [
        "https://news.example/sitemap-2024-05.xml.gz",
        "https://news.example/sitemap-2023.xml",
        "https://news.example/sitemap-news.xml",
    ]
    assert len(bad) == 1 and "unsupported scheme 'ftp'" in bad[0].problem
    _, nested, _ = read_sitemap(INDEX, where=WHERE, since=datetime(2024, 5, 1, tzinfo=timezone.utc))
    assert nested == ["https://news.example/sitemap-2024-05.xml.gz", "https://news.example/sitemap-news.xml"]


def test_gzipped_sitemap_body_and_file(tmp_path: Path):
    packed = gzip.compress(NEWS)
    articles, _, _ = read_sitemap(packed, where="https://news.example/sitemap-news.xml.gz")
    assert len(articles) == 2
    path = tmp_path / "sitemap-news.xml.gz"
    path.write_bytes(packed)
    articles, _, bad = read_sitemap_file(path)
    assert [a.source for a in articles] == [f"sitemap {path}"] * 2
    assert len(bad) == 1


def test_text_sitemap(tmp_path: Path):
    path = tmp_path / "sitemap.txt"
    path.write_bytes(b"\xef\xbb\xbfhttps://news.example/a\nhttps://news.example/b\n\nnot a url\nhttps://news.example/a\n")
    articles, nested, bad = read_sitemap_file(path)
    assert [a.url for a in articles] == ["https://news.example/a", "https://news.example/b"]
    assert [str(b) for b in bad] == [f"{path}:4: not a URL (contains white space or control characters): 'not a url'"]


def test_malformed_sitemap_is_recovered_and_reported(tmp_path: Path):
    path = tmp_path / "sitemap.xml"
    path.write_bytes(URLSET.replace(b"</url>\n  <url>\n    <loc>https://news.example/undated", b"\n  <url>\n    <loc>https://news.example/undated", 1)[:-12])
    articles, _, bad = read_sitemap_file(path)
    assert bad[0].where == str(path)
    assert bad[0].problem.startswith("broken XML (") and bad[0].problem.endswith("read what could be recovered")
    assert "https://news.example/2024/05/one" in [a.url for a in articles]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "not a sitemap: empty document"),
        (b"\x00\x01\x02\x03 binary \xff\xfe", "not a sitemap: not XML ("),
        (b"<<<>>>", "not a sitemap: not XML ("),
        (b"<rss><channel/></rss>", "not a sitemap (root element <rss>, expected urlset or sitemapindex)"),
        (gzip.compress(URLSET)[:40], "sitemap is truncated gzip"),
    ],
)
def test_malformed_sitemaps_give_one_line_bad_inputs(body: bytes, problem: str):
    articles, nested, bad = read_sitemap(body, where=WHERE)
    assert (articles, nested) == ([], [])
    assert len(bad) == 1 and bad[0].where == WHERE
    assert bad[0].problem.startswith(problem), bad[0].problem
    assert "\n" not in bad[0].problem


def test_sitemap_file_errors(tmp_path: Path):
    with pytest.raises(InputError, match="no such file"):
        read_sitemap_file(tmp_path / "sitemap.xml")
