"""Fixtures shared by the test files.

``corpus_dir`` is the shared corpus of real pages (``../shared/corpus`` beside
the project, or ``$ARCHIVER_CORPUS``). Tests are read from it in place; pages
are never copied into the project. A developer without it gets a skip that
says why; CI (``CI=true``) fails instead, because a silently skipped corpus
would let extraction regress unseen.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus folder (holding EXPECTED.tsv, pages/, api/, text/)."""
    corpus = Path(os.environ.get("ARCHIVER_CORPUS") or DEFAULT_CORPUS)
    if not (corpus / "EXPECTED.tsv").exists():
        message = f"{corpus} is missing (the shared corpus sits beside the project, or set ARCHIVER_CORPUS)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return corpus
