"""``extract``: embeds in local files, offline."""

from __future__ import annotations

import json
from pathlib import Path
import click

from archiver.cli.app import cli, print_table
from archiver.errors import InputError


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
        print_table(rows, ("source", "platform", "post_id", "author_handle", "kind", "region"))


