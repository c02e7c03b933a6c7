"""Re-extraction without re-fetching: today's extractors over the bodies already stored.

Extractors improve (a new platform, a markup form learnt, a false positive
fixed), and every article body is already in ``bodies``. ``reextract`` takes
each article's latest good capture, decompresses its body, runs the current
``extract_document`` over it (in the same process pool as a crawl) and stores
the result through ``Store.record_extraction``, as a crawl would have done had
it run this version. The extraction process also decompresses the bodies (the
main process reads them as stored), and each article's writes are one atomic
unit (a savepoint; the units of every ``COMMIT_EVERY`` seconds are committed
together, as in a crawl: a kill loses at most those, which the next reextract
does again):

- an embed found again is updated in place, its ``extractor_version`` set to
  this version; an embed found for the first time is added, first seen at the
  time the article was last examined (the bytes are that old, not today);
- an embed this extractor no longer finds in the very body it came from is
  retracted (``embeds.retracted_run_id``), not deleted (``store/history.py``).

Nothing is fetched, with one exception the issue asks for: posts that no check
has ever seen (new ones, typically from a new detector) are resolved through the
crawl's own path (``pipeline.Crawl.resolve_posts``). Short links of text embeds
are followed only through the redirects already stored; one never followed
stays an unresolved text embed until the next crawl.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import signal
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

from archiver import platforms
from archiver.errors import UsageError
from archiver.extract import extract_document
from archiver.fetch.client import ClientPool
from archiver.models import Embed, Extraction, PostRef
from archiver.pipeline import COMMIT_EVERY, Crawl, make_executor, media_of_type
from archiver.recheck import check_platforms
from archiver.resolver import make_resolver
from archiver.settings import Settings
from archiver.store import Store, closing_run, embed_key
from archiver.store.db import pages_by_id
from archiver.store.history import retract_missing
from archiver.store.writer import stored_body, unpack_body

NOT_ARTICLE_PURPOSES = ("redirect", "shortlink", "lookup", "robots")
"""Exchanges that carry an article_id without being the article's own capture."""

RESOLVE_BATCH = 256  # new posts resolved at once (the client pool bounds the requests in flight)


@dataclass(frozen=True)
class StoredPage:
    """An article's latest good capture, as stored."""

    article_id: int
    url: str
    fetch_id: int
    body_sha256: str
    content_type: str | None
    captured_at: str  # when the body was received
    seen_at: str  # when the article was last examined: its last extraction, else the capture


@dataclass
class ReextractReport:
    run_id: int
    outcome: str = "running"
    counts: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        statuses = ", ".join(f"{k.removeprefix('status:')} {v}" for k, v in sorted(c.items()) if k.startswith("status:"))
        return (
            f"reextract run {self.run_id} {self.outcome}: {c['reextracted']} of {c['articles']} articles "
            f"re-extracted ({c['no_body']} without a stored body, {c['not_parsed']} not HTML or text), "
            f"{c['embeds']} embeds ({c['new_embeds']} new, {c['retracted']} retracted), "
            f"{c['posts_checked']} new posts checked" + (f" ({statuses})" if statuses else "")
        )

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "outcome": self.outcome, "counts": dict(self.counts),
                "failures": list(self.failures)}


def parse_since(text: str) -> str:
    """DATE (``2026-03-01`` or ISO 8601; UTC when no zone is given) as the stored time format."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since: {text!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


ARTICLES_PAGE = 1000


def stored_pages(store: Store, since: str | None = None, *, page: int = ARTICLES_PAGE) -> Iterator[StoredPage]:
    """Every article's latest capture with a usable body (captured at or after ``since``).

    Articles are read ``page`` at a time by id, so memory does not grow
    with the archive (a million articles' rows at once: 299 MB, measured with
    50-character URLs).
    """
    db = store.db
    sql, params = "select id, url, last_extracted from articles where id > ?", []
    if since is not None:
        sql, params = sql + " and last_fetched >= ?", [since]  # the good capture is never later than this
    excluded = ",".join("?" * len(NOT_ARTICLE_PURPOSES))
    for article_id, url, last_extracted in pages_by_id(db.conn, sql + " order by id limit ?", params, page):
        row = db.execute(
            f"""select id, body_sha256, response_headers, finished from fetches
                where article_id = ? and purpose not in ({excluded}) and body_sha256 is not null
                  and error is null and (status is null or status < 400)
                order by id desc limit 1""",
            [article_id, *NOT_ARTICLE_PURPOSES],
        ).fetchone()
        if row is None:
            yield StoredPage(article_id, url, 0, "", None, "", "")  # no body to read: counted, skipped
            continue
        fetch_id, sha, headers, finished = row
        if since is not None and finished < since:
            continue
        ctype = next((v for k, v in json.loads(headers or "[]") if k.lower() == "content-type"), None)
        later = last_extracted and datetime.fromisoformat(last_extracted) >= datetime.fromisoformat(finished)
        seen_at = last_extracted if later else finished
        yield StoredPage(article_id, url, fetch_id, sha, ctype, finished, seen_at)


def _media(store: Store, page: StoredPage) -> str | None:
    """From the stored Content-Type; a document in hand without one (a local file) has its media on its queue row."""
    if page.content_type is None:
        row = store.db.execute(
            "select document from queue where article_id = ? and document is not null order by id desc limit 1",
            [page.article_id],
        ).fetchone()
        if row is not None:
            return json.loads(row[0]).get("media") or "html"
    return media_of_type(page.content_type)


def post_behind_stored(store: Store, embed: Embed) -> PostRef | None:
    """The post a text embed's short link led to, from the redirects a crawl stored (nothing is fetched)."""
    for link in embed.short_links:
        rows = store.db.execute(
            "select url, response_headers from fetches where requested_url = ? and purpose in ('shortlink', 'redirect') "
            "order by id desc", [link])
        for url, headers in rows:
            locations = [url] + [v for k, v in json.loads(headers or "[]") if k.lower() == "location"]
            for location in locations:
                post = platforms.identify(location)
                if post is not None and post.platform == embed.platform:
                    return post
    return None


def _extractions(store: Store, pages: Iterable[StoredPage], executor: Executor | None,
                 report: ReextractReport) -> Iterator[tuple[StoredPage, Extraction]]:
    """Extract the pages in order, keeping a few in flight in the process pool (bodies are read lazily)."""
    window: collections.deque[tuple[StoredPage, Future | Extraction]] = collections.deque()
    depth = 1 if executor is None else 8
    for page in pages:
        report.counts["articles"] += 1
        if not page.fetch_id:
            report.counts["no_body"] += 1
            continue
        media = _media(store, page)
        if media is None:
            report.counts["not_parsed"] += 1
            continue
        compression, content = stored_body(store.db, page.body_sha256)
        job = functools.partial(_unpack_and_extract, compression, content, page.url, page.content_type, media)
        window.append((page, executor.submit(job) if executor else job()))
        while len(window) >= depth:
            done, result = window.popleft()
            yield done, result.result() if isinstance(result, Future) else result
    while window:
        done, result = window.popleft()
        yield done, result.result() if isinstance(result, Future) else result


def _unpack_and_extract(compression: str | None, content: bytes, url: str, content_type: str | None,
                        media: str) -> Extraction:
    """What the extraction process does with a stored page: decompress it, then extract it.

    Decompressing there rather than in the main process, which reads and
    writes the archive for every page, also sends the process the stored
    (compressed) bytes instead of the whole page.
    """
    return extract_document(unpack_body(compression, content), url=url, content_type=content_type, media=media)


def reextract_page(store: Store, page: StoredPage, extraction: Extraction, run_id: int,
                   names: tuple[str, ...], report: ReextractReport) -> list[PostRef]:
    """Store one re-extraction and retract what it no longer finds, as one atomic unit (``Store.transaction``)."""
    embeds = []
    for embed in extraction.embeds:
        if names and embed.platform not in names:
            continue
        if embed.post is None and embed.short_links:
            embed = replace(embed, post=post_behind_stored(store, embed))
            report.counts["short_links_unresolved"] += int(embed.post is None)
        embeds.append(embed)
    extraction = replace(extraction, embeds=tuple(embeds))
    with store.transaction():
        posts = store.record_extraction(page.article_id, page.fetch_id, run_id, extraction, seen_at=page.seen_at)
        retracted = retract_missing(store.db, page.article_id, page.body_sha256, [embed_key(e) for e in embeds],
                                    run_id, names)
    report.counts["reextracted"] += 1
    report.counts["embeds"] += len(embeds)
    report.counts["retracted"] += retracted
    return posts


@contextlib.contextmanager
def _stop_flag(flag: list[bool]) -> Iterator[None]:
    """SIGINT/SIGTERM finish the article in hand, then stop (extraction runs outside an event loop)."""
    previous = {}

    def stop(signum: int, frame: object) -> None:
        flag[0] = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, stop)
        except ValueError:  # not the main thread
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _resolve_new(crawl: Crawl, posts: list[PostRef]) -> None:
    async with ClientPool(crawl.settings) as pool, make_resolver(pool, crawl.settings) as resolver:
        for start in range(0, len(posts), RESOLVE_BATCH):
            await crawl.resolve_posts(posts[start:start + RESOLVE_BATCH], resolver)


def run_reextract(settings: Settings, store: Store, command: list[str], *, since: str | None = None,
                  platform_names: Iterable[str] = (), on_article: Callable[[], None] | None = None) -> ReextractReport:
    """Record a run, re-extract the stored bodies, resolve the posts never checked, close the run.

    The caller holds the run lock (``pipeline.archive``). ``since`` is a UTC ISO
    time (``parse_since``): only bodies captured at or after it are re-extracted.
    """
    names = check_platforms(platform_names)
    run_id = store.start_run(command, {**settings.public(), "reextract": {"since": since, "platforms": list(names)}})
    report = ReextractReport(run_id)
    executor = make_executor(settings.extract_workers)
    crawl = Crawl(settings, store, run_id, executor)  # for resolve_posts only: no article is crawled
    stop = [False]

    def settle() -> None:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
        for key, value in crawl.report.counts.items():
            if key == "posts_checked" or key.startswith("status:"):
                report.counts[key] += value
        report.counts["new_embeds"] = store.db.execute(
            "select count(*) from embeds where run_id = ?", [run_id]).fetchone()[0]

    with closing_run(store, report, interrupted=lambda: stop[0], before_close=settle):
        new: dict[str, PostRef] = {}
        with _stop_flag(stop), store.batched(COMMIT_EVERY):
            for page, extraction in _extractions(store, stored_pages(store, since), executor, report):
                for post in reextract_page(store, page, extraction, run_id, names, report):
                    new.setdefault(post.key, post)
                (on_article or (lambda: None))()
                if stop[0]:
                    break
        unchecked = store.unchecked(new)
        report.counts["posts_new"] = len(unchecked)
        if unchecked and not stop[0]:
            asyncio.run(_resolve_new(crawl, [p for k, p in new.items() if k in unchecked]))
    return report
