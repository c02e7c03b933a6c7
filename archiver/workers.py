"""The processes beside the event loop (extraction, the resolver): how they are started.

Started by a forkserver, not forked from the event loop's process (which holds
an open database, sockets and threads): the forkserver is a clean process that
imports what the workers need once, and each worker is forked from it. The
preload makes a worker's start a fork rather than a fresh import of httpx,
lxml and archiver (about 0.3 s each time otherwise; a test suite starts
hundreds).

A worker ignores SIGINT and SIGTERM (``ignore_stop_signals``, run first in
each): Ctrl-C at a terminal and systemd's default ``KillMode`` signal every
process of the crawl, and the crawl's own process decides what stops: it
stops taking items, lets the ones in flight finish (their extraction and
lookups included) and ends the workers by closing their input.
"""

from __future__ import annotations

import multiprocessing
import signal
from multiprocessing.context import BaseContext

PRELOAD = ["archiver.extract", "archiver.resolver"]


def context() -> BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read when the forkserver starts (once per process)
    _start_forkserver()
    return ctx


def _start_forkserver() -> None:
    """Start the forkserver now (once) with SIGTERM ignored, which it keeps across its exec.

    A SIGTERM to the whole process group (systemd's default ``KillMode``) would
    otherwise end the forkserver, and the process pool, which learns of its
    workers' deaths through the forkserver, would take them for dead: every
    extraction in flight failed "BrokenProcessPool". The forkserver ignores
    SIGINT itself. A SIGTERM reaching this process in the instant the
    forkserver starts is ignored too.
    """
    from multiprocessing import forkserver

    try:
        previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot be changed here
        forkserver.ensure_running()
        return
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGTERM, previous)


def ignore_stop_signals() -> None:
    """In a worker: leave SIGINT and SIGTERM to the crawl's process (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
