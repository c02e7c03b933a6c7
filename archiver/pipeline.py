"""The order of the stages, the run record and the summary: the whole job on one screen.

    articles -> capture -> store snapshot -> extract (process pool) -> store embeds/links
             -> follow text embeds' short links -> resolve new posts -> store checks

One event loop, one writer (``Store``), a bounded number of article workers;
extraction runs in worker processes so parsing does not starve fetching.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from archiver import platforms
from archiver.capture import capture
from archiver.extract import extract_document
from archiver.fetch.client import ClientPool
from archiver.models import Capture, Embed, Extraction, PostRef
from archiver.resolve import Resolution, resolve
from archiver.settings import Settings
from archiver.sources import ArticleInput
from archiver.store import Store

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


@dataclass
class RunReport:
    run_id: int
    counts: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)  # "URL: reason", one per failed item

    def summary(self) -> str:
        c = self.counts
        statuses = ", ".join(f"{k.removeprefix('status:')} {v}" for k, v in sorted(c.items()) if k.startswith("status:"))
        return (
            f"run {self.run_id}: {c['articles']} articles ({c['captured']} captured, {c['failed']} failed), "
            f"{c['embeds']} embeds, {c['posts_checked']} posts checked" + (f" ({statuses})" if statuses else "")
        )


def media_of(cap: Capture) -> str | None:
    """'html' or 'text' for a body extraction can read; None for anything else (recorded, not parsed)."""
    ctype = dict((k.lower(), v) for k, v in cap.final.response_headers).get("content-type", "")
    mime = ctype.split(";")[0].strip().lower()
    if mime == "text/plain":
        return "text"
    if mime in HTML_TYPES or not mime:
        return "html"
    return None


def _extract(body: bytes, url: str, content_type: str | None, media: str) -> Extraction:
    return extract_document(body, url=url, content_type=content_type, media=media)


class Crawl:
    """One crawl: the state shared by its workers (claimed posts, counts)."""

    def __init__(self, settings: Settings, store: Store, run_id: int, executor: Executor | None,
                 on_article: Callable[[], None] | None = None):
        self.settings = settings
        self.store = store
        self.run_id = run_id
        self.executor = executor
        self.report = RunReport(run_id)
        self.claimed: set[str] = set()  # posts resolved (or being resolved) in this run
        self.on_article = on_article or (lambda: None)

    async def run(self, articles: Iterable[ArticleInput]) -> RunReport:
        queue: asyncio.Queue[ArticleInput] = asyncio.Queue()
        for article in articles:
            queue.put_nowait(article)
        async with ClientPool(self.settings) as pool:
            workers = [asyncio.create_task(self._worker(pool, queue)) for _ in range(self.settings.concurrency)]
            try:
                await queue.join()
            finally:
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
        return self.report

    async def _worker(self, pool: ClientPool, queue: asyncio.Queue[ArticleInput]) -> None:
        while True:
            article = await queue.get()
            try:
                await self.article(pool, article)
            finally:
                queue.task_done()
                self.on_article()

    async def article(self, pool: ClientPool, article: ArticleInput) -> None:
        counts = self.report.counts
        counts["articles"] += 1
        article_id = self.store.article_id(article.url, article.source)
        cap = await capture(pool, article.url)
        fetch_id = self.store.save_capture(cap, self.run_id, "article", article_id=article_id)
        self.store.record_article_fetch(article_id, fetch_id, cap)
        if not cap.ok:
            counts["failed"] += 1
            self.report.failures.append(f"{article.url}: {cap.error or cap.final.error}")
            return
        counts["captured"] += 1
        media = media_of(cap)
        if media is None:
            counts["not_parsed"] += 1
            return
        final = cap.final
        ctype = dict((k.lower(), v) for k, v in final.response_headers).get("content-type")
        job = functools.partial(_extract, final.body, final.url, ctype, media)
        loop = asyncio.get_running_loop()
        extraction = await (loop.run_in_executor(self.executor, job) if self.executor else asyncio.to_thread(job))
        extraction = await self._follow_short_links(pool, extraction, article_id)
        posts = self.store.record_extraction(article_id, fetch_id, self.run_id, extraction)
        counts["embeds"] += len(extraction.embeds)
        counts["links"] += len(extraction.links)
        await self.resolve_posts(pool, posts)

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
            cap = await capture(pool, link)
            self.store.save_capture(cap, self.run_id, "shortlink", article_id=article_id)
            for hop in cap.hops:
                post = platforms.identify(hop.url)
                if post is not None and post.platform == embed.platform:
                    return post
            location = cap.hops[-1:] and dict((k.lower(), v) for k, v in cap.final.response_headers).get("location")
            if location and (post := platforms.identify(location)) is not None:
                return post
        return None

    async def resolve_posts(self, pool: ClientPool, posts: list[PostRef]) -> None:
        todo = [p for p in posts if p.key not in self.claimed and p.key in self.store.unchecked([p.key])]
        self.claimed.update(p.key for p in todo)
        results = await asyncio.gather(*(resolve(pool, p, self.settings, self._recorder(p)) for p in todo))
        for res in results:
            self._save(res)

    def _recorder(self, post: PostRef):
        def record(cap: Capture, endpoint: str) -> int:
            return self.store.save_capture(cap, self.run_id, "lookup", endpoint=endpoint, post_key=post.key)
        return record

    def _save(self, res: Resolution) -> None:
        self.store.save_check(res.post, res.check, self.run_id, list(res.fetch_ids), res.deciding_fetch_id,
                              res.content_sha256)
        self.report.counts["posts_checked"] += 1
        self.report.counts[f"status:{res.check.status.value}"] += 1


def make_executor(workers: int) -> Executor | None:
    """The process pool extraction runs in; None runs it in a thread of this process."""
    if workers <= 0:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


def run_crawl(articles: list[ArticleInput], settings: Settings, store: Store, command: list[str],
              on_article: Callable[[], None] | None = None) -> RunReport:
    """Record a run, crawl the articles, and close the run with its outcome and counts."""
    run_id = store.start_run(command, settings.public())
    executor = make_executor(settings.extract_workers)
    crawl = Crawl(settings, store, run_id, executor, on_article)
    outcome, error = "failed", None
    try:
        asyncio.run(crawl.run(articles))
        outcome = "completed"
    except (KeyboardInterrupt, asyncio.CancelledError):
        outcome, error = "interrupted", "interrupted by signal"
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
        store.finish_run(run_id, outcome, dict(crawl.report.counts), error)
    return crawl.report
