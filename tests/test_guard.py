"""The address guard: schemes, IP ranges, names, mapped origins, redirects and the peer check."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from archiver.capture import capture
from archiver.errors import FetchError, Refused
from archiver.fetch.client import ClientPool
from archiver.fetch.connect_to import ConnectMap
from archiver.fetch.guard import Guard, address_problem, check_scheme, ip_literal
from archiver.mirror import Mirror, Route
from archiver.settings import Settings


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),  # reserved; Python files 240/4 under private too
        ("255.255.255.255", "private"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("::ffff:169.254.169.254", "link-local (IPv4 169.254.169.254 inside IPv6)"),
        ("2002:7f00:1::", "loopback (IPv4 127.0.0.1 inside IPv6)"),  # 6to4
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("::ffff:8.8.8.8", "ANY"),  # a mapped address is never a destination of its own
    ],
)
def test_address_problem(address: str, problem: str | None) -> None:
    found = address_problem(ipaddress.ip_address(address))
    assert found is not None if problem == "ANY" else found == problem


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("site.test", None),
        ("1.2.3.4.5", None),
        ("cafe", None),
    ],
)
def test_ip_literal_includes_legacy_ipv4_spellings(host: str, address: str | None) -> None:
    found = ip_literal(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<p>x</p>",
        "ftp://ftp.example.com/x",
        "mailto:a@b.test",
        "//site.test/x",
        "gopher://x/",
    ],
)
def test_unsupported_schemes_are_refused_even_with_allow_private(url: str) -> None:
    with pytest.raises(Refused, match="unsupported URL scheme"):
        check_scheme(url)
    with pytest.raises(Refused):
        asyncio.run(Guard(allow_private=True).check(url))


def fake_resolver(table: dict[str, list[str]]):
    async def resolve(host: str) -> list[str]:
        if host not in table:
            raise AssertionError(f"the guard should not resolve {host}")
        return table[host]

    return resolve


def test_names_are_judged_by_what_they_resolve_to() -> None:
    table = {"public.test": ["93.184.216.34"], "sneaky.test": ["93.184.216.34", "10.0.0.5"]}
    guard = Guard(resolver=fake_resolver(table))
    asyncio.run(guard.check("https://public.test/x"))
    with pytest.raises(Refused, match=r"sneaky.test resolves to a private address \(10.0.0.5\)"):
        asyncio.run(guard.check("https://sneaky.test/x"))


def test_mapped_origins_are_trusted_but_ip_literals_never_are() -> None:
    mapping = ConnectMap([("https://site.test", "http://127.0.0.1:9"), ("http://127.0.0.1:9", "http://127.0.0.1:9")])
    guard = Guard(connect_map=mapping, resolver=fake_resolver({}))
    asyncio.run(guard.check("https://site.test/story"))  # mapped: not resolved, not refused
    with pytest.raises(Refused, match="loopback"):
        asyncio.run(guard.check("http://127.0.0.1:9/"))  # an IP literal is judged, mapped or not
    with pytest.raises(Refused, match="link-local"):
        asyncio.run(guard.check("http://169.254.169.254/latest/meta-data/"))
    with pytest.raises(Refused, match="loopback"):
        asyncio.run(guard.check("http://[::ffff:127.0.0.1]:9/"))
    with pytest.raises(Refused, match="loopback"):
        asyncio.run(guard.check("http://2130706433/"))
    with pytest.raises(Refused, match="loopback") as info:
        asyncio.run(guard.check("http://[::1]/"))
    assert "\n" not in str(info.value)


def test_allow_private_lifts_address_rules_and_the_real_resolver_is_used() -> None:
    asyncio.run(Guard(allow_private=True, resolver=fake_resolver({})).check("http://127.0.0.1/"))
    with pytest.raises(Refused, match="localhost resolves to a loopback address"):
        asyncio.run(Guard().check("http://localhost/"))  # resolved through the event loop


def test_an_invalid_url_is_an_error_not_a_refusal() -> None:
    with pytest.raises(FetchError) as info:
        asyncio.run(Guard().check("http://site.test:99999999/"))
    assert not isinstance(info.value, Refused)


def run_capture(settings: Settings, url: str, **kwargs):
    async def run():
        async with ClientPool(settings, **kwargs) as pool:
            return await capture(pool, url)

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://127.0.0.1:{port}/admin", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:{port}/", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
        ("http://0.0.0.0:{port}/", "unspecified"),
        ("file:///etc/passwd", "unsupported URL scheme"),
        ("javascript:alert(1)", "unsupported URL scheme"),
    ],
)
def test_a_redirect_into_the_private_network_is_refused(location: str, problem: str) -> None:
    with Mirror() as mirror:
        port = mirror.origin.rsplit(":", 1)[1]
        mirror.set(Route("https://site.test/go", status=302, headers={"Location": location.format(port=port)}))
        mirror.set(Route("http://127.0.0.1/admin", body=b"secret"))
        settings = Settings(connect_to=mirror.connect_to("https://site.test"), per_host_delay=0)
        result = run_capture(settings, "https://site.test/go")
        assert [r.path for r in mirror.requests] == ["/go"]  # nothing reached the private target
    assert result.error is not None and result.error.startswith("refused: ") and problem in result.error
    assert [h.status for h in result.hops] == [302, None]
    assert result.final.url == location.format(port=port) and result.final.error == result.error


def test_allow_private_follows_the_same_redirect() -> None:
    with Mirror() as mirror:
        mirror.set(Route("https://site.test/go", status=302, headers={"Location": f"{mirror.origin}/admin"}))
        mirror.set(Route("http://127.0.0.1/admin", body=b"secret"))
        settings = Settings(connect_to=mirror.connect_to("https://site.test"), per_host_delay=0, allow_private=True)
        result = run_capture(settings, "https://site.test/go")
    assert result.ok and result.final.body == b"secret" and result.final.connected_to is None


def test_the_peer_actually_connected_to_is_checked_too() -> None:
    """A name that resolved publicly for the guard but connects to loopback (DNS rebinding)."""
    with Mirror([Route("http://localhost/x", body=b"internal")]) as mirror:
        port = mirror.origin.rsplit(":", 1)[1]
        settings = Settings(per_host_delay=0, retries=0)
        guard = Guard(resolver=fake_resolver({"localhost": ["93.184.216.34"]}))
        result = run_capture(settings, f"http://localhost:{port}/x", guard=guard)
    assert result.error is not None and "connected to a loopback address (127.0.0.1)" in result.error
    assert result.final.body == b"" and result.final.server_ip == "127.0.0.1"


def test_a_hung_resolver_does_not_stall_the_guard() -> None:
    async def hang(host: str) -> list[str]:
        await asyncio.sleep(60)
        return []

    asyncio.run(Guard(resolver=hang, timeout=0.05).check("https://slow-dns.test/"))  # let through, not stuck
