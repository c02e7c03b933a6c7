"""Fixtures shared by the test files; see tests/corpus.py for the shared corpus rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import shared_path

from archiver import compiled


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus folder (holding EXPECTED.tsv, pages/, api/, text/)."""
    return shared_path("corpus", "EXPECTED.tsv").parent


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop before testing a compiled module older than its source (setup.py's COMPILED, built in place).

    Python imports the compiled module in place of the ``.py`` beside it, so an
    edit that was not rebuilt would go untested, silently.
    """
    stale = compiled.stale()
    if stale:
        pytest.exit(f"changed since it was compiled: {', '.join(stale)}; rebuild with `make setup` "
                    "(or `pip install -e .`), or delete the compiled modules (`make clean`) to test plain Python",
                    returncode=2)
