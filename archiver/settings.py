"""One frozen settings object, with every default named in one place.

Precedence, lowest first: the defaults below, a TOML config file (``--config``),
``ARCHIVER_*`` environment variables, command-line options. Every remote
endpoint is a setting so that tests, the demo and mirrors can point it elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from archiver import __version__
from archiver.errors import ConfigError

DEFAULT_DB = "data/archive.db"
DEFAULT_CONTACT_URL = "https://github.com/archiver-project/archiver"
DEFAULT_CONCURRENCY = 16  # articles and lookups in flight at once
DEFAULT_PER_HOST_CONCURRENCY = 2  # requests in flight to one host
DEFAULT_PER_HOST_DELAY = 1.0  # seconds between two request starts to one host
DEFAULT_TIMEOUT = 30.0  # seconds for one request, body included
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024  # after decompression
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_RETRIES = 3  # extra attempts after a retryable failure
DEFAULT_BACKOFF = 1.0  # seconds, doubled per attempt, with jitter
DEFAULT_CLIENTS = 8  # httpx clients the pool spreads origins over (see docs/architecture.md)
DEFAULT_REFRESH_AFTER = 20 * 3600.0  # seconds: an article fetched more recently is not fetched again
DEFAULT_EXTRACT_WORKERS = 1  # processes that parse pages beside the event loop (0: a thread instead)
DEFAULT_RESOLVER_PROCESS = True  # platform lookups in a process of their own (False: in the event loop)


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of every remote endpoint archiver calls."""

    twitter_syndication: str = "https://cdn.syndication.twimg.com/tweet-result"
    twitter_oembed: str = "https://publish.twitter.com/oembed"
    youtube_oembed: str = "https://www.youtube.com/oembed"
    vimeo_oembed: str = "https://vimeo.com/api/oembed.json"
    tiktok_oembed: str = "https://www.tiktok.com/oembed"
    reddit_oembed: str = "https://www.reddit.com/oembed"
    bluesky_oembed: str = "https://embed.bsky.app/oembed"
    bluesky_appview: str = "https://public.api.bsky.app/xrpc"
    meta_graph: str = "https://graph.facebook.com/v18.0"
    telegram: str = "https://t.me"


@dataclass(frozen=True)
class Settings:
    db_path: str = DEFAULT_DB
    contact_url: str = DEFAULT_CONTACT_URL
    concurrency: int = DEFAULT_CONCURRENCY
    per_host_concurrency: int = DEFAULT_PER_HOST_CONCURRENCY
    per_host_delay: float = DEFAULT_PER_HOST_DELAY
    timeout: float = DEFAULT_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    clients: int = DEFAULT_CLIENTS
    extract_workers: int = DEFAULT_EXTRACT_WORKERS
    resolver_process: bool = DEFAULT_RESOLVER_PROCESS
    refresh_after: float = DEFAULT_REFRESH_AFTER  # seconds; a duration such as "20h" in files and variables
    allow_private: bool = False
    ignore_robots: bool = False  # fetch what robots.txt disallows (recorded in runs.settings)
    connect_to: tuple[tuple[str, str], ...] = ()  # (from origin, to origin)
    meta_access_token: str | None = field(default=None, repr=False)
    endpoints: Endpoints = field(default_factory=Endpoints)

    @property
    def user_agent(self) -> str:
        return f"archiver/{__version__} (+{self.contact_url})"

    @property
    def starts_processes(self) -> bool:
        """Whether a crawl runs extraction or platform lookups in processes of its own (from the forkserver)."""
        return self.extract_workers > 0 or self.resolver_process

    def public(self) -> dict[str, Any]:
        """The settings as stored in ``runs.settings``: secrets masked."""
        data = dataclasses.asdict(self)
        if data.get("meta_access_token"):
            data["meta_access_token"] = "***"
        data["connect_to"] = [f"{a}={b}" for a, b in self.connect_to]
        data["user_agent"] = self.user_agent
        return data


def parse_connect_to(values: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Parse ``FROM=TO`` origin pairs (``scheme://host[:port]``)."""
    from archiver.fetch.connect_to import parse_mapping  # the fetch layer owns origin syntax

    return tuple(parse_mapping(v) for v in values)


_SCALAR_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name not in ("endpoints", "connect_to")}


DURATION_FIELDS = frozenset({"refresh_after"})
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str | float | int) -> float:
    """Seconds from "90", "90s", "30m", "12h", "7d", "2w" (or a number); ValueError otherwise."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        value = str(text).strip().lower()
        unit = value[-1:] if value[-1:] in _UNITS else "s"
        number = value[:-1] if value[-1:] in _UNITS else value
        seconds = float(number) * _UNITS[unit]
    if seconds < 0 or seconds != seconds:
        raise ValueError(text)
    return seconds


def _coerce(name: str, value: Any, where: str) -> Any:
    default = getattr(Settings(), name)
    if name in DURATION_FIELDS:
        try:
            return parse_duration(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {name} = {value!r} is not a duration (like 90s, 30m, 12h, 7d)") from None
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off", ""):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return None if value is None else str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} = {value!r} is not a valid {type(default).__name__}") from None


def load_settings(
    config_path: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from defaults, a TOML file, the environment and overrides.

    ``overrides`` with value None are ignored, so CLI options can be passed through
    as they are. ``connect_to`` accumulates from every layer.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    endpoints: dict[str, str] = {}
    connect_to: list[str] = []
    known_endpoints = {f.name for f in dataclasses.fields(Endpoints)}

    if config_path is not None:
        path = Path(config_path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        section = data.get("archiver", data)
        for name, value in section.items():
            if name == "endpoints":
                for ep, url in dict(value).items():
                    if ep not in known_endpoints:
                        raise ConfigError(f"{path}: unknown endpoint {ep!r}")
                    endpoints[ep] = str(url)
            elif name == "connect_to":
                connect_to.extend([value] if isinstance(value, str) else list(value))
            elif name in _SCALAR_FIELDS:
                values[name] = _coerce(name, value, str(path))
            elif isinstance(value, dict):
                continue  # other sections (sources, recheck) belong to other commands
            else:
                raise ConfigError(f"{path}: unknown setting {name!r}")

    for name in _SCALAR_FIELDS:
        var = f"ARCHIVER_{name.upper()}"
        if var in env:
            values[name] = _coerce(name, env[var], var)
    for ep in known_endpoints:
        var = f"ARCHIVER_ENDPOINT_{ep.upper()}"
        if var in env:
            endpoints[ep] = env[var]
    if env.get("ARCHIVER_CONNECT_TO"):
        connect_to.extend(v.strip() for v in env["ARCHIVER_CONNECT_TO"].split(",") if v.strip())

    for name, value in overrides.items():
        if value is None:
            continue
        if name == "connect_to":
            connect_to.extend(value)
        elif name == "endpoints":
            endpoints.update(value)
        elif name in _SCALAR_FIELDS:
            values[name] = _coerce(name, value, "option") if name in DURATION_FIELDS else value
        else:
            raise TypeError(f"unknown setting {name!r}")

    for name in ("concurrency", "per_host_concurrency", "clients", "max_redirects"):
        if name in values and values[name] < 1 and name != "max_redirects":
            raise ConfigError(f"{name} must be at least 1, not {values[name]}")
    return Settings(**values, connect_to=parse_connect_to(connect_to), endpoints=Endpoints(**endpoints))
