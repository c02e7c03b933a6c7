"""Commands that read the archive: ``serve``, ``stats``, ``export ...``, ``import warc``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from archiver.cli.app import archive_source, cli, db_option, db_path_of, output_option, selection_options, settings_from
from archiver.errors import InputError
from archiver.models import Status
from archiver.settings import DEFAULT_DB

POST_STATUSES = tuple(status.value for status in Status)


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

    path = db_path_of(db_path)
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

    with archive_source(db_path) as source:
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
    with archive_source(db_path) as source:
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
    with archive_source(db_path) as source:
        report = _write_binary(out, lambda stream: write_wacz(source, stream, selection, title=title))
    click.echo(f"archiver export wacz: {out}: {report.summary()}, {len(report.pages)} pages", err=True)


def _export_rows(kind: str, table_or_sql: str, db_path: str | None, params: tuple, output: str,
                 spreadsheet: bool = False) -> None:
    from archiver.export import tables

    with archive_source(db_path) as source:
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
    with archive_source(db_path) as source:
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

    with archive(settings_from(db_path=db_path)) as store:  # the run lock, as for a crawl
        report = import_warcs(list(files), store, sys.argv)
    for problem in report.problems:
        click.echo(f"archiver import warc: {problem}", err=True)
    click.echo(report.summary(), err=True)
    if fail and report.problems:
        sys.exit(1)


# -- the history of each post: recheck, reextract (issue 4) ------------------------------------

