"""Commands that crawl: ``crawl`` (inputs on the command line) and ``run`` (a job file)."""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import click

from archiver.cli.app import (Progress, cli, close_run, network_options, run_options, settings_from,
                              start_workers)
from archiver.errors import InputError


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
    from archiver.sources.local import Gathered, read_local, read_url_list

    settings = settings_from(**options)
    start_workers(settings)
    cut = sources.parse_since(since) if since else None
    columns = sources.Columns(url=url_column or ("url" if not (html_column or text_column) else None),
                              html=html_column, text=text_column, published=date_column, row_id=id_column)
    gathered = Gathered()
    for n, given in enumerate(inputs_given, 1):
        if "://" in given or not Path(given).exists():
            gathered.add(_argument(given, n))
        else:
            read_local(given, gathered, columns=columns, since=cut)
    for name in inputs:
        read_url_list(name, gathered)
    for option, urls in (("--feed", feeds), ("--sitemap", sitemaps)):
        for url in urls:
            try:
                sources.check_url(url)
            except InputError as exc:
                raise InputError(f"{option} {url}: {exc}") from None
    report = _crawl_gathered("crawl", gathered, settings, feeds=feeds, sitemaps=[*gathered.sitemaps, *sitemaps],
                             since=cut)
    close_run("crawl", [report], settings, fail, report_path)


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
    """Crawl under the run lock (queue leftovers first); returns the run's report.

    The inputs are read up to their first article here (all of them, when none
    has one), to tell "nothing to do" before a run is recorded; the rest is read
    as the run queues it.
    """
    from archiver import pipeline
    from archiver.sources import BadInput
    from archiver.store import Queue

    with pipeline.archive(settings) as store:
        items = gathered.items()
        head = []
        for item in items:
            head.append(item)
            if not isinstance(item, BadInput):
                break
        has_article = bool(head) and not isinstance(head[-1], BadInput)
        if not (has_article or feeds or sitemaps or Queue(store).has_pending()):
            for item in head:
                click.echo(f"archiver {command}: skipped {item}", err=True)
            raise InputError("no articles given (pass URLs or paths, -i FILE, --feed or --sitemap) "
                             "and no unfinished items to resume")
        progress = Progress()
        try:
            return pipeline.run_crawl(itertools.chain(head, items), settings, store, sys.argv, feeds=feeds,
                                      sitemaps=sitemaps, since=since, on_queued=progress.start,
                                      on_article=progress.tick)
        finally:
            progress.close()


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
    from archiver.sources.local import Gathered, read_local, read_url_list

    job = load_job(job_path)
    settings, spec = job.settings, job.sources
    start_workers(settings)
    gathered = Gathered()
    for n, url in enumerate(spec.urls, 1):
        try:
            gathered.add([sources.ArticleInput(sources.check_url(url), f"{job_path}: urls {n}")])
        except InputError as exc:
            raise InputError(f"{job_path}: [sources].urls {n}: {exc}") from None
    for name in spec.lists:
        read_url_list(name, gathered)
    for path in (*spec.files, *spec.warcs):
        read_local(path, gathered, since=spec.since)
    for ds in spec.datasets:
        columns = sources.Columns(url=ds.url, html=ds.html, text=ds.text, published=ds.published, row_id=ds.id)
        gathered.add_file(functools.partial(sources.read_dataset, ds.path, columns, since=spec.since,
                                            fmt=ds.format))
    reports = []
    if gathered.inputs or spec.feeds or spec.sitemaps:
        reports.append(_crawl_gathered("run", gathered, settings, feeds=spec.feeds,
                                       sitemaps=[*gathered.sitemaps, *spec.sitemaps], since=spec.since))
    interrupted = any(r.outcome == "interrupted" for r in reports)
    if job.recheck.enabled and not interrupted:
        with pipeline.archive(settings) as store:
            reports.append(run_recheck(settings, store, sys.argv, older_than=job.recheck.older_than,
                                       platform_names=job.recheck.platforms, limit=job.recheck.limit))
    if not reports:
        raise InputError(f"{job_path}: the job has no sources and its recheck is disabled: nothing to do")
    close_run("run", reports, settings, fail, report_path)


