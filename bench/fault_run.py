"""The done-when fault run as a benchmark: 500 article URLs against the fault server, peak memory and time.

The same run as ``tests/test_faults.py``'s done-when test (``archiver.faults``
defines the URLs, the host mapping and the small limits, so the two cannot
drift): the fault server runs in this process, in a thread, and archiver runs
as the installed command in a real subprocess, the address guard on.

Peak memory is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the largest
resident set any waited-for descendant reached (the archiver process, or an
extraction worker if one grew larger), not their sum; the fault server's memory
is this process's and is not counted. What matters under faults is that a
gzip bomb, a drip or a hang costs bounded memory, whatever the servers do.

Prints one line on stdout (``bench/run.py`` puts it in the report); exits 1 when
the run did not account for every URL or printed a traceback.

    .venv/bin/python bench/fault_run.py [--urls 500] [--hosts 40]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archiver.faults import BULK_ENV, FaultServer, bulk_run_args, write_bulk_input


def archiver_command() -> list[str]:
    script = Path(sys.executable).with_name("archiver")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archiver"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--urls", type=int, default=500, help="article URLs in the run (default 500)")
    parser.add_argument("--hosts", type=int, default=40, help="virtual hosts they are spread over (default 40)")
    parser.add_argument("--max-body-mib", type=float, default=None,
                        help="body limit for the run (default: the test's 2 MiB; archiver's own default is 20)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="archiver-fault-run-") as tmp, FaultServer() as server:
        urls = write_bulk_input(Path(tmp) / "urls.txt", args.urls, args.hosts)
        db = Path(tmp) / "fault.db"
        env = {**os.environ, **BULK_ENV}
        if args.max_body_mib is not None:
            env["ARCHIVER_MAX_BODY_BYTES"] = str(int(args.max_body_mib * 1024 * 1024))
        env.pop("ARCHIVER_ALLOW_PRIVATE", None)
        started = time.perf_counter()
        proc = subprocess.run(archiver_command() + bulk_run_args(server, db, urls, args.hosts), env=env,
                              capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        with sqlite3.connect(db) as conn:
            rows, failed, reasons = conn.execute(
                "select count(*), count(last_error), count(case when last_error <> '' then 1 end) from articles"
            ).fetchone()
        requests = len(server.requests)

    problems = []
    if proc.returncode != 0:
        problems.append(f"exit {proc.returncode}")
    if "Traceback" in proc.stderr:
        problems.append("a traceback on stderr")
    if rows != args.urls:
        problems.append(f"{rows} of {args.urls} URLs in the database")
    if reasons != failed:
        problems.append(f"{failed - reasons} failures without a reason")
    verdict = "every URL accounted for" if not problems else "PROBLEM: " + ", ".join(problems)
    limit = int(env["ARCHIVER_MAX_BODY_BYTES"]) / 1024 / 1024
    print(f"fault run: {args.urls} URLs over {args.hosts} hosts + robots faults (body limit {limit:g} MiB), "
          f"{rows - failed} captured, "
          f"{failed} failed with a reason; {verdict}; {requests} requests served; "
          f"wall {wall:.1f} s; peak RSS {peak_mib:.0f} MiB (largest archiver process, ru_maxrss)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
