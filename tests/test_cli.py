"""The command line as a user meets it: one-line errors, exit codes, documented commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.cli import cli, main

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.mark.parametrize("url, says", [
    ("ht!tp//nowhere", "not an http(s) URL"),
    ("https://", "no host"),
    ("file:///etc/passwd", "unsupported scheme 'file'"),
    ("https://exa mple.com/", "white space"),
    ("https://example.com:99999/", "not a URL"),
])
def test_malformed_url_is_one_line_exit_2(url, says, capsys, tmp_path):
    code, out, err = run(["crawl", url, "--db", str(tmp_path / "a.db")], capsys)
    assert code == 2
    assert says in err and "argument 1" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out == ""
    assert not (tmp_path / "a.db").exists()  # nothing ran


def test_missing_input_file(capsys, tmp_path):
    code, _, err = run(["crawl", "-i", str(tmp_path / "nope.txt"), "--db", str(tmp_path / "a.db")], capsys)
    assert code == 2
    assert err.strip() == f"archiver: input file {tmp_path / 'nope.txt'} does not exist"


def test_binary_input_file(capsys, tmp_path):
    blob = tmp_path / "urls.bin"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    code, _, err = run(["crawl", "-i", str(blob)], capsys)
    assert code == 2 and "is binary" in err and len(err.strip().splitlines()) == 1


def test_database_that_is_not_sqlite(capsys, tmp_path):
    bogus = tmp_path / "archive.db"
    bogus.write_text("not a database")
    code, _, err = run(["crawl", "https://example.com/", "--db", str(bogus)], capsys)
    assert code == 2 and err.strip() == f"archiver: {bogus} is not a SQLite database"


def test_unknown_option_is_one_line(capsys):
    code, _, err = run(["crawl", "--no-such-option"], capsys)
    assert code == 2 and "No such option" in err and len(err.strip().splitlines()) == 1


def test_bad_connect_to_is_a_config_error(capsys, tmp_path):
    code, _, err = run(["crawl", "https://example.com/", "--connect-to", "nonsense", "--db", str(tmp_path / "a.db")],
                       capsys)
    assert code == 2 and "nonsense" in err and len(err.strip().splitlines()) == 1


def test_extract_missing_path(capsys):
    code, _, err = run(["extract", "does-not-exist.html"], capsys)
    assert code == 2 and err.strip() == "archiver: does-not-exist.html: no such file or directory"


def test_extract_binary_file_is_skipped_with_a_line(capsys, tmp_path):
    (tmp_path / "image.html").write_bytes(b"\x00\x01\x02binary")
    page = tmp_path / "page.html"
    page.write_text('<blockquote class="twitter-tweet"><p>hi</p>&mdash; A (@a) '
                    '<a href="https://twitter.com/a/status/123456789012345678">May 1, 2020</a></blockquote>')
    code, out, err = run(["extract", str(tmp_path / "image.html"), str(page)], capsys)
    assert code == 0
    assert "image.html: binary file" in err
    assert '"post_id": "123456789012345678"' in out


def test_every_command_is_documented_in_the_readme():
    import readme_help

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = set(readme_help.commands()) - readme_help.documented(readme)
    assert not missing, f"README.md has no --help block for {sorted(missing)}"
    assert readme_help.rewrite(readme) == readme, "README.md's --help blocks are stale: run python tests/readme_help.py"


@pytest.mark.skipif(shutil.which("archiver", path=str(Path(sys.executable).parent)) is None,
                    reason="the archiver console script is not installed in this environment")
def test_installed_command_help_and_version():
    exe = shutil.which("archiver", path=str(Path(sys.executable).parent))
    help_ = subprocess.run([exe, "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    assert help_.returncode == 0
    for name in cli.commands:
        assert name in help_.stdout
    bad = subprocess.run([exe, "crawl", "not a url"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
