"""Articles already on disk: HTML and text files, alone or in directories.

Each file becomes an ``ArticleInput`` holding a ``Document(origin="file")``, so
nothing is fetched. Its URL is the one the page declares for itself
(``<link rel=canonical>``, else ``og:url``; absolute http(s) only, or relative
to an absolute ``<base href>``), because that is how the same article is
recognised when it is also fetched or found in a feed; a page that declares
none, and every text file, gets its ``file://`` URI. Provenance: the absolute
path and the sha256 of the bytes read.

HTML or text: by suffix (``.html .htm .xhtml .shtml`` / ``.txt .text``), else by
the first bytes. A directory is walked in sorted order, hidden entries and
symlinked directories skipped; in it only files with those suffixes, or
without one of them but beginning like HTML (pages saved by ``wget``), are
taken, and the rest (images, CSS, scripts) is passed over without a word.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urljoin

from archiver import dom
from archiver.errors import InputError
from archiver.extract import charset
from archiver.sources.base import ArticleInput, BadInput, Document
from archiver.sources.detect import HEAD_BYTES, HTML, MAX_DOCUMENT_BYTES, TEXT, URLS, sniff
from archiver.sources.urls import check_url

HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
_HEAD_SCAN = 1 << 20  # the canonical link is in <head>; look no further than this


def read_files(path: str | os.PathLike[str], *, max_bytes: int = MAX_DOCUMENT_BYTES,
               ) -> Iterator[ArticleInput | BadInput]:
    """The articles in a file or under a directory; InputError (now, not when iterated) if
    the path does not exist."""
    p = Path(path)
    if p.is_dir():
        return _walk(p, max_bytes)
    if not p.exists():
        raise InputError(f"{p}: no such file or directory")
    return iter([read_file(p, max_bytes=max_bytes)])


def read_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_DOCUMENT_BYTES) -> ArticleInput | BadInput:
    """One local file as an article, or why it cannot be one."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            return BadInput(str(p), f"file larger than {max_bytes} bytes; skipped")
        with p.open("rb") as fh:
            body = fh.read(max_bytes + 1)
    except OSError as exc:
        return BadInput(str(p), f"cannot read ({exc.strerror or exc})")
    if len(body) > max_bytes:
        return BadInput(str(p), f"file larger than {max_bytes} bytes; skipped")
    if not body.strip():
        return BadInput(str(p), "empty file")
    media = _media(p, body)
    if media is None:
        return BadInput(str(p), "not HTML or text (binary or another format); skipped")
    absolute = p.resolve()
    url = (_declared_url(body) if media == "html" else None) or absolute.as_uri()
    document = Document(
        body=body,
        media=media,
        origin="file",
        provenance=(("path", str(absolute)), ("sha256", hashlib.sha256(body).hexdigest())),
    )
    return ArticleInput(url, f"file {p}", document=document)


def _walk(root: Path, max_bytes: int) -> Iterator[ArticleInput | BadInput]:
    errors: list[OSError] = []
    for folder, dirs, names in os.walk(root, onerror=errors.append, followlinks=False):
        while errors:
            exc = errors.pop(0)
            yield BadInput(str(exc.filename or folder), f"cannot read directory ({exc.strerror or exc})")
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            p = Path(folder, name)
            if _wanted(p):
                yield read_file(p, max_bytes=max_bytes)
    for exc in errors:
        yield BadInput(str(exc.filename or root), f"cannot read directory ({exc.strerror or exc})")


def _wanted(p: Path) -> bool:
    """In a directory: HTML and text suffixes, or a file that begins like HTML."""
    suffix = p.suffix.lower()
    if suffix in HTML_SUFFIXES or suffix in TEXT_SUFFIXES:
        return True
    try:
        with p.open("rb") as fh:
            return sniff(fh.read(HEAD_BYTES)) == HTML
    except OSError:
        return True  # let read_file report why it cannot be read


def _media(p: Path, body: bytes) -> str | None:
    if b"\x00" in body[:HEAD_BYTES]:
        return None  # binary whatever its name says (or UTF-16, which pages are not)
    suffix = p.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    kind = sniff(body[:HEAD_BYTES])
    if kind == HTML:
        return "html"
    if kind in (TEXT, URLS):
        return "text"
    return None


def _declared_url(body: bytes) -> str | None:
    """The page's own absolute URL: canonical link, else og:url; None if it declares none."""
    end = _HEAD_END.search(body, 0, _HEAD_SCAN)
    head = body[: end.end()] if end else body[:_HEAD_SCAN]
    root = dom.parse(charset.decode(head).utf8)  # decoded as extraction decodes the page
    if root is None:
        return None
    base = canonical = og_url = None
    for el in dom.descendants(root, "base", "link", "meta"):
        attributes, tag = el.attributes, el.tag
        if tag == "base" and base is None:
            base = _absolute(attributes.get("href"))
        elif tag == "link" and canonical is None and "canonical" in (attributes.get("rel") or "").lower().split():
            canonical = attributes.get("href")
        elif tag == "meta" and og_url is None and (
                attributes.get("property") or attributes.get("name") or "").lower() == "og:url":
            og_url = attributes.get("content")
    for value in (canonical, og_url):
        url = _absolute(value) or _relative_to(value, base)
        if url:
            return url
    return None


def _absolute(value: Any) -> str | None:
    if not value:
        return None
    try:
        return check_url(str(value))
    except InputError:
        return None


def _relative_to(value: str | None, base: str | None) -> str | None:
    if not value or not base:
        return None
    return _absolute(urljoin(base, value.strip()))
