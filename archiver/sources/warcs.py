"""Articles from web archives: WARC (plain or gzip'd) and WACZ files.

An article is a ``response`` record with a 2xx status and an HTML
(``text/html``, ``application/xhtml+xml``) or ``text/plain`` payload. It
becomes a ``Document(origin="warc")`` with the recorded status, headers, capture
time (``WARC-Date``, in UTC) and server address (``WARC-IP-Address``); its
provenance names the file, the record's offset (of its gzip member, as CDX
indexes count it) and length, ``WARC-Record-ID`` and ``WARC-Date``. The body is
the payload de-chunked and decoded (gzip/deflate) within the same size limit as
a live fetch (``archiver.fetch.body``). Every other record (requests,
metadata, revisits, images, scripts, redirects, error pages) is passed over.

warcio parses each record (``ArcWarcRecordLoader``: WARC and HTTP headers,
chunking, and the block and payload digests, which are checked), but the walk
from record to record is ours: warcio's ``ArchiveIterator`` reports a broken
gzip member on stderr and then silently ends, losing every record after it.
Here a corrupt record is a ``BadInput`` naming the file and offset, and the
reader finds the next record (the next gzip member that decompresses whole, or
the next line starting ``WARC/1.``) and goes on.

A WACZ is a zip whose ``archive/*.warc[.gz]`` members are read in turn, each
streamed from the zip (``warc_file`` is the member; ``wacz_file`` the zip).
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Iterator

from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeadersParserException

from archiver.errors import InputError
from archiver.fetch.body import BodyDecodeError, BodyReader
from archiver.sources.base import ArticleInput, BadInput, Document
from archiver.sources.detect import MAX_DOCUMENT_BYTES, parse_date
from archiver.sources.urls import check_url

_CHUNK = 1 << 16
_MAX_LINE = 1 << 20  # a WARC or HTTP header line longer than this is corruption, not a header
_GZIP_MEMBER = b"\x1f\x8b\x08"
_WARC_LINE = b"\nWARC/1."
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_DECODED = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})
# What a damaged record raises from inside warcio, zlib or our member reader.
_CORRUPTION = (ArchiveLoadFailed, StatusAndHeadersParserException, zlib.error, EOFError, ValueError, IndexError)


def read_warc(path: str | os.PathLike[str], *, max_bytes: int = MAX_DOCUMENT_BYTES,
              ) -> Iterator[ArticleInput | BadInput]:
    """The article responses in a ``.warc``, ``.warc.gz`` or ``.wacz`` file, streamed.

    InputError, raised now rather than when iterated: the file is missing, is
    not a WARC or WACZ (by its first bytes, whatever its name), or is a zip
    without ``archive/*.warc[.gz]`` members.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a WARC or WACZ file")
    try:
        with p.open("rb") as fh:
            magic = fh.read(8)
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if not magic:
        raise InputError(f"{p}: empty file")
    if magic.startswith(b"PK\x03\x04"):
        return _read_wacz(p, max_bytes)
    if not (magic.startswith(b"WARC/") or magic.startswith(_GZIP_MEMBER)):
        raise InputError(f"{p}: not a WARC file (it does not begin with 'WARC/' or a gzip header)")
    return _read_warc_file(p, max_bytes)


def _read_warc_file(p: Path, max_bytes: int) -> Iterator[ArticleInput | BadInput]:
    where = _Where(str(p), (("warc_file", str(p.resolve())),), max_bytes)
    with p.open("rb") as fh:
        yield from _records(fh, where)


def _read_wacz(p: Path, max_bytes: int) -> Iterator[ArticleInput | BadInput]:
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{p}: not a readable WACZ ({exc})") from None
    members = [i for i in zf.infolist() if i.filename.startswith("archive/")
               and i.filename.lower().endswith((".warc", ".warc.gz")) and not i.is_dir()]
    if not members:
        zf.close()
        raise InputError(f"{p}: a zip without archive/*.warc.gz members, so not a WACZ")
    return _wacz_members(zf, p, members, max_bytes)


def _wacz_members(zf: zipfile.ZipFile, p: Path, members: list[zipfile.ZipInfo],
                  max_bytes: int) -> Iterator[ArticleInput | BadInput]:
    with zf:
        for info in members:
            where = _Where(f"{p}#{info.filename}",
                           (("warc_file", info.filename), ("wacz_file", str(p.resolve()))), max_bytes)
            try:
                with zf.open(info) as fh:
                    yield from _records(fh, where)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
                yield BadInput(where.label, f"zip member unreadable ({_one_line(exc)}); the rest of it was not read")


@dataclass(frozen=True)
class _Where:
    label: str  # in messages and sources
    provenance: tuple[tuple[str, str], ...]  # the pairs naming the file
    max_bytes: int

    def at(self, offset: int) -> str:
        return f"{self.label} offset {offset}"


class _Corrupt(Exception):
    """A record that cannot be read; ``offset`` is where it (or its gzip member) starts."""

    def __init__(self, offset: int, problem: str):
        super().__init__(problem)
        self.offset = offset
        self.problem = problem


# -- the walk from record to record --------------------------------------------


def _records(fh: IO[bytes], where: _Where) -> Iterator[ArticleInput | BadInput]:
    fh.seek(0)
    gzipped = fh.read(3) == _GZIP_MEMBER
    fh.seek(0)
    yield from (_gzip_records(fh, where) if gzipped else _plain_records(fh, where))


def _plain_records(fh: IO[bytes], where: _Where) -> Iterator[ArticleInput | BadInput]:
    pos = 0
    while True:
        fh.seek(pos)
        try:
            yield from _parse_stream(_Counter(fh, pos), where, member=None)
            return
        except _Corrupt as exc:
            yield BadInput(where.at(exc.offset), exc.problem)
            found = _find(fh, exc.offset + 1, _WARC_LINE)
            if found is None:
                return
            pos = found + 1  # past the newline


def _gzip_records(fh: IO[bytes], where: _Where) -> Iterator[ArticleInput | BadInput]:
    """One gzip member per record (as the WARC standard recommends); several are read too."""
    pos = 0
    while True:
        fh.seek(pos)
        head = fh.read(3)
        if not head or not head.strip(b"\0\r\n "):
            return  # the end, or padding after the last member
        try:
            if head != _GZIP_MEMBER:
                raise _Corrupt(pos, "not a gzip member where a record should start")
            fh.seek(pos)
            member = _Member(fh, pos)
            # Held back until the member's CRC is checked (at its end), unless a member that
            # holds many records (not the standard layout) piles up more than one body's worth.
            held: list[ArticleInput | BadInput] = []
            held_bytes = 0
            for item in _parse_stream(_Counter(io.BufferedReader(member, _CHUNK), 0), where, member=member):
                held.append(item)
                held_bytes += len(item.document.body) if isinstance(item, ArticleInput) and item.document else 0
                if held_bytes > where.max_bytes:
                    yield from held
                    held, held_bytes = [], 0
            member.drain()
            assert member.end is not None
            for item in held:
                yield _with_length(item, member.end - member.start)
            pos = member.end
        except _Corrupt as exc:
            yield BadInput(where.at(pos), exc.problem)
            found = _next_member(fh, pos + 1)
            if found is None:
                return
            pos = found
        except _CORRUPTION as exc:  # a broken member, found while draining it
            yield BadInput(where.at(pos), _problem(exc))
            found = _next_member(fh, pos + 1)
            if found is None:
                return
            pos = found


def _parse_stream(stream: _Counter, where: _Where, member: _Member | None) -> Iterator[ArticleInput | BadInput]:
    """The records of a plain WARC, or of one gzip member; _Corrupt on the first bad one."""
    loader = ArcWarcRecordLoader(verify_http=False, arc2warc=False)
    while True:
        offset = stream.pos
        try:
            line = stream.readline()
            while line and not line.strip():
                offset = stream.pos
                line = stream.readline()
            if not line:
                return
            record = _parse_record(loader, stream, line)
            length = record.rec_headers.get_header("Content-Length")
            if length is None or not length.strip().isdigit():
                raise ArchiveLoadFailed(f"no valid Content-Length ({length!r})")
            item = _take(record, where)
            _drain(record.raw_stream)  # verifies the block and payload digests
            if getattr(record.raw_stream, "limit", 0) > 0:
                raise EOFError("truncated")
        except _CORRUPTION as exc:
            raise _Corrupt(member.start if member else offset, _problem(exc)) from None
        if item is None:
            continue
        if isinstance(item, BadInput):
            yield BadInput(where.at(member.start if member else offset), item.problem)
            continue
        yield _located(item, where, member, offset, stream.pos)


def _parse_record(loader: ArcWarcRecordLoader, stream: _Counter, line: bytes) -> Any:
    """warcio's record parser; its AttributeError/TypeError on headers it did not expect (a
    response without WARC-Target-URI) is a damaged record here, not a bug of ours."""
    try:
        return loader.parse_record_stream(stream, statusline=line, known_format="warc", check_digests="raise")
    except (AttributeError, TypeError) as exc:
        raise ArchiveLoadFailed(f"WARC headers warcio cannot read ({type(exc).__name__}: {exc})") from None


def _located(item: ArticleInput, where: _Where, member: _Member | None, offset: int, end: int) -> ArticleInput:
    """Stamp where the record is on the article: file, offset, length."""
    assert item.document is not None
    if member is None:
        place: list[tuple[str, str]] = [("offset", str(offset)), ("length", str(end - offset))]
        at = offset
    else:
        place = [("offset", str(member.start))]
        if offset:  # a gzip member holding several records (not the standard's layout)
            place.append(("offset_in_member", str(offset)))
        at = member.start
    document = replace(item.document, provenance=where.provenance + tuple(place) + item.document.provenance)
    return ArticleInput(item.url, f"warc {where.at(at)}", document=document)


def _with_length(item: ArticleInput | BadInput, length: int) -> ArticleInput | BadInput:
    """A gzip member's compressed length, known once it has been read to its end."""
    if isinstance(item, BadInput) or item.document is None:
        return item
    return replace(item, document=replace(item.document, provenance=item.document.provenance + (("length", str(length)),)))


# -- one record ----------------------------------------------------------------


def _take(record: Any, where: _Where) -> ArticleInput | BadInput | None:
    """The article a record holds, a BadInput saying why not, or None when it is no article."""
    if record.rec_type != "response" or record.http_headers is None:
        return None
    http = record.http_headers
    try:
        status = int(http.get_statuscode())
    except (TypeError, ValueError):
        return BadInput("", f"unreadable HTTP status line {http.statusline!r}")
    content_type = http.get_header("Content-Type")
    mime = (content_type or "").split(";")[0].strip().lower()
    media = "html" if mime in _HTML_TYPES else "text" if mime == "text/plain" else None
    if media is None or not 200 <= status < 300:
        return None
    rec = record.rec_headers
    try:
        url = check_url(rec.get_header("WARC-Target-URI") or "")
    except InputError as exc:
        return BadInput("", f"WARC-Target-URI: {exc}")
    encoding = (http.get_header("Content-Encoding") or "").strip().lower()
    if encoding not in _DECODED:
        return BadInput("", f"{url}: Content-Encoding {encoding!r} cannot be decoded; skipped")
    payload = record.raw_stream
    if "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
        payload = ChunkedDataReader(record.raw_stream)
    body = BodyReader(encoding or None, where.max_bytes)
    try:
        while not body.full and (chunk := payload.read(_CHUNK)):
            body.feed(chunk)
        if body.truncated:
            return BadInput("", f"{url}: response body larger than {where.max_bytes} bytes; skipped")
        body.finish()
    except BodyDecodeError as exc:
        return BadInput("", f"{url}: {exc}; skipped")  # as recorded: the server sent it broken
    warc_date = rec.get_header("WARC-Date") or ""
    record_id = rec.get_header("WARC-Record-ID") or ""
    document = Document(
        body=body.body,
        media=media,
        origin="warc",
        content_type=content_type,
        provenance=(("record_id", record_id), ("warc_date", warc_date)),
        status=status,
        response_headers=tuple((str(k), str(v)) for k, v in http.headers),
        captured_at=parse_date(warc_date) if warc_date else None,
        server_ip=rec.get_header("WARC-IP-Address"),
    )
    return ArticleInput(url, "", document=document)


def _drain(stream: Any) -> None:
    while stream.read(_CHUNK):
        pass


# -- streams ------------------------------------------------------------------


class _Counter:
    """The stream warcio reads from, counting bytes so each record's offset is known;
    lines are capped so that garbage without newlines is not read whole."""

    def __init__(self, fh: IO[bytes], start: int):
        self.fh = fh
        self.pos = start

    def read(self, size: int | None = -1) -> bytes:
        data = self.fh.read(_CHUNK if size is None or size < 0 else size)
        self.pos += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = self.fh.readline(_MAX_LINE if size is None or size < 0 else min(size, _MAX_LINE))
        self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos


class _BrokenMember(ValueError):
    pass


class _Member(io.RawIOBase):
    """One gzip member of ``fh`` from ``start``, decompressed on demand; ``end`` once read."""

    def __init__(self, fh: IO[bytes], start: int):
        self.fh = fh
        self.start = start
        self.end: int | None = None
        self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._fed = 0
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.end is None:
            data = self._pending
            if not data:
                data = self.fh.read(_CHUNK)
                if not data:
                    raise _BrokenMember("file ends inside a gzip member (truncated)")
                self._fed += len(data)
            out = self._decoder.decompress(data, len(buffer))
            self._pending = self._decoder.unconsumed_tail
            if self._decoder.eof:
                self.end = self.start + self._fed - len(self._decoder.unused_data)
                self._pending = b""
            if out:
                buffer[: len(out)] = out
                return len(out)
        return 0

    def drain(self) -> None:
        """Read to the member's end, so its CRC is checked and ``end`` known."""
        scratch = bytearray(_CHUNK)
        while self.readinto(scratch):
            pass


def _next_member(fh: IO[bytes], start: int) -> int | None:
    """The next offset from ``start`` where a whole gzip member decompresses (a chance
    match of the magic bytes inside compressed data does not)."""
    pos = start
    while (found := _find(fh, pos, _GZIP_MEMBER)) is not None:
        fh.seek(found)
        try:
            _Member(fh, found).drain()
            return found
        except (zlib.error, _BrokenMember):
            pos = found + 1
    return None


def _find(fh: IO[bytes], start: int, needle: bytes) -> int | None:
    """The offset of the next ``needle`` at or after ``start``, reading in chunks."""
    fh.seek(start)
    pos, tail = start, b""
    while chunk := fh.read(_CHUNK):
        window = tail + chunk
        hit = window.find(needle)
        if hit >= 0:
            return pos - len(tail) + hit
        tail = window[-(len(needle) - 1):]
        pos += len(chunk)
    return None


def _problem(exc: BaseException) -> str:
    if isinstance(exc, zlib.error):
        return f"broken gzip data ({_one_line(exc)})"
    if isinstance(exc, _BrokenMember):
        return str(exc)
    if isinstance(exc, EOFError):
        return "file ends inside the record (truncated)"
    text = _one_line(exc)
    if "digest failed" in text:
        return f"damaged record: {text}"
    return f"unreadable record: {text}" if text else f"unreadable record ({type(exc).__name__})"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200]
