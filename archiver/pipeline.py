"""The order of the stages, the run record and the summary: the whole job on one screen.

    inputs -> queue (SQLite, read a page at a time) -> capture (or the document in hand)
           -> [new body: extract + pack it (process pool)] -> store snapshot
           -> [unchanged body: touch, done] -> store embeds/links
           -> follow text embeds' short links -> resolve new posts -> store checks
           (writes committed every COMMIT_EVERY seconds, queue marks included)

One event loop, one writer (``Store``), a bounded number of workers taking items
from the queue; extraction runs in worker processes so parsing does not starve
fetching, and platform lookups in the resolver process (``resolver.py``). SIGINT
and SIGTERM stop taking new items, let the items in flight finish and mark the
run interrupted; SIGKILL leaves unfinished items pending in the queue for the
next run.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import os
import signal
import socket
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, Sequence

from archiver import platforms
from archiver.capture import capture
from archiver.clock import utc_now
from archiver.discover import Discovery, discover
from archiver.extract import extract_document
from archiver.fetch.client import ClientPool
from archiver.fetch.robots import Robots
from archiver.models import Capture, Embed, Exchange, Extraction, PostRef
from archiver.resolver import LocalResolver, ResolveError, ResolverProcess, Resolved, make_resolver, save_resolved
from archiver.settings import Settings
from archiver.sources import ArticleInput, BadInput, Document
from archiver.sources.local import Gathered
from archiver.store import Queue, QueueItem, Store, closing_run, open_db
from archiver.store.writer import PackedBody, pack_body
from archiver.store.lock import RunLock
from archiver.workers import context as workers_context
from archiver.workers import start_worker

COMMIT_EVERY = 0.5
"""Seconds of a crawl's writes committed together (``Store.batched``) instead of ~20 commits per article,
each rewriting the index pages it touched into the WAL. A kill loses at most these; their items stay pending."""

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


@dataclass
class RunReport:
    run_id: int
    outcome: str = "running"
    counts: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)  # "URL: reason", one per failed item
    skipped: list[str] = field(default_factory=list)  # "where: problem", one per unusable input item

    def summary(self) -> str:
        c = self.counts
        statuses = ", ".join(f"{k.removeprefix('status:')} {v}" for k, v in sorted(c.items()) if k.startswith("status:"))
        skipped = f", {c['fresh']} fresh" if c["fresh"] else ""
        unchanged = f", {c['unchanged']} unchanged" if c["unchanged"] else ""
        return (
            f"run {self.run_id} {self.outcome}: {c['articles']} articles ({c['captured']} captured, "
            f"{c['failed']} failed{skipped}{unchanged}), {c['embeds']} embeds, {c['posts_checked']} posts checked"
            + (f" ({statuses})" if statuses else "")
        )

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "outcome": self.outcome, "counts": dict(self.counts),
                "failures": list(self.failures), "skipped": list(self.skipped)}


def media_of(cap: Capture) -> str | None:
    """'html' or 'text' for a body extraction can read; None for anything else (recorded, not parsed)."""
    return media_of_type(dict((k.lower(), v) for k, v in cap.final.response_headers).get("content-type"))


def media_of_type(ctype: str | None) -> str | None:
    """``media_of`` for a Content-Type header alone (reextract reads it from the stored exchange)."""
    mime = (ctype or "").split(";")[0].strip().lower()
    if mime == "text/plain":
        return "text"
    if mime in HTML_TYPES or not mime:
        return "html"
    return None


def document_capture(url: str, doc: Document) -> Capture:
    """A document in hand as the snapshot it stands for (a WARC record keeps its recorded exchange)."""
    when = doc.captured_at or utc_now()
    headers = doc.response_headers or ((("content-type", doc.content_type),) if doc.content_type else ())
    exchange = Exchange(url=url, method="GET", started=when, finished=when, duration_ms=0.0, status=doc.status,
                        response_headers=headers, server_ip=doc.server_ip, body=doc.body)
    return Capture(url, (exchange,))


def _pack_and_extract(body: bytes, url: str, content_type: str | None, media: str,
                      pack: bool) -> tuple[PackedBody | None, Extraction]:
    """What the extraction process does with a page: pack it for the store (``pack``) and extract it."""
    return pack_body(body) if pack else None, extract_document(body, url=url, content_type=content_type, media=media)


def _age_seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return (datetime.now(timezone.utc) - datetime.fromisoformat(stamp)).total_seconds()


class Crawl:
    """One crawl: the state its workers share (claimed posts, counts, the stop flag)."""

    def __init__(self, settings: Settings, store: Store, run_id: int, executor: Executor | None,
                 on_article: Callable[[], None] | None = None):
        self.settings = settings
        self.store = store
        self.queue = Queue(store)
        self.run_id = run_id
        self.executor = executor
        self.report = RunReport(run_id)
        self.claimed: set[str] = set()  # posts being resolved by some worker now
        self.on_article = on_article or (lambda: None)
        self.stopping = False
        self.robots: Robots | None = None  # articles, short links, feeds, sitemaps; not platform APIs
        self.resolver: ResolverProcess | LocalResolver | None = None  # where ``run`` resolves its posts

    def stop(self) -> None:
        """Stop taking new items; the ones in flight finish."""
        self.stopping = True

    async def run(self, feeds: Sequence[str] = (), sitemaps: Sequence[str] = (),
                  since: datetime | None = None) -> RunReport:
        """Discover articles from feeds and sitemaps, then work the queue (leftovers first)."""
        with stop_on_signals(self.stop):
            async with ClientPool(self.settings) as pool, make_resolver(pool, self.settings) as resolver:
                self.robots = Robots(pool, record=self._record_robots, ignore=self.settings.ignore_robots)
                self.resolver = resolver
                if feeds or sitemaps:
                    gathered = Gathered()
                    await discover(pool, self.store, Discovery(self.run_id, since), list(feeds), list(sitemaps),
                                   gathered, self.robots)
                    self.queue_inputs(gathered.items())
                items = self.queue.pending()  # read a page at a time as the workers take them
                warming = self._warm_executor()
                with self.store.batched(COMMIT_EVERY):
                    await asyncio.gather(*(self._worker(pool, items) for _ in range(self.settings.concurrency)))
                await asyncio.gather(*warming, return_exceptions=True)  # a broken pool is the items' to report
        return self.report

    def _warm_executor(self) -> list[asyncio.Future]:
        """Start the extraction process now, from a thread, rather than at the first page, on the event loop.

        A process pool starts its workers at the first ``submit``, which waits
        for the forkserver to fork (and, early in a crawl, for its preload).
        """
        if self.executor is None:
            return []
        return [asyncio.get_running_loop().run_in_executor(None, self.executor.submit, int)]

    def queue_inputs(self, items: Iterable[ArticleInput | BadInput]) -> int:
        """Queue the articles among ``items`` as they are read, note the bad ones; returns how many were queued.

        In one batch (``Store.batched``): a commit per page of 256 took 1.60 s for
        30,000 URLs, the batch 1.10 s.
        """
        bad: list[BadInput] = []
        try:
            with self.store.batched(COMMIT_EVERY):
                return self.queue.enqueue(_articles(items, bad), self.run_id)
        finally:
            self.note_skipped(bad)

    def note_skipped(self, bad: Iterable[BadInput]) -> None:
        for item in bad:
            self.report.skipped.append(str(item))
            self.report.counts["skipped"] += 1

    async def _worker(self, pool: ClientPool, items: Iterator[QueueItem]) -> None:
        while not self.stopping:
            item = next(items, None)  # one event loop: workers take items in turn, never the same one
            if item is None:
                return
            try:
                article_id, error = await self.article(pool, item.article)
            except Exception as exc:  # a bug must not cost the other items: record it on the item
                article_id, error = None, f"internal error: {type(exc).__name__}: {exc}"
                self.report.counts["failed"] += 1
            if error:
                self.report.failures.append(f"{item.article.url}: {error}")
            self.queue.mark(item.id, "failed" if error else "done", self.run_id, article_id=article_id, error=error)
            self.on_article()

    async def article(self, pool: ClientPool, article: ArticleInput) -> tuple[int, str | None]:
        """Capture, extract and resolve one article; returns its id and the failure, if any."""
        counts = self.report.counts
        counts["articles"] += 1
        article_id = self.store.article_id(article.url, article.source)
        last_fetched, last_sha, last_status = self.store.last_fetch(article_id)
        doc = article.document
        if doc is None:
            age = _age_seconds(last_fetched)
            if age is not None and age < self.settings.refresh_after and last_status and last_status < 400:
                counts["fresh"] += 1
                return article_id, None
            cap = await capture(pool, article.url, robots=self.robots)
            purpose, provenance = "article", None
        else:
            cap = document_capture(article.url, doc)
            purpose, provenance = doc.origin, dict(doc.provenance)
        media = doc.media if doc is not None else media_of(cap) if cap.ok and cap.final.status < 400 else None
        changed = media is not None and self.store.sha256(cap.final.body) != last_sha
        packed, extraction = None, None
        try:
            if changed:  # a body seen last time is neither parsed nor stored again
                packed, extraction = await self._extract(cap.final, media, pack=doc is None)
        finally:  # stored even when extraction failed
            fetch_id = self.store.save_capture(cap, self.run_id, purpose, article_id=article_id,
                                               provenance=provenance, packed=packed)
            self.store.record_article_fetch(article_id, fetch_id, cap)
        if doc is None and not cap.ok:
            counts["failed"] += 1
            return article_id, cap.error or cap.final.error
        if doc is None and cap.final.status >= 400:  # stored as answered, but the article is not there
            counts["failed"] += 1
            return article_id, f"HTTP {cap.final.status}"
        counts["captured"] += 1
        if media is None:
            counts["not_parsed"] += 1
            return article_id, None
        if extraction is None:
            self.store.touch_extraction(article_id)
            counts["unchanged"] += 1
            return article_id, None
        extraction = await self._follow_short_links(pool, extraction, article_id)
        posts = self.store.record_extraction(article_id, fetch_id, self.run_id, extraction)
        counts["embeds"] += len(extraction.embeds)
        counts["links"] += len(extraction.links)
        await self.resolve_posts(posts, self.resolver)
        return article_id, None

    async def _extract(self, final: Exchange, media: str, *, pack: bool) -> tuple[PackedBody | None, Extraction]:
        """Parse (and pack, for storage) a body in the extraction process, off the event loop."""
        ctype = dict((k.lower(), v) for k, v in final.response_headers).get("content-type")
        job = functools.partial(_pack_and_extract, final.body, final.url, ctype, media, pack)
        if self.executor is None:
            return await asyncio.to_thread(job)
        return await asyncio.get_running_loop().run_in_executor(self.executor, job)

    async def _follow_short_links(self, pool: ClientPool, extraction: Extraction, article_id: int) -> Extraction:
        """Text embeds carry t.co / pic.twitter.com links; their redirects name the status."""
        embeds: list[Embed] = []
        for embed in extraction.embeds:
            if embed.post is None and embed.short_links:
                embed = replace(embed, post=await self._post_behind(pool, embed, article_id))
            embeds.append(embed)
        return replace(extraction, embeds=tuple(embeds))

    async def _post_behind(self, pool: ClientPool, embed: Embed, article_id: int) -> PostRef | None:
        for link in embed.short_links:
            cap = await capture(pool, link, robots=self.robots)
            self.store.save_capture(cap, self.run_id, "shortlink", article_id=article_id)
            locations = [hop.url for hop in cap.hops]
            locations += [v for k, v in cap.final.response_headers if k.lower() == "location"]
            for url in locations:
                post = platforms.identify(url)
                if post is not None and post.platform == embed.platform:
                    return post
        return None

    async def resolve_posts(self, posts: list[PostRef], resolver: ResolverProcess | LocalResolver) -> None:
        """Check, through ``resolver``, the posts never checked before that no other worker of this run has claimed.

        Every post's lookups are stored, even when another post failed; the first failure is raised after.
        """
        unchecked = self.store.unchecked(p.key for p in posts)
        todo = [p for p in posts if p.key in unchecked and p.key not in self.claimed]
        keys = [p.key for p in todo]
        self.claimed.update(keys)
        failed: ResolveError | None = None
        try:
            outcomes = await asyncio.gather(*(resolver.resolve(p) for p in todo), return_exceptions=True)
            for outcome in outcomes:
                try:
                    if isinstance(outcome, BaseException):
                        raise outcome
                    self._save(outcome)
                except ResolveError as exc:
                    failed = failed or exc
        finally:  # once saved, a post is checked (``unchecked`` says so): only those in flight stay claimed
            self.claimed.difference_update(keys)
        if failed is not None:
            raise failed

    def _record_robots(self, cap: Capture) -> int:
        return self.store.save_capture(cap, self.run_id, "robots")

    def _save(self, resolved: Resolved) -> None:
        res = save_resolved(self.store, self.run_id, resolved)
        self.report.counts["posts_checked"] += 1
        self.report.counts[f"status:{res.check.status.value}"] += 1


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT/SIGTERM ask for a graceful stop once; a second SIGINT interrupts at once."""
    loop = asyncio.get_running_loop()
    installed = []

    def first(sig: signal.Signals) -> None:
        stop()
        loop.remove_signal_handler(sig)
        if sig == signal.SIGTERM:  # a second SIGTERM is ignored until the items in flight finish
            loop.add_signal_handler(sig, stop)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, first, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def make_executor(workers: int) -> Executor | None:
    """The process pool extraction runs in; None runs it in a thread of this process."""
    if workers <= 0:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=workers_context(), initializer=start_worker)


@contextlib.contextmanager
def archive(settings: Settings) -> Iterator[Store]:
    """The archive for one run: the run lock taken (DatabaseBusy if held), the database opened."""
    lock = RunLock(settings.db_path)
    lock.acquire(f"a run (pid {os.getpid()} on {socket.gethostname()})")
    try:
        store = Store(open_db(settings.db_path))
        store.close_dead_runs()  # we hold the lock: any run still "running" is dead
        yield store
    finally:
        lock.release()


def _articles(items: Iterable[ArticleInput | BadInput], bad: list[BadInput]) -> Iterator[ArticleInput]:
    for item in items:
        if isinstance(item, BadInput):
            bad.append(item)
        else:
            yield item


def run_crawl(items: Iterable[ArticleInput | BadInput], settings: Settings, store: Store, command: list[str], *,
              feeds: Sequence[str] = (), sitemaps: Sequence[str] = (), since: datetime | None = None,
              on_queued: Callable[[int], None] | None = None,
              on_article: Callable[[], None] | None = None) -> RunReport:
    """Record a run, queue the articles, discover more from feeds and sitemaps, work the queue, close the run.

    ``items`` (articles, and bad items to report as skipped) may be streams
    read as they are queued (``Queue.enqueue``); ``on_queued`` hears how many
    were queued before the work starts. A failure while reading them closes
    the run as failed; what was queued by then stays queued.
    """
    run_id = store.start_run(command, settings.public())
    executor = make_executor(settings.extract_workers)
    crawl = Crawl(settings, store, run_id, executor, on_article)
    try:
        with closing_run(store, crawl.report, interrupted=lambda: crawl.stopping):
            queued = crawl.queue_inputs(items)
            if on_queued is not None:
                on_queued(queued)
            asyncio.run(crawl.run(feeds, sitemaps, since))
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    return crawl.report
