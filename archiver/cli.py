"""The command line: a thin shell over the library.

Only this module imports click. It turns ``ArchiverError`` into one line on
stderr and its exit code (0 done, 1 items failed under --fail, 2 usage or
configuration error, 3 database busy); stdout carries data only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from archiver import __version__
from archiver.errors import ArchiverError, InputError, UsageError
from archiver.settings import DEFAULT_DB, load_settings

EXTRACT_FIELDS = ("source", "platform", "post_id", "post_url", "author_handle", "author_name", "kind",
                  "fallback_text", "shown_date", "lang", "position", "region", "url_as_found")


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
        click.option("--delay", "per_host_delay", type=click.FloatRange(min=0), default=None,
                     help="Minimum seconds between two requests to one host (default 1.0)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _settings(**kwargs: Any):
    config_path = kwargs.pop("config_path", None)
    connect_to = kwargs.pop("connect_to", ()) or None
    return load_settings(config_path, connect_to=connect_to, **kwargs)


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


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("-i", "--input", "inputs", multiple=True, metavar="FILE|-",
              help="Read article URLs from FILE, one per line ('-' for stdin). Repeatable.")
@run_options
@network_options
def crawl(urls: tuple[str, ...], inputs: tuple[str, ...], fail: bool, report_path: str | None,
          **options: Any) -> None:
    """Fetch articles, extract their embeds and links, and check each new post.

    Items left unfinished by an interrupted or killed run on the same database
    are taken up first; with no URLs, crawl only finishes those.

    \b
    Examples:
      archiver crawl https://example.com/news/story.html
      archiver crawl -i urls.txt --db study.db
    """
    from archiver import sources

    settings = _settings(**options)
    articles = sources.from_arguments(urls)
    for name in inputs:
        good, bad = sources.from_list(name)
        articles.extend(good)
        for item in bad:
            click.echo(f"archiver crawl: skipped {item}", err=True)
    _run_articles("crawl", articles, settings, fail, report_path)


def _run_articles(command: str, articles: list, settings: Any, fail: bool, report_path: str | None) -> None:
    """Crawl the articles (and the queue's leftovers) under the run lock; report; exit by the outcome."""
    from archiver import pipeline
    from archiver.store import Queue

    with pipeline.archive(settings) as store:
        if not articles and not Queue(store.db).pending():
            raise InputError("no article URLs given (pass URLs, or -i FILE) and no unfinished items to resume")
        progress = _progress(len(articles))
        try:
            report = pipeline.run_crawl(articles, settings, store, sys.argv, on_article=progress.tick)
        finally:
            progress.close()
    for failure in report.failures:
        click.echo(f"archiver {command}: failed {failure}", err=True)
    click.echo(report.summary(), err=True)
    if report_path:
        Path(report_path).write_text(json.dumps({**report.as_json(), "db": settings.db_path}, indent=2) + "\n",
                                     encoding="utf-8")
    if report.outcome == "interrupted":
        sys.exit(130)
    if fail and report.failures:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True,
              help="jsonl: one JSON object per embed; table: aligned columns for reading.")
def extract(paths: tuple[str, ...], fmt: str) -> None:
    """Find the embeds in local HTML or text files (offline; no network).

    A directory stands for the .html, .htm and .txt files in it. Files ending in
    .txt are read as plain text (embeds that survive as text); all others as HTML.
    """
    from archiver.extract import extract_document

    files: list[tuple[str, Path]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend((str(p), p) for p in sorted(path.iterdir()) if p.suffix.lower() in (".html", ".htm", ".txt"))
        elif path.exists():
            files.append((given, path))
        else:
            raise InputError(f"{given}: no such file or directory")
    rows = []
    for label, path in files:
        data = path.read_bytes()
        if b"\x00" in data[:8192]:
            click.echo(f"archiver extract: skipped {label}: binary file, not HTML or text", err=True)
            continue
        media = "text" if path.suffix.lower() == ".txt" else "html"
        extraction = extract_document(data, url=None, media=media)
        for embed in extraction.embeds:
            row = {
                "source": label,
                "platform": embed.platform,
                "post_id": embed.post.post_id if embed.post else None,
                "post_url": embed.post.url if embed.post else None,
                "author_handle": embed.author_handle,
                "author_name": embed.author_name,
                "kind": embed.kind,
                "fallback_text": embed.fallback_text,
                "shown_date": embed.shown_date,
                "lang": embed.lang,
                "position": embed.position,
                "region": embed.region,
                "url_as_found": embed.url_as_found,
            }
            if fmt == "jsonl":
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                rows.append(row)
    if fmt == "table":
        _print_table(rows, ("source", "platform", "post_id", "author_handle", "kind", "region"))


def _print_table(rows: list[dict], columns: tuple[str, ...]) -> None:
    cells = [[str(r.get(c) or "") for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


class _progress:
    """A progress bar on a terminal only; nothing in cron logs or pipes."""

    def __init__(self, total: int):
        self.bar = None
        if sys.stderr.isatty():
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

