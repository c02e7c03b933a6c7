"""The command line: a thin shell over the library.

Only this module imports click. It turns ``ArchiverError`` into one line on
stderr and its exit code (0 done, 1 items failed under --fail, 2 usage or
configuration error, 3 database busy); stdout carries data only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

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
        click.option("--ignore-robots", "ignore_robots", is_flag=True, default=None,
                     help="Fetch pages that robots.txt disallows (recorded in the run's settings)."),
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


def input_options(fn: Callable) -> Callable:
    """Where articles come from, besides the URLs and paths given as arguments."""
    options = [
        click.option("-i", "--input", "inputs", multiple=True, metavar="FILE|-",
                     help="Read article URLs from FILE, one per line ('-' for stdin). Repeatable."),
        click.option("--feed", "feeds", multiple=True, metavar="URL",
                     help="An RSS or Atom feed to fetch and take articles from. Repeatable."),
        click.option("--sitemap", "sitemaps", multiple=True, metavar="URL",
                     help="A sitemap, sitemap index or news sitemap to fetch and take articles from. Repeatable."),
        click.option("--since", default=None, metavar="DATE",
                     help="Only feed, sitemap and dataset entries dated on or after DATE (ISO date, or a "
                          "duration back from now such as 7d); undated entries are kept."),
        click.option("--url-column", default=None, metavar="NAME", help="Dataset column with the article URL "
                     "(default: url)."),
        click.option("--html-column", default=None, metavar="NAME", help="Dataset column with the article HTML."),
        click.option("--text-column", default=None, metavar="NAME", help="Dataset column with the article text."),
        click.option("--date-column", default=None, metavar="NAME", help="Dataset column with the publication "
                     "date."),
        click.option("--id-column", default=None, metavar="NAME", help="Dataset column with the row id (kept)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@cli.command()
@click.argument("inputs_given", nargs=-1, metavar="[URL|PATH]...")
@input_options
@run_options
@network_options
def crawl(inputs_given: tuple[str, ...], inputs: tuple[str, ...], feeds: tuple[str, ...], sitemaps: tuple[str, ...],
          since: str | None, url_column: str | None, html_column: str | None, text_column: str | None,
          date_column: str | None, id_column: str | None, fail: bool, report_path: str | None,
          **options: Any) -> None:
    """Fetch articles, extract their embeds and links, and check each new post.

    Each argument is an article URL or a local path: an HTML or text file, a
    directory of them, a feed or sitemap file, a JSONL or CSV dataset, a WARC or
    WACZ file, or a list of URLs. Items left unfinished by an interrupted or
    killed run on the same database are taken up first; with no input, crawl
    only finishes those.

    \b
    Examples:
      archiver crawl https://example.com/news/story.html
      archiver crawl -i urls.txt --db study.db
      archiver crawl --feed https://example.com/rss.xml --since 7d
      archiver crawl saved-pages/ crawl.warc.gz
      archiver crawl articles.csv --url-column link --html-column body --id-column id
    """
    from archiver import sources
    from archiver.sources.local import Gathered, read_local

    settings = _settings(**options)
    cut = sources.parse_since(since) if since else None
    columns = sources.Columns(url=url_column or ("url" if not (html_column or text_column) else None),
                              html=html_column, text=text_column, published=date_column, row_id=id_column)
    gathered = Gathered()
    for n, given in enumerate(inputs_given, 1):
        if "://" in given or not Path(given).exists():
            gathered.articles += _argument(given, n)
        else:
            read_local(given, gathered, columns=columns, since=cut)
    for name in inputs:
        good, bad = sources.from_list(name)
        gathered.articles += good
        gathered.bad += bad
    for option, urls in (("--feed", feeds), ("--sitemap", sitemaps)):
        for url in urls:
            try:
                sources.check_url(url)
            except InputError as exc:
                raise InputError(f"{option} {url}: {exc}") from None
    report = _crawl_gathered("crawl", gathered, settings, feeds=feeds, sitemaps=[*gathered.sitemaps, *sitemaps],
                             since=cut)
    _close_run("crawl", [report], settings, fail, report_path)


def _argument(given: str, n: int) -> list:
    """An argument that is not an existing path must be an article URL."""
    from archiver import sources

    return [sources.ArticleInput(_checked(given, n), f"argument {n}")]


def _checked(given: str, n: int) -> str:
    from archiver import sources

    try:
        return sources.check_url(given)
    except InputError as exc:
        hint = "" if "://" in given else " and no such file or directory"
        raise InputError(f"argument {n}: {exc}{hint}") from None


def _crawl_gathered(command: str, gathered: Any, settings: Any, *, feeds: Sequence[str] = (),
                    sitemaps: Sequence[str] = (), since: Any = None) -> Any:
    """Crawl under the run lock (queue leftovers first); returns the run's report."""
    from archiver import pipeline
    from archiver.store import Queue

    with pipeline.archive(settings) as store:
        if not (gathered.articles or feeds or sitemaps or Queue(store.db).pending()):
            for item in gathered.bad:
                click.echo(f"archiver {command}: skipped {item}", err=True)
            raise InputError("no articles given (pass URLs or paths, -i FILE, --feed or --sitemap) "
                             "and no unfinished items to resume")
        progress = _progress(len(gathered.articles))
        try:
            return pipeline.run_crawl(gathered.articles, settings, store, sys.argv, feeds=feeds, sitemaps=sitemaps,
                                      since=since, skipped=gathered.bad, on_article=progress.tick)
        finally:
            progress.close()


def _close_run(command: str, reports: list, settings: Any, fail: bool, report_path: str | None) -> None:
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


# -- reading the archive: serve, stats, export, import (issue 6) ---------------------------

POST_STATUSES = ("available", "deleted", "protected", "suspended", "restricted", "not_found", "unsupported", "error")


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


def _db_path(db_path: str | None) -> str:
    return _settings(db_path=db_path).db_path


def _source(db_path: str | None):
    from archiver.export.source import Source

    return Source(_db_path(db_path))


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True, help="Port to listen on.")
@click.option("--metadata", "metadata_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Your own Datasette metadata (YAML or JSON), merged over archiver's: a study's title, "
                   "licence, more queries.")
@click.option("--print-metadata", is_flag=True,
              help="Print the metadata as JSON and exit (for datasette --metadata or datasette publish).")
def serve(db_path: str | None, host: str, port: int, metadata_path: str | None, print_metadata: bool) -> None:
    """Open the archive in Datasette: described tables, ready queries, search, a dashboard.

    \b
    Ready queries: posts_now_dark, most_embedded_accounts,
    embeds_per_site_per_month, articles_with_unavailable_embeds,
    post_status_history (?key=), outbound_links_by_host, embed_provenance.
    Dashboard: /-/dashboards/archive-health (figures as in archiver stats).
    Needs the serve extra: pip install 'archiver[serve]'.
    """
    from archiver import serve as serving
    from archiver.export.metadata import build_metadata, load_extra

    path = _db_path(db_path)
    extra = load_extra(metadata_path) if metadata_path else None
    if print_metadata:
        click.echo(json.dumps(build_metadata(serving.database_name(path), extra), indent=2, ensure_ascii=False))
        return
    serving.serve(path, host=host, port=port, extra_metadata=extra,
                  on_ready=lambda url: click.echo(f"archiver serve: {path} at {url} (Ctrl-C to stop)", err=True))


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: tables for reading; json: the same figures for scripts.")
@click.option("--weeks", type=click.IntRange(min=0), default=12, show_default=True,
              help="Weeks of 'going dark' to show.")
@click.option("--nights", type=click.IntRange(min=0), default=14, show_default=True,
              help="Nights of checks to show.")
def stats(db_path: str | None, fmt: str, weeks: int, nights: int) -> None:
    """Print the archive's headline figures (the dashboard's, in the terminal)."""
    from archiver import stats as figures

    with _source(db_path) as source:
        result = figures.collect(source, weeks=weeks, nights=nights)
        click.echo(result.to_json() if fmt == "json" else figures.format_text(result, str(source.path)))


@cli.group()
def export() -> None:
    """Write the archive in formats others read: WARC, WACZ, JSON Lines, CSV, ID lists."""


def _write_binary(out: str, write: Callable) -> Any:
    """Write to OUT through a temporary file renamed at the end, so a failed export leaves nothing."""
    if out == "-":
        return write(sys.stdout.buffer)
    target = Path(out)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as stream:
            result = write(stream)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result


@export.command("warc")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@db_option
@selection_options
def export_warc(out: str, db_path: str | None, run_id: int | None, since: str | None) -> None:
    """Write HTTP exchanges to a WARC file (gzipped per record unless OUT ends in .warc).

    \b
    A warcinfo record, then per exchange a request, a response (the body as stored,
    decoded of gzip/deflate, with consistent headers) and a metadata record with
    archiver's provenance. Check it with: warcio check OUT.warc.gz
    """
    from archiver.export.warc import Selection, parse_since, write_warc

    selection = Selection(run_id, parse_since(since) if since else None)
    with _source(db_path) as source:
        report = _write_binary(out, lambda stream: write_warc(
            source, stream, selection, gzip=not out.endswith(".warc"), filename=None if out == "-" else Path(out).name))
    click.echo(f"archiver export warc: {out}: {report.summary()}", err=True)


@export.command("wacz")
@click.argument("out", type=click.Path(dir_okay=False))
@db_option
@selection_options
@click.option("--title", default=None, help="The collection's title (default: archiver export of DB).")
def export_wacz(out: str, db_path: str | None, run_id: int | None, since: str | None, title: str | None) -> None:
    """Write HTTP exchanges as a WACZ (WARC, CDXJ index, pages, datapackage) for ReplayWeb.page."""
    from archiver.export.wacz import write_wacz
    from archiver.export.warc import Selection, parse_since

    selection = Selection(run_id, parse_since(since) if since else None)
    with _source(db_path) as source:
        report = _write_binary(out, lambda stream: write_wacz(source, stream, selection, title=title))
    click.echo(f"archiver export wacz: {out}: {report.summary()}, {len(report.pages)} pages", err=True)


def _export_rows(kind: str, table_or_sql: str, db_path: str | None, params: tuple, output: str,
                 spreadsheet: bool = False) -> None:
    from archiver.export import tables

    with _source(db_path) as source:
        columns, rows = tables.run(source, tables.query_for(source, table_or_sql), dict(params))
        with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
            if kind == "csv":
                n = tables.write_csv(columns, rows, out, spreadsheet=spreadsheet)
            else:
                n = tables.write_jsonl(columns, rows, out)
    if output != "-":
        click.echo(f"archiver export {kind}: {output}: {n} rows", err=True)


@export.command("jsonl")
@click.argument("table_or_sql")
@db_option
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
              help="A named parameter of the query (:NAME). Repeatable.")
@output_option
def export_jsonl(table_or_sql: str, db_path: str | None, params: tuple, output: str) -> None:
    """Write a table, view or SQL query as JSON Lines (one object per row; ids as strings).

    \b
    Examples:
      archiver export jsonl posts > posts.jsonl
      archiver export jsonl "select * from post_checks where post_key = :key" -p key twitter:20
    """
    _export_rows("jsonl", table_or_sql, db_path, params, output)


@export.command("csv")
@click.argument("table_or_sql")
@db_option
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
              help="A named parameter of the query (:NAME). Repeatable.")
@click.option("--spreadsheet", is_flag=True,
              help="For Excel and friends: long digit strings as =\"...\" so 64-bit ids are not rounded, "
                   "and cells starting with = + - @ prefixed with ' so they are not run as formulas.")
@output_option
def export_csv(table_or_sql: str, db_path: str | None, params: tuple, spreadsheet: bool, output: str) -> None:
    """Write a table, view or SQL query as CSV with a header row.

    \b
    Examples:
      archiver export csv embeds_status -o embeds.csv
      archiver export csv "select key, status from posts" --spreadsheet -o posts.csv
    """
    _export_rows("csv", table_or_sql, db_path, params, output, spreadsheet)


@export.command("ids")
@click.option("--platform", required=True, help="twitter, youtube, instagram, ... (as in posts.platform).")
@click.option("--status", "statuses", multiple=True, type=click.Choice(POST_STATUSES),
              help="Only posts with this current status. Repeatable.")
@click.option("--dark", is_flag=True, help="Only posts that went dark (deleted, protected, suspended, "
                                           "restricted, not_found).")
@click.option("--format", "fmt", type=click.Choice(["txt", "csv", "jsonl"]), default="txt", show_default=True,
              help="txt: one id a line, as hydrators read; csv: platform,post_id; jsonl: objects.")
@click.option("--spreadsheet", is_flag=True, help="With --format csv: ids as =\"...\" so spreadsheets keep them.")
@db_option
@output_option
def export_ids(platform: str, statuses: tuple[str, ...], dark: bool, fmt: str, spreadsheet: bool,
               db_path: str | None, output: str) -> None:
    """Write the post ids of one platform: the list researchers may share under platform terms."""
    from archiver.export import tables
    from archiver.export.queries import DARK_STATUSES

    wanted = list(statuses) + (list(DARK_STATUSES) if dark else [])
    with _source(db_path) as source:
        ids = tables.post_ids(source, platform, wanted)
    with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
        tables.write_ids(ids, platform.strip().lower(), out, fmt, spreadsheet=spreadsheet)
    click.echo(f"archiver export ids: {len(ids)} {platform} ids", err=True)


@cli.group("import")
def import_() -> None:
    """Bring captures made elsewhere into the archive."""


@import_.command("warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help=f"SQLite archive to write (default {DEFAULT_DB}).")
@click.option("--fail", is_flag=True, help="Exit 1 if a digest or body hash did not match.")
def import_warc(files: tuple[str, ...], db_path: str | None, fail: bool) -> None:
    """Import WARC files (archiver's own exports or any crawler's) as exchanges and bodies.

    Bodies keep their SHA-256; archiver's metadata records restore purpose, post,
    article, redirect chains and the headers as received. One run per import.
    """
    from archiver.export.warc_import import import_warcs
    from archiver.pipeline import archive

    with archive(_settings(db_path=db_path)) as store:  # the run lock, as for a crawl
        report = import_warcs(list(files), store, sys.argv)
    for problem in report.problems:
        click.echo(f"archiver import warc: {problem}", err=True)
    click.echo(report.summary(), err=True)
    if fail and report.problems:
        sys.exit(1)


# -- the history of each post: recheck, reextract (issue 4) ------------------------------------

@cli.command()
@click.option("--older-than", "older_than", default=None, metavar="DURATION",
              help="Check posts whose last check is older than DURATION: 90s, 30m, 12h, 7d (default 20h; "
                   "0s checks every post). Posts never checked are always due.")
@click.option("--platform", "platform_names", multiple=True, metavar="NAME",
              help="Only posts of this platform (twitter, youtube, ...). Repeatable.")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="Check at most N posts, those checked longest ago first.")
@click.option("--fail", is_flag=True, help="Exit 1 if any post could not be checked (an error verdict).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Write a JSON report of the run (outcome, counts, status changes) to this file.")
@network_options
def recheck(older_than: str | None, platform_names: tuple[str, ...], limit: int | None, fail: bool,
            report_path: str | None, **options: Any) -> None:
    """Check posts again and record what changed: status transitions and edits.

    Every check is appended to post_checks; a change of status (available to
    deleted, protected, suspended, restricted, not_found, and back) goes to
    post_transitions, an edited post to post_versions (the old text kept). An
    error verdict never counts as a change. See the views posts_gone_dark,
    embed_liveness_by_article and embed_liveness_by_site_day.

    \b
    Examples:
      archiver recheck --db study.db
      archiver recheck --older-than 7d --platform twitter --limit 5000
    """
    from archiver import pipeline
    from archiver.recheck import DEFAULT_OLDER_THAN, run_recheck
    from archiver.settings import parse_duration

    try:
        seconds = DEFAULT_OLDER_THAN if older_than is None else parse_duration(older_than)
    except ValueError:
        raise UsageError(f"--older-than: {older_than!r} is not a duration (like 90s, 30m, 12h, 7d)") from None
    settings = _settings(**options)
    with pipeline.archive(settings) as store:
        report = run_recheck(settings, store, sys.argv, older_than=seconds, platform_names=platform_names,
                             limit=limit)
    _close_run("recheck", [report], settings, fail, report_path)


@cli.command()
@click.option("--since", default=None, metavar="DATE",
              help="Only articles whose stored body was captured at or after DATE (2026-03-01 or ISO 8601; "
                   "UTC if no zone).")
@click.option("--platform", "platform_names", multiple=True, metavar="NAME",
              help="Only this platform's embeds are added, updated or retracted. Repeatable.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Write a JSON report of the run (outcome, counts) to this file.")
@network_options
def reextract(since: str | None, platform_names: tuple[str, ...], report_path: str | None, **options: Any) -> None:
    """Run this version's extractors over the stored article bodies; fetch no article again.

    Each article's latest good capture is read from the archive. Embeds found
    again are updated (extractor_version says which version found them), new
    ones are added, and ones no longer found in the same body are retracted
    (embeds.retracted_run_id), not deleted. The only requests made resolve posts
    that were never checked.

    \b
    Examples:
      archiver reextract --db study.db
      archiver reextract --since 2026-03-01 --platform threads
    """
    from archiver import pipeline
    from archiver.reextract import parse_since, run_reextract

    settings = _settings(**options)
    since_time = parse_since(since) if since else None
    with pipeline.archive(settings) as store:
        report = run_reextract(settings, store, sys.argv, since=since_time, platform_names=platform_names)
    _close_run("reextract", [report], settings, False, report_path)


@cli.command("run")
@click.argument("job_path", metavar="JOB.toml", type=click.Path(dir_okay=False))
@click.option("--fail", is_flag=True, help="Exit 1 if any item failed or was skipped.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Write a JSON report of the job's runs (crawl, recheck) to this file.")
def run_job(job_path: str, fail: bool, report_path: str | None) -> None:
    """Run a job file: crawl its sources, then check posts again as its policy says.

    The job file holds the sources, the database, politeness settings and the
    re-check policy, so a cron line or a systemd timer is one command
    (docs/nightly.md). Exit codes: 0 done, 1 items failed under --fail, 2 usage
    or configuration error, 3 database busy (another run holds it), 130 interrupted.

    \b
    Example:
      archiver run nightly.toml --report /var/log/archiver/last.json
    """
    from archiver import pipeline, sources
    from archiver.job import load_job
    from archiver.recheck import run_recheck
    from archiver.sources.local import Gathered, read_local

    job = load_job(job_path)
    settings, spec = job.settings, job.sources
    gathered = Gathered()
    for n, url in enumerate(spec.urls, 1):
        try:
            gathered.articles.append(sources.ArticleInput(sources.check_url(url), f"{job_path}: urls {n}"))
        except InputError as exc:
            raise InputError(f"{job_path}: [sources].urls {n}: {exc}") from None
    for name in spec.lists:
        good, bad = sources.from_list(name)
        gathered.articles += good
        gathered.bad += bad
    for path in (*spec.files, *spec.warcs):
        read_local(path, gathered, since=spec.since)
    for ds in spec.datasets:
        columns = sources.Columns(url=ds.url, html=ds.html, text=ds.text, published=ds.published, row_id=ds.id)
        gathered.add(sources.read_dataset(ds.path, columns, since=spec.since, fmt=ds.format))
    reports = []
    if gathered.articles or gathered.bad or spec.feeds or spec.sitemaps:
        reports.append(_crawl_gathered("run", gathered, settings, feeds=spec.feeds,
                                       sitemaps=[*gathered.sitemaps, *spec.sitemaps], since=spec.since))
    interrupted = any(r.outcome == "interrupted" for r in reports)
    if job.recheck.enabled and not interrupted:
        with pipeline.archive(settings) as store:
            reports.append(run_recheck(settings, store, sys.argv, older_than=job.recheck.older_than,
                                       platform_names=job.recheck.platforms, limit=job.recheck.limit))
    if not reports:
        raise InputError(f"{job_path}: the job has no sources and its recheck is disabled: nothing to do")
    _close_run("run", reports, settings, fail, report_path)


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

