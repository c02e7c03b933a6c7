"""Inputs -> the articles a run works on, each with where it came from.

One module per input kind; each reader yields ``ArticleInput``s and reports bad
items as ``BadInput`` (where, problem) instead of raising, so one bad row never
stops a job. An input that cannot be read at all raises ``InputError``.

- ``urls``: arguments, list files, stdin;
- ``feeds``, ``sitemaps``: pure readers of fetched bodies (the pipeline fetches);
- ``files``: local HTML/text files and directories;
- ``datasets``: JSONL and CSV with named columns;
- ``warcs``: WARC and WACZ, read with warcio;
- ``detect``: which reader an input needs, dates, ``--since``, safe XML.
"""

from archiver.sources.base import ArticleInput, BadInput, Document
from archiver.sources.datasets import Columns, read_dataset
from archiver.sources.detect import detect, detect_path, keep_since, parse_date, parse_since
from archiver.sources.feeds import read_feed, read_feed_file
from archiver.sources.files import read_file, read_files
from archiver.sources.sitemaps import read_sitemap, read_sitemap_file
from archiver.sources.urls import check_url, from_arguments, from_list
from archiver.sources.warcs import read_warc

__all__ = [
    "ArticleInput", "BadInput", "Columns", "Document", "check_url", "detect", "detect_path", "from_arguments",
    "from_list", "keep_since", "parse_date", "parse_since", "read_dataset", "read_feed", "read_feed_file",
    "read_file", "read_files", "read_sitemap", "read_sitemap_file", "read_warc",
]

