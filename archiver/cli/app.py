"""The command group, the option bundles every command shares, and the entry point.

Only ``archiver/cli/`` imports click. ``main`` turns an ``ArchiverError`` into one
line on stderr and its exit code (0 done, 1 items failed under --fail, 2 usage
or configuration error, 3 database busy, 130 interrupted); stdout carries data only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from archiver import __version__
from archiver.errors import ArchiverError, UsageError
from archiver.settings import DEFAULT_DB, load_settings


def network_options(fn: Callable) -> Callable:
    """Options shared by every command that talks to the network."""
    options = [
        click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
                     help=f"SQLite archive to write (default {DEFAULT_DB})."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                     help="TOML file with settings (see docs/configuration.md)."),
        click.option("--concurrency", type=click.IntRange(min=1), default=None,
                     help="Articles and lookups in flight at once (default 16)."),
        click.option("--connect-to", "connect_to", multiple=True, metavar="FROM=TO",
                     help="Send requests for origin FROM (scheme://host[:port]) to origin TO; URLs and Host "
                          "headers stay FROM's. Repeatable; also ARCHIVER_CONNECT_TO (comma-separated)."),
        click.option("--allow-private", is_flag=True, default=None,
                     help="Allow private, loopback and link-local destinations (the address guard is off)."),
        click.option("--ignore-robots", "ignore_robots", is_flag=True, default=None,
                     help="Fetch pages that robots.txt disallows (recorded in the run's settings)."),
        click.option("--delay", "per_host_delay", type=click.FloatRange(min=0), default=None,
                     help="Minimum seconds between two requests to one host (default 1.0)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def settings_from(**kwargs: Any):
    config_path = kwargs.pop("config_path", None)
    connect_to = kwargs.pop("connect_to", ()) or None
    return load_settings(config_path, connect_to=connect_to, **kwargs)


def start_workers(settings: Any) -> None:
    """Start the forkserver the run's processes come from, before this process's heavy imports.

    Its preload (selectolax, lxml, httpx, archiver: about 0.4 s) then runs on the other
    core while this process imports the pipeline and opens the database; the
    first extraction or resolver process started later is a fork, not a wait.
    """
    if settings.starts_processes:
        from archiver import workers

        try:
            workers.context()
        except OSError:  # no forkserver here: the run's own start of its processes meets it and says so
            pass


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
def cli() -> None:
    """Keep the social-media posts that news articles embed.

    archiver fetches articles, finds every embedded post and outbound link, asks
    each platform whether the post is still there, and stores every HTTP exchange
    with its provenance in one SQLite file.
    """



def run_options(fn: Callable) -> Callable:
    """Options of every command that makes a run: failure policy, report, freshness."""
    options = [
        click.option("--fail", is_flag=True, help="Exit 1 if any item failed (default: report and go on)."),
        click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
                     help="Write a JSON report of the run (outcome, counts, failures) to this file."),
        click.option("--refresh-after", "refresh_after", default=None, metavar="DURATION",
                     help="Do not fetch again an article fetched less than DURATION ago (default 20h; "
                          "0 fetches everything)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def close_run(command: str, reports: list, settings: Any, fail: bool, report_path: str | None) -> None:
    """Skipped and failed items, one summary line per run on stderr, the JSON report, and the exit code.

    Exit 130 when a run was interrupted; 1 under --fail when any item failed or was skipped; else 0.
    """
    for report in reports:
        for item in getattr(report, "skipped", ()):
            click.echo(f"archiver {command}: skipped {item}", err=True)
        for failure in report.failures:
            click.echo(f"archiver {command}: failed {failure}", err=True)
    for report in reports:
        click.echo(report.summary(), err=True)
    if report_path:
        runs = [r.as_json() for r in reports]
        body = {**runs[0], "db": settings.db_path} if len(runs) == 1 else {"db": settings.db_path, "runs": runs}
        Path(report_path).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    if any(r.outcome == "interrupted" for r in reports):
        sys.exit(130)
    if fail and any(r.failures or getattr(r, "skipped", ()) for r in reports):
        sys.exit(1)


def db_option(fn: Callable) -> Callable:
    """--db for commands that read the archive."""
    return click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
                        help=f"SQLite archive to read (default {DEFAULT_DB}).")(fn)


def selection_options(fn: Callable) -> Callable:
    """Which exchanges a WARC or WACZ export takes."""
    options = [
        click.option("--run", "run_id", type=click.IntRange(min=1), default=None, metavar="ID",
                     help="Only the exchanges of this run (see the runs table)."),
        click.option("--since", default=None, metavar="DATE",
                     help="Only exchanges started at or after DATE (2026-11-01 or an ISO 8601 time; UTC if no zone)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def output_option(fn: Callable) -> Callable:
    return click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
                        show_default=True, help="File to write ('-' for stdout).")(fn)


def db_path_of(db_path: str | None) -> str:
    return settings_from(db_path=db_path).db_path


def archive_source(db_path: str | None):
    from archiver.export.source import Source

    return Source(db_path_of(db_path))


def print_table(rows: list[dict], columns: tuple[str, ...]) -> None:
    cells = [[str(r.get(c) or "") for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


class Progress:
    """A progress bar on a terminal only; nothing in cron logs or pipes. It starts once the total is known."""

    def __init__(self) -> None:
        self.bar = None

    def start(self, total: int) -> None:
        if sys.stderr.isatty() and self.bar is None:
            self.bar = click.progressbar(length=total, label="articles", file=sys.stderr)
            self.bar.__enter__()

    def tick(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every expected failure into one line and an exit code."""
    prog = "archiver"
    try:
        cli.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo(f"{prog}: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:  # usage errors: bad option, missing argument
        where = f"{prog} {exc.ctx.info_name}" if getattr(exc, "ctx", None) and exc.ctx.info_name != prog else prog
        click.echo(f"{where}: {exc.format_message()} (see '{where} --help')", err=True)
        sys.exit(UsageError.exit_code)
    except ArchiverError as exc:
        click.echo(f"{prog}: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(f"{prog}: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)


