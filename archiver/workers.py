"""The processes beside the event loop (extraction, the resolver): how they are started.

Started by a forkserver, not forked from the event loop's process (which holds
an open database, sockets and threads): the forkserver is a clean process that
imports what the workers need once, and each worker is forked from it. The
preload makes a worker's start a fork rather than a fresh import of httpx,
lxml and archiver (about 0.3 s each time otherwise; a test suite starts
hundreds).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

PRELOAD = ["archiver.extract", "archiver.resolver"]


def context() -> BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read when the forkserver starts (once per process)
    return ctx
