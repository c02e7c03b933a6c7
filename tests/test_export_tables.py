"""`archiver export jsonl|csv|ids`: tables and queries out, IDs always text."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from archiver.cli import main
from archiver.export.tables import csv_value, json_value
from test_serve import A1, A2, DELETED, MISSING, PROTECTED, build_archive

ALL = sorted([A1, A2, DELETED, MISSING, PROTECTED])


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("tables") / "archive.db")


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_jsonl_of_a_table_keeps_ids_as_strings(archive, capsys):
    code, out, _ = run(capsys, "export", "jsonl", "posts", "--db", str(archive.path))
    assert code == 0
    posts = [json.loads(line) for line in out.splitlines()]
    assert sorted(p["post_id"] for p in posts) == ALL
    assert all(isinstance(p["post_id"], str) and p["key"] == f"twitter:{p['post_id']}" for p in posts)


def test_jsonl_of_a_query_with_parameters(archive, capsys):
    code, out, _ = run(capsys, "export", "jsonl", "select post_id, status from posts where status = :s order by 1",
                       "-p", "s", "deleted", "--db", str(archive.path))
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"post_id": DELETED, "status": "deleted"}, {"post_id": A2, "status": "deleted"}]


def test_a_computed_64_bit_integer_still_leaves_as_text(archive, capsys):
    sql = f"select cast(post_id as integer) as n from posts where post_id = '{A1}'"
    code, out, _ = run(capsys, "export", "jsonl", sql, "--db", str(archive.path))
    assert code == 0 and json.loads(out) == {"n": A1}
    code, out, _ = run(capsys, "export", "csv", sql, "--db", str(archive.path))
    assert out.splitlines() == ["n", A1]


def test_csv_to_a_file_and_for_spreadsheets(archive, tmp_path, capsys):
    out = tmp_path / "posts.csv"
    code, _, err = run(capsys, "export", "csv", "select key, post_id, status from posts order by post_id",
                       "--db", str(archive.path), "-o", str(out))
    assert code == 0 and "5 rows" in err
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["post_id"] for r in rows] == ALL

    code, text, _ = run(capsys, "export", "csv", f"select post_id, '=1+1' as formula from posts where post_id = '{A1}'",
                        "--spreadsheet", "--db", str(archive.path))
    assert list(csv.reader(io.StringIO(text))) == [["post_id", "formula"], [f'="{A1}"', "'=1+1"]]


def test_binary_columns_are_base64(archive, capsys):
    code, out, _ = run(capsys, "export", "jsonl", "select content from bodies where compression = 'zlib' limit 1",
                       "--db", str(archive.path))
    assert code == 0
    assert json.loads(out)["content"]["$base64"] is True


def test_unknown_table_and_writes_are_refused(archive, capsys):
    code, _, err = run(capsys, "export", "csv", "nope", "--db", str(archive.path))
    assert code == 2 and "no table or view named 'nope'" in err and "posts" in err
    code, _, err = run(capsys, "export", "csv", "delete from posts", "--db", str(archive.path))
    assert code == 2
    code, _, err = run(capsys, "export", "jsonl", "with x as (select 1) delete from posts", "--db", str(archive.path))
    assert code == 2 and "the query failed" in err and "Traceback" not in err
    assert sqlite3.connect(archive.path).execute("select count(*) from posts").fetchone()[0] == 5
    code, _, err = run(capsys, "export", "csv", "posts", "--db", str(archive.path) + ".missing")
    assert code == 2 and "does not exist" in err


def test_ids_of_a_platform(archive, tmp_path, capsys):
    code, out, err = run(capsys, "export", "ids", "--platform", "twitter", "--db", str(archive.path))
    assert code == 0 and out.splitlines() == ALL and "5 twitter ids" in err
    code, out, _ = run(capsys, "export", "ids", "--platform", "Twitter", "--dark", "--db", str(archive.path))
    assert out.splitlines() == sorted([A2, DELETED, MISSING, PROTECTED])
    code, out, _ = run(capsys, "export", "ids", "--platform", "twitter", "--status", "available",
                       "--format", "jsonl", "--db", str(archive.path))
    assert [json.loads(line) for line in out.splitlines()] == [{"platform": "twitter", "post_id": A1}]
    target = tmp_path / "ids.csv"
    code, _, _ = run(capsys, "export", "ids", "--platform", "twitter", "--format", "csv", "--spreadsheet",
                     "--db", str(archive.path), "-o", str(target))
    assert list(csv.reader(target.open(encoding="utf-8")))[1] == ["twitter", f'="{ALL[0]}"']
    code, _, err = run(capsys, "export", "ids", "--platform", "myspace", "--db", str(archive.path))
    assert code == 2 and "platforms there: twitter" in err


def test_value_conversions():
    assert json_value(2**63 - 1) == str(2**63 - 1) and json_value(12) == 12 and json_value(True) is True
    assert csv_value(None) == "" and csv_value("1460323737035677698", spreadsheet=True) == '="1460323737035677698"'
    assert csv_value("12345", spreadsheet=True) == "12345"  # short numbers survive spreadsheets as they are
    assert csv_value("@handle", spreadsheet=True) == "'@handle" and csv_value("@handle") == "@handle"
