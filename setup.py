"""Build: archiver is Python; extraction's hottest modules are also compiled with mypyc when they can be.

The modules in ``COMPILED`` are the same source either way: mypyc turns them
into C extension modules that Python imports in place of the ``.py`` files
(extraction takes 10 % fewer instructions and runs 5-9 % faster, see
docs/performance.md, "Session 10"). Nothing else changes: no second
implementation, no C of our own, the same tests. When mypyc or a C compiler
is missing, or ``ARCHIVER_COMPILE=0`` is set, the package installs as plain
Python, with the same results. ``pyproject.toml`` holds the rest of the metadata.
"""

from __future__ import annotations

import os
import sys
import tempfile

from setuptools import setup

COMPILED = [
    "archiver/dom.py",
    "archiver/extract/__init__.py",
    "archiver/extract/charset.py",
    "archiver/extract/embeds.py",
    "archiver/extract/links.py",
    "archiver/extract/meta.py",
    "archiver/extract/regions.py",
    "archiver/extract/trees.py",
    "archiver/platforms/instagram.py",
    "archiver/platforms/page.py",
    "archiver/platforms/twitter/markup.py",
]


def _compiler_works() -> bool:
    """Whether a C compiler can build against this Python's headers (checked by compiling a stub)."""
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler, get_python_inc

    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "probe.c")
        with open(source, "w") as f:
            f.write("#include <Python.h>\nint probe(void) { return 0; }\n")
        compiler = new_compiler()
        customize_compiler(compiler)
        try:
            compiler.compile([source], output_dir=tmp, include_dirs=[get_python_inc()])
        except Exception as e:  # CompileError, or no compiler on PATH
            print(f"archiver: no working C compiler ({e}); installing as plain Python", file=sys.stderr)
            return False
    return True


def ext_modules() -> list:
    if os.environ.get("ARCHIVER_COMPILE", "1") == "0":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("archiver: mypyc is not installed; installing as plain Python", file=sys.stderr)
        return []
    if not _compiler_works():
        return []
    return mypycify(COMPILED, opt_level="3")


if __name__ == "__main__":  # how setuptools' build backend runs this file (tests load it under another name)
    setup(ext_modules=ext_modules())
