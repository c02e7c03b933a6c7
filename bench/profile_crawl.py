"""Where the crawl's main process spends its CPU: cProfile of an in-process crawl.

Starts the synthetic web (``synthweb.py``) in its own process, then runs
``pipeline.run_crawl`` in this process under cProfile, with the same settings
the end-to-end benchmark gives the CLI. Extraction still runs in its worker
process (``extract_workers``), so the profile is the event loop's share: the
part that decides whether fetching keeps up. ``--extract-in-thread`` profiles
extraction too (``extract_workers = 0``).

    .venv/bin/python bench/profile_crawl.py 300 [--sort tottime] [--limit 40] [--out crawl.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthweb  # noqa: E402
from e2e import start_server, stop_server  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=300)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=45)
    parser.add_argument("--out", help="write the raw profile here (for snakeviz, pstats)")
    parser.add_argument("--extract-in-thread", action="store_true")
    args = parser.parse_args()

    from archiver import pipeline
    from archiver.settings import load_settings
    from archiver.sources import ArticleInput
    from archiver.store import Store, open_db

    server, port = start_server(args.latency, args.hosts)
    target = f"http://127.0.0.1:{port}"
    origins = {f"https://{synthweb.host_of(k, args.hosts)}" for k in range(min(args.n, args.hosts))}
    origins |= set(synthweb.API_ORIGINS)
    with tempfile.TemporaryDirectory(prefix="archiver-profile-") as tmp:
        settings = load_settings(
            None, env={}, db_path=f"{tmp}/p.db", concurrency=args.concurrency, per_host_delay=0.0,
            per_host_concurrency=args.concurrency, connect_to=[f"{o}={target}" for o in sorted(origins)],
            extract_workers=0 if args.extract_in_thread else None,
        )
        store = Store(open_db(settings.db_path))
        articles = [ArticleInput(synthweb.article_url(i, args.hosts), "bench") for i in range(args.n)]
        profiler = cProfile.Profile()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            profiler.enable()
            report = pipeline.run_crawl(articles, settings, store, ["profile_crawl"])
            profiler.disable()
        finally:
            stats, _ = stop_server(server)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(report.summary())
    print(f"{args.n} articles, {stats.get('requests')} requests in {wall:.1f} s "
          f"({stats.get('requests', 0) / wall:.0f} requests/s); this process {cpu:.1f} s CPU under cProfile "
          "(the profiler itself adds roughly half again)")
    if args.out:
        profiler.dump_stats(args.out)
    buf = io.StringIO()
    ps = pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(args.sort)
    ps.print_stats(args.limit)
    print(buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
