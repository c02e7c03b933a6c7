"""A local path of any kind -> articles: the one router from a path to its reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from archiver.sources.detect import CSV, DIRECTORY, FEED, HTML, JSONL, SITEMAP, TEXT, WACZ, WARC, detect_path
from archiver.sources.base import ArticleInput, BadInput
from archiver.sources.datasets import Columns, read_dataset
from archiver.sources.feeds import read_feed_file
from archiver.sources.files import read_files
from archiver.sources.sitemaps import read_sitemap_file
from archiver.sources.urls import from_list
from archiver.sources.warcs import read_warc


@dataclass
class Gathered:
    """What a set of inputs yields: articles, sitemaps still to fetch, and bad items."""

    articles: list[ArticleInput] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    bad: list[BadInput] = field(default_factory=list)

    def add(self, items) -> None:
        for item in items:
            (self.bad if isinstance(item, BadInput) else self.articles).append(item)


def read_local(path: str, gathered: Gathered, *, columns: Columns | None = None,
               since: datetime | None = None) -> str:
    """Read one local input into ``gathered``; returns the kind it was read as.

    InputError (a usage error) when the path does not exist or cannot be told apart.
    """
    kind = detect_path(path)
    if kind in (HTML, TEXT, DIRECTORY):
        gathered.add(read_files(path))
    elif kind == FEED:
        articles, bad = read_feed_file(path, since=since)
        gathered.articles += articles
        gathered.bad += bad
    elif kind == SITEMAP:
        articles, nested, bad = read_sitemap_file(path, since=since)
        gathered.articles += articles
        gathered.sitemaps += nested
        gathered.bad += bad
    elif kind in (JSONL, CSV):
        gathered.add(read_dataset(path, columns or Columns(), since=since, fmt=kind))
    elif kind in (WARC, WACZ):
        gathered.add(read_warc(path))
    else:  # a list of URLs
        articles, bad = from_list(str(Path(path)))
        gathered.articles += articles
        gathered.bad += bad
    return kind
