"""What every input reader yields: an article to work on, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """An article already in hand (a local file, a dataset row, a WARC record): no fetch needed.

    ``provenance`` says where exactly the bytes came from, as (name, value) pairs
    stored with the snapshot: ``path`` and ``sha256`` for a file; ``file``, ``line``
    and ``row_id`` for a dataset row; ``warc_file``, ``offset``, ``record_id`` and
    ``warc_date`` for a WARC record.
    """

    body: bytes
    media: str  # "html" or "text"
    origin: str  # "file", "dataset", "warc"
    content_type: str | None = None
    provenance: tuple[tuple[str, str], ...] = ()
    status: int | None = None  # the recorded HTTP status (WARC responses)
    response_headers: tuple[tuple[str, str], ...] = ()  # as recorded (WARC responses)
    captured_at: str | None = None  # when the bytes were captured (WARC-Date), UTC ISO 8601
    server_ip: str | None = None  # WARC-IP-Address


@dataclass(frozen=True)
class ArticleInput:
    """One article for a run: a URL to fetch, or a document in hand."""

    url: str  # the article's URL; for a local file without one, its file: URI
    source: str  # where it came from: "argument 2", "urls.txt:14", "feed https://...", "data.csv:17"
    document: Document | None = None
    published: str | None = None  # the date the source gave (feed, sitemap, dataset), UTC ISO 8601
    row_id: str | None = None  # the dataset's own id for the row


@dataclass(frozen=True)
class BadInput:
    """An input item that could not be used, with where it stood and why."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"
