"""Checking posts again, night after night: the history of each post.

A crawl checks each post once, when it first meets it. Whether a post later
goes dark, comes back or is edited is learnt only by asking again, and that is
this module's job: pick the posts whose last check is older than a duration,
resolve each through the same path as the crawl (``archiver.resolve.resolve``,
the platform's lookups and classifier, every exchange stored), and append the
verdict to ``post_checks``. ``Store.save_check`` derives the history in the same
transaction (``store/history.py``): a status transition when the research
status changes, a new version when the post was edited.

Each post's check is saved as soon as it is made, so an interrupted recheck
loses at most the lookups in flight; the posts it did not reach are still the
oldest-checked and come first next time.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from archiver import platforms
from archiver.errors import UsageError
from archiver.fetch.client import ClientPool
from archiver.models import PostRef, Status
from archiver.pipeline import stop_on_signals
from archiver.resolver import LocalResolver, ResolverProcess, make_resolver, save_resolved
from archiver.settings import Settings
from archiver.store import Store, closing_run

DEFAULT_OLDER_THAN = 20 * 3600.0
"""Seconds. Posts checked less than 20 hours ago are skipped: a nightly job started a
little earlier or later than the night before still rechecks everything once a
night, and two runs on the same evening do not check the same posts twice."""


@dataclass
class RecheckReport:
    """What one recheck did; ``changes`` are the status transitions it found, as (key, from, to)."""

    run_id: int
    outcome: str = "running"
    counts: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)  # "post key: reason"
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        statuses = ", ".join(f"{k.removeprefix('status:')} {v}" for k, v in sorted(c.items()) if k.startswith("status:"))
        moves = collections.Counter(f"{old}->{new}" for _, old, new in self.changes)
        changed = ", ".join(f"{move} {n}" for move, n in sorted(moves.items()))
        return (
            f"recheck run {self.run_id} {self.outcome}: {c['posts_checked']} of {c['posts_due']} posts checked"
            + (f" ({statuses})" if statuses else "")
            + f"; {len(self.changes)} status change{'' if len(self.changes) == 1 else 's'}"
            + (f" ({changed})" if changed else "")
            + f"; {c['new_versions']} new version{'' if c['new_versions'] == 1 else 's'}"
        )

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "outcome": self.outcome, "counts": dict(self.counts),
                "failures": list(self.failures),
                "changes": [{"post_key": k, "from": old, "to": new} for k, old, new in self.changes]}


def check_platforms(names: Iterable[str]) -> tuple[str, ...]:
    """The platform names, lower-cased; UsageError naming the known ones for any other."""
    known = platforms.names()
    chosen = tuple(dict.fromkeys(n.strip().lower() for n in names))
    for name in chosen:
        if name not in known:
            raise UsageError(f"unknown platform {name!r} (known: {', '.join(sorted(known))})")
    return chosen


def due(store: Store, *, older_than: float, platform_names: Iterable[str] = (), limit: int | None = None,
        now: datetime | None = None) -> list[PostRef]:
    """Posts whose last check is older than ``older_than`` seconds (never-checked ones too), oldest first."""
    now = now or datetime.now(timezone.utc)
    cutoff = (now - timedelta(seconds=older_than)).isoformat(timespec="microseconds")
    where, params = ["(last_checked is null or last_checked <= ?)"], [cutoff]
    names = list(platform_names)
    if names:
        where.append(f"platform in ({','.join('?' * len(names))})")
        params += names
    sql = (f"select platform, post_id, url from posts where {' and '.join(where)} "
           "order by last_checked is not null, last_checked, key")
    if limit is not None:
        sql += f" limit {int(limit)}"
    return [PostRef(platform, post_id, url) for platform, post_id, url in store.db.execute(sql, params)]


class Recheck:
    """One recheck: a bounded number of workers resolving posts and saving each verdict at once."""

    def __init__(self, settings: Settings, store: Store, run_id: int, on_post: Callable[[], None] | None = None):
        self.settings = settings
        self.store = store
        self.run_id = run_id
        self.report = RecheckReport(run_id)
        self.on_post = on_post or (lambda: None)
        self.stopping = False

    def stop(self) -> None:
        """Stop taking new posts; the checks in flight finish and are saved."""
        self.stopping = True

    async def run(self, posts: list[PostRef]) -> RecheckReport:
        work: asyncio.Queue[PostRef] = asyncio.Queue()
        for post in posts:
            work.put_nowait(post)
        with stop_on_signals(self.stop):
            async with ClientPool(self.settings) as pool, make_resolver(pool, self.settings) as resolver:
                workers = min(self.settings.concurrency, max(1, len(posts)))
                await asyncio.gather(*(self._worker(resolver, work) for _ in range(workers)))
        return self.report

    async def _worker(self, resolver: ResolverProcess | LocalResolver, work: asyncio.Queue[PostRef]) -> None:
        while not self.stopping:
            try:
                post = work.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self.check(resolver, post)
            except Exception as exc:  # a bug on one post must not cost the others: report it, go on
                self.report.counts["failed"] += 1
                self.report.failures.append(f"{post.key}: internal error: {type(exc).__name__}: {exc}")
            self.on_post()

    async def check(self, resolver: ResolverProcess | LocalResolver, post: PostRef) -> None:
        res = save_resolved(self.store, self.run_id, await resolver.resolve(post))
        self.report.counts["posts_checked"] += 1
        self.report.counts[f"status:{res.check.status.value}"] += 1
        if res.check.status is Status.ERROR:
            self.report.failures.append(f"{post.key}: {res.check.detail}")

    def tally(self) -> None:
        """Count what this run changed, from the history the store derived."""
        db = self.store.db
        self.report.changes = [
            (key, old, new) for key, old, new in db.execute(
                "select post_key, from_status, to_status from post_transitions "
                "where run_id = ? and from_status is not null order by id", [self.run_id])
        ]
        self.report.counts["status_changes"] = len(self.report.changes)
        self.report.counts["new_versions"] = db.execute(
            "select count(*) from post_versions v join post_checks c on c.id = v.check_id "
            "where c.run_id = ? and v.version > 1", [self.run_id]).fetchone()[0]


def run_recheck(settings: Settings, store: Store, command: list[str], *, older_than: float = DEFAULT_OLDER_THAN,
                platform_names: Iterable[str] = (), limit: int | None = None,
                on_post: Callable[[], None] | None = None) -> RecheckReport:
    """Record a run, check the due posts again, close the run with its outcome and counts.

    The caller holds the run lock (``pipeline.archive``), as for a crawl.
    """
    names = check_platforms(platform_names)
    if older_than < 0:
        raise UsageError(f"--older-than must not be negative ({older_than})")
    run_id = store.start_run(command, {**settings.public(), "recheck": {
        "older_than_seconds": older_than, "platforms": list(names), "limit": limit}})
    recheck = Recheck(settings, store, run_id, on_post)
    with closing_run(store, recheck.report, interrupted=lambda: recheck.stopping, before_close=recheck.tally):
        posts = due(store, older_than=older_than, platform_names=names, limit=limit)
        recheck.report.counts["posts_due"] = len(posts)
        if posts:
            asyncio.run(recheck.run(posts))
    return recheck.report
