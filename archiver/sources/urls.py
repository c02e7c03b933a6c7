"""Article URLs from command-line arguments, list files and stdin."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, TextIO
from urllib.parse import urlsplit

from archiver.errors import InputError
from archiver.sources.base import ArticleInput, BadInput

MAX_URL_LENGTH = 8192


def check_url(text: str) -> str:
    """Return the URL if it is an absolute http(s) URL with a host; else raise InputError."""
    url = text.strip()
    if not url:
        raise InputError("empty URL")
    if len(url) > MAX_URL_LENGTH:
        raise InputError(f"URL longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() for ch in url) or any(ord(ch) < 32 for ch in url):
        raise InputError(f"not a URL (contains white space or control characters): {url[:80]!r}")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise InputError(f"not a URL ({exc}): {url[:80]!r}") from None
    if parts.scheme.lower() not in ("http", "https"):
        what = f"unsupported scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise InputError(f"not an http(s) URL ({what}): {url[:80]!r}")
    if not parts.hostname:
        raise InputError(f"not a URL (no host): {url[:80]!r}")
    del port
    return url


def from_arguments(values: tuple[str, ...] | list[str]) -> list[ArticleInput]:
    """URLs given on the command line: any bad one is a usage error (nothing has run yet)."""
    out = []
    for n, value in enumerate(values, 1):
        try:
            out.append(ArticleInput(check_url(value), f"argument {n}"))
        except InputError as exc:
            raise InputError(f"argument {n}: {exc}") from None
    return out


def from_list(name: str, stream: TextIO | None = None) -> Iterator[ArticleInput | BadInput]:
    """URLs one per line from a file (or ``-`` for stdin); blank lines and ``#`` comments skipped.

    Read as it is iterated (a list of millions of URLs is never held whole); a
    file that cannot be read at all (missing, a directory, binary) is a usage
    error now, before the first line. A bad line is a ``BadInput`` naming its
    line number.
    """
    label = "stdin" if name == "-" else name
    if stream is None:
        if name == "-":
            stream = sys.stdin
        else:
            path = Path(name)
            if not path.exists():
                raise InputError(f"input file {name} does not exist")
            if path.is_dir():
                raise InputError(f"input file {name} is a directory")
            with path.open("rb") as raw:
                head = raw.read(4096)
            if b"\x00" in head:
                raise InputError(f"input file {name} is binary, not a list of URLs")
            stream = path.open(encoding="utf-8", errors="replace")
    return _read_list(stream, label)


def _read_list(stream: TextIO, label: str) -> Iterator[ArticleInput | BadInput]:
    with stream:
        for n, line in enumerate(_lines(stream), 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            try:
                yield ArticleInput(check_url(text), f"{label}:{n}")
            except InputError as exc:
                yield BadInput(f"{label}:{n}", str(exc))


def _lines(stream: TextIO) -> Iterator[str]:
    yield from stream
