"""A local WARC in, a WARC out: `archiver crawl FILE.warc.gz`, then `archiver export warc`, at two sizes.

A WARC of N synthetic articles (~100 KB of HTML each, outbound links, no
embeds, so nothing reaches a network) is written, then crawled by the installed
command in a subprocess with a fresh database, while ``procstat.TreeSampler``
reads the main process's peak resident set (``VmHWM``). Flat in N is the target:
the articles' bytes go to the archive's queue as the file is read, never all
into memory (before 2026-11-25 the crawl read every input whole first: 149 MB
at 1,000 articles, 443 MB at 4,000; since, 56 and 57 MB). Then the archive is
exported again as a WARC (``archiver export warc``), timed, with its peak RSS.

Prints one line per size on stdout (``bench/run.py`` puts them in the report);
exits 1 when a run did not store every article.

    .venv/bin/python bench/warc_input.py [--sizes 1000,4000]
"""

from __future__ import annotations

import argparse
import io
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import archiver_command  # noqa: E402
from procstat import TreeSampler  # noqa: E402

ARTICLE_BYTES = 100_000


def article(n: int) -> bytes:
    """~ARTICLE_BYTES of HTML: paragraphs that differ from article to article, each with a link."""
    paragraph = ("<p>Paragraph {p} of article {n}: " + "words of the story " * 40 +
                 '<a href="https://site{h}.test/{n}/{p}">a source</a></p>')
    parts, size, p = [], 0, 0
    while size < ARTICLE_BYTES:
        text = paragraph.format(p=p, n=n, h=(n + p) % 50)
        parts.append(text)
        size += len(text)
        p += 1
    return (f"<!doctype html><html><head><title>Article {n}</title></head><body><article>"
            f"{''.join(parts)}</article></body></html>").encode()


def write_warc(path: Path, n: int) -> int:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(n):
            body = article(i)
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://news.test/a/{i}", "response",
                                                          payload=io.BytesIO(body), http_headers=headers))
    return path.stat().st_size


def measure(n: int, workdir: Path) -> tuple[str, bool]:
    warc = workdir / f"input-{n}.warc.gz"
    size = write_warc(warc, n)
    db = workdir / f"input-{n}.db"
    started = time.perf_counter()
    proc = subprocess.Popen(archiver_command() + ["crawl", str(warc), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid, interval=0.2).start()
    _, err = proc.communicate(timeout=1800)
    sampler.stop()
    wall = time.perf_counter() - started
    main_mb = sampler.hwm_by_role().get("main", 0) / 1024
    with sqlite3.connect(db) as conn:
        stored = conn.execute("select count(*) from articles").fetchone()[0]
    ok = proc.returncode == 0 and stored == n
    line = (f"{n:,} articles ({n * ARTICLE_BYTES / 1e6:,.0f} MB of HTML, {size / 1e6:,.1f} MB gzip'd WARC): "
            f"crawl: main process peak RSS {main_mb:,.0f} MB, {wall:,.1f} s, {stored:,} articles stored, "
            f"exit {proc.returncode}")
    if not ok and err.strip():
        line += f" ({err.strip().splitlines()[-1]})"
        return line, ok
    out = workdir / f"export-{n}.warc.gz"
    started = time.perf_counter()
    proc = subprocess.Popen(archiver_command() + ["export", "warc", "--db", str(db), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid, interval=0.2).start()
    _, err = proc.communicate(timeout=1800)
    sampler.stop()
    wall = time.perf_counter() - started
    ok = proc.returncode == 0
    line += (f"; export warc: {wall:,.1f} s ({n * ARTICLE_BYTES / 1e6 / wall:,.1f} MB of HTML/s), "
             f"peak RSS {sampler.hwm_by_role().get('main', 0) / 1024:,.0f} MB, "
             f"{out.stat().st_size / 1e6 if out.exists() else 0:,.1f} MB written, exit {proc.returncode}")
    return line, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,4000", help="articles in the WARC, comma-separated")
    args = parser.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="archiver-warc-input-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            line, good = measure(n, Path(tmp))
            ok = ok and good
            print(line, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
