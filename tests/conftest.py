"""Fixtures shared by the test files; see tests/corpus.py for the shared corpus rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import shared_path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus folder (holding EXPECTED.tsv, pages/, api/, text/)."""
    return shared_path("corpus", "EXPECTED.tsv").parent
