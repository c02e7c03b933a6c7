"""The command line: a thin shell over the library, one module per family of commands."""

from archiver.cli import crawl, extract, history, reading  # noqa: F401  (each registers its commands)
from archiver.cli.app import cli, main

__all__ = ["cli", "main"]
