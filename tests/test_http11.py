"""The network transport (fetch/http11.py) against raw loopback servers: reuse, back-pressure, closes."""

from __future__ import annotations

import asyncio
import hashlib

import httpx

from archiver.fetch.connect_to import ConnectMap
from archiver.fetch.http11 import PAUSE_AT, Http11Transport

from rawserver import Server


async def fetch_all(server: Server, paths: list[str], *, expiry: float = 5.0, pause: float = 0.0,
                    read: bool = True) -> tuple[list[bytes], Http11Transport]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    transport = Http11Transport(ConnectMap({"https://site.test": f"http://127.0.0.1:{port}"}),
                                ssl_context=httpx.create_ssl_context(), keepalive_expiry=expiry)
    bodies = []
    async with listener, httpx.AsyncClient(transport=transport) as client:
        for path in paths:
            async with client.stream("GET", f"https://site.test{path}") as response:
                assert response.extensions["network_stream"].get_extra_info("server_addr")[0] == "127.0.0.1"
                if read:
                    chunks = []
                    async for chunk in response.aiter_raw():
                        chunks.append(chunk)
                        if pause:
                            await asyncio.sleep(pause)  # a slow reader: the socket is paused meanwhile
                    bodies.append(b"".join(chunks))
            await asyncio.sleep(0.02)
    return bodies, transport


def test_a_large_body_read_slowly_arrives_whole_through_paused_reading():
    body = bytes(range(256)) * (12 * 1024)  # 3 MiB, twelve times the pause threshold
    server = Server(body)
    bodies, _ = asyncio.run(fetch_all(server, ["/big", "/big"], pause=0.001))
    assert len(body) > 10 * PAUSE_AT
    assert [hashlib.sha256(b).hexdigest() for b in bodies] == [hashlib.sha256(body).hexdigest()] * 2
    assert (server.requests, server.connections) == (2, 1)  # read to its end: the connection was reused


def test_a_body_not_read_to_its_end_closes_its_connection():
    server = Server(b"x" * 200_000)
    asyncio.run(fetch_all(server, ["/a", "/b"], read=False))
    assert (server.requests, server.connections) == (2, 2)


def test_connection_close_from_the_server_is_honoured():
    server = Server(b"ok", close=True)
    bodies, _ = asyncio.run(fetch_all(server, ["/a", "/b", "/c"]))
    assert bodies == [b"ok"] * 3 and (server.requests, server.connections) == (3, 3)


def test_an_idle_connection_past_its_keep_alive_time_is_not_reused():
    server = Server(b"ok")
    bodies, transport = asyncio.run(fetch_all(server, ["/a", "/b", "/c"], expiry=0.01))
    assert bodies == [b"ok"] * 3 and (server.requests, server.connections) == (3, 3)
    assert transport.opened == 3


def make_certificate(directory, name: str):
    """A self-signed certificate for ``name`` (openssl CLI); returns (cert, key) paths."""
    import shutil
    import subprocess

    import pytest

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: the TLS tests need it to make a certificate")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


async def tls_fetch(cert, key, trusted) -> tuple[bytes | BaseException, list[str]]:
    import ssl

    names: list[str] = []
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server_context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = Server(b"secret")
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=server_context)
    port = listener.sockets[0].getsockname()[1]
    client_context = ssl.create_default_context(cafile=str(trusted))
    transport = Http11Transport(ConnectMap({"https://site.test": f"https://127.0.0.1:{port}"}),
                                ssl_context=client_context)
    async with listener, httpx.AsyncClient(transport=transport) as client:
        try:
            response = await client.get("https://site.test/x")
            return response.content, names
        except httpx.ConnectError as exc:
            return exc, names


def test_tls_to_a_mapped_origin_uses_the_url_host_as_server_name_and_checks_its_certificate(tmp_path):
    cert, key = make_certificate(tmp_path, "site.test")
    body, names = asyncio.run(tls_fetch(cert, key, trusted=cert))
    assert body == b"secret" and names == ["site.test"]  # SNI is the URL's host, not 127.0.0.1


def test_tls_with_a_certificate_for_another_name_is_refused(tmp_path):
    cert, key = make_certificate(tmp_path, "other.test")
    error, _ = asyncio.run(tls_fetch(cert, key, trusted=cert))
    assert isinstance(error, httpx.ConnectError) and "certificate verify failed" in str(error)
