"""What an input is, and the parts every reader shares: dates, bounded reads, safe XML.

``detect`` names the reader for a path or URL: first by suffix, then by the
first bytes (a ``.xml`` can be a feed or a sitemap; a URL like ``/feed`` says
nothing until fetched, so the pipeline calls it again with the body's head).

Dates from feeds, sitemaps and datasets are normalised to UTC ISO 8601 with
seconds (``2024-05-01T10:00:00+00:00``, as ``datetime.isoformat`` writes it);
a date without a zone is taken as UTC. ``keep_since`` is the ``--since`` rule:
an item dated before the cut-off is dropped, an item without a (readable) date
is kept, because dropping it would silently lose articles.

XML is parsed with external entities, DTD loading and network access off, and
never larger than ``MAX_XML_BYTES`` (the sitemap protocol's own 50 MB limit).
"""

from __future__ import annotations

import email.utils
import os
import re
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from lxml import etree

from archiver.errors import InputError
from archiver.settings import DEFAULT_MAX_BODY_BYTES, parse_duration
from archiver.sources.urls import check_url

MAX_XML_BYTES = 50 * 1024 * 1024  # a sitemap may be 50 MB uncompressed; no feed is larger
MAX_DOCUMENT_BYTES = DEFAULT_MAX_BODY_BYTES  # an article in hand obeys the limit a fetched one does
HEAD_BYTES = 64 * 1024  # what sniffing looks at

FEED, SITEMAP, HTML, TEXT, URLS = "feed", "sitemap", "html", "text", "urls"
JSONL, CSV, WARC, WACZ, DIRECTORY = "jsonl", "csv", "warc", "wacz", "directory"
KINDS = (URLS, FEED, SITEMAP, HTML, TEXT, JSONL, CSV, WARC, WACZ, DIRECTORY)

_SUFFIXES = {
    ".rss": FEED, ".atom": FEED, ".rdf": FEED,
    ".html": HTML, ".htm": HTML, ".xhtml": HTML, ".shtml": HTML,
    ".jsonl": JSONL, ".ndjson": JSONL,
    ".csv": CSV, ".tsv": CSV,
    ".warc": WARC, ".wacz": WACZ,
}
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_BOMS = (b"\xef\xbb\xbf",)
# Skipped before the root element: XML declaration, processing instructions, comments, DOCTYPE.
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(rb"\s*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_FEED_ROOTS = {b"rss", b"feed", b"rdf", b"channel"}
_SITEMAP_ROOTS = {b"urlset", b"sitemapindex"}
_HTML_START = re.compile(rb"\s*<(?:!doctype\s+html|html|head|body|meta|title|div|p|article)\b", re.IGNORECASE)
_HTML_DOCTYPE = re.compile(rb"\s*<!doctype\s+html\b", re.IGNORECASE)
_CHUNK = 1 << 16
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")
_ZONE_WORD = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)


# -- what an input is --------------------------------------------------------


def detect(name: str, head: bytes | None = None) -> str | None:
    """The reader for ``name`` (a path or URL) and optionally its first bytes; None if unknown.

    The suffix decides when it is specific (``.rss``, ``.jsonl``, ``.warc.gz``);
    ``.xml``, ``.txt``, ``.gz`` and no suffix at all are decided by ``head``.
    """
    by_name = _kind_of_name(name)
    if by_name is not None and by_name not in (TEXT, "xml"):
        return by_name
    sniffed = sniff(head) if head else None
    if sniffed is not None:
        return sniffed
    if by_name == "xml":
        return SITEMAP if "sitemap" in name.lower() else None
    return by_name


def detect_path(path: str | os.PathLike[str]) -> str:
    """The reader for a local path, reading its head; InputError when it cannot be told."""
    p = Path(path)
    if p.is_dir():
        return DIRECTORY
    if not p.exists():
        raise InputError(f"{p}: no such file or directory")
    try:
        with p.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{p}: empty file")
    kind = detect(str(p), head)
    if kind is None:
        raise InputError(f"{p}: cannot tell what kind of input this is (binary or unknown format)")
    return kind


def sniff(head: bytes) -> str | None:
    """The kind of input these first bytes begin (decompressing a gzip head), or None."""
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, HEAD_BYTES)
        except zlib.error:
            return None
    for bom in _BOMS:
        head = head.removeprefix(bom)
    if head.startswith(b"WARC/"):
        return WARC
    if head.startswith(_ZIP_MAGIC):
        return WACZ
    if b"\x00" in head:
        return None  # binary (or UTF-16, which no feed or article in hand should be)
    stripped = head.lstrip()
    if stripped.startswith(b"<"):
        return _markup_kind(stripped)
    if stripped.startswith(b"{"):
        return JSONL
    return URLS if _all_urls(head) else TEXT if stripped else None


def _kind_of_name(name: str) -> str | None:
    lower = name.lower().split("?", 1)[0].split("#", 1)[0].rstrip("/")
    for suffix in (".warc.gz", ".arc.gz"):
        if lower.endswith(suffix):
            return WARC
    if lower.endswith(".gz"):
        lower = lower[:-3]
    base = lower.rsplit("/", 1)[-1]
    if "." not in base:
        return None
    suffix = "." + base.rsplit(".", 1)[-1]
    if suffix == ".xml":
        return "xml"
    if suffix in (".txt", ".text"):
        return TEXT
    return _SUFFIXES.get(suffix)


def _markup_kind(head: bytes) -> str | None:
    pos = 0
    while (m := _PROLOG.match(head, pos)) is not None and m.end() > pos:
        if _HTML_DOCTYPE.match(head, pos):
            return HTML
        pos = m.end()
    root = _ROOT.match(head, pos)
    if root is None:
        return HTML if _HTML_START.match(head) else None
    name = root.group(2).lower()
    if name in _FEED_ROOTS:
        return FEED
    if name in _SITEMAP_ROOTS:
        return SITEMAP
    if name == b"html" or _HTML_START.match(head, pos):
        return HTML
    return None


def _all_urls(head: bytes) -> bool:
    """True when every line (but a possibly cut last one) is an http(s) URL or a comment."""
    lines = head.split(b"\n")
    if len(head) >= HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]
    seen = False
    for raw in lines:
        line = raw.decode("utf-8", "replace").strip()
        if not line or line.startswith("#"):
            continue
        try:
            check_url(line)
        except InputError:
            return False
        seen = True
    return seen


# -- dates -------------------------------------------------------------------


def parse_date(value: Any) -> str | None:
    """A date as UTC ISO 8601, from ISO 8601 / W3C-DTF, RFC 822 (RSS) or epoch seconds; else None.

    Accepted: ``2024``, ``2024-05``, ``2024-05-01``, ``2024-05-01T10:00Z``,
    ``2024-05-01 10:00:00.5+02:00``, ``Wed, 01 May 2024 10:00:00 GMT``, a
    trailing ``UTC``/``GMT`` word, and numbers as Unix seconds (milliseconds
    above 10^11). A date without a zone is UTC.
    """
    moment = _parse_moment(value)
    if moment is None:
        return None
    try:
        return _utc(moment).isoformat(timespec="seconds")
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        return None


def _parse_moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) >= 9:
        value = int(value)  # epoch seconds as text, as CSV has them ("20240501" stays a date)
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text or len(text) > 100:
        return None
    if m := _YEAR_MONTH.fullmatch(text):
        try:
            return datetime(int(m.group(1)), int(m.group(2) or 1), 1)
        except ValueError:
            return None
    for candidate in (text, _ZONE_WORD.sub("", text)):  # "2024-05-01 10:00:00 UTC"
        try:
            return datetime.fromisoformat(candidate)
        except ValueError:
            continue
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _utc(moment: datetime) -> datetime:
    """The moment in UTC (a naive one is taken as UTC); OverflowError at the calendar's ends."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """The ``--since`` cut-off: a date (``2024-05-01``, any form ``parse_date`` reads) or a
    duration back from now (``36h``, ``7d``), so a nightly job file need not be edited.
    Anything else is an InputError (a usage error, exit 2)."""
    value = str(text).strip()
    if value and value[-1:].lower() in "smhdw" and value[:-1].replace(".", "", 1).isdigit():
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=parse_duration(value))
    moment = _parse_moment(value)
    try:
        if moment is not None:
            return _utc(moment)
    except OverflowError:
        pass
    raise InputError(f"--since {value!r}: not a date (like 2024-05-01 or 2024-05-01T06:00Z) "
                     "nor a duration (like 36h or 7d)")


def keep_since(published: str | None, since: datetime | None) -> bool:
    """The ``--since`` rule: keep unless the item has a date and it is before ``since``.

    An item without a date is kept: the source did not say, and a job that
    dropped it would lose the article for good.
    """
    if since is None or published is None:
        return True
    moment = _parse_moment(published)
    try:
        return moment is None or _utc(moment) >= _utc(since)
    except OverflowError:
        return True


# -- bounded reading ---------------------------------------------------------


def read_bounded(path: str | os.PathLike[str], limit: int, *, what: str = "file") -> bytes:
    """A local file's bytes, gunzipped when it is gzip, never more than ``limit`` after
    decompression: a larger file is an InputError, read no further than the limit."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a {what}")
    try:
        with p.open("rb") as fh:
            magic = fh.read(2)
            fh.seek(0)
            if magic == _GZIP_MAGIC:
                try:
                    return gunzip_bounded(iter(lambda: fh.read(_CHUNK), b""), limit)
                except ValueError as exc:
                    raise InputError(f"{p}: {what} {exc}") from None
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise InputError(f"{p}: {what} larger than {limit} bytes; not read")
    return data


def gunzip_bounded(chunks: Iterable[bytes], limit: int) -> bytes:
    """Decompress (multi-member) gzip to at most ``limit`` bytes, consuming ``chunks`` only as
    far as needed; ValueError when larger, broken or truncated."""
    out = bytearray()
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for data in chunks:
            while data:
                out += decoder.decompress(data, limit + 1 - len(out))
                if len(out) > limit:
                    raise ValueError(f"larger than {limit} bytes once decompressed")
                data = decoder.unconsumed_tail
                if decoder.eof:
                    data = decoder.unused_data
                    if not data.strip(b"\0"):
                        data = b""
                        continue
                    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        raise ValueError(f"is broken gzip ({exc})") from None
    if not decoder.eof:
        raise ValueError("is truncated gzip")
    return bytes(out)


# -- XML ---------------------------------------------------------------------


def xml_parser(*, recover: bool) -> etree.XMLParser:
    """A parser that loads nothing from outside: no DTD, no external entity, no network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


def parse_xml(body: bytes, *, base_url: str | None = None) -> tuple[Any | None, str | None]:
    """(root, problem): strict parse first; broken XML is parsed again leniently and the
    problem says what was wrong (one line). root is None when nothing could be read."""
    if len(body) > MAX_XML_BYTES:
        return None, f"larger than {MAX_XML_BYTES} bytes; not parsed"
    if not body.strip():
        return None, "empty document"
    try:
        return etree.fromstring(body, xml_parser(recover=False), base_url=base_url), None
    except etree.XMLSyntaxError as exc:
        problem = f"broken XML ({_one_line(exc)})"
    except ValueError as exc:  # e.g. a str with an encoding declaration; bytes never, but be safe
        return None, f"not XML ({_one_line(exc)})"
    try:
        root = etree.fromstring(body, xml_parser(recover=True), base_url=base_url)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        return None, problem.replace("broken XML", "not XML", 1)
    return root, problem + "; read what could be recovered"


def local_name(el: Any) -> str:
    """An element's name without its namespace, lower-cased ('' for comments and the like)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def child_text(el: Any, *names: str) -> str | None:
    """The stripped text of the first child with one of these local names, or None."""
    for child in el:
        if local_name(child) in names:
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = re.sub(r"\s*\(<string>, line \d+\)$", "", text)
    return text[:300]
