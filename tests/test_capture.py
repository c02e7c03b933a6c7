"""capture(): redirects hop by hop, loops and limits, retries, and failures that never raise."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest

from archiver.capture import capture
from archiver.fetch.client import ClientPool
from archiver.fetch.retry import RetryPolicy
from archiver.mirror import Mirror, Route
from archiver.models import Capture
from archiver.settings import Settings

UTC_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


def run(mirror: Mirror, url: str, *, sleeps: list[float] | None = None, retry: RetryPolicy | None = None,
        method: str = "GET", headers: tuple = (), **settings_kwargs) -> Capture:
    settings_kwargs.setdefault("per_host_delay", 0)
    settings = Settings(connect_to=mirror.connect_to("https://site.test", "https://other.test"), **settings_kwargs)

    async def record(seconds: float) -> None:
        assert sleeps is not None
        sleeps.append(seconds)

    async def main() -> Capture:
        options = {"sleep": record} if sleeps is not None else {}
        async with ClientPool(settings, retry=retry, **options) as pool:
            return await capture(pool, url, method=method, headers=headers)

    return asyncio.run(main())


def test_redirects_are_recorded_hop_by_hop() -> None:
    routes = [
        Route("https://site.test/a", status=301, headers={"Location": "/b?x=1#frag"}),
        Route("https://site.test/b", status=302, headers={"Location": "https://other.test/c"}),
        Route("https://other.test/c", body=b"final", headers={"Content-Type": "text/html", "X-Hop": "3"}),
    ]
    with Mirror(routes) as mirror:
        result = run(mirror, "https://site.test/a")
        received = [(r.host, r.path) for r in mirror.requests]
    assert result.ok and result.error is None and result.requested_url == "https://site.test/a"
    assert [(h.url, h.status) for h in result.hops] == [
        ("https://site.test/a", 301),
        ("https://site.test/b?x=1", 302),  # the fragment never goes to a server
        ("https://other.test/c", 200),
    ]
    assert received == [("site.test", "/a"), ("site.test", "/b?x=1"), ("other.test", "/c")]
    for hop in result.hops:
        assert UTC_ISO.fullmatch(hop.started) and UTC_ISO.fullmatch(hop.finished)
        assert datetime.fromisoformat(hop.started) <= datetime.fromisoformat(hop.finished)
        assert hop.duration_ms >= 0 and hop.http_version == "HTTP/1.1"
        assert (hop.server_ip, hop.connected_to, hop.method) == ("127.0.0.1", mirror.origin, "GET")
    assert ("Host", "other.test") in result.final.request_headers
    assert ("X-Hop", "3") in result.final.response_headers
    assert result.final.body == b"final" and result.hops[0].body == b""


def test_303_turns_post_into_get_and_credentials_stay_on_their_origin() -> None:
    routes = [
        Route("https://site.test/form", status=303, headers={"Location": "/next"}),
        Route("https://site.test/next", status=307, headers={"Location": "https://other.test/done"}),
        Route("https://other.test/done", body=b"done"),
    ]
    with Mirror(routes) as mirror:
        result = run(mirror, "https://site.test/form", method="POST", headers=(("Authorization", "Bearer t"),))
        seen = [(r.method, r.path, r.headers.get("authorization")) for r in mirror.requests]
    assert result.ok
    assert seen == [("POST", "/form", "Bearer t"), ("GET", "/next", "Bearer t"), ("GET", "/done", None)]


@pytest.mark.parametrize(
    ("routes", "error"),
    [
        (
            [
                Route("https://site.test/a", 302, headers={"Location": "/b"}),
                Route("https://site.test/b", 302, headers={"Location": "/a"}),
            ],
            "redirect loop: https://site.test/a -> https://site.test/b -> https://site.test/a",
        ),
        (
            [Route("https://site.test/a", 302, headers={"Location": "https://site.test/a"})],
            "redirect loop: https://site.test/a -> https://site.test/a",
        ),
    ],
)
def test_redirect_loops_are_detected(routes: list[Route], error: str) -> None:
    with Mirror(routes) as mirror:
        result = run(mirror, "https://site.test/a")
    assert result.error == error and not result.ok
    assert result.final.status == 302 and result.final.error is None


def chain(length: int) -> list[Route]:
    hops = [Route(f"https://site.test/r{i}", 302, headers={"Location": f"/r{i + 1}"}) for i in range(length)]
    return hops + [Route(f"https://site.test/r{length}", body=b"end")]


def test_redirects_beyond_the_limit_are_an_error() -> None:
    with Mirror(chain(5)) as mirror:
        too_far = run(mirror, "https://site.test/r0", max_redirects=3)
        allowed = run(mirror, "https://site.test/r0", max_redirects=5)
    assert too_far.error == "too many redirects (more than 3)" and len(too_far.hops) == 4
    assert allowed.ok and len(allowed.hops) == 6 and allowed.final.body == b"end"


def test_retry_on_503_honours_retry_after_and_keeps_the_last_attempt() -> None:
    url = "https://site.test/busy"
    with Mirror([Route(url, status=503, headers={"Retry-After": "7"}, times=1), Route(url, body=b"ok")]) as mirror:
        sleeps: list[float] = []
        result = run(mirror, url, sleeps=sleeps)
        attempts = len(mirror.requests)
    assert sleeps == [7.0] and attempts == 2
    assert result.ok and len(result.hops) == 1 and result.final.status == 200 and result.final.body == b"ok"
    assert result.final.attempts == 2


def test_retry_for_real_with_a_zero_retry_after_and_backoff() -> None:
    url = "https://site.test/flaky"
    routes = [
        Route(url, status=503, headers={"Retry-After": "0"}, times=1),
        Route(url, status=502, times=1),
        Route(url, body=b"ok"),
    ]
    with Mirror(routes) as mirror:
        result = run(mirror, url, backoff=0.01)
        statuses = len(mirror.requests)
    assert result.ok and result.final.body == b"ok" and statuses == 3


def test_giving_up_keeps_the_last_status_and_post_is_never_retried() -> None:
    url = "https://site.test/down"
    policy = RetryPolicy(retries=2, backoff=0.01, rand=lambda: 0.5)
    with Mirror([Route(url, status=503)]) as mirror:
        sleeps: list[float] = []
        result = run(mirror, url, sleeps=sleeps, retry=policy)
        gets = len(mirror.requests)
        mirror.clear_requests()
        posted = run(mirror, url, method="POST", sleeps=[], retry=policy)
        posts = len(mirror.requests)
    assert sleeps == [0.01, 0.02] and gets == 3
    assert result.final.status == 503 and result.error is None  # an answer, for the caller to judge
    assert posted.final.status == 503 and posts == 1


def test_a_failure_after_retries_says_how_many_attempts() -> None:
    with Mirror([Route("https://site.test/slow", delay=5)]) as mirror:
        result = run(mirror, "https://site.test/slow", timeout=0.2, retries=1, backoff=0.01)
    assert result.error == "timed out after 0.2 s (total limit per request) (after 2 attempts)"
    assert result.final.error == result.error and len(result.hops) == 1


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("not a url", "refused: unsupported URL scheme (no scheme)"),
        ("", "refused: unsupported URL scheme (no scheme)"),
        ("http://", "invalid URL http://: no host"),
        ("https://site.test:99999/", "port 99999 out of range"),
        ("data:text/html,<p>hi</p>", "refused: unsupported URL scheme (data:)"),
    ],
)
def test_failures_come_back_as_a_capture(url: str, error: str) -> None:
    with Mirror() as mirror:
        result = run(mirror, url)
        assert mirror.requests == []
    assert result.error is not None and error in result.error and "\n" not in result.error
    assert len(result.hops) == 1 and result.final.status is None and result.final.error == result.error


def test_bad_or_missing_location() -> None:
    routes = [
        Route("https://site.test/bad", status=302, headers={"Location": "http://[::1"}),
        Route("https://site.test/none", status=302, body=b"no location"),
    ]
    with Mirror(routes) as mirror:
        bad = run(mirror, "https://site.test/bad")
        none = run(mirror, "https://site.test/none")
    assert bad.error is not None and bad.error.startswith("invalid redirect Location 'http://[::1'")
    assert bad.final.status == 302
    assert none.ok and none.final.status == 302 and none.final.body == b"no location"
