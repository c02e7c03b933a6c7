"""WACZ export: the WARC export packaged as ReplayWeb.page and pywb open it.

A WACZ (Web Archive Collection Zipped, spec 1.1.1) is a ZIP holding::

    archive/data.warc.gz          the WARC of archiver export warc
    indexes/index.cdx             a CDXJ index of its response records, sorted by SURT
    pages/pages.jsonl             the article captures (the "pages" a reader starts from)
    datapackage.json              every file's SHA-256 and size, and the package's description
    datapackage-digest.json       the SHA-256 of datapackage.json

Entries are stored, not deflated (the spec requires it of the WARC, so a reader
can seek to a record by the index's offset). The SURT keys follow the
canonicalisation of the ``surt`` package (lower case, ``www.`` dropped, host
reversed, query arguments sorted), which is what pywb and ReplayWeb.page look up.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from archiver import __version__
from archiver.export.source import Source
from archiver.export.warc import Selection, WarcReport, write_warc

WACZ_VERSION = "1.1.1"
WARC_NAME = "data.warc.gz"
DEFAULT_PORTS = {"http": 80, "https": 443}


def surt(url: str) -> str:
    """The SURT key of a URL: ``https://www.Example.com/a/?b=2&a=1`` -> ``com,example)/a?a=1&b=2``."""
    parts = urlsplit(url.strip())
    labels = (parts.hostname or "").lower().rstrip(".").split(".")
    if len(labels) > 2 and labels[0].startswith("www") and (labels[0][3:] == "" or labels[0][3:].isdigit()):
        labels = labels[1:]
    key = ",".join(reversed(labels))
    if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme.lower()):
        key += f":{parts.port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    key += ")" + path
    if parts.query:
        key += "?" + "&".join(sorted(parts.query.split("&")))
    return key.lower()


def cdxj_lines(warc_path: Path, filename: str = WARC_NAME) -> list[str]:
    """One CDXJ line per response record of the WARC, sorted (as the spec wants)."""
    lines = []
    with warc_path.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            if record.rec_type not in ("response", "revisit"):
                continue
            headers = record.rec_headers
            url = headers.get_header("WARC-Target-URI")
            date = headers.get_header("WARC-Date")
            http = record.http_headers
            record.content_stream().read()  # to the end of the record, so its length is known
            entry: dict[str, Any] = {
                "url": url,
                "mime": (http.get_header("Content-Type") or "unk").split(";")[0].strip() if http else "unk",
                "status": http.get_statuscode() if http else "-",
                "digest": headers.get_header("WARC-Payload-Digest"),
                "length": str(iterator.get_record_length()),
                "offset": str(iterator.get_record_offset()),
                "filename": filename,
            }
            timestamp = datetime.fromisoformat(date).astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")
            lines.append(f"{surt(url)} {timestamp} {json.dumps(entry, ensure_ascii=False)}")
    return sorted(lines)


def pages_jsonl(report: WarcReport) -> str:
    """pages/pages.jsonl: a header line, then one line per article capture."""
    lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Articles"})]
    for page in report.pages:
        entry = {"id": uuid.uuid5(uuid.NAMESPACE_URL, f"{page['url']} {page['ts']}").hex, "url": page["url"],
                 "ts": page["ts"]}
        if page.get("title"):
            entry["title"] = page["title"]
        lines.append(json.dumps(entry, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_wacz(source: Source, out: BinaryIO, selection: Selection = Selection(), *,
               title: str | None = None) -> WarcReport:
    """Write the selected exchanges as a WACZ to ``out`` (a seekable binary file object)."""
    with tempfile.TemporaryDirectory(prefix="archiver-wacz-") as tmp:
        warc_path = Path(tmp) / WARC_NAME
        with warc_path.open("wb") as warc:
            report = write_warc(source, warc, selection, filename=WARC_NAME)
        files: dict[str, bytes | Path] = {
            f"archive/{WARC_NAME}": warc_path,
            "indexes/index.cdx": ("\n".join(cdxj_lines(warc_path)) + "\n").encode("utf-8"),
            "pages/pages.jsonl": pages_jsonl(report).encode("utf-8"),
        }
        resources = []
        for name, content in files.items():
            if isinstance(content, Path):
                digest, size = _sha256_file(content), content.stat().st_size
            else:
                digest, size = hashlib.sha256(content).hexdigest(), len(content)
            resources.append({"name": Path(name).name, "path": name, "hash": f"sha256:{digest}", "bytes": size})
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        package: dict[str, Any] = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": title or f"archiver export of {source.path.name}",
            "description": f"HTTP exchanges archived by archiver ({selection.describe()}): articles and the "
                           f"platform lookups that checked the posts they embed.",
            "created": now,
            "modified": now,
            "software": f"archiver {__version__}",
            "resources": resources,
        }
        if report.pages:
            package["mainPageUrl"] = report.pages[0]["url"]
            package["mainPageDate"] = report.pages[0]["ts"]
        package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
        digest_bytes = json.dumps({"path": "datapackage.json",
                                   "hash": f"sha256:{hashlib.sha256(package_bytes).hexdigest()}"}, indent=2).encode()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, content in files.items():
                if isinstance(content, Path):
                    zf.write(content, name)
                else:
                    zf.writestr(name, content)
            zf.writestr("datapackage.json", package_bytes)
            zf.writestr("datapackage-digest.json", digest_bytes)
    return report
