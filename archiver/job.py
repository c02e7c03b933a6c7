"""A job file: everything a nightly run needs, so that cron or a systemd timer is one command.

A job file is TOML. Settings (any key of docs/configuration.md) sit at the top
level or under ``[archiver]``; ``[sources]`` says where the articles come from;
``[recheck]`` says which posts to check again after the crawl. See
docs/nightly.md for a full example.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from archiver.errors import ConfigError
from archiver.settings import Settings, load_settings, parse_duration

SOURCE_KEYS = {"urls", "lists", "feeds", "sitemaps", "files", "warcs", "datasets", "since"}
DATASET_KEYS = {"path", "url", "html", "text", "published", "id", "format"}
RECHECK_KEYS = {"older_than", "platforms", "limit", "enabled"}


@dataclass(frozen=True)
class DatasetSpec:
    path: str
    url: str | None = None  # column names
    html: str | None = None
    text: str | None = None
    published: str | None = None
    id: str | None = None
    format: str | None = None  # jsonl or csv; from the suffix when absent


@dataclass(frozen=True)
class SourcesSpec:
    urls: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    warcs: tuple[str, ...] = ()
    datasets: tuple[DatasetSpec, ...] = ()
    since: datetime | None = None


@dataclass(frozen=True)
class RecheckSpec:
    enabled: bool = True
    older_than: float = 20 * 3600.0
    platforms: tuple[str, ...] = ()
    limit: int | None = None


@dataclass(frozen=True)
class Job:
    path: Path
    settings: Settings
    sources: SourcesSpec = field(default_factory=SourcesSpec)
    recheck: RecheckSpec = field(default_factory=RecheckSpec)


def parse_date(text: str, where: str) -> datetime:
    """A date or date-time (ISO 8601); naive values are UTC."""
    try:
        value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where} must be a string or a list of strings")


def load_job(path: str | Path, **overrides: Any) -> Job:
    """Read and check a job file; relative paths in it are relative to the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"job file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"job file {path} is not valid TOML: {exc}") from None
    settings = load_settings(path, **overrides)
    base = path.parent
    if not Path(settings.db_path).is_absolute():
        settings = replace(settings, db_path=str(base / settings.db_path))
    return Job(path, settings, _sources(data.get("sources", {}), path, base), _recheck(data.get("recheck", {}), path))


def _local(values: tuple[str, ...], base: Path) -> tuple[str, ...]:
    return tuple(v if Path(v).is_absolute() else str(base / v) for v in values)


def _sources(section: dict, path: Path, base: Path) -> SourcesSpec:
    unknown = set(section) - SOURCE_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key [sources].{sorted(unknown)[0]}")
    datasets = []
    for n, item in enumerate(section.get("datasets", []), 1):
        if not isinstance(item, dict) or "path" not in item:
            raise ConfigError(f"{path}: [[sources.datasets]] number {n} needs a path")
        bad = set(item) - DATASET_KEYS
        if bad:
            raise ConfigError(f"{path}: unknown key {sorted(bad)[0]!r} in [[sources.datasets]] number {n}")
        spec = {k: str(v) for k, v in item.items()}
        spec["path"] = _local((spec["path"],), base)[0]
        datasets.append(DatasetSpec(**spec))
    since = section.get("since")
    return SourcesSpec(
        urls=_strings(section.get("urls", []), f"{path}: [sources].urls"),
        lists=_local(_strings(section.get("lists", []), f"{path}: [sources].lists"), base),
        feeds=_strings(section.get("feeds", []), f"{path}: [sources].feeds"),
        sitemaps=_strings(section.get("sitemaps", []), f"{path}: [sources].sitemaps"),
        files=_local(_strings(section.get("files", []), f"{path}: [sources].files"), base),
        warcs=_local(_strings(section.get("warcs", []), f"{path}: [sources].warcs"), base),
        datasets=tuple(datasets),
        since=parse_date(since, f"{path}: [sources].since") if since is not None else None,
    )


def _recheck(section: dict, path: Path) -> RecheckSpec:
    unknown = set(section) - RECHECK_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key [recheck].{sorted(unknown)[0]}")
    try:
        older = parse_duration(section.get("older_than", "20h"))
    except ValueError:
        raise ConfigError(f"{path}: [recheck].older_than is not a duration (like 12h, 7d)") from None
    limit = section.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"{path}: [recheck].limit must be a positive whole number")
    return RecheckSpec(
        enabled=bool(section.get("enabled", True)),
        older_than=older,
        platforms=_strings(section.get("platforms", []), f"{path}: [recheck].platforms"),
        limit=limit,
    )
