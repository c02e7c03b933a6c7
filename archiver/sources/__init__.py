"""Inputs -> the articles a run works on, each with where it came from.

One module per input kind; each reader yields ``ArticleInput``s and reports bad
items as ``BadInput`` (where, problem) instead of raising, so one bad row never
stops a job. An input that cannot be read at all raises ``InputError``.
"""

from archiver.sources.base import ArticleInput, BadInput, Document
from archiver.sources.urls import check_url, from_arguments, from_list

__all__ = ["ArticleInput", "BadInput", "Document", "check_url", "from_arguments", "from_list"]
