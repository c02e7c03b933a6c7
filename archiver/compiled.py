"""Which of archiver's modules run compiled: setup.py's ``COMPILED``, built by mypyc beside their sources.

Python imports a module's compiled build in place of its ``.py``; an install
without a C compiler has none (``docs/architecture.md``, "Compiled hot path").
The tests, the stale-build check and the bench's machine table read it here.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def builds(package: Path = PACKAGE) -> dict[Path, Path]:
    """Each compiled module's source (``.py``) and the build Python imports in its place, by path."""
    found: dict[Path, Path] = {}
    for built in package.rglob("*.so"):
        source = built.with_name(built.name.split(".", 1)[0] + ".py")
        if source.exists():
            found[source] = built
    return dict(sorted(found.items()))


def names(package: Path = PACKAGE) -> list[str]:
    """The compiled modules as paths without suffix (``archiver/extract/links``)."""
    return [str(source.relative_to(package.parent).with_suffix("")) for source in builds(package)]


def stale(package: Path = PACKAGE) -> list[str]:
    """The compiled modules whose source changed after they were built (an edit not rebuilt yet)."""
    return [str(source.relative_to(package.parent)) for source, built in builds(package).items()
            if source.stat().st_mtime > built.stat().st_mtime]
