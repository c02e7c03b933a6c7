"""JSONL and CSV datasets as inputs: named columns, kept row ids, bad rows skipped by line."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archiver.errors import InputError
from archiver.sources.base import ArticleInput, BadInput
from archiver.sources.datasets import Columns, read_dataset

COLUMNS = Columns(url="link", html="body", text="plain", published="date", row_id="doc_id")


def split(items):
    good = [i for i in items if isinstance(i, ArticleInput)]
    bad = [str(i) for i in items if isinstance(i, BadInput)]
    return good, bad


def write_jsonl(path: Path, rows: list) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(row if isinstance(row, str) else json.dumps(row))
            fh.write("\n")


def test_jsonl_rows_documents_urls_and_bad_rows(tmp_path: Path):
    path = tmp_path / "articles.jsonl"
    write_jsonl(path, [
        {"doc_id": 17, "link": "https://news.example/a", "body": "<html><p>é</p></html>", "date": "2024-05-01"},
        {"doc_id": "x2", "link": "https://news.example/b"},
        "",
        '{"doc_id": 3, "link": "https://news.example/c", ',  # cut off: invalid JSON
        {"doc_id": 4, "plain": "A text-only story", "date": "someday"},
        ["not", "an", "object"],
        {"doc_id": 6, "link": "javascript:alert(1)"},
        {"doc_id": 7},
        {"doc_id": 8, "link": 42},
        {"doc_id": 9, "link": "https://news.example/d", "body": "<p>d</p>", "plain": "ignored when html is there"},
    ])
    good, bad = split(list(read_dataset(path, COLUMNS)))
    assert [(a.url, a.source, a.row_id, a.published) for a in good] == [
        ("https://news.example/a", f"{path}:1", "17", "2024-05-01T00:00:00+00:00"),
        ("https://news.example/b", f"{path}:2", "x2", None),
        (f"{path.resolve().as_uri()}#id=4", f"{path}:5", "4", None),
        ("https://news.example/d", f"{path}:10", "9", None),
    ]
    first = good[0].document
    assert first is not None
    assert first.body == "<html><p>é</p></html>".encode()
    assert (first.media, first.origin, first.content_type) == ("html", "dataset", "text/html; charset=utf-8")
    assert first.provenance == (("file", str(path.resolve())), ("line", "1"), ("row_id", "17"))
    assert good[1].document is None  # a url only: to be fetched
    assert good[2].document is not None and good[2].document.media == "text"
    assert good[3].document is not None and good[3].document.body == b"<p>d</p>"
    assert bad == [
        f"{path}:4: invalid JSON (Expecting property name enclosed in double quotes at column 49)",
        f"{path}:5: unreadable date 'someday'; row kept without a date",
        f"{path}:6: not a JSON object but list",
        f"{path}:7: link: not an http(s) URL (unsupported scheme 'javascript'): 'javascript:alert(1)'",
        f"{path}:8: no url, html or text in this row",
        f"{path}:9: link: expected text, found int",
    ]


def test_jsonl_gzipped_since_and_line_limits(tmp_path: Path):
    path = tmp_path / "rows.ndjson.gz"
    rows = [
        json.dumps({"url": "https://news.example/old", "published": "2023-01-01T00:00:00Z"}),
        json.dumps({"url": "https://news.example/new", "published": 1714557600}),
        json.dumps({"url": "https://news.example/undated"}),
        json.dumps({"url": "https://news.example/huge", "html": "x" * 10_000}),
        "\xff not utf-8",
    ]
    path.write_bytes(gzip.compress("\n".join(rows).encode("utf-8").replace(b"\xc3\xbf", b"\xff") + b"\n"))
    columns = Columns(url="url", html="html", published="published")
    since = datetime(2024, 1, 1, tzinfo=timezone.utc)
    good, bad = split(list(read_dataset(path, columns, since=since, max_bytes=1000)))
    assert [a.url for a in good] == ["https://news.example/new", "https://news.example/undated"]
    assert bad == [
        f"{path}:4: html larger than 1000 bytes; skipped",
        f"{path}:5: not UTF-8",
    ]


def test_jsonl_overlong_line_is_skipped_unread(tmp_path: Path):
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [
        {"url": "https://news.example/1"},
        {"url": "https://news.example/2", "html": "y" * 300_000},
        {"url": "https://news.example/3"},
    ])
    good, bad = split(list(read_dataset(path, Columns(html="html"), max_bytes=10)))
    assert [a.url for a in good] == ["https://news.example/1", "https://news.example/3"]
    assert bad == [f"{path}:2: line longer than 65576 bytes; skipped"]


CSV_TEXT = (
    "id,url,html,published\n"
    'r1,https://news.example/a,"<html><body><p>multi\nline</p></body></html>",2024-05-01T10:00:00+02:00\n'
    "r2,https://news.example/b,,\n"
    "r3,https://news.example/c,only three fields\n"
    "\n"
    "r4,,,\n"
    "r5,news.example/no-scheme,,\n"
    'r6,,"<p>no url, a body</p>",\n'
)


def test_csv_rows_with_multiline_fields_and_bad_rows(tmp_path: Path):
    path = tmp_path / "data.csv"
    path.write_text("\ufeff" + CSV_TEXT, encoding="utf-8")
    columns = Columns(url="url", html="html", published="published", row_id="id")
    good, bad = split(list(read_dataset(path, columns)))
    assert [(a.url, a.source, a.row_id, a.published) for a in good] == [
        ("https://news.example/a", f"{path}:2", "r1", "2024-05-01T08:00:00+00:00"),
        ("https://news.example/b", f"{path}:4", "r2", None),
        (f"{path.resolve().as_uri()}#id=r6", f"{path}:9", "r6", None),
    ]
    assert good[0].document is not None
    assert good[0].document.body == b"<html><body><p>multi\nline</p></body></html>"
    assert good[1].document is None
    assert bad == [
        f"{path}:5: 3 fields, the header has 4",
        f"{path}:7: no url, html or text in this row",
        f"{path}:8: url: not an http(s) URL (no scheme): 'news.example/no-scheme'",
    ]


def test_tsv_and_undecodable_csv_line(tmp_path: Path):
    path = tmp_path / "data.tsv"
    path.write_bytes(b"url\ttext\nhttps://news.example/a\tcaf\xe9\nhttps://news.example/b\tok\n")
    good, bad = split(list(read_dataset(path, Columns(text="text"))))
    assert [a.url for a in good] == ["https://news.example/b"]
    assert bad == [f"{path}:2: not UTF-8"]


def test_large_html_fields_are_read(tmp_path: Path):
    path = tmp_path / "big.csv"
    page = "<html>" + "z" * 200_000 + "</html>"  # over the csv module's default field limit
    path.write_text(f'url,html\nhttps://news.example/big,"{page}"\n', encoding="utf-8")
    good, bad = split(list(read_dataset(path, Columns(html="html"))))
    assert bad == [] and good[0].document is not None and len(good[0].document.body) == len(page)


def test_dataset_errors_are_input_errors(tmp_path: Path):
    csv_path = tmp_path / "data.csv"
    csv_path.write_text("id,link\n1,https://news.example/a\n")
    with pytest.raises(InputError, match=r"data.csv: no column url, html in the header \(columns: id, link\)"):
        read_dataset(csv_path, Columns(url="url", html="html"))
    with pytest.raises(InputError, match="name at least one of the url, html or text columns"):
        read_dataset(csv_path, Columns(url=None))
    with pytest.raises(InputError, match="no such file"):
        read_dataset(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty dataset"):
        read_dataset(empty)
    odd = tmp_path / "rows.dat"
    odd.write_text("url\nhttps://news.example/a\n")
    with pytest.raises(InputError, match="cannot tell JSONL from CSV"):
        read_dataset(odd)
    assert [a.url for a in read_dataset(odd, fmt="csv")] == ["https://news.example/a"]


def test_an_overlong_line_is_streamed_past_not_held(tmp_path: Path):
    import tracemalloc

    path = tmp_path / "huge.jsonl"
    with path.open("wb") as fh:
        fh.write(b'{"url": "https://news.example/1"}\n{"url": "https://news.example/2", "html": "')
        for _ in range(128):
            fh.write(b"z" * 65536)  # 8 MiB on one line
        fh.write(b'"}\n{"url": "https://news.example/3"}\n')
    tracemalloc.start()
    try:
        items = list(read_dataset(path, Columns(html="html"), max_bytes=1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [str(i) if isinstance(i, BadInput) else i.url for i in items] == [
        "https://news.example/1",
        f"{path}:2: line longer than 69536 bytes; skipped",
        "https://news.example/3",
    ]
    assert peak < 1_000_000
