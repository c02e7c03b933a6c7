"""--connect-to: origin syntax, and requests that reach the mirror while keeping their own URL."""

from __future__ import annotations

import asyncio

import pytest

from archiver.capture import capture
from archiver.errors import ConfigError
from archiver.fetch.client import ClientPool
from archiver.fetch.connect_to import ConnectMap, origin_of, parse_mapping
from archiver.mirror import Mirror, Route
from archiver.settings import Settings, load_settings
from rawserver import Server


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://site.test=http://127.0.0.1:8080", ("https://site.test", "http://127.0.0.1:8080")),
        ("HTTPS://Site.Test:443/=http://127.0.0.1:80", ("https://site.test", "http://127.0.0.1")),
        ("http://a.test:8443=https://[::1]:9000", ("http://a.test:8443", "https://[::1]:9000")),
        ("https://bücher.test=http://127.0.0.1:1", ("https://xn--bcher-kva.test", "http://127.0.0.1:1")),
        (" https://a.test = http://127.0.0.1:2 ", ("https://a.test", "http://127.0.0.1:2")),
    ],
)
def test_parse_mapping_normalises_origins(text: str, expected: tuple[str, str]) -> None:
    assert parse_mapping(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://a.test", "is not FROM=TO"),
        ("https://a.test=", "is not FROM=TO"),
        ("a=b=c", "is not FROM=TO"),
        ("ftp://a.test=http://127.0.0.1:1", "must start with http:// or https://"),
        ("a.test=http://127.0.0.1:1", "must start with http:// or https://"),
        ("https://a.test/path=http://127.0.0.1:1", "must be an origin only"),
        ("https://a.test=http://127.0.0.1:1/?x", "must be an origin only"),
        ("https://user@a.test=http://127.0.0.1:1", "user name"),
        ("https://a.test=http://127.0.0.1:99999", "not a valid origin"),
        ("https://=http://127.0.0.1:1", "has no host"),
    ],
)
def test_parse_mapping_rejects_bad_syntax_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_mapping(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_settings_accumulate_normalised_mappings() -> None:
    settings = load_settings(
        env={"ARCHIVER_CONNECT_TO": "https://a.test:443=http://127.0.0.1:1"},
        connect_to=["http://b.test=http://127.0.0.1:2"],
    )
    assert settings.connect_to == (("https://a.test", "http://127.0.0.1:1"), ("http://b.test", "http://127.0.0.1:2"))


def test_connect_map_matches_by_origin_only() -> None:
    mapping = ConnectMap([("https://a.test", "http://127.0.0.1:1")])
    assert mapping.target("https://A.test:443/x?y=1") == "http://127.0.0.1:1"
    assert mapping.target("http://a.test/x") is None  # another scheme is another origin
    assert mapping.target("https://a.test:8443/x") is None
    assert mapping.target("https://b.test/") is None
    assert origin_of("http://[::1]:80/x") == "http://[::1]"


def test_mapped_request_keeps_url_and_host_and_records_where_it_went() -> None:
    route = Route("https://site.test/story?id=1", body=b"story", headers={"Content-Type": "text/html"})
    with Mirror([route]) as mirror:
        settings = Settings(connect_to=mirror.connect_to("https://site.test"), per_host_delay=0)

        async def run():
            async with ClientPool(settings) as pool:
                return await capture(pool, "https://site.test/story?id=1&utm=x")

        result = asyncio.run(run())
        received = mirror.requests
    assert result.ok, result.error
    hop = result.final
    assert hop.url == "https://site.test/story?id=1&utm=x"
    assert (hop.status, hop.body, hop.http_version) == (200, b"story", "HTTP/1.1")
    assert hop.server_ip == "127.0.0.1"
    assert hop.connected_to == mirror.origin
    assert ("Host", "site.test") in hop.request_headers
    assert ("User-Agent", settings.user_agent) in hop.request_headers
    assert ("Content-Type", "text/html") in hop.response_headers
    assert [(r.host, r.path) for r in received] == [("site.test", "/story?id=1&utm=x")]
    assert received[0].headers["user-agent"] == settings.user_agent


def test_unmapped_origin_goes_where_its_url_says() -> None:
    with Mirror([Route("http://127.0.0.1/direct", body=b"direct")]) as mirror:
        settings = Settings(connect_to=mirror.connect_to("https://site.test"), per_host_delay=0, allow_private=True)

        async def run():
            async with ClientPool(settings) as pool:
                return await capture(pool, f"{mirror.origin}/direct")

        result = asyncio.run(run())
    assert result.ok and result.final.body == b"direct"
    assert result.final.connected_to is None and result.final.server_ip == "127.0.0.1"


async def sequential_requests(server: Server, n: int) -> list:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    settings = Settings(connect_to={"https://site.test": f"http://127.0.0.1:{port}"}, per_host_delay=0, retries=0)
    results = []
    async with listener, ClientPool(settings) as pool:
        for i in range(n):
            results.append(await capture(pool, f"https://site.test/{i}"))
            await asyncio.sleep(0.05)  # the server's hang-up reaches us before the next request
    return results


def test_idle_connection_is_reused_for_the_next_request_to_its_origin() -> None:
    server = Server(b"ok")
    results = asyncio.run(sequential_requests(server, 4))
    assert all(r.ok and r.final.body == b"ok" for r in results)
    assert (server.requests, server.connections) == (4, 1)


def test_idle_connection_the_server_closed_is_not_reused() -> None:
    server = Server(b"ok", hang_up=True)
    results = asyncio.run(sequential_requests(server, 4))
    assert [r.error or r.final.error for r in results] == [None] * 4  # no request went to a dead connection
    assert (server.requests, server.connections) == (4, 4)
