"""The processes beside the event loop: started from the forkserver, stop signals left to the crawl, inherited objects frozen."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys

import archiver
from archiver.pipeline import make_executor


def test_an_extraction_process_leaves_stop_signals_to_the_crawl_and_freezes_what_it_inherited():
    executor = make_executor(1)
    assert executor is not None
    try:
        frozen = executor.submit(gc.get_freeze_count).result(timeout=60)
        handlers = [executor.submit(signal.getsignal, sig).result(timeout=60)
                    for sig in (signal.SIGINT, signal.SIGTERM)]
    finally:
        executor.shutdown()
    # the forkserver's preload (lxml, httpx, archiver) is tens of thousands of objects; none of them a worker's to collect
    assert frozen > 10_000
    assert handlers == [signal.SIG_IGN, signal.SIG_IGN]
    assert gc.get_freeze_count() == 0  # the crawl's own process is left as it was


def test_workers_import_what_the_crawl_imports_not_a_package_in_its_directory(tmp_path):
    planted = tmp_path / "archiver"
    planted.mkdir()
    (planted / "__init__.py").write_text("PLANTED = True\n")
    script = tmp_path / "elsewhere" / "crawl.py"  # its own directory, not the current one, leads the crawl's path
    script.parent.mkdir()
    script.write_text(
        "import os\n"
        "import archiver.pipeline\n"
        "if __name__ == '__main__':\n"
        "    executor = archiver.pipeline.make_executor(1)\n"
        "    print(archiver.__file__)\n"
        "    print(executor.submit(eval, \"__import__('archiver').__file__\").result(timeout=60))\n"
        "    executor.shutdown()\n"
        "    print('PYTHONSAFEPATH' in os.environ)\n"
    )
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]  # the planted package's workers: "BrokenProcessPool"
    ours, workers, still_set = result.stdout.splitlines()
    assert workers == ours == archiver.__file__
    assert still_set == "False"  # set only while the forkserver starts
