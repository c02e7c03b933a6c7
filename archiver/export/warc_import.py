"""``archiver import warc``: WARC records back into an archive, through ``Store``.

Each ``response`` record becomes an exchange (a ``fetches`` row) and its payload a
body (a ``resource`` record, a document in hand, becomes one without a status), content-addressed as always, so a body comes back with the same SHA-256 it
was exported with. Files archiver wrote carry a metadata record per capture;
from it the import restores what WARC has no field for: purpose, endpoint, post,
article, the redirect chain (hops are stored as one capture again), timings,
``--connect-to``, attempts, errors, and the response headers exactly as
received. Exchanges that never got a response come back from their lone
metadata record.

WARCs from other tools import too: every response is a capture of its own, with
purpose ``imported``; the payload is decoded of its Content-Encoding (as archiver
stores bodies). ``revisit`` records and other record types are counted and
skipped.

Each restored capture's ``fetches.provenance`` names the record it came from
(``warc_file``, ``offset``, ``record_id``, ``warc_date``). The import is one run
(``runs`` row) of its own; the runs the exchanges came from
are described in the file's warcinfo record, copied into that run's settings.
Only exchanges are restored: articles get a row each (from the metadata's article
URL) but embeds, posts and checks are facts of extraction and resolution, not of
the WARC.

Two passes over each file: the first reads the small records (requests,
metadata) and learns which responses belong to one capture; the second streams
the responses and stores each capture once all its hops are in hand.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archiver.errors import InputError
from archiver.export.warc import ORIGINAL_PREFIX, field_name
from archiver.models import Capture, Exchange
from archiver.store import Store, closing_run

IMPORTED = "imported"  # the purpose of a response from a WARC another tool wrote


@dataclass
class ImportReport:
    run_id: int | None = None
    files: int = 0
    records: int = 0
    exchanges: int = 0
    captures: int = 0
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # record type -> count
    bodies: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)  # digest failures, hash mismatches
    outcome: str = ""  # completed, interrupted or failed, once the run is closed

    @property
    def counts(self) -> dict[str, int]:
        return {"files": self.files, "records": self.records, "exchanges": self.exchanges,
                "captures": self.captures, "bodies": len(self.bodies), "problems": len(self.problems),
                **{f"skipped:{k}": v for k, v in self.skipped.items()}}

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        return (f"run {self.run_id}: {self.files} file(s), {self.records} records, {self.captures} captures "
                f"({self.exchanges} exchanges), {len(self.bodies)} distinct bodies"
                + (f", {skipped} records skipped" if skipped else "")
                + (f", {len(self.problems)} problems" if self.problems else ""))


def parse_fields(payload: bytes) -> dict[str, Any]:
    """application/warc-fields -> {name: value}: text, JSON lists and objects decoded; first of repeats kept."""
    out: dict[str, Any] = {}
    for line in payload.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if not sep or name.strip() in out:
            continue
        value = value.strip()
        try:
            out[name.strip()] = json.loads(value) if value[:1] in "[{" else value
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


def _iso(warc_date: str | None) -> str:
    if not warc_date:
        return datetime.now(timezone.utc).isoformat(timespec="microseconds")
    return datetime.fromisoformat(warc_date).astimezone(timezone.utc).isoformat(timespec="microseconds")


def _records(path: Path, check_digests: bool = False) -> Iterator[tuple[Any, ArchiveIterator]]:
    try:
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream, check_digests=check_digests)
            for record in iterator:
                if not record.format.startswith("warc"):  # warcio reads anything else as a (bogus) ARC
                    raise InputError(f"{path}: not a WARC file (record {record.format!r} at offset "
                                     f"{iterator.offset}); only WARC 1.0/1.1 is imported")
                yield record, iterator
    except ArchiveLoadFailed as exc:
        raise InputError(f"{path}: not a readable WARC: {str(exc).strip()}") from None


@dataclass
class _Member:
    """One exchange of a capture, as read in the second pass."""

    fetch_key: str
    exchange: Exchange
    meta: dict[str, Any]
    where: dict[str, Any] | None = None  # the record in the file: fetches.provenance of an import


class _FileImport:
    def __init__(self, path: Path, store: Store, run_id: int, report: ImportReport):
        self.path, self.store, self.run_id, self.report = path, store, run_id, report
        self.requests: dict[str, tuple[str, list[tuple[str, str]]]] = {}  # response id -> (method, headers)
        self.meta: dict[str, dict[str, Any]] = {}  # response id -> metadata fields
        self.lone: dict[str, dict[str, Any]] = {}  # metadata record id -> fields of an exchange without response
        self.group_of: dict[str, str] = {}  # response or metadata record id -> capture key
        self.group_size: dict[str, int] = defaultdict(int)
        self.responses: list[str] = []  # response and resource record ids, in file order
        self.articles: dict[str, int] = {}

    def first_pass(self) -> None:
        for record, _ in _records(self.path):
            kind = record.rec_type
            headers = record.rec_headers
            if kind in ("response", "resource"):
                self.responses.append(headers.get_header("WARC-Record-ID"))
            elif kind == "request":
                target = headers.get_header("WARC-Concurrent-To")
                http = record.http_headers
                if target and http is not None:
                    method = (http.protocol or "GET").split(" ")[0]
                    self.requests[target] = (method, [(k, v) for k, v in http.headers])
            elif kind == "metadata":
                fields = parse_fields(record.content_stream().read())
                target = headers.get_header("WARC-Concurrent-To")
                if target:
                    self.meta[target] = fields
                elif "archiver-fetch-id" in fields:
                    self.lone[headers.get_header("WARC-Record-ID")] = fields
        for record_id in self.responses:
            self._group(record_id, self.meta.get(record_id))
        for record_id, fields in self.lone.items():
            self._group(record_id, fields)

    def _group(self, record_id: str, fields: dict[str, Any] | None) -> None:
        if fields and "archiver-fetch-id" in fields:
            key = str(fields.get("archiver-parent-fetch-id") or fields["archiver-fetch-id"])
        else:
            key = record_id
        self.group_of[record_id] = key
        self.group_size[key] += 1

    def second_pass(self) -> None:
        pending: dict[str, list[_Member]] = defaultdict(list)
        for record, iterator in _records(self.path, check_digests=True):
            self.report.records += 1
            kind = record.rec_type
            rid = record.rec_headers.get_header("WARC-Record-ID")
            if kind in ("response", "resource") and (kind == "resource" or record.http_headers is not None):
                member = (self._response if kind == "response" else self._resource)(record, rid, iterator)
                if record.digest_checker.passed is False:
                    self.report.problems.extend(f"{self.path.name} offset {iterator.get_record_offset()}: {p}"
                                                for p in record.digest_checker.problems)
            elif kind == "metadata" and rid in self.lone:
                member = self._unanswered(self.lone[rid])
            else:
                if kind not in ("request", "metadata", "warcinfo"):
                    self.report.skipped[kind] += 1
                continue
            key = self.group_of[rid]
            pending[key].append(member)
            if len(pending[key]) == self.group_size[key]:
                self._save(key, pending.pop(key))
        for key, members in pending.items():  # chains cut by the export's selection
            self._save(key, members)

    def _response(self, record: Any, rid: str, iterator: ArchiveIterator) -> _Member:
        meta = self.meta.get(rid, {})
        headers = record.rec_headers
        http = record.http_headers
        # archiver's own records hold the body as stored (any encoding left in place was never decoded);
        # another tool's hold it as sent, so decode it the way archiver stores bodies
        body = (record.raw_stream if meta else record.content_stream()).read()
        offset = iterator.get_record_offset()  # known once the record is read to its end
        self._check_hash(body, meta, headers)
        method, sent = self.requests.get(rid, ("GET", []))
        received = meta.get("archiver-response-headers")
        if received is None:
            received = [(k, v) for k, v in http.headers if not k.startswith(ORIGINAL_PREFIX)]
        started = meta.get(field_name("started")) or _iso(headers.get_header("WARC-Date"))
        exchange = Exchange(
            url=headers.get_header("WARC-Target-URI"),
            method=meta.get(field_name("method")) or method,
            started=started,
            finished=meta.get(field_name("finished")) or started,
            duration_ms=float(meta.get(field_name("duration_ms")) or 0.0),
            status=int(http.get_statuscode()),
            request_headers=tuple((str(k), str(v)) for k, v in sent),
            response_headers=tuple((str(k), str(v)) for k, v in received),
            http_version=meta.get(field_name("http_version")) or http.protocol or None,
            server_ip=headers.get_header("WARC-IP-Address"),
            connected_to=meta.get(field_name("connected_to")),
            body=body,
            truncated=bool(int(meta.get(field_name("truncated")) or 0) or headers.get_header("WARC-Truncated")),
            attempts=int(meta.get(field_name("attempts")) or 1),
            error=meta.get(field_name("error")),
        )
        self.report.bodies.add(hashlib.sha256(body).hexdigest())
        where = {"warc_file": self.path.name, "offset": offset, "record_id": rid,
                 "warc_date": headers.get_header("WARC-Date")}
        return _Member(str(meta.get("archiver-fetch-id") or rid), exchange, meta, where)

    def _resource(self, record: Any, rid: str, iterator: ArchiveIterator) -> _Member:
        """A document in hand: bytes with no HTTP exchange (no status)."""
        meta = self.meta.get(rid, {})
        headers = record.rec_headers
        body = record.content_stream().read()
        offset = iterator.get_record_offset()
        started = meta.get(field_name("started")) or _iso(headers.get_header("WARC-Date"))
        received = meta.get("archiver-response-headers") or [("Content-Type", headers.get_header("Content-Type"))]
        exchange = Exchange(url=headers.get_header("WARC-Target-URI"), method="GET", started=started,
                            finished=meta.get(field_name("finished")) or started, duration_ms=0.0,
                            response_headers=tuple((str(k), str(v)) for k, v in received), body=body)
        self._check_hash(body, meta, headers)
        self.report.bodies.add(hashlib.sha256(body).hexdigest())
        where = {"warc_file": self.path.name, "offset": offset, "record_id": rid,
                 "warc_date": headers.get_header("WARC-Date")}
        return _Member(str(meta.get("archiver-fetch-id") or rid), exchange, meta, where)

    def _check_hash(self, body: bytes, meta: dict[str, Any], headers: Any) -> None:
        digest = hashlib.sha256(body).hexdigest()
        expected = meta.get("archiver-body-sha256")
        if expected and expected != digest:
            self.report.problems.append(f"{self.path.name}: {headers.get_header('WARC-Target-URI')}: body hash "
                                        f"{digest} differs from the recorded {expected}")

    def _unanswered(self, meta: dict[str, Any]) -> _Member:
        started = meta.get(field_name("started")) or _iso(None)
        exchange = Exchange(
            url=meta.get(field_name("url")) or meta.get(field_name("requested_url")) or "",
            method=meta.get(field_name("method")) or "GET",
            started=started,
            finished=meta.get(field_name("finished")) or started,
            duration_ms=float(meta.get(field_name("duration_ms")) or 0.0),
            server_ip=meta.get(field_name("server_ip")),
            connected_to=meta.get(field_name("connected_to")),
            attempts=int(meta.get(field_name("attempts")) or 1),
            error=meta.get(field_name("error")),
        )
        return _Member(str(meta["archiver-fetch-id"]), exchange, meta)

    def _save(self, key: str, members: list[_Member]) -> None:
        final = next((m for m in members if m.fetch_key == key), members[-1])
        hops = sorted((m for m in members if m is not final), key=lambda m: m.exchange.started) + [final]
        meta = final.meta
        purpose = meta.get(field_name("purpose")) or IMPORTED
        capture = Capture(meta.get(field_name("requested_url")) or hops[0].exchange.url,
                          tuple(m.exchange for m in hops))
        article_url = meta.get("archiver-article-url")
        article_id = None
        if article_url:
            article_id = self.articles.get(article_url)
            if article_id is None:
                article_id = self.articles[article_url] = self.store.article_id(article_url, f"warc:{self.path.name}")
        provenance = final.where
        if provenance is not None and meta.get("archiver-provenance"):  # a document in hand: where it came from
            provenance = {**provenance, "original": meta["archiver-provenance"]}
        fetch_id = self.store.save_capture(capture, self.run_id, purpose, endpoint=meta.get(field_name("endpoint")),
                                           article_id=article_id, post_key=meta.get(field_name("post_key")),
                                           provenance=provenance)
        if purpose == "article" and article_id is not None:
            self.store.record_article_fetch(article_id, fetch_id, capture)
        self.report.captures += 1
        self.report.exchanges += len(hops)


def warcinfo(path: Path) -> list[dict[str, Any]]:
    """The warcinfo records opening a file, as fields (what the exchanges' runs were).

    Reading them first also refuses a file that is not a WARC before a run is started.
    """
    infos = []
    for record, _ in _records(path):
        if record.rec_type != "warcinfo":
            break  # warcinfo records open a file
        infos.append(parse_fields(record.content_stream().read()))
    return infos


def import_warcs(paths: list[str | Path], store: Store, command: list[str]) -> ImportReport:
    """Import every file as one run; the run's outcome says whether it finished."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    report = ImportReport()
    infos = {str(p): warcinfo(p) for p in files}
    report.run_id = store.start_run(command, {"import": "warc", "files": [str(p) for p in files], "warcinfo": infos})
    with closing_run(store, report, interrupted=lambda: False):  # Ctrl-C interrupts it (KeyboardInterrupt)
        for path in files:
            one = _FileImport(path, store, report.run_id, report)
            one.first_pass()
            one.second_pass()
            report.files += 1
    return report
