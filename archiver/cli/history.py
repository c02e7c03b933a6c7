"""Commands that revisit the archive: ``recheck`` (posts) and ``reextract`` (stored pages)."""

from __future__ import annotations

import sys
from typing import Any

import click

from archiver.cli.app import cli, close_run, network_options, settings_from, start_workers
from archiver.errors import UsageError


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
    from archiver.settings import parse_duration

    try:
        seconds = None if older_than is None else parse_duration(older_than)
    except ValueError:
        raise UsageError(f"--older-than: {older_than!r} is not a duration (like 90s, 30m, 12h, 7d)") from None
    settings = settings_from(**options)
    start_workers(settings)  # before the heavy imports below
    from archiver import pipeline
    from archiver.recheck import DEFAULT_OLDER_THAN, run_recheck

    if seconds is None:
        seconds = DEFAULT_OLDER_THAN
    with pipeline.archive(settings) as store:
        report = run_recheck(settings, store, sys.argv, older_than=seconds, platform_names=platform_names,
                             limit=limit)
    close_run("recheck", [report], settings, fail, report_path)


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
    settings = settings_from(**options)
    start_workers(settings)  # before the heavy imports below
    from archiver import pipeline
    from archiver.reextract import parse_since, run_reextract

    since_time = parse_since(since) if since else None
    with pipeline.archive(settings) as store:
        report = run_reextract(settings, store, sys.argv, since=since_time, platform_names=platform_names)
    close_run("reextract", [report], settings, False, report_path)


