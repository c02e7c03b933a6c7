"""The Datasette metadata that makes an archive explain itself.

Descriptions, label columns, facets, search and hidden tables come from the
packaged ``archiver/data/metadata.yml``; canned queries and the dashboard from
``archiver.export.queries``, the same SQL ``archiver stats`` runs. Datasette
names a database after its file's stem, so the metadata is built for that name.

Stored HTML (``embeds.snippet``) must never be rendered live: Datasette escapes
cell values, and the markdown renderer that datasette-dashboards pulls in is
told to render no column (its default renders any ``*_markdown`` column).
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError, UsageError
from archiver.export import queries
from archiver.store.schema import FTS

FTS_SHADOW_SUFFIXES = ("", "_config", "_data", "_docsize", "_idx")
DASHBOARD = "archive-health"


class MissingServeDependency(ArchiverError):
    """Datasette (or PyYAML, which comes with it) is not installed: pip install 'archiver[serve]'."""

    exit_code = 2


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise MissingServeDependency(
            "PyYAML is not installed; install the serve extra: pip install 'archiver[serve]'"
        ) from None
    return yaml


def shipped() -> dict[str, Any]:
    """The packaged metadata.yml as a dict (database section still unnamed)."""
    text = (resources.files("archiver") / "data" / "metadata.yml").read_text(encoding="utf-8")
    return _yaml().safe_load(text)


def fts_tables() -> list[str]:
    """The full-text tables and their shadow tables: internal, hidden in Datasette."""
    return [f"{table}_fts{suffix}" for table in FTS for suffix in FTS_SHADOW_SUFFIXES]


def build_metadata(db_name: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Datasette metadata for the archive served under ``db_name``.

    ``extra`` (a user's own metadata file) is merged over ours: a study can set its
    own title and licence, add queries or describe tables of its own.
    """
    data = shipped()
    database = data.pop("database")
    tables = database.setdefault("tables", {})
    for name in fts_tables():
        tables.setdefault(name, {})["hidden"] = True
    database["queries"] = queries.canned_queries()
    data["databases"] = {db_name: database}
    data["plugins"] = {
        "datasette-dashboards": {DASHBOARD: dashboard(db_name)},
        # its default renders any *_markdown column as HTML; archiver wants none rendered
        "datasette-render-markdown": {"patterns": [], "columns": []},
    }
    if extra:
        data = merge(data, extra)
    return data


def load_extra(path: str | Path) -> dict[str, Any]:
    """A user's metadata file (YAML or JSON), to merge over the shipped one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read metadata file {path}: {exc.strerror}") from None
    yaml = _yaml()
    try:
        data = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as exc:  # the message names the line
        raise UsageError(f"{path} is not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a mapping (title:, databases:, ...), not {type(data).__name__}")
    return data


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge of two mappings: values of ``over`` win, nested mappings merge."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# -- the dashboard (datasette-dashboards) ------------------------------------------------

_STATUS_COLOURS = {
    "domain": ["available", "deleted", "protected", "suspended", "restricted", "not_found", "unsupported", "error"],
    "range": ["#2e7d32", "#c62828", "#6a1b9a", "#ad1457", "#ef6c00", "#757575", "#90a4ae", "#fbc02d"],
}


_COUNT = {"format": "d", "tickMinStep": 1}  # counts: whole-number ticks


def _metric(db: str, title: str, field: str, suffix: str = "") -> dict[str, Any]:
    return {"title": title, "db": db, "query": queries.HEADLINE.strip(), "library": "metric",
            "display": {"field": field, "suffix": suffix}}


def dashboard(db: str) -> dict[str, Any]:
    """The "archive health" dashboard: the pictures a researcher would rather look at."""
    return {
        "title": "Archive health",
        "description": "How many embedded posts went dark, where, and when; every figure is also in "
                       "'archiver stats'. Charts read the archive live.",
        "layout": [
            ["posts", "dark", "percent-dark", "articles"],
            ["dark-per-week", "dark-per-week", "site-availability", "site-availability"],
            ["checks-per-night", "checks-per-night", "checks-per-night", "checks-per-night"],
        ],
        "charts": {
            "posts": _metric(db, "Posts with a known status", "posts_known"),
            "dark": _metric(db, "Posts gone dark", "posts_dark"),
            "percent-dark": _metric(db, "Share gone dark", "percent_dark", " %"),
            "articles": _metric(db, "Articles", "articles"),
            "dark-per-week": {
                "title": "Posts going dark per week, by platform",
                "db": db,
                "query": queries.DARK_PER_WEEK.strip(),
                "library": "vega-lite",
                "display": {
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {"field": "week", "type": "ordinal", "title": "week starting (Monday, UTC)",
                              "axis": {"labelAngle": 0}},
                        "y": {"field": "posts", "type": "quantitative", "title": "posts gone dark", "axis": _COUNT},
                        "color": {"field": "platform", "type": "nominal"},
                    },
                },
            },
            "site-availability": {
                "title": "Share of each site's embeds still available",
                "db": db,
                "query": queries.SITE_AVAILABILITY.strip(),
                "library": "vega-lite",
                "display": {
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "y": {"field": "site", "type": "nominal", "sort": "x", "title": None},
                        "x": {"field": "share_available", "type": "quantitative", "title": "still available",
                              "scale": {"domain": [0, 1]}, "axis": {"format": "%"}},
                        "tooltip": [{"field": "site"}, {"field": "embeds"}, {"field": "known"},
                                    {"field": "available"},
                                    {"field": "share_available", "format": ".1%"}],
                    },
                },
            },
            "checks-per-night": {
                "title": "Checks per night, by outcome",
                "db": db,
                "query": queries.CHECKS_PER_NIGHT.strip(),
                "library": "vega-lite",
                "display": {
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {"field": "night", "type": "ordinal", "title": "night (UTC date)",
                              "axis": {"labelAngle": 0}},
                        "y": {"field": "checks", "type": "quantitative", "title": "checks", "axis": _COUNT},
                        "color": {"field": "status", "type": "nominal", "scale": _STATUS_COLOURS},
                    },
                },
            },
        },
    }
