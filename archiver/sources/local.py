"""A local path of any kind -> articles: the one router from a path to its reader."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from archiver.sources.detect import CSV, DIRECTORY, FEED, HTML, JSONL, SITEMAP, TEXT, WACZ, WARC, detect_path
from archiver.sources.base import ArticleInput, BadInput
from archiver.sources.datasets import Columns, read_dataset
from archiver.sources.feeds import read_feed_file
from archiver.sources.files import read_files
from archiver.sources.sitemaps import read_sitemap_file
from archiver.sources.urls import from_list
from archiver.sources.warcs import read_warc


Items = Iterable[ArticleInput | BadInput]


@dataclass
class Gathered:
    """What a set of inputs yields: their items, read as the queue takes them, and sitemaps still to fetch.

    Each input is read when the run queues it, so memory does not grow with
    the size of the inputs (a WARC of 100,000 pages is never held whole); its
    first item is read when it is added, so an input that cannot be read at
    all (no such file, a dataset without the columns asked for) fails before
    any run starts.
    """

    inputs: list[Callable[[], Iterator[ArticleInput | BadInput]]] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)

    def add(self, items: Items) -> None:
        """Items in hand, or a stream that can be read only once (stdin): kept open from its first item on."""
        stream = iter(items)
        first = next(stream, None)
        if first is not None:
            rest = itertools.chain((first,), stream)
            self.inputs.append(lambda: rest)

    def add_file(self, read: Callable[[], Items]) -> None:
        """An input read from a file by ``read()``: read now up to its first item, closed, read again when queued.

        So that a thousand files given at once hold no file descriptor until
        their turn: kept open from the start, 1,100 datasets failed under a
        limit of 256 descriptors ("Too many open files"; Linux's default soft
        limit is 1,024).
        """
        stream = iter(read())
        try:
            first = next(stream, None)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if first is not None:
            self.inputs.append(lambda: iter(read()))

    def items(self) -> Iterator[ArticleInput | BadInput]:
        """Every input's items in turn, each input opened when the one before it is done."""
        return itertools.chain.from_iterable(open_input() for open_input in self.inputs)


def read_url_list(name: str, gathered: Gathered) -> None:
    """A list of URLs (``-``: standard input, read once as it comes) into ``gathered``."""
    if name == "-":
        gathered.add(from_list(name))
    else:
        gathered.add_file(functools.partial(from_list, name))


def read_local(path: str, gathered: Gathered, *, columns: Columns | None = None,
               since: datetime | None = None) -> str:
    """Read one local input into ``gathered``; returns the kind it was read as.

    InputError (a usage error) when the path does not exist or cannot be told apart.
    """
    kind = detect_path(path)
    if kind in (HTML, TEXT, DIRECTORY):
        gathered.add_file(functools.partial(read_files, path))
    elif kind == FEED:
        articles, bad = read_feed_file(path, since=since)
        gathered.add([*articles, *bad])
    elif kind == SITEMAP:
        articles, nested, bad = read_sitemap_file(path, since=since)
        gathered.add([*articles, *bad])
        gathered.sitemaps += nested
    elif kind in (JSONL, CSV):
        gathered.add_file(functools.partial(read_dataset, path, columns or Columns(), since=since, fmt=kind))
    elif kind in (WARC, WACZ):
        gathered.add_file(functools.partial(read_warc, path))
    else:  # a list of URLs
        read_url_list(str(Path(path)), gathered)
    return kind
