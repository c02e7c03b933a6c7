"""`make demo`: crawl the bundled demo web offline and print what the archive holds.

It serves ``data/demo/`` from a loopback mirror (pages by host, platform answers
from ``routes.json``), runs the real ``archiver crawl`` command against it with
``--connect-to`` into ``data/demo.db``, and prints a summary. Nothing leaves the
machine.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from archiver.mirror import Mirror, load_manifest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
DB = ROOT / "data" / "demo.db"


def article_urls(demo: Path) -> list[str]:
    """Every HTML page under data/demo/<host>/, as the https URL it stands for."""
    urls = []
    for host_dir in sorted(p for p in demo.iterdir() if p.is_dir() and "." in p.name):
        for page in sorted(host_dir.rglob("*.html")):
            urls.append(f"https://{host_dir.name}/{page.relative_to(host_dir).as_posix()}")
    return urls


def origins(demo: Path, urls: list[str]) -> set[str]:
    hosts = {f"https://{urlsplit(u).hostname}" for u in urls}
    for route in json.loads((demo / "routes.json").read_text(encoding="utf-8")):
        parts = urlsplit(route["url"])
        hosts.add(f"{parts.scheme}://{parts.netloc}")
    return hosts


def summary(db_path: Path) -> str:
    conn = sqlite3.connect(db_path)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    lines = [
        f"articles: {one('select count(*) from articles')}   "
        f"embeds: {one('select count(*) from embeds')}   "
        f"posts: {one('select count(*) from posts')}   "
        f"links: {one('select count(*) from links')}   "
        f"HTTP exchanges: {one('select count(*) from fetches')}",
        "posts by status:",
    ]
    for status, n in conn.execute("select coalesce(status, 'unchecked'), count(*) from posts group by 1 order by 2 desc"):
        lines.append(f"  {status:<12} {n}")
    conn.close()
    return "\n".join(lines)


def main() -> int:
    urls = article_urls(DEMO)
    for leftover in (DB, DB.with_name(DB.name + "-wal"), DB.with_name(DB.name + "-shm")):
        leftover.unlink(missing_ok=True)
    with Mirror(load_manifest(DEMO), root=DEMO) as mirror:
        target = mirror.start()
        cmd = [sys.executable, "-m", "archiver", "crawl", *urls, "--db", str(DB), "--delay", "0"]
        for origin in sorted(origins(DEMO, urls)):
            cmd += ["--connect-to", f"{origin}={target}"]
        print(f"demo: crawling {len(urls)} articles from the loopback mirror at {target}", file=sys.stderr)
        env = {**os.environ, "ARCHIVER_RETRIES": "0"}
        result = subprocess.run(cmd, env=env)
    if result.returncode != 0:
        print(f"demo: archiver crawl exited {result.returncode}", file=sys.stderr)
        return result.returncode
    print(summary(DB))
    print(f"\nopen it in Datasette:  .venv/bin/archiver serve --db {DB.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
