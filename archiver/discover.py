"""Feeds and sitemaps on the web -> article URLs, each fetch stored with its provenance.

A feed or sitemap is fetched like any page (address guard, robots.txt, limits),
stored as a ``fetches`` row with purpose ``feed`` or ``sitemap``, and read by the
pure readers in ``archiver.sources``. A sitemap index is followed to its nested
sitemaps, each once, to a bounded depth, so an index that lists itself cannot
loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archiver.capture import capture
from archiver.fetch.client import ClientPool
from archiver.sources.detect import HEAD_BYTES, SITEMAP, detect
from archiver.sources import BadInput, read_feed, read_sitemap
from archiver.sources.local import Gathered
from archiver.store import Store

MAX_SITEMAP_DEPTH = 3  # index -> index -> sitemap is as deep as real sites go
MAX_SITEMAPS = 1000  # sitemaps fetched per run, at most


@dataclass(frozen=True)
class Discovery:
    run_id: int
    since: datetime | None = None


async def discover(pool: ClientPool, store: Store, job: Discovery, feeds: list[str], sitemaps: list[str],
                   gathered: Gathered, robots=None) -> None:
    """Fetch every feed and sitemap (and nested sitemaps) into ``gathered``."""
    for url in feeds:
        body = await _fetch(pool, store, job, url, "feed", gathered, robots)
        if body is not None:
            if detect(url, body[:HEAD_BYTES]) == SITEMAP:
                sitemaps = [*sitemaps, url]  # a "feed" that is a sitemap is read as one
                continue
            articles, bad = read_feed(body, where=f"feed {url}", since=job.since)
            gathered.add([*articles, *bad])
    seen: set[str] = set()
    level = list(dict.fromkeys(sitemaps))
    for _depth in range(MAX_SITEMAP_DEPTH + 1):
        nested: list[str] = []
        for url in level:
            if url in seen or len(seen) >= MAX_SITEMAPS:
                continue
            seen.add(url)
            body = await _fetch(pool, store, job, url, "sitemap", gathered, robots)
            if body is None:
                continue
            articles, more, bad = read_sitemap(body, where=url, since=job.since)
            gathered.add([*articles, *bad])
            nested += more
        level = [u for u in dict.fromkeys(nested) if u not in seen]
        if not level:
            return
    gathered.add([BadInput(url, f"sitemap nested deeper than {MAX_SITEMAP_DEPTH} levels: not followed")
                  for url in level])


async def _fetch(pool: ClientPool, store: Store, job: Discovery, url: str, purpose: str, gathered: Gathered,
                 robots) -> bytes | None:
    cap = await capture(pool, url, robots=robots)
    store.save_capture(cap, job.run_id, purpose)
    if not cap.ok:
        gathered.add([BadInput(url, f"{purpose} not fetched: {cap.error or cap.final.error}")])
        return None
    if cap.final.status >= 400:
        gathered.add([BadInput(url, f"{purpose} not fetched: HTTP {cap.final.status}")])
        return None
    return cap.final.body

