"""Extraction speed on one core, beside the floor a tree parser cannot beat.

- ``corpus``: ``archiver.extract.extract_document`` over every page of
  ../shared/corpus/pages (the bytes as stored, no URL, no Content-Type: the
  charset is sniffed, as ``archiver extract`` does), against lxml's bare parse of
  the same bytes (``lxml.html.document_fromstring``) and, for reference, the
  bare parse of the parser extraction uses (lexbor through selectolax) and one
  pass of BeautifulSoup with its own tree builder (``html.parser``). Each is
  timed over whole passes of the corpus, taken in turn with the others until
  each has had ``seconds``, after one warm-up pass; the best pass counts (the
  least disturbed by the machine).
  Then *stages*: the first steps of ``extract_document`` alone, each with the
  ones before it (decode and parse; the page's one walk; every link with its
  URL, text and region), to show what the steps after them have left of the
  time the target allows.
- ``reextract``: the library path of re-extraction: read article bodies from
  the ``bodies`` table of a crawled database, decompress them and extract them
  again, one core, in pages/s (everything above runs in this process, one
  thread: "on one core" is literal);
- ``reextract_command``: ``archiver reextract`` itself, in a subprocess, on a
  copy of that database.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages"


@dataclass
class Speed:
    name: str
    pages: int
    bytes: int
    seconds: float  # for one pass

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6


class one_core:
    """Pin this process to one CPU for the block (the last one: CPU 0 takes most interrupts), then restore."""

    def __enter__(self) -> int | None:
        try:
            self.saved = os.sched_getaffinity(0)
            cpu = max(self.saved)
            os.sched_setaffinity(0, {cpu})
            return cpu
        except (AttributeError, OSError):
            self.saved = None
            return None

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            os.sched_setaffinity(0, self.saved)


def load_corpus(directory: Path = CORPUS) -> list[bytes]:
    return [p.read_bytes() for p in sorted(directory.glob("*.html"))]


def _best_passes(fns: list, pages: list[bytes], seconds: float, min_passes: int = 2) -> list[float]:
    """The best whole pass of each function, their passes taken in turn until ``seconds`` each have gone by.

    In turn, so that the machine's slower minutes fall on all of them alike and
    their ratios hold even when the absolute speeds drift.
    """
    for fn in fns:  # warm-up: imports, caches, compiled XPath
        for page in pages:
            fn(page)
    best, spent, passes = [float("inf")] * len(fns), [0.0] * len(fns), 0
    gc.collect()
    while min(spent) < seconds or passes < min_passes:
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for page in pages:
                fn(page)
            took = time.perf_counter() - t0
            best[i], spent[i] = min(best[i], took), spent[i] + took
        passes += 1
    return best


def corpus(seconds: float = 8.0, bs4_pass: bool = True, directory: Path = CORPUS) -> list[Speed]:
    pages = load_corpus(directory)
    if not pages:
        raise FileNotFoundError(f"no pages in {directory}")
    size = sum(map(len, pages))
    with one_core():
        return _corpus(pages, size, seconds, bs4_pass)


def _stages() -> list[tuple[str, object]]:
    """(name, function of the page's bytes) for the first steps of extraction, each with the ones before it."""
    from archiver.extract import PAGE_TAGS
    from archiver.extract import charset as charsets
    from archiver.extract.links import base_url, find_links
    from archiver.extract.regions import RegionMap
    from archiver.extract.trees import parse_document
    from archiver.platforms.page import Page

    def parsed(body: bytes):
        data = charsets.decode(body, None).utf8
        return parse_document(data), data

    def walked(body: bytes) -> Page:
        root, data = parsed(body)
        page = Page(root, tags=PAGE_TAGS, data=data)
        page.base_url = base_url(page, None)
        return page

    def linked(body: bytes) -> None:
        page = walked(body)
        find_links(page, None, RegionMap())

    return [("stage: decode + parse", parsed), ("stage: + the page's one walk", walked),
            ("stage: + every link (URL, text, rel, region)", linked)]


def _corpus(pages: list[bytes], size: int, seconds: float, bs4_pass: bool) -> list[Speed]:
    import lxml.html

    from archiver.extract import extract_document

    from selectolax.lexbor import LexborHTMLParser

    measured = [("lxml.html.document_fromstring (bare parse)", lxml.html.document_fromstring),
                ("archiver extract_document", lambda b: extract_document(b, media="html")),
                ("selectolax LexborHTMLParser (bare parse; extraction's parser)", LexborHTMLParser), *_stages()]
    best = _best_passes([fn for _, fn in measured], pages, seconds)
    out = [Speed(name, len(pages), size, took) for (name, _), took in zip(measured, best)]
    if bs4_pass:
        from bs4 import BeautifulSoup

        t0 = time.perf_counter()
        for page in pages:
            BeautifulSoup(page, "html.parser")
        out.insert(2, Speed("BeautifulSoup(bytes, 'html.parser')", len(pages), size, time.perf_counter() - t0))
    return out


@dataclass
class Reextract:
    pages: int
    bytes: int
    read_s: float  # reading and decompressing
    extract_s: float
    embeds: int
    db_articles: int

    @property
    def pages_per_s(self) -> float:
        return self.pages / (self.read_s + self.extract_s)

    @property
    def mb_per_s(self) -> float:
        return self.bytes / (self.read_s + self.extract_s) / 1e6


def reextract(db_path: str | Path, limit: int | None = None) -> Reextract:
    """Extract again the article bodies stored in ``db_path`` (read-only), one core."""
    from archiver.extract import extract_document

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    total = conn.execute("select count(*) from articles where last_body_sha256 is not null").fetchone()[0]
    sql = (
        "select a.url, b.compression, b.content from articles a join bodies b on b.sha256 = a.last_body_sha256 "
        "order by a.id" + (" limit ?" if limit else "")
    )
    pages = size = embeds = 0
    read_s = extract_s = 0.0
    cursor = conn.execute(sql, [limit] if limit else [])
    with one_core():
        while True:
            t0 = time.perf_counter()
            row = cursor.fetchone()
            if row is None:
                break
            url, compression, content = row
            body = zlib.decompress(content) if compression == "zlib" else bytes(content)
            t1 = time.perf_counter()
            extraction = extract_document(body, url=url, content_type="text/html; charset=utf-8", media="html")
            t2 = time.perf_counter()
            read_s += t1 - t0
            extract_s += t2 - t1
            pages += 1
            size += len(body)
            embeds += len(extraction.embeds)
    conn.close()
    return Reextract(pages, size, read_s, extract_s, embeds, total)


if __name__ == "__main__":
    import sys

    for s in corpus(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0):
        print(f"{s.name:45} {s.pages_per_s:8.1f} pages/s {s.mb_per_s:7.2f} MB/s")


@dataclass
class ReextractCommand:
    articles: int
    wall: float
    cpu: float  # archiver's process tree
    returncode: int
    report: dict
    command: str

    @property
    def pages_per_s(self) -> float:
        return self.articles / self.wall


def reextract_command(db_path: str | Path, workdir: Path, api_origins: tuple[str, ...],
                      cap: float | None = 180.0) -> ReextractCommand:
    """``archiver reextract`` on a copy of ``db_path``, timed as a user would run it.

    Platform origins are mapped to a closed loopback port and retries are off, so
    a post the copy never checked fails at once instead of reaching the network.
    ``cap``: stopped with SIGINT after that many seconds, counted for what it did.
    """
    import json
    import shutil
    import signal
    import subprocess
    import sys
    import threading

    from procstat import TreeSampler

    copy = workdir / "reextract.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
        if Path(f"{db_path}{suffix}").exists():
            shutil.copyfile(f"{db_path}{suffix}", f"{copy}{suffix}")
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    articles = conn.execute("select count(*) from articles where last_body_sha256 is not null").fetchone()[0]
    conn.close()
    exe = Path(sys.executable).parent / "archiver"
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "archiver"]
    report_path = workdir / "reextract-report.json"
    cmd = base + ["reextract", "--db", str(copy), "--report", str(report_path)]
    for origin in api_origins:
        cmd += ["--connect-to", f"{origin}=http://127.0.0.1:9"]
    env = {**os.environ, "ARCHIVER_RETRIES": "0"}
    stderr_path = workdir / "reextract.stderr"
    report_path.unlink(missing_ok=True)
    # stderr to a file, never a pipe: the extraction workers outlive a killed parent and would hold a pipe open
    with open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        sampler = TreeSampler(child.pid).start()
        timers = [threading.Timer(cap, os.kill, [child.pid, signal.SIGINT]),
                  threading.Timer(cap + 60, os.kill, [child.pid, signal.SIGKILL])] if cap else []
        for timer in timers:
            timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        for timer in timers:
            timer.cancel()
        sampler.stop()
    child.returncode = os.waitstatus_to_exitcode(status)
    workers = sum(p.cpu for pid, p in sampler.procs.items() if pid != child.pid)
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        report = {"error": stderr_path.read_text(errors="replace").strip()[-300:]}
    if cap and wall >= cap:
        report["capped"] = True
    done = report.get("counts", {}).get("reextracted")
    report["total"] = articles  # the articles with a stored body
    articles = int(done) if done is not None else 0  # without a report nothing is known to be done
    shown = "archiver reextract --db COPY --report FILE" + (
        f" --connect-to {api_origins[0]}=http://127.0.0.1:9 ..." if api_origins else "")
    return ReextractCommand(articles, wall, usage.ru_utime + usage.ru_stime + workers, child.returncode, report, shown)
