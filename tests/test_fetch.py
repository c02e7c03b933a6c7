"""The client layer: pacing, the client pool, retry decisions, body and time limits."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from archiver.errors import Refused
from archiver.fetch.body import BodyDecodeError, BodyReader
from archiver.fetch.client import ClientPool, pool_index
from archiver.fetch.pacing import Pacer
from archiver.fetch.retry import RetryPolicy, decide, parse_retry_after
from archiver.mirror import Mirror, Route
from archiver.settings import Settings
from fakeclock import FakeClock

# -- pacing -------------------------------------------------------------------------


def test_pacing_reserves_spaced_starts_in_order() -> None:
    """Concurrent requests to one host sleep exactly until their reserved start; other hosts do not wait."""
    asked: list[tuple[str, float]] = []
    current = ""

    async def record(seconds: float) -> None:
        asked.append((current, seconds))

    pacer = Pacer(concurrency=3, delay=1.0, clock=lambda: 0.0, sleep=record)

    async def request(host: str) -> None:
        nonlocal current
        current = host
        async with pacer.slot(host):
            pass

    async def main() -> None:
        await asyncio.gather(*(request(h) for h in ["a.test", "a.test", "a.test", "b.test"]))

    asyncio.run(main())
    assert asked == [("a.test", 1.0), ("a.test", 2.0)]


def test_pacing_hosts_are_independent_and_forgotten_when_idle() -> None:
    clock = FakeClock()
    pacer = Pacer(concurrency=1, delay=5.0, clock=clock, sleep=clock.sleep)

    async def visit(hosts: list[str]) -> list[float]:
        seen = []
        for host in hosts:
            async with pacer.slot(host):
                seen.append(clock())
        return seen

    assert asyncio.run(visit(["a.test", "b.test", "A.TEST"])) == [0.0, 0.0, 5.0]  # names compare case-insensitively
    assert pacer.tracked_hosts() == 2  # remembered while their spacing has not elapsed

    async def many() -> None:
        for i in range(1100):
            clock.now += 10  # every earlier host's spacing has elapsed
            async with pacer.slot(f"h{i}.test"):
                pass

    asyncio.run(many())
    assert pacer.tracked_hosts() < 1024  # a long crawl does not accumulate every host it met


def test_pacing_limits_requests_in_flight_per_host() -> None:
    pacer = Pacer(concurrency=2, delay=0.0)
    in_flight = peak = 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with pacer.slot("a.test"):
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    async def main() -> None:
        await asyncio.gather(*(request() for _ in range(6)))

    asyncio.run(main())
    assert peak == 2
    assert pacer.tracked_hosts() == 0


# -- the pool -------------------------------------------------------------------------


def test_pool_chooses_clients_by_a_stable_hash_of_the_origin() -> None:
    async def main() -> None:
        async with ClientPool(Settings(clients=8)) as first, ClientPool(Settings(clients=8)) as second:
            assert len(first.clients) == 8
            same = {first.index_for(u) for u in ["https://a.test/x", "https://a.test/y?z=1", "HTTPS://A.test:443/"]}
            assert len(same) == 1
            assert first.client_for("https://a.test/") is first.clients[first.index_for("https://a.test/")]
            origins = [f"https://site{i}.news.test/page" for i in range(200)]
            indexes = [first.index_for(u) for u in origins]
            assert indexes == [second.index_for(u) for u in origins]  # deterministic across pools
            assert set(indexes) == set(range(8))  # and spread over every client
            assert max(indexes.count(i) for i in range(8)) < 50

    asyncio.run(main())
    # the same in every process and every run (python's hash() is salted per process)
    origins = ["https://cdn.syndication.twimg.com", "https://publish.twitter.com", "https://site1.news.test"]
    assert [pool_index(o, 8) for o in origins] == [2, 1, 6]


# -- retry decisions ------------------------------------------------------------------


def no_jitter() -> float:
    return 0.5  # factor 0.5 + 0.5 = 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_back_off_exponentially(status: int) -> None:
    delays = [decide(a, status=status, retries=3, backoff=0.5, rand=no_jitter) for a in range(4)]
    assert delays == [0.5, 1.0, 2.0, None]


@pytest.mark.parametrize("status", [200, 301, 400, 403, 404, 410, 501])
def test_other_statuses_are_final(status: int) -> None:
    assert decide(0, status=status) is None


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.ReadError("reset"), True),
        (httpx.RemoteProtocolError("closed early"), True),
        (TimeoutError(), True),
        (httpx.UnsupportedProtocol("gopher"), False),
        (Refused("loopback"), False),
        (ValueError("bug"), False),
    ],
)
def test_exceptions(exc: BaseException, retried: bool) -> None:
    assert (decide(0, exc=exc, rand=no_jitter) is not None) is retried


def test_only_get_and_head_are_retried() -> None:
    assert decide(0, status=503, method="head") is not None
    assert decide(0, status=503, method="POST") is None
    assert decide(0, exc=httpx.ConnectError("x"), method="PUT") is None


def test_jitter_stays_within_half_and_one_and_a_half_and_the_cap_holds() -> None:
    assert decide(1, status=500, backoff=1.0, rand=lambda: 0.0) == 1.0
    assert decide(1, status=500, backoff=1.0, rand=lambda: 0.999) == pytest.approx(2.998)
    assert decide(9, status=500, retries=20, backoff=1.0, rand=no_jitter, max_delay=60) == 60


def test_retry_after_is_honoured_on_429_and_503_only() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert decide(0, status=429, retry_after="7", rand=no_jitter) == 7.0
    assert decide(0, status=503, retry_after=later, now=now) == 30.0
    assert decide(0, status=503, retry_after="Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0  # in the past
    assert decide(0, status=500, retry_after="7", backoff=1.0, rand=no_jitter) == 1.0  # not on 500
    assert decide(0, status=503, retry_after="soon", backoff=1.0, rand=no_jitter) == 1.0  # unreadable
    assert decide(0, status=429, retry_after="3600") is None  # longer than we wait: give up, recheck later


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after(" 120 ") == 120.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("nan") is None
    assert parse_retry_after("Mon, 32 Foo 2024") is None


def test_retry_policy_carries_the_settings() -> None:
    policy = RetryPolicy.from_settings(Settings(retries=1, backoff=0.25))
    assert policy == RetryPolicy(retries=1, backoff=0.25, rand=policy.rand)
    assert policy.decide(0, status=502) is not None and policy.decide(1, status=502) is None


# -- decoding with the limit after decompression ----------------------------------------


def feed_all(reader: BodyReader, data: bytes, step: int = 100) -> BodyReader:
    for i in range(0, len(data), step):
        reader.feed(data[i : i + step])
    reader.finish()
    return reader


def test_body_reader_decodes_gzip_deflate_and_multiple_members() -> None:
    text = b"embed " * 1000
    assert feed_all(BodyReader("gzip", 10**6), gzip.compress(text)).body == text
    assert feed_all(BodyReader("x-gzip", 10**6), gzip.compress(text[:10]) + gzip.compress(text[10:])).body == text
    assert feed_all(BodyReader("deflate", 10**6), zlib.compress(text)).body == text
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert feed_all(BodyReader("deflate", 10**6), raw.compress(text) + raw.flush()).body == text
    kept = feed_all(BodyReader("br", 10**6), b"\x1b\x00brotli")
    assert (kept.body, kept.decoded) == (b"\x1b\x00brotli", False)


def test_body_reader_counts_the_limit_after_decompression() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    reader = BodyReader("gzip", 1000)
    reader.feed(bomb)  # one network chunk holding the whole bomb
    assert (len(reader.body), reader.truncated) == (1000, True)
    exact = feed_all(BodyReader("gzip", 1000), gzip.compress(b"x" * 1000))
    assert (len(exact.body), exact.truncated) == (1000, False)
    plain = feed_all(BodyReader(None, 10), b"0123456789AB")
    assert (plain.body, plain.truncated) == (b"0123456789", True)


def test_body_reader_reports_a_corrupt_body() -> None:
    reader = BodyReader("gzip", 1000)
    with pytest.raises(BodyDecodeError, match="cannot decode gzip body"):
        reader.feed(b"\x1f\x8b\x08\x00 not really gzip at all")


# -- limits against a real server ---------------------------------------------------------


def fetch_once(mirror: Mirror, url: str, **settings_kwargs):
    settings = Settings(connect_to=mirror.connect_to("https://site.test"), per_host_delay=0, **settings_kwargs)

    async def run():
        async with ClientPool(settings) as pool:
            return await pool.fetch(url)

    return asyncio.run(run())


def test_gzip_bomb_stops_at_the_limit_after_decompression() -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)
    assert len(bomb) < 100_000
    with Mirror([Route("https://site.test/bomb", body=bomb, headers={"Content-Encoding": "gzip"})]) as mirror:
        exchange, exc = fetch_once(mirror, "https://site.test/bomb", max_body_bytes=1_000_000)
    assert exc is None
    assert (exchange.status, len(exchange.body), exchange.truncated) == (200, 1_000_000, True)
    assert exchange.error == "body larger than 1000000 bytes after decompression; truncated"
    assert ("Content-Encoding", "gzip") in exchange.response_headers  # as received; body is decoded


def test_gzip_body_under_the_limit_is_decoded() -> None:
    page = b"<html>" + b"x" * 5000 + b"</html>"
    route = Route("https://site.test/p", body=gzip.compress(page), headers={"Content-Encoding": "gzip"})
    with Mirror([route]) as mirror:
        exchange, _ = fetch_once(mirror, "https://site.test/p", max_body_bytes=len(page))
    assert (exchange.body, exchange.truncated, exchange.error) == (page, False, None)
    assert ("Accept-Encoding", "gzip, deflate") in exchange.request_headers


def test_total_time_limit_against_a_silent_server() -> None:
    with Mirror([Route("https://site.test/slow", body=b"late", delay=10)]) as mirror:
        t0 = time.monotonic()
        exchange, exc = fetch_once(mirror, "https://site.test/slow", timeout=0.3)
        elapsed = time.monotonic() - t0
    assert elapsed < 5  # the route would answer after 10 s
    assert isinstance(exc, TimeoutError)
    assert exchange.status is None and exchange.error == "timed out after 0.3 s (total limit per request)"
    assert 250 < exchange.duration_ms < 5000


def test_total_time_limit_holds_against_a_slow_drip() -> None:
    """Every chunk arrives well within the read timeout; only the total limit stops it."""
    body = b"y" * 40 * 1024  # 40 chunks of 1 KiB, 0.05 s apart: 2 s in all
    with Mirror([Route("https://site.test/drip", body=body, chunk_delay=0.05)]) as mirror:
        exchange, exc = fetch_once(mirror, "https://site.test/drip", timeout=0.4)
    assert isinstance(exc, TimeoutError)  # httpx's read timeout (also 0.4 s) never fired
    assert exchange.status == 200 and 0 < len(exchange.body) < len(body)
    assert exchange.error == "timed out after 0.4 s (total limit per request); body incomplete"


def test_connection_refused_is_recorded_not_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    settings = Settings(connect_to=(("https://down.test", f"http://127.0.0.1:{closed}"),), per_host_delay=0)

    async def run():
        async with ClientPool(settings) as pool:
            return await pool.fetch("https://down.test/x")

    exchange, exc = asyncio.run(run())
    assert isinstance(exc, httpx.ConnectError)
    assert exchange.error.startswith("connection failed: ")
    assert (exchange.status, exchange.server_ip, exchange.connected_to) == (None, None, f"http://127.0.0.1:{closed}")
    assert ("Host", "down.test") in exchange.request_headers


def test_a_callers_user_agent_and_host_do_not_replace_ours() -> None:
    with Mirror([Route("https://site.test/x", body=b"ok")]) as mirror:
        settings = Settings(connect_to=mirror.connect_to("https://site.test"), per_host_delay=0)

        async def run():
            async with ClientPool(settings) as pool:
                headers = [("User-Agent", "Mozilla/5.0"), ("Host", "evil.test"), ("Accept", "application/json")]
                return await pool.fetch("https://site.test/x", headers=headers)

        exchange, _ = asyncio.run(run())
        received = mirror.requests[0]
    assert received.headers["user-agent"] == settings.user_agent and received.host == "site.test"
    assert received.headers["accept"] == "application/json"
    assert ("User-Agent", settings.user_agent) in exchange.request_headers


def test_global_concurrency_limit_and_user_agent_on_every_request() -> None:
    hosts = [f"https://h{i}.test" for i in range(4)]
    with Mirror([Route(f"{h}/x", body=b"ok", delay=0.15) for h in hosts]) as mirror:
        settings = Settings(connect_to=mirror.connect_to(*hosts), per_host_delay=0, concurrency=2)

        async def run():
            async with ClientPool(settings) as pool:
                return await asyncio.gather(*(pool.fetch(f"{h}/x") for h in hosts))

        t0 = time.monotonic()
        results = asyncio.run(run())
        elapsed = time.monotonic() - t0
        agents = {r.headers["user-agent"] for r in mirror.requests}
    assert all(r.exchange.status == 200 for r in results)
    assert elapsed >= 0.3  # two waves of two
    assert agents == {settings.user_agent}
