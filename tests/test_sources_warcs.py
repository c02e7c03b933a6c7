"""WARC and WACZ files as inputs: real archives written with warcio, then damaged."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.errors import InputError
from archiver.sources.base import ArticleInput, BadInput
from archiver.sources.warcs import read_warc

PAGE_A = b"<html><head><title>A</title></head><body><blockquote class='twitter-tweet'>a</blockquote></body></html>"
PAGE_B = b"<html><body><p>B, sent gzip'd and chunked</p></body></html>"
TEXT_C = b"A plain-text story. https://t.co/abc\n"
DATE = "2024-05-01T10:00:00Z"


def _chunked(data: bytes) -> bytes:
    half = len(data) // 2
    parts = [data[:half], data[half:]]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def write_warc(path: Path, *, gz: bool) -> dict[str, int]:
    """A small crawl: the articles among requests, images, redirects and errors.
    Returns each record's offset by name."""
    offsets: dict[str, int] = {}
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gz)

        def response(name: str, url: str, status: str, headers: list[tuple[str, str]], body: bytes,
                     ip: str = "203.0.113.7") -> None:
            http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": DATE, "WARC-IP-Address": ip},
            )
            offsets[name] = fh.tell()
            writer.write_record(record)

        offsets["warcinfo"] = fh.tell()
        writer.write_record(writer.create_warcinfo_record("crawl.warc", {"software": "test"}))
        request = writer.create_warc_record(
            "https://news.example/a", "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders("GET /a HTTP/1.1", [("Host", "news.example")], is_http_request=True),
        )
        offsets["request"] = fh.tell()
        writer.write_record(request)
        response("a", "https://news.example/a", "200 OK", [("Content-Type", "text/html; charset=utf-8")], PAGE_A)
        response("png", "https://news.example/logo.png", "200 OK", [("Content-Type", "image/png")], b"\x89PNG....")
        response("b", "https://news.example/b", "200 OK",
                 [("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
                 _chunked(gzip.compress(PAGE_B)))
        response("404", "https://news.example/gone", "404 Not Found", [("Content-Type", "text/html")], b"<p>no</p>")
        response("301", "https://news.example/old", "301 Moved", [("Location", "/a"), ("Content-Type", "text/html")], b"")
        response("c", "https://news.example/c.txt", "200 OK", [("Content-Type", "text/plain")], TEXT_C, ip="2001:db8::1")
        offsets["end"] = fh.tell()
    return offsets


def articles_and_bad(items) -> tuple[list[ArticleInput], list[BadInput]]:
    items = list(items)
    return [i for i in items if isinstance(i, ArticleInput)], [i for i in items if isinstance(i, BadInput)]


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_article_responses_become_documents(tmp_path: Path, gz: bool):
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    offsets = write_warc(path, gz=gz)
    articles, bad = articles_and_bad(read_warc(path))
    assert bad == []
    assert [a.url for a in articles] == ["https://news.example/a", "https://news.example/b", "https://news.example/c.txt"]
    a, b, c = (x.document for x in articles)
    assert a is not None and b is not None and c is not None
    assert (a.body, a.media, a.origin, a.status) == (PAGE_A, "html", "warc", 200)
    assert a.content_type == "text/html; charset=utf-8"
    assert ("Content-Type", "text/html; charset=utf-8") in a.response_headers
    assert a.captured_at == "2024-05-01T10:00:00+00:00"
    assert a.server_ip == "203.0.113.7"
    prov = dict(a.provenance)
    assert prov["warc_file"] == str(path.resolve())
    assert prov["offset"] == str(offsets["a"])
    assert prov["record_id"].startswith("<urn:uuid:")
    assert prov["warc_date"] == DATE
    assert articles[0].source == f"warc {path} offset {offsets['a']}"
    assert b.body == PAGE_B  # de-chunked and gunzipped
    assert (c.body, c.media, c.server_ip) == (TEXT_C, "text", "2001:db8::1")
    # offset and length cut the record out of the file, as a CDX index would.
    assert int(prov["offset"]) + int(prov["length"]) == (offsets["png"] if gz else offsets["png"] - 4)


def test_corrupt_gzip_record_is_reported_and_the_rest_read(tmp_path: Path):
    path = tmp_path / "crawl.warc.gz"
    offsets = write_warc(path, gz=True)
    data = bytearray(path.read_bytes())
    start, end = offsets["b"], offsets["404"]
    for i in range(start + (end - start) // 2, start + (end - start) // 2 + 6):
        data[i] ^= 0xFF  # damage the middle of record b's compressed bytes
    path.write_bytes(bytes(data))
    articles, bad = articles_and_bad(read_warc(path))
    assert [a.url for a in articles] == ["https://news.example/a", "https://news.example/c.txt"]
    assert len(bad) == 1
    assert bad[0].where == f"{path} offset {offsets['b']}"
    assert bad[0].problem.startswith(("broken gzip data (", "damaged record", "unreadable record"))
    assert "\n" not in str(bad[0])
    assert dict(articles[1].document.provenance)["offset"] == str(offsets["c"])


def test_corrupt_plain_records_are_reported_and_the_rest_read(tmp_path: Path):
    path = tmp_path / "crawl.warc"
    offsets = write_warc(path, gz=False)
    data = bytearray(path.read_bytes())
    body_at = data.index(PAGE_A)
    data[body_at + 20: body_at + 24] = b"XXXX"  # record a's payload no longer matches its digest
    data[offsets["b"]: offsets["b"] + 4] = b"WXRC"  # record b's version line is gone
    path.write_bytes(bytes(data))
    articles, bad = articles_and_bad(read_warc(path))
    assert [a.url for a in articles] == ["https://news.example/c.txt"]
    assert [b.where for b in bad] == [f"{path} offset {offsets['a']}", f"{path} offset {offsets['b']}"]
    assert bad[0].problem.startswith("damaged record: ") and "digest failed" in bad[0].problem
    assert bad[1].problem.startswith("unreadable record: Invalid WARC record, first line: WXRC/1.")


def test_truncated_warc_gz(tmp_path: Path):
    path = tmp_path / "crawl.warc.gz"
    offsets = write_warc(path, gz=True)
    path.write_bytes(path.read_bytes()[: offsets["end"] - 10])
    articles, bad = articles_and_bad(read_warc(path))
    assert [a.url for a in articles] == ["https://news.example/a", "https://news.example/b"]
    assert [str(b) for b in bad] == [f"{path} offset {offsets['c']}: file ends inside a gzip member (truncated)"]


def test_oversized_response_is_skipped(tmp_path: Path):
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, gz=True)
    articles, bad = articles_and_bad(read_warc(path, max_bytes=64))
    assert [a.url for a in articles] == ["https://news.example/b", "https://news.example/c.txt"]
    assert [b.problem for b in bad] == ["https://news.example/a: response body larger than 64 bytes; skipped"]


def test_wacz(tmp_path: Path):
    one, two = tmp_path / "data.warc.gz", tmp_path / "more.warc"
    offsets = write_warc(one, gz=True)
    write_warc(two, gz=False)
    wacz = tmp_path / "crawl.wacz"
    with zipfile.ZipFile(wacz, "w") as zf:
        zf.writestr("datapackage.json", json.dumps({"profile": "data-package", "resources": []}))
        zf.write(one, "archive/data.warc.gz", compress_type=zipfile.ZIP_STORED)
        zf.write(two, "archive/more.warc", compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("indexes/index.cdx", "")
    articles, bad = articles_and_bad(read_warc(wacz))
    assert bad == []
    assert len(articles) == 6
    prov = dict(articles[0].document.provenance)
    assert prov["warc_file"] == "archive/data.warc.gz"
    assert prov["wacz_file"] == str(wacz.resolve())
    assert prov["offset"] == str(offsets["a"])
    assert articles[0].source == f"warc {wacz}#archive/data.warc.gz offset {offsets['a']}"
    assert dict(articles[3].document.provenance)["warc_file"] == "archive/more.warc"


def test_wacz_with_a_corrupt_record(tmp_path: Path):
    one = tmp_path / "data.warc.gz"
    offsets = write_warc(one, gz=True)
    data = bytearray(one.read_bytes())
    data[offsets["a"] + 30] ^= 0xFF
    wacz = tmp_path / "crawl.wacz"
    with zipfile.ZipFile(wacz, "w") as zf:
        zf.writestr("archive/data.warc.gz", bytes(data))
    articles, bad = articles_and_bad(read_warc(wacz))
    assert [a.url for a in articles] == ["https://news.example/b", "https://news.example/c.txt"]
    assert [b.where for b in bad] == [f"{wacz}#archive/data.warc.gz offset {offsets['a']}"]


def test_unreadable_inputs_are_input_errors(tmp_path: Path):
    text = tmp_path / "notes.warc"
    text.write_text("not a warc at all\n")
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    plain_zip = tmp_path / "photos.wacz"
    with zipfile.ZipFile(plain_zip, "w") as zf:
        zf.writestr("photo.jpg", b"\xff\xd8")
    bad_zip = tmp_path / "broken.wacz"
    bad_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 20)
    with pytest.raises(InputError, match="not a WARC file"):
        read_warc(text)
    with pytest.raises(InputError, match="empty file"):
        read_warc(empty)
    with pytest.raises(InputError, match="no such file"):
        read_warc(tmp_path / "missing.warc")
    with pytest.raises(InputError, match="without archive/"):
        read_warc(plain_zip)
    with pytest.raises(InputError, match="not a readable WACZ"):
        read_warc(bad_zip)


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_random_damage_never_escapes_and_never_alters_a_body(tmp_path: Path, gz: bool):
    """One flipped byte anywhere after the warcinfo costs at most the record it hit."""
    import random

    path = tmp_path / "crawl.warc"
    offsets = write_warc(path, gz=gz)
    original = path.read_bytes()
    expected = {"https://news.example/a": PAGE_A, "https://news.example/b": PAGE_B, "https://news.example/c.txt": TEXT_C}
    for seed in range(60):
        rnd = random.Random(seed)
        data = bytearray(original)
        data[rnd.randrange(offsets["request"], len(data))] ^= rnd.randrange(1, 256)
        path.write_bytes(bytes(data))
        articles, bad = articles_and_bad(read_warc(path))
        assert len(articles) >= 2 and len(bad) <= 1
        assert all("\n" not in str(b) for b in bad)
        for article in articles:
            assert article.document is not None and article.document.body == expected[article.url]


def test_big_records_that_are_no_articles_are_streamed_past(tmp_path: Path):
    import tracemalloc

    path = tmp_path / "video.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        video = io.BytesIO(bytes(range(256)) * (8 * 4096))  # 8 MiB
        http = StatusAndHeaders("200 OK", [("Content-Type", "video/mp4")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://news.example/v.mp4", "response", payload=video,
                                                      http_headers=http))
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://news.example/a", "response",
                                                      payload=io.BytesIO(PAGE_A), http_headers=http))
    tracemalloc.start()
    try:
        articles, bad = articles_and_bad(read_warc(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.url for a in articles] == ["https://news.example/a"] and bad == []
    assert peak < 2_000_000
