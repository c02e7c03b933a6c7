"""The resolver process: posts resolved on the other core, stored by the one writer, within the limits."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os

import pytest

from archiver.cli import main
from archiver.fetch.client import ClientPool
from archiver.mirror import Mirror, Route
from archiver.models import Capture, Check, Exchange, PostRef, Status
from archiver.resolve import Resolution
from archiver.resolver import LocalResolver, ResolveError, Resolved, ResolverProcess, save_resolved
from archiver.settings import Settings
from archiver.store import Store, open_db, read_body

SYN = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"
TWEET_IDS = [str(1460323737035677698 + n) for n in range(12)]
JS = {"content-type": "application/json"}


def tweet(tid: str) -> bytes:
    return json.dumps({"__typename": "Tweet", "id_str": tid, "text": f"tweet {tid}", "lang": "en",
                       "created_at": "2021-11-18T21:15:02.000Z",
                       "user": {"id_str": "1", "name": "Someone", "screen_name": "someone"}}).encode()


def post(tid: str) -> PostRef:
    return PostRef("twitter", tid, f"https://twitter.com/someone/status/{tid}")


def lookup_routes(delay: float = 0.0) -> list[Route]:
    routes = [Route(f"{SYN}?id={tid}", body=tweet(tid), headers=JS, delay=delay) for tid in TWEET_IDS]
    return routes + [Route(OEMBED, status=404, body=b"{}", headers=JS, delay=delay)]


def settings_for(mirror: Mirror, **overrides) -> Settings:
    return Settings(connect_to=mirror.connect_to("https://cdn.syndication.twimg.com", "https://publish.twitter.com"),
                    per_host_delay=0.0, per_host_concurrency=16, retries=0, timeout=10.0, **overrides)


def test_resolver_process_resolves_in_another_process_and_hands_back_every_capture():
    async def go(settings: Settings) -> tuple[Resolved, int | None, bool]:
        async with ClientPool(settings) as pool, ResolverProcess(pool, settings) as resolver:
            assert resolver.pid is None  # starting in the background: the crawl fetches pages meanwhile
            resolved = await resolver.resolve(post(TWEET_IDS[0]))  # waits for the start
            pid = resolver.pid
        return resolved, pid, resolver.alive

    with Mirror(lookup_routes()) as mirror:
        resolved, pid, alive_after = asyncio.run(go(settings_for(mirror)))
        hosts = sorted(r.host for r in mirror.requests)
    assert pid is not None and pid != os.getpid()
    assert not alive_after  # gone once the work is done
    assert hosts == ["cdn.syndication.twimg.com", "publish.twitter.com"]
    assert resolved.error is None and resolved.resolution is not None
    assert resolved.resolution.check.status is Status.AVAILABLE
    assert resolved.resolution.check.text == f"tweet {TWEET_IDS[0]}"
    # fetch ids are positions in the captures, in the order they were made
    assert sorted(resolved.resolution.fetch_ids) == [0, 1]
    endpoints = [endpoint for _, endpoint in resolved.captures]
    assert sorted(endpoints) == ["twitter.oembed", "twitter.syndication"]
    deciding = resolved.captures[resolved.resolution.deciding_fetch_id]
    assert deciding[1] == "twitter.syndication" and deciding[0].final.body == tweet(TWEET_IDS[0])
    # the bodies come back packed for storage, so that the writer's event loop does not pack them
    assert [p.sha256 for p in resolved.packed] == [hashlib.sha256(c.final.body).hexdigest()
                                                   for c, _ in resolved.captures]


def test_a_lost_resolver_process_fails_its_posts_and_the_rest_resolve_here():
    async def go(settings: Settings) -> tuple[BaseException | None, Resolved, str | None]:
        async with ClientPool(settings) as pool, ResolverProcess(pool, settings) as resolver:
            pending = asyncio.create_task(resolver.resolve(post(TWEET_IDS[1])))
            await asyncio.sleep(1.0)  # the lookups are waiting for the slow server
            resolver.kill()
            try:
                await pending
                lost = None
            except ResolveError as exc:
                lost = exc
            after = await resolver.resolve(post(TWEET_IDS[2]))
            return lost, after, resolver.gone

    with Mirror(lookup_routes(delay=3.0)) as mirror:
        lost, after, gone = asyncio.run(go(settings_for(mirror)))
    assert isinstance(lost, ResolveError) and "resolver process exited" in str(lost)
    assert gone is not None and "resolver process exited" in gone
    assert after.resolution is not None and after.resolution.check.status is Status.AVAILABLE


def test_save_resolved_stores_the_captures_with_real_ids_even_when_resolving_failed(tmp_path):
    store = Store(open_db(tmp_path / "a.db"))
    run_id = store.start_run(["test"], {})
    p = post(TWEET_IDS[3])

    def cap(body: bytes) -> Capture:
        return Capture(SYN, (Exchange(url=SYN, method="GET", started="2026-01-01T00:00:00Z",
                                      finished="2026-01-01T00:00:00Z", duration_ms=1.0, status=200, body=body),))

    done = Resolved(p, Resolution(p, Check(Status.AVAILABLE), (1, 0), 1, "sha"),
                    [(cap(b"first"), "twitter.oembed"), (cap(b"second"), "twitter.syndication")])
    res = save_resolved(store, run_id, done)
    rows = {r["id"]: r for r in store.db.query("select id, endpoint, post_key from fetches")}
    assert [rows[i]["endpoint"] for i in res.fetch_ids] == ["twitter.syndication", "twitter.oembed"]
    assert rows[res.deciding_fetch_id]["endpoint"] == "twitter.syndication"
    check = next(store.db.query("select fetch_id, fetch_ids, status from post_checks"))
    assert check["fetch_id"] == res.deciding_fetch_id and json.loads(check["fetch_ids"]) == list(res.fetch_ids)

    packed = Resolved(p, Resolution(p, Check(Status.AVAILABLE), (0,), 0, "sha"),
                      [(cap(b"packed beside " * 40), "twitter.syndication")])
    packed.pack()
    assert packed.packed[0].compression == "zlib"
    res = save_resolved(store, run_id, packed)
    (sha,) = store.db.execute("select body_sha256 from fetches where id = ?", [res.fetch_ids[0]]).fetchone()
    assert read_body(store.db, sha) == b"packed beside " * 40

    failed = Resolved(p, None, [(cap(b"third"), "twitter.syndication")], error="ValueError: bug")
    with pytest.raises(ResolveError, match="ValueError: bug"):
        save_resolved(store, run_id, failed)
    assert store.db.execute("select count(*) from fetches").fetchone()[0] == 4  # the capture was kept
    assert store.db.execute("select count(*) from post_checks").fetchone()[0] == 2


@pytest.mark.parametrize("resolver_process", ["1", "0"])
def test_concurrency_bounds_the_requests_of_both_processes(tmp_path, monkeypatch, resolver_process):
    """--concurrency 3: never more than 3 requests at the server at once, lookups included."""
    pages = []
    for n in range(4):
        quotes = "".join(
            f'<blockquote class="twitter-tweet"><p>t</p><a href="https://twitter.com/someone/status/{tid}">x</a>'
            "</blockquote>" for tid in TWEET_IDS[3 * n:3 * n + 3])
        pages.append(Route(f"https://site.news.test/a{n}", body=f"<html><body>{quotes}</body></html>".encode(),
                           headers={"content-type": "text/html"}, delay=0.2))
    monkeypatch.setenv("ARCHIVER_RESOLVER_PROCESS", resolver_process)
    monkeypatch.setenv("ARCHIVER_PER_HOST_CONCURRENCY", "8")
    with Mirror(pages + lookup_routes(delay=0.2)) as mirror:
        maps = [f"--connect-to={o}={mirror.origin}" for o in
                ("https://site.news.test", "https://cdn.syndication.twimg.com", "https://publish.twitter.com")]
        code = main_code(["crawl", *[f"https://site.news.test/a{n}" for n in range(4)], "--db",
                          str(tmp_path / "a.db"), "--delay", "0", "--concurrency", "3", "--ignore-robots", *maps])
        peak = mirror.peak_in_flight
        served = len(mirror.requests)
    assert code == 0
    assert served == 4 + 12 * 2  # 4 pages, 12 tweets with 2 lookups each
    assert peak == 3  # used, and never exceeded
    db = open_db(tmp_path / "a.db")
    assert db.execute("select count(*) from post_checks where status = 'available'").fetchone()[0] == 12
    assert db.execute("select count(*) from fetches where purpose = 'lookup'").fetchone()[0] == 24


def main_code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_local_resolver_keeps_what_it_fetched_when_resolving_raises(monkeypatch):
    """A bug in a platform's classifier: the lookups made are handed back with the error."""
    from archiver.platforms import twitter

    def broken(post, answers):
        raise ValueError("classifier bug")

    monkeypatch.setattr(twitter, "classify", broken)

    async def go(settings: Settings) -> Resolved:
        async with ClientPool(settings) as pool:
            return await LocalResolver(pool, settings).resolve(post(TWEET_IDS[4]))

    with Mirror(lookup_routes()) as mirror:
        resolved = asyncio.run(go(settings_for(mirror)))
    assert resolved.resolution is None and resolved.error == "ValueError: classifier bug"
    assert len(resolved.captures) == 2


def test_lent_slots_go_to_waiting_requests_and_back_when_none_waits():
    from archiver.resolver import LentSlots

    async def go() -> list:
        sent: list = []
        slots = LentSlots(lambda kind, count: sent.append((kind, count)))
        order: list[str] = []

        async def request(name: str, hold: asyncio.Event) -> None:
            async with slots:
                order.append(name)
                await hold.wait()

        first, second, third = asyncio.Event(), asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(request(n, e)) for n, e in (("a", first), ("b", second), ("c", third))]
        await asyncio.sleep(0)
        assert sent == [("need", 1)] * 3 and order == []  # nothing runs before a slot is lent
        slots.lend(1)
        await asyncio.sleep(0)
        assert order == ["a"]
        first.set()  # a's slot goes on to b, with no message
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert order == ["a", "b"] and sent == [("need", 1)] * 3
        tasks[2].cancel()  # c gives up waiting: nothing leaks
        await asyncio.sleep(0)
        second.set()  # b's slot: nobody waits, so it goes back
        await asyncio.gather(*tasks, return_exceptions=True)
        slots.lend(1)  # lent for c, who is gone: straight back
        return sent

    sent = asyncio.run(go())
    assert sent == [("need", 1)] * 3 + [("back", 1)] * 2
