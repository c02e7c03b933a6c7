"""WARC and WACZ export, and the round trip back through `archiver import warc`.

The archive is a real crawl over loopback (``test_serve.build_archive``): three
articles, one behind a redirect and served gzip-encoded, and the platform lookups
of five posts over two runs. Exports are judged by ``warcio check`` (run as its
own process) and by reading them back with warcio.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.cli import main
from archiver.export.wacz import surt
from archiver.export.warc import replayable_headers
from test_serve import CALM, CALM_SHORT, PAGES, build_archive

FETCH_COLUMNS = ("purpose", "endpoint", "requested_url", "url", "final_url", "redirect_chain", "method", "status",
                 "http_version", "request_headers", "response_headers", "started", "finished", "duration_ms",
                 "server_ip", "connected_to", "body_sha256", "body_size", "truncated", "attempts", "error",
                 "post_key")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("warc") / "archive.db")


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    return exit_.value.code


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    """`warcio check -v`, in its own process, as a researcher would run it."""
    return subprocess.run([sys.executable, "-c", "from warcio.cli import main; main()", "check", "-v", str(path)],
                          capture_output=True, text=True, timeout=60)


def records(path: Path) -> list[dict]:
    out = []
    with path.open("rb") as f:
        for record in ArchiveIterator(f):
            out.append({"type": record.rec_type, "headers": dict(record.rec_headers.headers),
                        "http": record.http_headers, "body": record.content_stream().read()})
    return out


def bodies(path: Path) -> dict[str, bytes]:
    conn = sqlite3.connect(path)
    return {sha: zlib.decompress(content) if compression == "zlib" else bytes(content)
            for sha, compression, content in conn.execute("select sha256, compression, content from bodies")}


def fetch_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    return conn.execute(f"select {', '.join(FETCH_COLUMNS)} from fetches order by started, id").fetchall()


@pytest.fixture(scope="module")
def exported(archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "archive.warc.gz"
    assert run("export", "warc", str(out), "--db", str(archive.path)) == 0
    return out


def test_export_passes_warcio_check(exported):
    check = warcio_check(exported)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest failed" not in check.stdout and "digest pass" in check.stdout


def test_records_carry_the_standard_fields_and_provenance(archive, exported):
    recs = records(exported)
    assert recs[0]["type"] == "warcinfo"
    info = recs[0]["body"].decode()
    assert "software: archiver/" in info and info.count("archiver-run: ") == 2

    conn = sqlite3.connect(archive.path)
    n_fetches = conn.execute("select count(*) from fetches where status is not null").fetchone()[0]
    responses = [r for r in recs if r["type"] == "response"]
    assert len(responses) == n_fetches
    assert len([r for r in recs if r["type"] == "request"]) == n_fetches
    stored = bodies(archive.path)
    for r in responses:
        h = r["headers"]
        assert h["WARC-Date"].endswith("Z") and h["WARC-Target-URI"].startswith("https://")
        assert h["WARC-IP-Address"] == "127.0.0.1"
        algo, b32 = h["WARC-Payload-Digest"].split(":")
        hexdigest = base64.b32decode(b32).hex()
        assert algo == "sha256" and hexdigest == hashlib.sha256(r["body"]).hexdigest()
        assert stored[hexdigest] == r["body"]  # the payload is the stored body

    metadata = {r["headers"]["WARC-Concurrent-To"]: r for r in recs if r["type"] == "metadata"}
    for r in responses:
        fields = dict(line.split(": ", 1) for line in metadata[r["headers"]["WARC-Record-ID"]]["body"]
                      .decode().splitlines())
        assert fields["archiver-url"] == r["headers"]["WARC-Target-URI"]
        assert fields["archiver-body-sha256"] == hashlib.sha256(r["body"]).hexdigest()
        assert fields["archiver-run-id"] in ("1", "2") and fields["archiver-purpose"] in ("article", "lookup",
                                                                                           "redirect", "robots")


def test_decoded_body_is_written_with_consistent_headers(exported):
    """The gzip page: stored decoded, so the record drops Content-Encoding and says so."""
    calm = next(r for r in records(exported) if r["type"] == "response" and r["headers"]["WARC-Target-URI"] == CALM)
    http = calm["http"]
    assert calm["body"] == PAGES[CALM]
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("X-Archiver-Original-Content-Encoding") == "gzip"
    assert http.get_header("Content-Length") == str(len(PAGES[CALM]))
    assert http.get_header("X-Archiver-Original-Content-Length") == str(len(gzip.compress(PAGES[CALM])))
    redirect = next(r for r in records(exported)
                    if r["type"] == "response" and r["headers"]["WARC-Target-URI"] == CALM_SHORT)
    assert redirect["http"].get_statuscode() == "301" and redirect["http"].get_header("Location") == CALM


def test_run_and_since_select_exchanges(archive, tmp_path):
    out = tmp_path / "run2.warc.gz"
    assert run("export", "warc", str(out), "--db", str(archive.path), "--run", str(archive.recheck_run)) == 0
    lookups = [r for r in records(out) if r["type"] == "response"]
    assert sorted(urlsplit(r["headers"]["WARC-Target-URI"]).hostname for r in lookups) == [
        "cdn.syndication.twimg.com", "publish.twitter.com"]
    assert warcio_check(out).returncode == 0

    later = tmp_path / "later.warc.gz"
    assert run("export", "warc", str(later), "--db", str(archive.path), "--since", "2999-01-01") == 0
    assert [r["type"] for r in records(later)] == ["warcinfo"]
    assert run("export", "warc", str(tmp_path / "x.warc.gz"), "--db", str(archive.path), "--run", "99") == 2
    assert run("export", "warc", str(tmp_path / "x.warc.gz"), "--db", str(archive.path), "--since", "soon") == 2
    assert not (tmp_path / "x.warc.gz").exists() and not (tmp_path / "x.warc.gz.part").exists()


def test_import_restores_identical_bodies_and_exchanges(archive, exported, tmp_path, capsys):
    fresh = tmp_path / "restored.db"
    assert run("import", "warc", str(exported), "--db", str(fresh), "--fail") == 0
    err = capsys.readouterr().err
    assert "problems" not in err
    original, restored = bodies(archive.path), bodies(fresh)
    assert len(original) >= 10
    assert restored == original  # same hashes, same bytes
    assert all(hashlib.sha256(b).hexdigest() == sha for sha, b in restored.items())
    assert fetch_rows(fresh) == fetch_rows(archive.path)

    conn = sqlite3.connect(fresh)
    # the redirect is one capture again: the hop points at its final exchange
    hop = conn.execute("select parent_fetch_id from fetches where purpose = 'redirect'").fetchone()[0]
    assert conn.execute("select url from fetches where id = ?", [hop]).fetchone()[0] == CALM
    articles = {r[0]: r[1] for r in conn.execute("select url, last_status from articles")}
    assert articles == {u: 200 for u in ("https://site1.news.test/world/border", "https://site2.news.test/follow-up",
                                         CALM_SHORT)}
    (outcome, counts), = conn.execute("select outcome, counts from runs").fetchall()
    assert outcome == "completed" and json.loads(counts)["problems"] == 0
    provenance = json.loads(conn.execute("select provenance from fetches where purpose = 'article' limit 1")
                            .fetchone()[0])
    assert provenance["warc_file"] == exported.name and provenance["offset"] > 0

    # exporting the restored archive gives the same payloads again
    again = tmp_path / "again.warc.gz"
    assert run("export", "warc", str(again), "--db", str(fresh)) == 0
    def digests(path):
        return sorted(r["headers"]["WARC-Payload-Digest"] for r in records(path) if r["type"] == "response")

    assert digests(again) == digests(exported)


def test_import_of_another_tools_warc(tmp_path):
    """A crawler's WARC with a gzip Content-Encoding: the body is stored decoded, purpose 'imported'."""
    page = b"<html><body><p>hello</p></body></html>"
    path = tmp_path / "other.warc.gz"
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                                protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://example.com/", "response", payload=io.BytesIO(gzip.compress(page)), http_headers=http,
            warc_headers_dict={"WARC-Date": "2024-01-02T03:04:05Z", "WARC-IP-Address": "93.184.216.34"}))
    db = tmp_path / "imported.db"
    assert run("import", "warc", str(path), "--db", str(db)) == 0
    conn = sqlite3.connect(db)
    row = conn.execute("select purpose, url, status, server_ip, started, body_sha256 from fetches").fetchone()
    assert row == ("imported", "https://example.com/", 200, "93.184.216.34", "2024-01-02T03:04:05.000000+00:00",
                   hashlib.sha256(page).hexdigest())


def test_import_refuses_what_is_not_a_warc(tmp_path, capsys):
    bogus = tmp_path / "notes.warc.gz"
    bogus.write_bytes(b"this is not a WARC")
    assert run("import", "warc", str(bogus), "--db", str(tmp_path / "x.db")) == 2
    err = capsys.readouterr().err
    assert "not a WARC file" in err and "Traceback" not in err


def test_wacz_package(archive, tmp_path):
    out = tmp_path / "archive.wacz"
    assert run("export", "wacz", str(out), "--db", str(archive.path), "--title", "Border study") == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert names == {"archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl", "datapackage.json",
                         "datapackage-digest.json"}
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        package = json.loads(zf.read("datapackage.json"))
        assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
        assert package["title"] == "Border study"
        for resource in package["resources"]:
            data = zf.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()

        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        assert {p["url"]: p["title"] for p in pages[1:]} == {
            "https://site1.news.test/world/border": "Border crisis, day three",
            "https://site2.news.test/follow-up": "Follow-up: the crossing", CALM: "A calm night"}

        warc = tmp_path / "data.warc.gz"
        warc.write_bytes(zf.read("archive/data.warc.gz"))
        index = zf.read("indexes/index.cdx").decode().splitlines()
    check = warcio_check(warc)
    assert check.returncode == 0, check.stdout
    assert index == sorted(index) and len(index) == len([r for r in records(warc) if r["type"] == "response"])
    for line in index:  # every entry points at its response record
        key, timestamp, entry = line.split(" ", 2)
        entry = json.loads(entry)
        assert key == surt(entry["url"]) and len(timestamp) == 14
        with warc.open("rb") as f:
            f.seek(int(entry["offset"]))
            record = next(iter(ArchiveIterator(f)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
            assert record.rec_headers.get_header("WARC-Payload-Digest") == entry["digest"]


def test_replayable_headers():
    received = [("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Content-Length", "120"),
                ("Vary", "Accept-Encoding")]
    assert replayable_headers(received, 500) == [
        ("Content-Type", "text/html"), ("X-Archiver-Original-Content-Encoding", "gzip"), ("Content-Length", "500"),
        ("X-Archiver-Original-Content-Length", "120"), ("Vary", "Accept-Encoding")]
    chunked = [("Transfer-Encoding", "chunked"), ("Content-Type", "application/json")]
    assert replayable_headers(chunked, 7) == [
        ("X-Archiver-Original-Transfer-Encoding", "chunked"), ("Content-Length", "7"),
        ("Content-Type", "application/json")]
    brotli = [("Content-Encoding", "br"), ("Content-Length", "9")]  # not decoded by archiver: kept as received
    assert replayable_headers(brotli, 9) == brotli
    assert replayable_headers([], 0) == [("Content-Length", "0")]


def test_surt():
    assert surt("https://www.Example.com/A/?b=2&a=1#frag") == "com,example)/a?a=1&b=2"
    assert surt("http://example.com:8080/") == "com,example:8080)/"
    assert surt("https://site1.news.test/world/border") == "test,news,site1)/world/border"


def test_demo_archive_round_trip(tmp_path, monkeypatch):
    """The issue's bar: a WARC of the demo database passes warcio check and restores identical bodies."""
    from archiver import demo
    from archiver.mirror import Mirror, load_manifest

    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    monkeypatch.setenv("ARCHIVER_EXTRACT_WORKERS", "0")
    db = tmp_path / "demo.db"
    urls = demo.article_urls(demo.DEMO)
    with Mirror(load_manifest(demo.DEMO), root=demo.DEMO) as mirror:
        target = mirror.start()
        args = ["crawl", *urls, "--db", str(db), "--delay", "0"]
        for origin in sorted(demo.origins(demo.DEMO, urls)):
            args += ["--connect-to", f"{origin}={target}"]
        assert run(*args) == 0
    warc = tmp_path / "demo.warc.gz"
    assert run("export", "warc", str(warc), "--db", str(db)) == 0
    check = warcio_check(warc)
    assert check.returncode == 0 and "digest failed" not in check.stdout
    restored = tmp_path / "restored.db"
    assert run("import", "warc", str(warc), "--db", str(restored), "--fail") == 0
    assert bodies(restored) == bodies(db) and len(bodies(db)) > 10
    assert fetch_rows(restored) == fetch_rows(db)


def test_document_in_hand_is_a_resource_record(tmp_path):
    """An article read from a file has bytes but no HTTP exchange: a WARC resource record, and back."""
    from archiver.pipeline import document_capture
    from archiver.sources.base import Document
    from archiver.store import Store, open_db

    page = PAGES[CALM]
    db = tmp_path / "files.db"
    store = Store(open_db(db))
    run_id = store.start_run(["crawl", "calm.html"], {})
    url = "https://site2.news.test/calm"
    doc = Document(body=page, media="html", origin="file", content_type="text/html; charset=utf-8",
                   provenance=(("path", "calm.html"), ("sha256", hashlib.sha256(page).hexdigest())))
    store.save_capture(document_capture(url, doc), run_id, "article", article_id=store.article_id(url, "calm.html"),
                       provenance=dict(doc.provenance))
    store.finish_run(run_id, "completed", {})
    store.db.conn.close()

    warc = tmp_path / "files.warc.gz"
    assert run("export", "warc", str(warc), "--db", str(db)) == 0
    assert warcio_check(warc).returncode == 0
    resource = next(r for r in records(warc) if r["type"] == "resource")
    assert resource["body"] == page and resource["headers"]["Content-Type"] == "text/html; charset=utf-8"

    restored = tmp_path / "restored.db"
    assert run("import", "warc", str(warc), "--db", str(restored), "--fail") == 0
    assert bodies(restored) == bodies(db)
    assert fetch_rows(restored) == fetch_rows(db)
    provenance = json.loads(sqlite3.connect(restored).execute("select provenance from fetches").fetchone()[0])
    assert provenance["original"] == {"path": "calm.html", "sha256": hashlib.sha256(page).hexdigest()}
