"""End to end: the real ``archiver crawl`` against the synthetic web (``synthweb.py``).

The server runs in its own process (its CPU is reported apart from archiver's);
archiver runs as the installed CLI in a subprocess, exactly as a user runs it:

    archiver crawl -i urls.txt --db DB --concurrency 64 --delay 0 \\
        --connect-to https://site0.news.test=http://127.0.0.1:PORT ... (one per origin)

with ``ARCHIVER_PER_HOST_CONCURRENCY`` raised to the concurrency: the four
platform API hosts receive 8 of every 9 requests, and the default of 2 requests
in flight per host (right for a real crawl) would make politeness, not archiver,
the bottleneck being measured. Articles are spread over ``hosts`` sites.

Measured: wall time of the crawl process (start to exit, so start-up and the
final writes count), requests as counted by the server, CPU of archiver's whole
process tree (main process from ``wait4``, extraction workers sampled from
/proc because the forkserver that owns them is never reaped by archiver), peak
RSS (main process ``ru_maxrss``), the largest summed PSS and RSS of the tree, and
the database size. Then the database is checked against what the synthetic web
holds (embeds, posts, deleted tweets), so a fast but wrong crawl cannot pass.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthweb  # noqa: E402
from procstat import TreeSampler, loadavg, machine_cpu  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass
class E2EResult:
    articles: int
    concurrency: int
    latency: float
    wall: float
    requests: int
    main_cpu: float
    worker_cpu: float
    server_cpu: float
    main_maxrss_mb: float
    worker_maxrss_mb: float
    tree_peak_rss_mb: float
    tree_peak_pss_mb: float
    db_bytes: int
    returncode: int
    counts: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)
    server: dict = field(default_factory=dict)
    summary: str = ""
    command: str = ""
    db_path: str = ""
    main_busy_max: float = 0.0  # the highest 2-second CPU share of the main process
    late_growth: float = float("nan")  # main RSS growth over the run's second half, bytes per article
    capped: bool = False  # stopped (SIGINT) at the time cap before it finished
    other_cpu: float = 0.0  # CPU seconds other processes on the machine used meanwhile
    load_before: float = 0.0
    check: str = ""  # "" when the database holds what the web served, else what is wrong
    started: float = 0.0  # time.monotonic() when the crawl process was started

    @property
    def startup(self) -> float:
        """Seconds from starting the crawl to its first request reaching the server."""
        first = self.server.get("first")
        return first - self.started if first else float("nan")

    @property
    def in_flight_mean(self) -> float:
        """Requests the server held on average, from the first request to the last answer."""
        return float(self.server.get("in_flight_mean") or 0.0)

    @property
    def bound(self) -> float:
        return self.concurrency / self.latency if self.latency else float("inf")

    @property
    def done(self) -> int:
        """Articles captured (all of them unless capped)."""
        return int(self.counts.get("articles", 0))

    @property
    def articles_per_s(self) -> float:
        return self.done / self.wall

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.wall

    @property
    def ratio(self) -> float:
        return self.requests_per_s / self.bound

    @property
    def cpu(self) -> float:
        return self.main_cpu + self.worker_cpu

    @property
    def correct(self) -> bool:
        return not self.check


def archiver_command() -> list[str]:
    exe = Path(sys.executable).parent / "archiver"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "archiver"]


def start_server(latency: float, hosts: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "synthweb.py"), "--latency", str(latency), "--hosts", str(hosts)],
        stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"synthetic web did not start: {line!r}")
    return proc, int(line.split()[1])


def stop_server(proc: subprocess.Popen) -> tuple[dict, float]:
    proc.send_signal(signal.SIGTERM)
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    stats = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return stats, usage.ru_utime + usage.ru_stime


def db_counts(path: Path) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    counts = {
        "articles": one("select count(*) from articles where last_status = 200"),
        "extracted": one("select count(*) from articles where title is not null"),
        "wrong_embeds": one("select count(*) from articles a where a.title is not null and "
                            "(select count(*) from embeds e where e.article_id = a.id) != 6"),
        "fetch_errors": one("select count(*) from fetches where error is not null"),
        "embeds": one("select count(*) from embeds"),
        "posts": one("select count(*) from posts"),
        "deleted": one("select count(*) from posts where status = 'deleted'"),
        "unchecked": one("select count(*) from posts where last_checked is null"),
        "fetches": one("select count(*) from fetches"),
        "links": one("select count(*) from links"),
        "statuses": dict(conn.execute("select coalesce(status, 'unchecked'), count(*) from posts group by 1")),
    }
    conn.close()
    return counts


def check_db(counts: dict, n: int, complete: bool) -> str:
    """What is wrong with the crawl's database ("" when nothing): it must hold what the web served."""
    problems = []
    if counts.get("wrong_embeds"):
        problems.append(f"{counts['wrong_embeds']} articles without their 6 embeds")
    if counts.get("fetch_errors"):
        problems.append(f"{counts['fetch_errors']} failed fetches")
    if complete:
        e = synthweb.expected(n)
        for key in ("embeds", "posts", "deleted"):
            if counts.get(key) != e[key]:
                problems.append(f"{key} {counts.get(key)} (expected {e[key]})")
        if counts.get("articles") != n:
            problems.append(f"{counts.get('articles')} of {n} articles captured")
        if counts.get("unchecked"):
            problems.append(f"{counts['unchecked']} posts never checked")
    return "; ".join(problems)


def _busy_max(sampler: TreeSampler, window: float = 2.0) -> float:
    """The highest share of one core the main process used over any ``window`` seconds."""
    main = sampler.procs.get(sampler.root)
    if main is None or len(main.samples) < 2:
        return 0.0
    best, j = 0.0, 0
    s = main.samples
    for i in range(len(s)):
        while s[i][0] - s[j][0] > window:
            j += 1
        if s[i][0] - s[j][0] >= window * 0.75:
            best = max(best, (s[i][1] - s[j][1]) / (s[i][0] - s[j][0]))
    return best


def _late_growth(sampler: TreeSampler, done: int) -> float:
    """Main process RSS growth over the second half of the run, bytes per article (articles even in time).

    The largest RSS of the last tenth of the samples less the largest of the
    tenth before the middle: caches that fill early (and are bounded) weigh
    in the first half only, a leak in both.
    """
    main = sampler.procs.get(sampler.root)
    if main is None or len(main.samples) < 20 or done < 2:
        return float("nan")
    s, tenth = main.samples, len(main.samples) // 10
    middle = len(s) // 2
    late = max(rss for _, _, rss in s[-tenth:])
    mid = max(rss for _, _, rss in s[middle - tenth:middle])
    return (late - mid) / (done / 2)


def run(n: int, workdir: Path, *, concurrency: int = 64, latency: float = 0.1, hosts: int = 500,
        cap: float | None = None, extra_env: dict | None = None, log=print) -> E2EResult:
    """Crawl ``n`` synthetic articles with the real CLI; returns the measurements.

    ``cap`` (seconds): stop the crawl with SIGINT (as a user's Ctrl-C) when it runs
    longer, and report what it did until then.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"e2e-{n}.db"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    urls = workdir / f"urls-{n}.txt"
    urls.write_text("".join(synthweb.article_url(i, hosts) + "\n" for i in range(n)))
    server, port = start_server(latency, hosts)
    target = f"http://127.0.0.1:{port}"
    origins = sorted({f"https://{synthweb.host_of(k, hosts)}" for k in range(min(n, hosts))} | set(synthweb.API_ORIGINS))
    cmd = archiver_command() + ["crawl", "-i", str(urls), "--db", str(db), "--concurrency", str(concurrency),
                                "--delay", "0"]
    for origin in origins:
        cmd += ["--connect-to", f"{origin}={target}"]
    env = {**os.environ, "ARCHIVER_PER_HOST_CONCURRENCY": str(concurrency), **(extra_env or {})}
    shown = " ".join(archiver_command()[-1:] + cmd[len(archiver_command()):len(archiver_command()) + 9]) + (
        f" --connect-to https://site0.news.test={target} ... ({len(origins)} --connect-to, one per origin)")
    log(f"e2e: {n} articles, {hosts} hosts, concurrency {concurrency}, latency {latency * 1000:g} ms ...")
    stderr_path = workdir / f"crawl-{n}.stderr"
    try:
        with open(stderr_path, "w") as err:
            load_before, machine0 = loadavg(), machine_cpu()
            t0, started = time.perf_counter(), time.monotonic()
            child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
            sampler = TreeSampler(child.pid).start()
            timers = []
            if cap:
                timers = [threading.Timer(cap, os.kill, [child.pid, signal.SIGINT]),
                          threading.Timer(cap + 60, os.kill, [child.pid, signal.SIGKILL])]
                for timer in timers:
                    timer.start()
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - t0
            machine1 = machine_cpu()
            for timer in timers:
                timer.cancel()
            child.returncode = os.waitstatus_to_exitcode(status)
            capped = bool(cap) and wall >= cap
            sampler.stop()
    finally:
        stats, server_cpu = stop_server(server)
    cpu_roles = sampler.cpu_by_role()
    hwm = sampler.hwm_by_role()
    summary = stderr_path.read_text().strip().splitlines()
    db_bytes = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    counts = db_counts(db) if db.exists() else {}
    result = E2EResult(
        articles=n,
        concurrency=concurrency,
        latency=latency,
        wall=wall,
        requests=int(stats.get("requests", 0)),
        main_cpu=usage.ru_utime + usage.ru_stime,
        worker_cpu=sum(v for k, v in cpu_roles.items() if k != "main"),
        server_cpu=server_cpu,
        main_maxrss_mb=usage.ru_maxrss / 1024,
        worker_maxrss_mb=max([v for k, v in hwm.items() if k == "worker"] or [0]) / 1024,
        tree_peak_rss_mb=sampler.peak_tree_rss / 2**20,
        tree_peak_pss_mb=sampler.peak_tree_pss / 2**20,
        db_bytes=db_bytes,
        returncode=child.returncode,
        counts=counts,
        expected=synthweb.expected(n),
        server=stats,
        summary=summary[-1] if summary else "",
        command=shown,
        db_path=str(db),
        main_busy_max=_busy_max(sampler),
        late_growth=_late_growth(sampler, int(counts.get("articles", 0))),
        capped=capped,
        load_before=load_before,
        started=started,
    )
    result.other_cpu = max(0.0, machine1 - machine0 - result.cpu - server_cpu)
    result.check = check_db(result.counts, n, complete=not capped)
    if not capped and child.returncode != 0:
        result.check = f"exit {child.returncode}; " + result.check
    if result.check:
        tail = "\n".join(summary[-5:])
        log(f"e2e: WARNING: the crawl of {n} is not what the web holds: {result.check}\n{tail}")
    done = f"{result.done} of {n} articles in {wall:.1f} s (capped)" if capped else f"{n} articles in {wall:.1f} s"
    log(f"e2e: {done}, {result.requests_per_s:.0f} requests/s ({result.ratio:.2f} of the bound), "
        f"{result.cpu / max(result.done, 1) * 1000:.1f} ms CPU/article; other processes used "
        f"{result.other_cpu / wall:.2f} cores meanwhile")
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="one end-to-end run")
    parser.add_argument("n", type=int)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--workdir", default="/tmp/archiver-bench")
    parser.add_argument("--cap", type=float, default=None)
    args = parser.parse_args()
    r = run(args.n, Path(args.workdir), concurrency=args.concurrency, latency=args.latency, hosts=args.hosts,
            cap=args.cap)
    print(json.dumps({k: v for k, v in r.__dict__.items()}, indent=1, default=str))
    print(f"cpu={r.cpu:.1f} busy_max={r.main_busy_max:.2f}")
    if os.environ.get("BENCH_KEEP") is None:
        shutil.rmtree(args.workdir, ignore_errors=True)
