"""Where the shared corpus and reference files are, and what happens when they are not.

They sit in ``../shared`` beside the project (or ``$ARCHIVER_SHARED``). Tests read
them in place; nothing is copied into the project. Without them a developer's
test skips and says why; under CI (``CI=true``) it fails, because a silently
skipped corpus would let extraction regress unseen.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(os.environ.get("ARCHIVER_SHARED") or Path(__file__).resolve().parents[2] / "shared")


def shared_path(*parts: str) -> Path:
    """``../shared/<parts>``, or a skip (a failure under CI) when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is missing (../shared sits beside the project, or set ARCHIVER_SHARED)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def page_root(path: Path) -> Any:
    """The parsed tree of a corpus page, decoded as extraction decodes it (``archiver.dom``)."""
    from archiver import dom
    from archiver.extract import charset

    return dom.parse(charset.decode(path.read_bytes(), None).utf8)
