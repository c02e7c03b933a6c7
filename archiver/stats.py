"""``archiver stats``: the dashboard's headline figures, in the terminal.

The numbers come from the SQL in ``archiver.export.queries`` that the Datasette
dashboard charts, so the terminal and the browser never disagree. Reading only:
the archive is opened with ``query_only`` on.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from archiver.export import queries
from archiver.export.source import Source


@dataclass(frozen=True)
class Stats:
    headline: dict[str, Any]
    posts_by_status: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)  # share of each site's embeds still available
    dark_per_week: list[dict[str, Any]] = field(default_factory=list)
    checks_per_night: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def collect(source: Source, *, weeks: int = 12, nights: int = 14) -> Stats:
    """The figures; the time series keep only their last ``weeks`` weeks and ``nights`` nights."""
    def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in source.conn.execute(sql)]

    per_week = rows(queries.DARK_PER_WEEK)
    recent_weeks = sorted({r["week"] for r in per_week})[-weeks:] if weeks > 0 else []
    per_night = rows(queries.CHECKS_PER_NIGHT)
    recent_nights = sorted({r["night"] for r in per_night})[-nights:] if nights > 0 else []
    return Stats(
        headline=rows(queries.HEADLINE)[0],
        posts_by_status=rows(queries.POSTS_BY_STATUS),
        sites=rows(queries.SITE_AVAILABILITY),
        dark_per_week=[r for r in per_week if r["week"] in recent_weeks],
        checks_per_night=[r for r in per_night if r["night"] in recent_nights],
    )


def _percent(part: int | None, whole: int | None) -> str:
    return f"{100.0 * (part or 0) / whole:.1f}%" if whole else "-"


def _table(header: list[str], body: list[list[Any]]) -> list[str]:
    cells = [header] + [["" if v is None else str(v) for v in row] for row in body]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    right = [all(isinstance(row[i], (int, float)) for row in body) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(row, widths, right)]
        lines.append("  " + "  ".join(parts).rstrip())
    return lines


def format_text(stats: Stats, label: str) -> str:
    """The figures as a reader wants them on a terminal."""
    h = stats.headline
    out = [
        f"archive {label}",
        f"  {h['articles']} articles on {h['sites']} sites, {h['embeds']} embeds, {h['posts']} posts, "
        f"{h['checks']} checks, {h['exchanges']} HTTP exchanges, {h['runs']} runs"
        + (f" ({h['first_run'][:10]} to {h['last_run'][:10]})" if h["first_run"] else ""),
        f"  gone dark: {h['posts_dark']} of {h['posts_known']} posts with a known status "
        f"({_percent(h['posts_dark'], h['posts_known'])})",
        "",
        "posts by status",
        *_table(["status", "posts", "share"],
                [[r["status"], r["posts"], _percent(r["posts"], h["posts"])] for r in stats.posts_by_status]),
        "",
        "share of each site's embeds still available (of those with a known status)",
        *_table(["site", "embeds", "known", "available", "share"],
                [[r["site"], r["embeds"], r["known"] or 0, r["available"] or 0,
                  _percent(r["available"], r["known"])] for r in stats.sites]),
    ]
    platforms = sorted({r["platform"] for r in stats.dark_per_week})
    out += ["", "posts going dark per week (week starting Monday, UTC), by platform"]
    if platforms:
        by_week: dict[str, dict[str, int]] = {}
        for r in stats.dark_per_week:
            by_week.setdefault(r["week"], {})[r["platform"]] = r["posts"]
        out += _table(["week", *platforms, "total"],
                      [[week, *(counts.get(p, 0) for p in platforms), sum(counts.values())]
                       for week, counts in sorted(by_week.items())])
    else:
        out.append("  none")
    found = {r["status"] for r in stats.checks_per_night}
    order = ("available",) + queries.DARK_STATUSES + ("unsupported", "error")
    statuses = [s for s in order if s in found] + sorted(found - set(order))
    out += ["", "checks per night (UTC date), by outcome"]
    if statuses:
        by_night: dict[str, dict[str, int]] = {}
        for r in stats.checks_per_night:
            by_night.setdefault(r["night"], {})[r["status"]] = r["checks"]
        out += _table(["night", "checks", *statuses],
                      [[night, sum(counts.values()), *(counts.get(s, 0) for s in statuses)]
                       for night, counts in sorted(by_night.items())])
    else:
        out.append("  none")
    return "\n".join(out)
