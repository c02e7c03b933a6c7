"""Keep the README's command reference true to the code.

Every fenced block in README.md that starts with ``Usage: archiver NAME`` is the
``--help`` of that command. ``python tests/readme_help.py`` rewrites those blocks
from the current code; ``tests/test_cli.py`` fails when one is stale or missing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from archiver.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```\n(Usage: archiver ([a-z ]+?) \[.*?)```\n", re.DOTALL)


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command as its path of names: ("crawl",), ("export", "warc"), ..."""
    paths = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += commands(command, prefix + (name,))
        else:
            paths.append(prefix + (name,))
    return paths


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="archiver", terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def rewrite(text: str) -> str:
    def fresh(match: re.Match) -> str:
        path = tuple(match.group(2).split())
        return f"```\n{help_text(path)}```\n"

    return BLOCK.sub(fresh, text)


def documented(text: str) -> set[tuple[str, ...]]:
    return {tuple(m.group(2).split()) for m in BLOCK.finditer(text)}


if __name__ == "__main__":
    original = README.read_text(encoding="utf-8")
    updated = rewrite(original)
    README.write_text(updated, encoding="utf-8")
    missing = sorted(set(commands()) - documented(updated))
    for path in missing:
        print(f"README.md has no help block for 'archiver {' '.join(path)}'", file=sys.stderr)
    sys.exit(1 if missing else 0)
