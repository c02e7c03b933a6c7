"""A local path of any kind -> articles: the one router from a path to its reader."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

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
    """What a set of inputs yields: their items, read as the queue takes them, and sitemaps still to fetch.

    Each input is a stream of articles and bad items. Its first item is read
    when the input is added, so an input that cannot be read at all (no such
    file, a dataset without the columns asked for) fails before any run
    starts; the rest is read while the crawl queues it, so memory does not grow
    with the size of the inputs (a WARC of 100,000 pages is never held whole).
    """

    inputs: list[Iterator[ArticleInput | BadInput]] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)

    def add(self, items: Iterable[ArticleInput | BadInput]) -> None:
        stream = iter(items)
        first = next(stream, None)
        if first is not None:
            self.inputs.append(itertools.chain((first,), stream))

    def items(self) -> Iterator[ArticleInput | BadInput]:
        """Every input's items in turn (once: the streams are read as they go)."""
        return itertools.chain.from_iterable(self.inputs)


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
        gathered.add([*articles, *bad])
    elif kind == SITEMAP:
        articles, nested, bad = read_sitemap_file(path, since=since)
        gathered.add([*articles, *bad])
        gathered.sitemaps += nested
    elif kind in (JSONL, CSV):
        gathered.add(read_dataset(path, columns or Columns(), since=since, fmt=kind))
    elif kind in (WARC, WACZ):
        gathered.add(read_warc(path))
    else:  # a list of URLs
        gathered.add(from_list(str(Path(path))))
    return kind
