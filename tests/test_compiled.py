"""The compiled build (setup.py's COMPILED modules, through mypyc) extracts what the plain source does.

Python imports a compiled module in place of its ``.py``, so every other test
runs the compiled code when it was built. This one runs the plain ``.py`` files
too, in a subprocess that imports a copy of the package without the compiled
modules, and compares both extractions of every corpus page and of a few
hand-made documents, record for record.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from corpus import shared_path

import archiver
from archiver import compiled
from archiver.extract import extract_document

PACKAGE = compiled.PACKAGE
URL = "https://news.example/2024/05/article.html"

# Documents the corpus has few of: hidden markup, relative links under <base>, another
# charset, wrappers in upper case, text-only articles, nothing at all, binary bytes.
HANDMADE: list[tuple[bytes, str]] = [
    (b'<base href="https://other.example/dir/"><a href="x?y=1#f">x</a><a href="/root">r</a>'
     b'<a href="//cdn.example/p">p</a><a href="mailto:a@b">m</a><a href=" https://T.CO/abc ">t</a>', "html"),
    (b'<textarea>&lt;blockquote class="twitter-tweet"&gt;&lt;a href="https://twitter.com/a/status/20"&gt;'
     b'x&lt;/a&gt;&lt;/blockquote&gt;</textarea><template><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ">'
     b'</iframe></template>', "html"),
    (b'<div data-html="&lt;iframe src=&quot;https://www.youtube.com/embed/abcdefghijk&quot;&gt;"></div>'
     b'<DIV DATA-TWEET-ID="21"><p>a tweet</p></DIV><nav><a href="https://twitter.com/b/status/22">n</a></nav>'
     b'<article class="comment-body"><a href="https://x.com/c/status/23">c</a></article>', "html"),
    ('<meta charset="windows-1252"><title>caf\u00e9 \u2013 news</title><p>\u201cquoted\u201d</p>'
     '<a href="https://twitter.com/d/status/24">d</a>'.encode("cp1252"), "html"),
    (b"Seen on Twitter: https://twitter.com/e/status/25 and pic.twitter.com/abc", "text"),
    (b"", "html"),
    (bytes(range(256)) * 8, "html"),
]

_PLAIN_RUN = """
import json, sys
from pathlib import Path
import archiver.extract, archiver.extract.regions
from archiver.extract import extract_document
documents = json.loads(Path(sys.argv[1]).read_text())
print(json.dumps({
    "module": archiver.extract.regions.__file__,
    "records": [repr(extract_document(bytes.fromhex(body), url=url, media=media))
                for body, url, media in documents],
}))
"""


def _documents() -> list[tuple[bytes, str | None, str]]:
    pages = sorted(shared_path("corpus", "pages").glob("*.html"))
    return [(p.read_bytes(), URL, "html") for p in pages] + [(body, URL, media) for body, media in HANDMADE]


def test_compiled_and_plain_extraction_are_the_same(tmp_path: Path) -> None:
    if not compiled.builds():
        message = "archiver is installed as plain Python (no compiled modules in the package): nothing to compare"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # CI builds with a compiler: the compiled path must be tested there
        pytest.skip(message)
    assert Path(archiver.extract.regions.__file__).suffix == ".so"  # this process runs the compiled modules
    plain = tmp_path / "plain"
    shutil.copytree(PACKAGE, plain / "archiver", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    documents = _documents()
    listed = tmp_path / "documents.json"
    listed.write_text(json.dumps([(body.hex(), url, media) for body, url, media in documents]))
    run = subprocess.run(
        [sys.executable, "-P", "-c", _PLAIN_RUN, str(listed)],
        env={**os.environ, "PYTHONPATH": str(plain), "PYTHONDONTWRITEBYTECODE": "1"},
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=True,
    )
    out = json.loads(run.stdout)
    assert out["module"] == str(plain / "archiver" / "extract" / "regions.py")  # the plain source ran there
    expected = [repr(extract_document(body, url=url, media=media)) for body, url, media in documents]
    assert len(out["records"]) == len(documents) > len(HANDMADE)
    for number, (plain_record, compiled_record) in enumerate(zip(out["records"], expected)):
        assert compiled_record == plain_record, f"document {number} extracts differently when compiled"
    assert sum(record.count("Embed(") for record in expected) > 50  # the documents hold embeds to compare


def _build_script(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PACKAGE.parent / "setup.py"), run_name="setup_under_test")


def test_the_build_installs_plain_python_when_asked_or_without_a_compiler(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    assert _build_script(monkeypatch, ARCHIVER_COMPILE="0")["ext_modules"]() == []
    build = _build_script(monkeypatch, CC="/nonexistent/cc")
    assert build["_compiler_works"]() is False
    assert "no working C compiler" in capfd.readouterr().err


def test_the_build_finds_a_working_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no {compiler} on this machine: the build installs plain Python here")
    assert _build_script(monkeypatch)["_compiler_works"]() is True


def test_builds_pair_each_compiled_module_with_its_source_and_tell_stale_ones(tmp_path: Path) -> None:
    package = tmp_path / "archiver"
    (package / "extract").mkdir(parents=True)
    for name in ("dom", "extract/links", "extract/text"):
        (package / f"{name}.py").write_text("")
    for name in ("dom", "extract/links", "orphan"):  # a build whose source is gone is not a module
        (package / f"{name}.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    os.utime(package / "dom.py", (1_000, 1_000))  # built after its source
    os.utime(package / "extract/links.py", (4_000_000_000, 4_000_000_000))  # edited after its build
    assert compiled.names(package) == ["archiver/dom", "archiver/extract/links"]
    assert compiled.stale(package) == ["archiver/extract/links.py"]
