"""A real HTTP server on 127.0.0.1 that plays many websites at once.

Tests and ``make demo`` point archiver at it with ``--connect-to``
(``https://site1.news.test=http://127.0.0.1:PORT``): requests arrive with the
original host in their ``Host`` header, and the mirror answers per virtual host.
It lives in the package, not in tests, because the demo needs it too. Standard
library only: a ``ThreadingHTTPServer`` in a background thread, HTTP/1.1 with
keep-alive, so archiver's connection reuse is exercised for real.

Routing. A ``Route`` matches a request when the hosts are equal (lower-cased,
port ignored: the scheme and port a request was meant for are not visible to
the server), the paths are equal (after percent-decoding), and the request's
query contains every parameter of the route URL (extra ones, such as a token,
are ignored). Among matching routes the one with the most query parameters
wins, then the earliest added. A route with ``times=n`` answers n requests and
is then used up, so "503 once, then 200" is two routes for one URL. When no
route matches and ``root`` is given, the file ``root/<host>/<path>`` is served
(``index.html`` for a directory), its type guessed from its name; else 404.

Routes can change while the server runs (``set``, ``add``, ``remove``), so a test
can let a tweet be deleted between two runs. ``requests`` lists what arrived;
``peak_in_flight`` is the most requests it held at once (read, not yet answered).

The manifest, ``routes.json`` (read by ``load_manifest(directory)``), is a JSON
list of objects, in priority order::

    [
      {"url": "https://cdn.syndication.twimg.com/tweet-result?id=20",
       "status": 200,                                   # optional, default 200
       "headers": {"Content-Type": "application/json"}, # optional
       "body_file": "api/tweet-20.json",                # optional, relative to the directory
       "body": "{}",                                    # optional text (UTF-8), if no body_file
       "delay": 0.5,                                    # optional seconds before answering
       "times": 1,                                      # optional: answers this many requests only
       "comment": "why this route exists"}              # optional, ignored
    ]

(The ``#`` notes above are explanations, not JSON.)

A redirect is a route with status 301/302/303/307/308 and a ``Location`` header.
Content-Length is always set by the mirror; Content-Type, when the route gives
none, is guessed from ``body_file`` or the URL path (default
``application/octet-stream``). Run it alone with
``python -m archiver.mirror DIRECTORY [--port N] [--root DIR]``.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from archiver.errors import InputError


@dataclass(frozen=True)
class Route:
    """One canned answer. ``chunk_delay`` drips the body in 1 KiB pieces, that many seconds apart."""

    url: str
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body_file: str | None = None
    times: int | None = None
    chunk_delay: float = 0.0

    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        parts = urlsplit(self.url)
        query = tuple(parse_qsl(parts.query, keep_blank_values=True))
        return (parts.hostname or "").lower(), unquote(parts.path or "/"), query


class Received(NamedTuple):
    """One request as the mirror saw it; header names lower-cased."""

    method: str
    host: str  # the Host header as received
    path: str  # path with query
    headers: dict[str, str]


class Mirror:
    """The server. ``with Mirror(routes) as mirror: mirror.origin`` ..."""

    def __init__(self, routes: Iterable[Route] = (), root: Path | str | None = None, port: int = 0) -> None:
        self.root = Path(root).resolve() if root is not None else None
        self.port = port
        self._lock = threading.Lock()
        self._routes: list[list] = []  # [route, answers left or None]
        self._requests: list[Received] = []
        self._in_flight = 0
        self.peak_in_flight = 0  # the most requests it was answering at once
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._origin: str | None = None
        self._thread: threading.Thread | None = None
        for route in routes:
            self.add(route)

    # -- routes ----------------------------------------------------------------

    def add(self, route: Route) -> None:
        """Append a route; earlier routes for the same URL keep priority until used up."""
        with self._lock:
            self._routes.append([route, route.times])

    def set(self, route: Route) -> None:
        """Replace every route for ``route.url`` with this one."""
        with self._lock:
            self._routes = [r for r in self._routes if r[0].url != route.url]
            self._routes.append([route, route.times])

    def remove(self, url: str) -> None:
        with self._lock:
            self._routes = [r for r in self._routes if r[0].url != url]

    def match(self, host: str, path_with_query: str) -> Route | None:
        """The route answering this request (using up one of its ``times``), or None."""
        parts = urlsplit(path_with_query)
        hostname = _hostname(host)
        path = unquote(parts.path or "/")
        params = parse_qsl(parts.query, keep_blank_values=True)
        with self._lock:
            best: list | None = None
            for entry in self._routes:
                route, left = entry
                r_host, r_path, r_query = route.key()
                if left == 0 or r_host != hostname or r_path != path:
                    continue
                if all(p in params for p in r_query) and (best is None or len(r_query) > len(best[0].key()[2])):
                    best = entry
            if best is None:
                return None
            if best[1] is not None:
                best[1] -= 1
            return best[0]

    # -- requests ----------------------------------------------------------------

    @property
    def requests(self) -> list[Received]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, received: Received) -> None:
        with self._lock:
            self._requests.append(received)

    def _answering(self, change: int) -> None:
        with self._lock:
            self._in_flight += change
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    # -- lifecycle ---------------------------------------------------------------

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``; still readable after ``stop()`` for assertions."""
        if self._origin is None:
            raise RuntimeError("the mirror has not been started; call start() first")
        return self._origin

    def connect_to(self, *origins: str) -> tuple[tuple[str, str], ...]:
        """``Settings.connect_to`` pairs sending each origin here."""
        from archiver.fetch.connect_to import parse_mapping

        return tuple(parse_mapping(f"{o}={self.origin}") for o in origins)

    def start(self) -> str:
        """Start serving in a background thread; returns ``http://127.0.0.1:PORT``."""
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(("127.0.0.1", self.port), _handler_for(self))
            self._origin = f"http://127.0.0.1:{self._server.server_address[1]}"
            # a short poll interval: stop() waits for one, and tests start and stop many mirrors
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="mirror", daemon=True)
            self._thread.start()
        return self.origin

    def stop(self) -> None:
        """Stop serving and drop open connections (delayed answers are abandoned)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Mirror:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- answers -------------------------------------------------------------------

    def _file_for(self, host: str, path: str) -> Path | None:
        """``root/<host>/<path>``, never outside ``root``."""
        if self.root is None:
            return None
        site = (self.root / _hostname(host)).resolve()
        if site == self.root or not site.is_relative_to(self.root):
            return None  # no Host, or a Host such as ".."
        candidate = (site / unquote(urlsplit(path).path).lstrip("/")).resolve()
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_relative_to(site) or not candidate.is_file():
            return None
        return candidate


def load_manifest(directory: Path | str) -> list[Route]:
    """The routes of ``directory/routes.json`` (format in the module docstring)."""
    directory = Path(directory)
    path = directory / "routes.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise InputError(f"{path} must hold a JSON list of routes")
    routes = []
    for number, entry in enumerate(entries):
        where = f"{path} route {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise InputError(f"{where}: needs a \"url\"")
        unknown = set(entry) - {"url", "status", "headers", "body_file", "body", "delay", "times", "comment"}
        if unknown:
            raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        body_file = entry.get("body_file")
        if body_file is not None:
            body_file = str((directory / body_file).resolve())
            if not Path(body_file).is_file():
                raise InputError(f"{where}: body_file {entry['body_file']!r} does not exist")
        try:
            routes.append(
                Route(
                    url=entry["url"],
                    status=int(entry.get("status", 200)),
                    body=str(entry.get("body", "")).encode("utf-8"),
                    headers={str(k): str(v) for k, v in dict(entry.get("headers") or {}).items()},
                    delay=float(entry.get("delay", 0.0)),
                    body_file=body_file,
                    times=None if entry.get("times") is None else int(entry["times"]),
                )
            )
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}") from None
    return routes


def _hostname(host: str) -> str:
    """The host part of a Host header: port dropped, IPv6 brackets dropped, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: object) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args)

    def process_request(self, request: socket.socket, client_address: object) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            for request in self._open:
                try:
                    request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer (a timeout test) is not an error worth printing."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _handler_for(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms stall
        timeout = 30  # an idle keep-alive connection frees its thread after this

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self) -> None:
            # counted from the request read to the first byte of the answer: within the client's
            # own span of the exchange, so a peak above the client's limit is the client's doing
            self._counted = True
            mirror._answering(+1)
            try:
                self._answer_request()
            finally:
                self._uncount()

        def _uncount(self) -> None:
            if self._counted:
                self._counted = False
                mirror._answering(-1)

        def _answer_request(self) -> None:
            host = self.headers.get("Host", "")
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            mirror._record(Received(self.command, host, self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = mirror.match(host, self.path)
            if route is None:
                file = mirror._file_for(host, self.path)
                if file is None:
                    self._send(404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n", 0.0)
                else:
                    self._send(200, {"Content-Type": _guess_type(file.name)}, file.read_bytes(), 0.0)
                return
            if route.delay and mirror._stopping.wait(route.delay):
                self.close_connection = True
                return
            body = Path(route.body_file).read_bytes() if route.body_file else route.body
            headers = dict(route.headers)
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = _guess_type(route.body_file or urlsplit(route.url).path)
            self._send(route.status, headers, body, route.chunk_delay)

        def _send(self, status: int, headers: Mapping[str, str], body: bytes, chunk_delay: float) -> None:
            self._uncount()
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if not chunk_delay:
                self.wfile.write(body)
                return
            for start in range(0, len(body), 1024):
                self.wfile.write(body[start : start + 1024])
                self.wfile.flush()
                if mirror._stopping.wait(chunk_delay):
                    self.close_connection = True
                    return

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _answer

    return Handler


def _guess_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    if guessed and (guessed.startswith("text/") or guessed in ("application/json", "application/javascript")):
        return f"{guessed}; charset=utf-8"
    return guessed or "application/octet-stream"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m archiver.mirror", description="Serve a routes.json mirror on 127.0.0.1."
    )
    parser.add_argument("directory", type=Path, help="a directory holding routes.json")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument("--root", type=Path, default=None, help="serve root/<host>/<path> when no route matches")
    args = parser.parse_args(argv)
    try:
        routes = load_manifest(args.directory)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with Mirror(routes, root=args.root, port=args.port) as mirror:
        print(mirror.origin, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
