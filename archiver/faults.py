"""A loopback HTTP server that misbehaves on purpose: the web at its worst, on 127.0.0.1.

The robustness tests and ``bench/fault_run.py`` point archiver at it with
``--connect-to`` (``https://f1.fault.test=http://127.0.0.1:PORT``). It is apart
from ``archiver.mirror`` because most faults happen below HTTP: a reset, a
connection that is accepted and never answered, a body shorter than its
Content-Length, a status line that is not one. Those need the raw socket, so
this server speaks HTTP/1.1 by hand on asyncio streams (in a background thread),
and each fault is a small coroutine that writes exactly the bytes it means to.

The fault is the first path segment, whatever the host: ``https://f7.fault.test/
drip/123`` drips. The rest of the path only makes URLs distinct. Hosts spread
the load (pacing is per host), and a host named ``robots-<mode>.fault.test``
serves a faulty robots.txt (``ROBOTS_MODES``); every other host serves
``DEFAULT_ROBOTS``. ``/tweet-result`` and ``/oembed`` answer as Twitter's
endpoints do for a post that does not exist, so pages with embeds resolve
without the internet. ``FAULTS`` lists every fault with what it does.

``bulk_urls``/``bulk_run_args`` define the 500-URL run that the done-when test
and the benchmark both make, so they measure the same thing.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
import threading
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

TWEET_BASE = 1460000000000000000
POSTS = 50  # distinct tweets the pages embed: enough to exercise resolving, few enough not to swamp the run
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
DEFAULT_ROBOTS = b"""# the fault server's robots.txt
User-agent: *
Disallow: /private/

User-agent: archiver
Disallow: /private/
Disallow: /no-archiver/
"""
API_HOSTS = ("https://cdn.syndication.twimg.com", "https://publish.twitter.com")
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    """One request as the server read it (header names lower-cased)."""

    method: str
    host: str
    path: str
    headers: dict[str, str]

    @property
    def number(self) -> int:
        """The number in the path (``/ok/17`` -> 17), for distinct embeds per URL."""
        digits = "".join(ch for ch in urlsplit(self.path).path.rsplit("/", 1)[-1] if ch.isdigit())
        return int(digits[:12]) if digits else 0

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}


Fault = Callable[["FaultServer", Request, asyncio.StreamWriter], Awaitable[bool]]  # True: keep the connection


def page(n: int, *, title: str = "Fault server story") -> bytes:
    """A small article with one tweet embed and a few links; the embed's id follows ``n`` (modulo ``POSTS``)."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} {n}</title></head>
<body><article><h1>{title} {n}</h1><p>Officials said <a href="https://example.org/report/{n}">a report</a>.</p>
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Post number {n} from the scene.</p>
&mdash; Reporter (@reporter) <a href="https://twitter.com/reporter/status/{TWEET_BASE + n % POSTS}">May 1, 2024</a>
</blockquote></article><footer><a href="/about">About</a></footer></body></html>""".encode()


def head(status: int, headers: list[tuple[str, str]], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"] + [f"{k}: {v}" for k, v in headers]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(w: asyncio.StreamWriter, status: int, body: bytes = b"", ctype: str = HTML,
               headers: tuple[tuple[str, str], ...] = ()) -> bool:
    w.write(head(status, [("Content-Type", ctype), *headers], len(body)) + body)
    await w.drain()
    return True


async def redirect(w: asyncio.StreamWriter, location: str) -> bool:
    return await send(w, 302, b"", headers=(("Location", location),))


Body = bytes | Callable[["FaultServer", Request], bytes]


def answer(status: int, body: Body, ctype: str = HTML, **headers: str) -> Fault:
    """A fault that is one answer; ``body`` may depend on the request (header names: X_Junk -> X-Junk)."""
    pairs = tuple((k.replace("_", "-"), v) for k, v in headers.items())

    async def fault(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
        return await send(w, status, body(s, r) if callable(body) else body, ctype, pairs)

    return fault


def redirect_to(target: Callable[[FaultServer, Request], str]) -> Fault:
    """A fault that is one redirect, its Location computed from the server and the request."""

    async def fault(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
        return await redirect(w, target(s, r))

    return fault


# -- the faults -----------------------------------------------------------------------


ok = answer(200, lambda s, r: page(r.number))


async def reset(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    sock = w.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
    w.transport.abort()
    return False


async def empty(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    return False  # read the request, close without a byte


async def hang(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    await s.stopping.wait()  # accepted, read, never answered
    return False


async def flaky(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    if s.count(r) <= int(r.query.get("fail", "1")):
        return await send(w, 503, b"busy, try again", "text/plain")
    return await ok(s, r, w)


async def ratelimit(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    if s.count(r) <= 1:
        return await send(w, 429, b"slow down", "text/plain", (("Retry-After", r.query.get("after", "1")),))
    return await ok(s, r, w)


not_found = answer(404, b"<h1>Not Found</h1>")
endless = redirect_to(lambda s, r: f"{urlsplit(r.path).path}?hop={int(r.query.get('hop', '0')) + 1}")
loop = redirect_to(lambda s, r: urlsplit(r.path).path + ("" if "b" in r.query else "?b=1"))


async def drip(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    """Headers at once, then a byte every ``s.drip_interval`` s: no read timeout ever fires."""
    w.write(head(200, [("Content-Type", HTML)], 100_000))
    for _ in range(100_000):
        w.write(b"<")
        await w.drain()
        try:
            await asyncio.wait_for(s.stopping.wait(), s.drip_interval)
            return False
        except TimeoutError:
            continue
    return False


async def truncated(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    body = page(r.number)
    w.write(head(200, [("Content-Type", HTML)], len(body) + 5000) + body)
    await w.drain()
    return False  # close with 5000 bytes owed


async def bad_status(s: FaultServer, r: Request, w: asyncio.StreamWriter) -> bool:
    w.write(b"HTTP/1.1 two-hundred OK-ish\r\nContent-Length: 2\r\n\r\nhi")
    await w.drain()
    return False


def bad_utf8_body(n: int) -> bytes:
    """A UTF-8 page with a Latin-1 byte, a lone continuation byte and a cut sequence in it."""
    return page(n, title="Caf\xe9 news").replace(b"Caf\xc3\xa9", b"Caf\xe9 \x80 \xe2\x82")


def wrong_charset_body(n: int) -> bytes:
    """Declared UTF-8 by the header, windows-1251 in fact (and in its meta tag)."""
    text = page(n, title="Новости дня").decode()
    return text.replace('<meta charset="utf-8">', '<meta charset="windows-1251">').encode("windows-1251")


gzip_bomb = answer(200, lambda s, r: s.bomb(), Content_Encoding="gzip")
huge_headers = answer(200, lambda s, r: page(r.number), X_Junk="a" * 200_000)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8 + b'<blockquote class="twitter-tweet">'
binary_html = answer(200, PNG, "text/html")
bad_utf8 = answer(200, lambda s, r: bad_utf8_body(r.number))
wrong_charset = answer(200, lambda s, r: wrong_charset_body(r.number))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
FAULTS: dict[str, tuple[Fault, str]] = {
    "ok": (ok, "200 with an article holding one tweet embed"),
    "private": (ok, "an article under a path robots.txt disallows to everyone"),
    "no-archiver": (ok, "an article under a path robots.txt disallows to archiver"),
    "reset": (reset, "reads the request, then resets the connection (RST)"),
    "empty": (empty, "reads the request, closes without answering"),
    "hang": (hang, "accepts and reads, never answers"),
    "flaky": (flaky, "503 for the first ?fail=N (1) requests to the URL, then 200"),
    "ratelimit": (ratelimit, "429 with Retry-After ?after=N (1) once, then 200"),
    "ratelimit-long": (answer(429, b"later", "text/plain", Retry_After="3600"), "429 with Retry-After: 3600"),
    "error-500": (answer(500, b"<h1>Internal Server Error</h1>"), "500, always"),
    "not-found": (not_found, "404"),
    "endless": (endless, "302 to itself with ?hop=N+1, forever"),
    "loop": (loop, "302 /x -> /x?b=1 -> /x"),
    "to-loopback": (redirect_to(lambda s, r: f"http://127.0.0.1:{s.port}/ok/{r.number}"),
                    "302 to http://127.0.0.1:PORT/ (this server, by its address)"),
    "to-localhost": (redirect_to(lambda s, r: f"http://localhost:{s.port}/ok/{r.number}"),
                     "302 to http://localhost:PORT/"),
    "to-mapped-v6": (redirect_to(lambda s, r: f"http://[::ffff:127.0.0.1]:{s.port}/ok/{r.number}"),
                     "302 to http://[::ffff:127.0.0.1]:PORT/ (IPv4-mapped IPv6)"),
    "to-metadata": (redirect_to(lambda s, r: METADATA_URL), "302 to the cloud metadata address 169.254.169.254"),
    "bad-location": (redirect_to(lambda s, r: "javascript:alert(document.cookie)"), "302 to javascript:"),
    "gzip-bomb": (gzip_bomb, "64 MiB of zeros in ~64 KiB of gzip"),
    "drip": (drip, "Content-Length 100000, one byte every drip_interval s"),
    "truncated": (truncated, "Content-Length 5000 bytes more than sent, then close"),
    "bad-status": (bad_status, "a status line that is not HTTP"),
    "huge-headers": (huge_headers, "a 200 KB header"),
    "wrong-type": (answer(200, PDF, "application/pdf"), "a PDF where an article was asked for"),
    "binary-html": (binary_html, "binary bytes labelled text/html"),
    "bad-utf8": (bad_utf8, "declared UTF-8, with invalid UTF-8 bytes"),
    "wrong-charset": (wrong_charset, "declared UTF-8 by the header, windows-1251 in fact"),
}

ROBOTS: dict[str, Fault] = {  # robots-<mode>.fault.test serves this robots.txt
    "503": answer(503, b"down", "text/plain"),
    "hang": hang,
    "garbage": answer(200, b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe", "text/plain"),
    "404": not_found,
    "disallow-all": answer(200, b"User-agent: *\nDisallow: /\n", "text/plain"),
    "loopback": redirect_to(lambda s, r: f"http://127.0.0.1:{s.port}/robots.txt"),
}
ROBOTS_MODES = tuple(ROBOTS)
default_robots = answer(200, DEFAULT_ROBOTS, "text/plain")


def robots_fault(host: str) -> Fault:
    label = host.split(".", 1)[0].lower()
    return ROBOTS.get(label.removeprefix("robots-"), default_robots) if label.startswith("robots-") else default_robots


api_not_found = answer(404, b'{"errors":[{"message":"Not Found"}]}', "application/json")


class FaultServer:
    """``with FaultServer() as server: server.url("drip")`` ... ``server.requests``."""

    def __init__(self, *, port: int = 0, drip_interval: float = 0.05, bomb_bytes: int = 64 * 1024 * 1024) -> None:
        self.port = port
        self.drip_interval = drip_interval
        self.bomb_bytes = bomb_bytes
        self.requests: list[Request] = []  # appended from the server thread; read after the run
        self.stopping = asyncio.Event()
        self._counts: dict[tuple[str, str], int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, fault: str, n: int = 0, host: str = "f0.fault.test", query: str = "") -> str:
        return f"https://{host}/{fault}/{n}" + (f"?{query}" if query else "")

    def connect_to(self, *origins: str) -> tuple[tuple[str, str], ...]:
        """``Settings.connect_to`` pairs sending each origin here."""
        return tuple((o, self.origin) for o in origins)

    def count(self, r: Request) -> int:
        """How many times this host and path were asked for, this one included."""
        key = (r.host.lower(), r.path)
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]

    def bomb(self) -> bytes:
        return gzip_zeros(self.bomb_bytes)

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> str:
        self.bomb()  # made before serving: compressing 64 MiB would stall every connection for a moment
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="faults", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault server did not start")
        return self.origin

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self.stopping.set)
            self._thread.join(timeout=10)
            self._loop = None

    def __enter__(self) -> FaultServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve(ready))
        finally:
            self._loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        self.stopping = asyncio.Event()  # bound to this loop
        server = await asyncio.start_server(self._connection, "127.0.0.1", self.port, limit=256 * 1024, backlog=512)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        await self.stopping.wait()
        server.close()
        # Handlers see ``stopping`` and return; idle keep-alive readers need their socket closed.
        # (Cancelling the handler tasks instead makes asyncio print their CancelledError.)
        for writer in list(self._writers):
            writer.transport.abort()
        for _ in range(100):
            if not self._writers:
                break
            await asyncio.sleep(0.01)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while not self.stopping.is_set():
                request = await _read_request(reader)
                if request is None:
                    break
                self.requests.append(request)
                if not await self._answer(request, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client hung up or sent nonsense: nothing to answer
        finally:
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()

    async def _answer(self, r: Request, w: asyncio.StreamWriter) -> bool:
        path = urlsplit(r.path).path
        if path == "/robots.txt":
            return await robots_fault(r.host)(self, r, w)
        if path in ("/tweet-result", "/oembed"):
            return await api_not_found(self, r, w)
        name = path.strip("/").split("/", 1)[0]
        fault = FAULTS.get(name, (not_found, ""))[0]
        return await fault(self, r, w)


@functools.lru_cache(maxsize=4)
def gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (about 1000:1), without holding them uncompressed."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = b"\0" * (1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + packer.compress(b"\0" * (size % len(chunk))) + packer.flush()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # the client closed a kept-alive connection
    lines = raw.decode("latin-1").split("\r\n")
    method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    if length:
        await reader.readexactly(length)
    return Request(method, headers.get("host", ""), target, headers)


# -- the 500-URL run (the done-when test and bench/fault_run.py) -------------------------

BULK_FAULTS = tuple(FAULTS)  # every fault, in rotation
BULK_ROBOTS_HOSTS = tuple(f"robots-{m}.fault.test" for m in ROBOTS_MODES)
BULK_ENV = {  # small limits so that the run takes seconds: the faults are the same
    "ARCHIVER_RETRIES": "1",
    "ARCHIVER_BACKOFF": "0.01",
    "ARCHIVER_TIMEOUT": "2",
    "ARCHIVER_PER_HOST_DELAY": "0",
    "ARCHIVER_CONCURRENCY": "32",
    "ARCHIVER_MAX_BODY_BYTES": str(2 * 1024 * 1024),
}


def bulk_hosts(count: int = 40) -> list[str]:
    return [f"f{i}.fault.test" for i in range(count)] + list(BULK_ROBOTS_HOSTS)


def bulk_urls(n: int = 500, hosts: int = 40) -> list[str]:
    """``n`` distinct article URLs cycling through every fault and every host."""
    names = bulk_hosts(hosts)
    return [f"https://{names[i % len(names)]}/{BULK_FAULTS[i % len(BULK_FAULTS)]}/{i}" for i in range(n)]


def bulk_run_args(server: FaultServer, db: Path | str, url_file: Path | str, hosts: int = 40) -> list[str]:
    """``archiver`` arguments for the run: every host mapped to the server, the guard left on."""
    args = ["crawl", "-i", str(url_file), "--db", str(db)]
    for origin in [f"https://{h}" for h in bulk_hosts(hosts)] + list(API_HOSTS):
        args += ["--connect-to", f"{origin}={server.origin}"]
    return args


def write_bulk_input(path: Path | str, n: int = 500, hosts: int = 40) -> Path:
    path = Path(path)
    path.write_text("\n".join(bulk_urls(n, hosts)) + "\n", encoding="utf-8")
    return path


def fault_of(url: str) -> str:
    """The fault a bulk URL exercises (its first path segment)."""
    return urlsplit(url).path.strip("/").split("/", 1)[0]

