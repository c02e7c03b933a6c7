"""Articles from research datasets: JSON Lines and CSV/TSV, plain or gzip'd.

The user names the columns (``Columns``): url, html, text, published date, row
id. A row with html (or else text) becomes a ``Document(origin="dataset")``; a
row with only a url becomes a URL to fetch. The row id is kept
(``ArticleInput.row_id`` and the provenance). A row without a url but with a
body gets a stable ``file:`` URI naming the dataset and the row
(``#id=<row id>``, else ``#line=<n>``), so a second run recognises it.

A bad row (invalid JSON, not UTF-8, a wrong number of CSV fields, a bad URL,
a body over the size limit) is reported as a ``BadInput`` with its line number
and skipped; the rest goes on. An unreadable date keeps the row, undated, and
is reported as well. Files are streamed line by line; a line longer than
``4 * max_bytes`` (JSON escaping inflates HTML) is skipped without being held.
A CSV row's line is the line it starts on (quoted fields may span lines).
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterator, Mapping
from urllib.parse import quote

from archiver.errors import InputError
from archiver.sources.base import ArticleInput, BadInput, Document
from archiver.sources.detect import CSV, JSONL, MAX_DOCUMENT_BYTES, detect, keep_since, parse_date
from archiver.sources.urls import check_url

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Columns:
    """Which column (CSV) or key (JSONL) holds what; None: the dataset has no such column."""

    url: str | None = "url"
    html: str | None = None
    text: str | None = None
    published: str | None = None
    row_id: str | None = None

    def named(self) -> list[str]:
        return [c for c in (self.url, self.html, self.text, self.published, self.row_id) if c]


def read_dataset(path: str | os.PathLike[str], columns: Columns = Columns(), *,
                 since: datetime | None = None, fmt: str | None = None, delimiter: str | None = None,
                 max_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[ArticleInput | BadInput]:
    """The dataset's rows as articles (or bad rows), streamed.

    ``fmt`` is ``"jsonl"`` or ``"csv"`` (default: by suffix, ``.tsv`` meaning tab
    separated, else by the first byte). Raised now, as InputError: a missing or
    unreadable file, an unknown format, no url/html/text column named, and for
    CSV a named column missing from the header. With ``since``, rows dated
    before it are dropped; undated rows are kept.
    """
    p = Path(path)
    if not (columns.url or columns.html or columns.text):
        raise InputError(f"{p}: name at least one of the url, html or text columns")
    fmt = fmt or _format(p)
    reader = _Reader(p, columns, since, max_bytes)
    stream = _open(p)
    try:
        if fmt == JSONL:
            return reader.read_jsonl(stream)
        sep = delimiter or ("\t" if p.name.lower().removesuffix(".gz").endswith(".tsv") else ",")
        return reader.read_csv(stream, sep)
    except BaseException:
        stream.close()
        raise


def _format(p: Path) -> str:
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a dataset")
    kind = detect(str(p))
    if kind in (JSONL, CSV):
        return kind
    try:
        with _open(p) as fh:
            first = fh.read(1024).lstrip()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{p}: cannot read ({exc})") from None
    if first.startswith(b"{"):
        return JSONL
    raise InputError(f"{p}: cannot tell JSONL from CSV; name it .jsonl or .csv (or give the format)")


def _open(p: Path) -> IO[bytes]:
    try:
        fh = p.open("rb")
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if fh.read(2) == b"\x1f\x8b":
        fh.seek(0)
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    fh.seek(0)
    return fh


class _Reader:
    """One dataset's rows turned into articles."""

    def __init__(self, path: Path, columns: Columns, since: datetime | None, max_bytes: int):
        self.path = path
        self.where = str(path)
        self.absolute = path.resolve()
        self.columns = columns
        self.since = since
        self.max_bytes = max_bytes
        self.line_limit = 4 * max_bytes + _CHUNK

    # -- JSON Lines --

    def read_jsonl(self, stream: IO[bytes]) -> Iterator[ArticleInput | BadInput]:
        with stream:
            try:
                for n, line in _lines(stream, self.line_limit):
                    if line is None:
                        yield self.bad(n, f"line longer than {self.line_limit} bytes; skipped")
                        continue
                    if not line.strip():
                        continue
                    try:
                        values = json.loads(line.rstrip(b"\r\n"))
                    except UnicodeDecodeError:
                        yield self.bad(n, "not UTF-8")
                        continue
                    except json.JSONDecodeError as exc:
                        yield self.bad(n, f"invalid JSON ({exc.msg} at column {exc.colno})")
                        continue
                    if not isinstance(values, dict):
                        yield self.bad(n, f"not a JSON object but {type(values).__name__}")
                        continue
                    yield from self.row(n, values)
            except (OSError, EOFError, zlib.error) as exc:
                yield BadInput(self.where, f"cannot read further ({exc}); rows after this were not read")

    # -- CSV --

    def read_csv(self, stream: IO[bytes], delimiter: str) -> Iterator[ArticleInput | BadInput]:
        # The csv module's field limit is process-wide; raising it only ever to our own
        # line limit keeps whole HTML pages readable and changes nothing else's outcome.
        if csv.field_size_limit() < self.line_limit:
            csv.field_size_limit(self.line_limit)
        lines = _TextLines(stream, self.line_limit)
        reader = csv.reader(lines, delimiter=delimiter)
        header = self._header(reader)
        return self._csv_rows(stream, lines, reader, header)

    def _header(self, reader: Any) -> list[str]:
        try:
            for row in reader:
                if row:
                    header = [h.strip() for h in row]
                    break
            else:
                raise InputError(f"{self.where}: empty dataset (no header row)")
        except csv.Error as exc:
            raise InputError(f"{self.where}:{reader.line_num}: unreadable header ({exc})") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{self.where}: cannot read ({exc})") from None
        missing = [c for c in self.columns.named() if c not in header]
        if missing:
            shown = ", ".join(header[:20]) + (", ..." if len(header) > 20 else "")
            raise InputError(f"{self.where}: no column {', '.join(missing)} in the header (columns: {shown})")
        return header

    def _csv_rows(self, stream: IO[bytes], lines: _TextLines, reader: Any,
                  header: list[str]) -> Iterator[ArticleInput | BadInput]:
        with stream:
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield self.bad(start, f"unreadable CSV row ({exc})")
                    continue
                except (OSError, EOFError, zlib.error) as exc:
                    yield BadInput(self.where, f"cannot read further ({exc}); rows after this were not read")
                    return
                end = reader.line_num
                if not row:
                    continue
                span = range(start, end + 1)
                if any(n in lines.overlong for n in span):
                    yield self.bad(start, f"line longer than {self.line_limit} bytes; skipped")
                elif any(n in lines.undecodable for n in span):
                    yield self.bad(start, "not UTF-8")
                elif len(row) != len(header):
                    lines_said = f" (lines {start}-{end})" if end > start else ""
                    yield self.bad(start, f"{len(row)} fields, the header has {len(header)}{lines_said}")
                else:
                    yield from self.row(start, dict(zip(header, row)))
                lines.forget(end)

    # -- one row --

    def row(self, n: int, values: Mapping[str, Any]) -> Iterator[ArticleInput | BadInput]:
        col = self.columns
        try:
            url = _text(values, col.url)
            html = _text(values, col.html)
            text = _text(values, col.text)
        except ValueError as exc:
            yield self.bad(n, str(exc))
            return
        raw_id = values.get(col.row_id) if col.row_id else None
        row_id = None if raw_id is None or raw_id == "" else str(raw_id)
        raw_date = values.get(col.published) if col.published else None
        published = parse_date(raw_date) if raw_date not in (None, "") else None
        if raw_date not in (None, "") and published is None:
            yield self.bad(n, f"unreadable date {str(raw_date)[:60]!r}; row kept without a date")
        if url:
            try:
                url = check_url(url)
            except InputError as exc:
                yield self.bad(n, f"{col.url}: {exc}")
                return
        if not (url or html or text):
            yield self.bad(n, "no url, html or text in this row")
            return
        if not keep_since(published, self.since):
            return
        document = None
        if html or text:
            media, content = ("html", html) if html else ("text", text)
            body = content.encode("utf-8", "replace")  # a lone surrogate from JSON becomes "?"
            if len(body) > self.max_bytes:
                yield self.bad(n, f"{media} larger than {self.max_bytes} bytes; skipped")
                return
            provenance = [("file", str(self.absolute)), ("line", str(n))]
            if row_id is not None:
                provenance.append(("row_id", row_id))
            document = Document(
                body=body,
                media=media,
                origin="dataset",
                content_type="text/html; charset=utf-8" if media == "html" else "text/plain; charset=utf-8",
                provenance=tuple(provenance),
            )
            if not url:
                anchor = f"id={quote(row_id, safe='')}" if row_id is not None else f"line={n}"
                url = f"{self.absolute.as_uri()}#{anchor}"
        yield ArticleInput(url, f"{self.where}:{n}", document=document, published=published, row_id=row_id)

    def bad(self, n: int, problem: str) -> BadInput:
        return BadInput(f"{self.where}:{n}", problem)


def _text(values: Mapping[str, Any], column: str | None) -> str | None:
    """A column's value as text ('' and null: absent); ValueError if it is not text."""
    if not column:
        return None
    value = values.get(column)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{column}: expected text, found {type(value).__name__}")
    return value if value.strip() else None


def _lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; None for a line over ``limit``, which is skipped unread."""
    n = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        n += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield n, None
            continue
        yield n, line


class _TextLines:
    """Decoded lines for ``csv.reader``, one per physical line, noting the bad ones.

    An undecodable line is passed on with surrogate escapes and its number noted;
    an overlong one is replaced by an empty line and noted. The row that holds
    either is then reported instead of read.
    """

    def __init__(self, stream: IO[bytes], limit: int):
        self._lines = _lines(stream, limit)
        self.undecodable: set[int] = set()
        self.overlong: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        for n, line in self._lines:
            if line is None:
                self.overlong.add(n)
                yield "\n"
                continue
            if n == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                self.undecodable.add(n)
                yield line.decode("utf-8", "surrogateescape")

    def forget(self, upto: int) -> None:
        """Drop notes for lines already reported, so the sets stay small."""
        if self.undecodable:
            self.undecodable = {n for n in self.undecodable if n > upto}
        if self.overlong:
            self.overlong = {n for n in self.overlong if n > upto}
