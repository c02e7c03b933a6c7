"""Data exports: any table, view or SQL query as JSON Lines or CSV, and ID lists.

IDs stay text everywhere. Post ids are TEXT in the archive, so they leave as JSON
strings and CSV text; an integer a query computes beyond 2**53 (where JSON
readers, JavaScript and spreadsheets lose digits) is written as a string too.
CSV opened in a spreadsheet is the last trap: ``spreadsheet=True`` writes digit
strings of 16 or more characters as ``="..."`` formulas, which Excel, LibreOffice
and Google Sheets keep as text, and prefixes cells that begin with ``=``, ``+``,
``-`` or ``@`` with ``'`` so scraped text is never run as a formula.

Binary columns (``bodies.content``) are written as ``{"$base64": true, "encoded": ...}``
in JSON, as Datasette and sqlite-utils do, and as base64 text in CSV.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import sqlite3
from typing import Any, Iterable, Iterator, TextIO

from archiver.errors import UsageError
from archiver.export.source import Source

SAFE_INTEGER = 2**53 - 1  # beyond this, JSON numbers lose digits in JavaScript and most readers
_LONG_DIGITS = re.compile(r"^\d{16,}$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SQL_START = re.compile(r"^\s*(--[^\n]*\n\s*|/\*.*?\*/\s*)*(select|with|values)\b", re.IGNORECASE | re.DOTALL)
ID_FORMATS = ("txt", "csv", "jsonl")


def query_for(source: Source, table_or_sql: str) -> str:
    """The SQL to run: ``select *`` of a table or view named so, or the text itself if it is a query."""
    relations = source.relations()
    name = table_or_sql.strip()
    if name in relations:
        return f'select * from "{name}"'
    if _SQL_START.match(table_or_sql):
        return table_or_sql
    names = ", ".join(n for n in relations if "_fts" not in n and not n.startswith("_"))
    raise UsageError(f"no table or view named {name!r} (there are: {names}); "
                     "a query must start with select or with")


def run(source: Source, sql: str, params: dict[str, str] | None = None) -> tuple[list[str], Iterator[tuple]]:
    """Column names and rows of a read-only query; a bad query is a one-line usage error."""
    try:
        cursor = source.conn.execute(sql, params or {})
    except sqlite3.Error as exc:
        raise UsageError(f"the query failed: {exc}") from None
    columns = [d[0] for d in cursor.description or ()]
    return columns, (tuple(row) for row in cursor)


def json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > SAFE_INTEGER:
        return str(value)
    return value


def csv_value(value: Any, spreadsheet: bool = False) -> Any:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, int) and abs(value) > SAFE_INTEGER:
        value = str(value)
    if spreadsheet and isinstance(value, str):
        if _LONG_DIGITS.match(value):
            return f'="{value}"'
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def write_jsonl(columns: list[str], rows: Iterable[tuple], out: TextIO) -> int:
    """One JSON object per row; returns the number of rows."""
    n = 0
    for row in rows:
        out.write(json.dumps({c: json_value(v) for c, v in zip(columns, row)}, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(columns: list[str], rows: Iterable[tuple], out: TextIO, *, spreadsheet: bool = False) -> int:
    """A header row, then the rows; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([csv_value(v, spreadsheet) for v in row])
        n += 1
    return n


def post_ids(source: Source, platform: str, statuses: Iterable[str] = ()) -> list[str]:
    """The ids of one platform's posts (optionally only those with these statuses), as text."""
    platform = platform.strip().lower()
    known = [r[0] for r in source.conn.execute("select distinct platform from posts order by 1")]
    if platform not in known:
        raise UsageError(f"no posts of platform {platform!r} in {source.path.name} "
                         f"(platforms there: {', '.join(known) or 'none'})")
    sql = "select post_id from posts where platform = ?"
    params: list[Any] = [platform]
    statuses = list(statuses)
    if statuses:
        sql += f" and status in ({', '.join('?' * len(statuses))})"
        params += statuses
    sql += " order by length(post_id), post_id"
    return [str(r[0]) for r in source.conn.execute(sql, params)]


def write_ids(ids: list[str], platform: str, out: TextIO, fmt: str = "txt", *, spreadsheet: bool = False) -> int:
    """txt: one id a line (what hydrators read); csv: platform,post_id; jsonl: objects."""
    if fmt == "txt":
        for post_id in ids:
            out.write(post_id + "\n")
    elif fmt == "csv":
        write_csv(["platform", "post_id"], ((platform, i) for i in ids), out, spreadsheet=spreadsheet)
    elif fmt == "jsonl":
        write_jsonl(["platform", "post_id"], ((platform, i) for i in ids), out)
    else:
        raise UsageError(f"unknown format {fmt!r} (use one of {', '.join(ID_FORMATS)})")
    return len(ids)
