"""Where posts are resolved: in this event loop, or in the resolver process on the other core.

A crawl's platform lookups are most of its requests (8 of 9 in the benchmark's
articles), and an httpx request costs about a millisecond of Python on the event
loop, which also fetches pages, writes the archive and hands pages to the
extraction process. So by default (``settings.resolver_process``) posts are
resolved in a process of their own, with its own event loop, connections and
pacing, while this process keeps the queue, the article fetches and the one
writer (docs/architecture.md):

    event loop --(post, lent slot)--> resolver process: resolve(), lookups over its own ClientPool
    event loop <--(Resolved: the verdict + every capture, bodies packed; slot needed, slot back)-- resolver process

Both kinds of resolver give back a ``Resolved``: the captures in the order they
were made, and the ``Resolution`` whose fetch ids are indexes into that list.
``save_resolved`` stores the captures (their real fetch ids) and then the check,
so the one writer stays this process's ``Store``, and a lookup is stored even
when resolving the post failed. The resolver process hashes and compresses the
bodies (``Resolved.pack``), as the extraction process does for pages; the store
uses a packing only when its SHA-256 is that of the bytes it stores.

Limits hold across the two processes: the request slots (``--concurrency``)
are this process's ``ClientPool.limit``, and the resolver process borrows them
(``LentSlots``): a lookup that finds no slot asks for one, this process lends it
as one comes free, and a slot freed there goes to the next waiting lookup or,
when none waits, back here for pages. A slot is held from the start of an
exchange to its end, never across the socket (holding a post's slots for its
round trip through the other process measured 0.44 of the benchmark's bound,
lending them 0.52).
Pacing is per process: article hosts are fetched here, platform endpoints
there; a host fetched by both (an article on a platform's API host) is paced by
each separately. The resolver process ignores SIGINT and SIGTERM (this process
decides when the work ends and waits for the lookups in flight) and exits when
its socket closes, so a killed crawl does not leave it behind. If it dies, the
posts it had are failed with the reason, its slots are this process's again,
and the rest are resolved here.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import pickle
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from archiver import workers
from archiver.fetch.client import ClientPool
from archiver.models import Capture, PostRef
from archiver.resolve import Resolution, resolve
from archiver.settings import Settings
from archiver.store import Store
from archiver.store.writer import PackedBody, pack_body

_FRAME = struct.Struct("!Q")  # each message: its length, then the pickle


class ResolveError(Exception):
    """Resolving a post failed on a bug or a lost resolver process; what it fetched is stored."""


@dataclass
class Resolved:
    """One post's resolution as made, before it is stored: fetch ids are indexes into ``captures``."""

    post: PostRef
    resolution: Resolution | None
    captures: list[tuple[Capture, str]] = field(default_factory=list)  # (capture, endpoint), in order
    error: str | None = None  # why there is no resolution
    packed: list[PackedBody | None] = field(default_factory=list)  # each capture's final body packed, if done

    def pack(self) -> None:
        """Pack each capture's final body for storage here, so that the writer does not (``Store.save_capture``)."""
        self.packed = [pack_body(capture.final.body) if capture.hops else None for capture, _ in self.captures]


def save_resolved(store: Store, run_id: int, resolved: Resolved) -> Resolution:
    """Store the lookups, then the check with their real fetch ids; ResolveError when it failed."""
    post = resolved.post
    packed = resolved.packed or [None] * len(resolved.captures)
    ids = [store.save_capture(cap, run_id, "lookup", endpoint=endpoint, post_key=post.key, packed=body)
           for (cap, endpoint), body in zip(resolved.captures, packed)]
    res = resolved.resolution
    if res is None:
        raise ResolveError(resolved.error or "no resolution")
    res = Resolution(res.post, res.check, tuple(ids[i] for i in res.fetch_ids),
                     None if res.deciding_fetch_id is None else ids[res.deciding_fetch_id], res.content_sha256)
    store.save_check(res.post, res.check, run_id, list(res.fetch_ids), res.deciding_fetch_id, res.content_sha256)
    return res


async def resolve_here(pool: ClientPool, post: PostRef, settings: Settings) -> Resolved:
    """Resolve ``post`` in this event loop, keeping its captures for ``save_resolved``."""
    resolved = Resolved(post, None)

    def record(cap: Capture, endpoint: str) -> int:
        resolved.captures.append((cap, endpoint))
        return len(resolved.captures) - 1

    try:
        resolved.resolution = await resolve(pool, post, settings, record)
    except Exception as exc:  # a bug on one post: its captures are still stored
        resolved.error = f"{type(exc).__name__}: {exc}"
    return resolved


class LocalResolver:
    """Posts resolved in this event loop, over the caller's pool."""

    def __init__(self, pool: ClientPool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    async def __aenter__(self) -> LocalResolver:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    async def resolve(self, post: PostRef) -> Resolved:
        return await resolve_here(self.pool, post, self.settings)


class ResolverProcess:
    """Posts resolved in a process of its own; used as ``async with`` around the work."""

    def __init__(self, pool: ClientPool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self.local = LocalResolver(pool, settings)  # once the process is gone
        self._process: Any = None
        self._writer: asyncio.StreamWriter | None = None
        self._channel: _Channel | None = None
        self._tasks: list[asyncio.Task] = []
        self._waiting: dict[int, asyncio.Future[Resolved]] = {}
        self._ids = itertools.count()
        self._needed = 0  # slots the process asked for and has not been lent yet
        self._asked = asyncio.Event()
        self.lent = 0  # of this process's request slots, held by the resolver process now
        self.gone: str | None = None  # why the process is no longer there
        self._starting: asyncio.Task | None = None

    async def __aenter__(self) -> ResolverProcess:
        """Start the process in the background: pages are fetched meanwhile, posts wait for it (``resolve``)."""
        self._starting = asyncio.create_task(self._start())
        return self

    async def _start(self) -> None:
        """Start the process off the event loop, then connect; if it cannot start, posts are resolved here.

        ``Process.start`` blocks until the forkserver forks, which waits for its
        preload (selectolax, lxml, httpx, archiver: ~0.4 s when the crawl has just begun):
        in a thread, the first pages are fetched meanwhile.
        """
        ours, theirs = socket.socketpair()
        try:
            process = workers.context().Process(target=_serve, args=(theirs, self.settings),
                                                name="archiver-resolver", daemon=True)
            await asyncio.to_thread(process.start)  # the socket is handed over (duplicated) as the process starts
        except Exception as exc:
            ours.close()
            self._lost(f"the resolver process did not start ({type(exc).__name__}: {exc})")
            return
        except BaseException:  # cancelled: a process that starts after all sees its input end
            ours.close()
            raise
        finally:
            theirs.close()
        self._process = process
        reader, self._writer = await asyncio.open_connection(sock=ours)
        self._channel = _Channel(self._writer)
        self._tasks = [asyncio.create_task(self._read(reader)), asyncio.create_task(self._lend())]

    async def _started(self) -> None:
        if self._starting is not None and not self._starting.done():
            await asyncio.shield(self._starting)  # a cancelled caller leaves the start to finish

    async def __aexit__(self, *exc_info: object) -> None:
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)  # started or not, then closed
        if self._writer is not None:
            self._writer.close()  # the process sees the end of its input and exits
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._give_back()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, 10)
            if self._process.is_alive():
                self._process.kill()
                await asyncio.to_thread(self._process.join)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def kill(self) -> None:
        """End the process at once (SIGKILL): what a crash looks like from here."""
        if self._process is not None:
            self._process.kill()

    async def resolve(self, post: PostRef) -> Resolved:
        await self._started()
        if self.gone is None:
            key = next(self._ids)
            future = asyncio.get_running_loop().create_future()
            self._waiting[key] = future
            self._channel.send(("post", key, post))
            return await future
        return await self.local.resolve(post)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                for message in await _receive(reader):
                    kind = message[0]
                    if kind == "done":
                        future = self._waiting.pop(message[1], None)
                        if future is not None and not future.done():
                            future.set_result(message[2])
                    elif kind == "need":
                        self._needed += message[1]
                        self._asked.set()
                    elif kind == "back":
                        for _ in range(message[1]):
                            self.lent -= 1
                            self.pool.limit.release()
        except (asyncio.IncompleteReadError, OSError):
            code = self._process.exitcode if self._process is not None else None
            self._lost("the resolver process exited" + (f" (exit code {code})" if code is not None else ""))

    async def _lend(self) -> None:
        """Lend the process the request slots it asks for, one at a time as they come free here."""
        while True:
            await self._asked.wait()
            self._asked.clear()
            while self._needed > 0 and self.gone is None:
                await self.pool.limit.acquire()
                self._needed -= 1
                self.lent += 1
                self._channel.count("lend")

    def _give_back(self) -> None:
        """The slots lent to a process that is gone are this process's again."""
        for _ in range(self.lent):
            self.pool.limit.release()
        self.lent = self._needed = 0

    def _lost(self, why: str) -> None:
        """The process is gone: the posts it had fail with ``why``; later ones are resolved here."""
        if self.gone is None:
            self.gone = why
        self._give_back()
        waiting, self._waiting = self._waiting, {}
        for key, future in waiting.items():
            if not future.done():
                future.set_exception(ResolveError(why))


class LentSlots:
    """The resolver process's request slots: lent by the crawl's process as needed, given back when idle.

    A request that finds no slot asks for one (``need``) and waits; a slot
    freed here goes to the next waiting request, or back (``back``) when none
    waits, so the crawl's process can use it for pages. A slot lent after its
    asker was served by a freed one meets no waiter and goes straight back.
    A slot is held from the start of one exchange to its end, never across the
    socket, and the two processes together hold at most ``--concurrency``.
    """

    def __init__(self, tell: Any) -> None:
        self._tell = tell  # tell(kind, count): "need" or "back" to the crawl's process
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def __aenter__(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._tell("need", 1)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a slot as it was cancelled
                self.release()
            else:
                self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

    def lend(self, count: int) -> None:
        for _ in range(count):
            self.release()

    def release(self) -> None:
        """A slot is free: to the next waiting request, else back to the crawl's process."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._tell("back", 1)


class _Channel:
    """One end of the socket between the two processes: what is sent in one loop iteration goes in one write.

    A lookup costs a few small messages (a slot needed, lent, given back), and
    each written alone was a ``send`` system call and a pickle on one side and
    a read on the other. Messages of one iteration are pickled together into
    one frame, slot counts summed (``("need", 3)``).
    """

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self._messages: list[object] = []
        self._counts: dict[str, int] = {}
        self._due = False

    def send(self, message: object) -> None:
        self._messages.append(message)
        self._schedule()

    def count(self, kind: str, number: int = 1) -> None:
        self._counts[kind] = self._counts.get(kind, 0) + number
        self._schedule()

    def _schedule(self) -> None:
        if not self._due:
            self._due = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._due = False
        batch = [*self._counts.items(), *self._messages]
        self._counts, self._messages = {}, []
        if batch and not self.writer.is_closing():  # the other side gone: its end-of-input is read, not this
            data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            self.writer.write(_FRAME.pack(len(data)) + data)


async def _receive(reader: asyncio.StreamReader) -> list:
    """One frame: the messages of one loop iteration of the other side."""
    (size,) = _FRAME.unpack(await reader.readexactly(_FRAME.size))
    return pickle.loads(await reader.readexactly(size))


def _serve(sock: socket.socket, settings: Settings) -> None:
    """The resolver process: resolve each post it is sent, send back what came of it, until its input ends."""
    workers.start_worker()  # the crawl's process decides when the work ends
    asyncio.run(_serve_loop(sock, settings))


async def _serve_loop(sock: socket.socket, settings: Settings) -> None:
    reader, writer = await asyncio.open_connection(sock=sock)
    tasks: set[asyncio.Task] = set()
    channel = _Channel(writer)
    slots = LentSlots(channel.count)

    async def one(key: int, post: PostRef) -> None:
        resolved = await resolve_here(pool, post, settings)
        resolved.pack()  # hashing and compressing here spares the crawl's event loop
        channel.send(("done", key, resolved))

    async with ClientPool(settings, limit=slots) as pool:
        try:
            while True:
                for message in await _receive(reader):
                    if message[0] == "lend":
                        slots.lend(message[1])
                    else:
                        task = asyncio.create_task(one(message[1], message[2]))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, OSError):  # input ended: done, or the crawl was killed
            pass
        for task in list(tasks):  # nobody is left to read their answers
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    writer.close()


def make_resolver(pool: ClientPool, settings: Settings) -> ResolverProcess | LocalResolver:
    """The resolver process when ``settings.resolver_process``, else this event loop."""
    return ResolverProcess(pool, settings) if settings.resolver_process else LocalResolver(pool, settings)
