"""The processes beside the event loop (extraction, the resolver): how they are started.

Started by a forkserver, not forked from the event loop's process (which holds
an open database, sockets and threads): the forkserver is a clean process that
imports what the workers need once, and each worker is forked from it. The
preload makes a worker's start a fork rather than a fresh import of httpx,
selectolax, lxml and archiver (about 0.3 s each time otherwise; a test suite starts
hundreds).

Each worker runs ``start_worker`` first. It ignores SIGINT and SIGTERM:
Ctrl-C at a terminal and systemd's default ``KillMode`` signal every process
of the crawl, and the crawl's own process decides what stops: it stops taking
items, lets the ones in flight finish (their extraction and lookups included)
and ends the workers by closing their input. And it freezes what the worker
inherited from the forkserver (``gc.freeze``): the preloaded modules, most of
a worker's memory, are then never visited by the worker's garbage collector,
which writes to every object it visits and so made the kernel copy those
pages into each worker instead of sharing them with the forkserver. Measured
at 1,000 articles of the benchmark (three runs each): the process tree's PSS
150-152 -> 137-138 MB; CPU per article within the day's noise.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
from multiprocessing.context import BaseContext
from typing import Iterator

PRELOAD = ["archiver.extract", "archiver.resolver"]
_SAFE_PATH = "PYTHONSAFEPATH"


def context() -> BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read when the forkserver starts (once per process)
    _start_forkserver()
    return ctx


def _start_forkserver() -> None:
    """Start the forkserver now (once), with SIGTERM ignored and without the current directory on its path.

    A SIGTERM to the whole process group (systemd's default ``KillMode``) would
    otherwise end the forkserver, and the process pool, which learns of its
    workers' deaths through the forkserver, would take them for dead: every
    extraction in flight failed "BrokenProcessPool". The forkserver ignores
    SIGINT itself and keeps the ignored SIGTERM across its exec. A SIGTERM
    reaching this process in the instant the forkserver starts is ignored too.

    The forkserver is a new interpreter started as ``python -c ...``, and
    Python 3.11's does not take this process's ``sys.path`` (it is passed and
    not used), so the directory the crawl was started from came first on the
    forkserver's path, and its preload imported from there what every worker
    inherits: an ``archiver/``, ``lxml/``, ``selectolax/`` or ``httpx.py`` in that directory.
    A crawl started from another checkout of archiver lost every extraction
    ("BrokenProcessPool": its workers ran the other code). ``PYTHONSAFEPATH``
    (Python's ``-P``; ``PYTHONPATH`` still counts) keeps the directory out.
    """
    from multiprocessing import forkserver

    with _safe_path(), _sigterm_ignored():
        forkserver.ensure_running()


@contextlib.contextmanager
def _sigterm_ignored() -> Iterator[None]:
    """SIGTERM ignored for the block, where this thread may change signals (only the main thread can)."""
    try:
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _safe_path() -> Iterator[None]:
    """``PYTHONSAFEPATH=1`` in this process's environment for the block, for the interpreters it starts."""
    previous = os.environ.get(_SAFE_PATH)
    os.environ[_SAFE_PATH] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(_SAFE_PATH, None)
        else:
            os.environ[_SAFE_PATH] = previous


def start_worker() -> None:
    """First thing in a worker: SIGINT and SIGTERM left to the crawl's process, the inherited objects frozen.

    See the module docstring for both. What the worker creates afterwards is
    collected as usual; what is frozen lives as long as the worker anyway.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    gc.freeze()
