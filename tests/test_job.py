"""`archiver run JOB.toml`: one command for cron or a systemd timer."""

from __future__ import annotations

import json

import pytest

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.store import open_db
from archiver.store.lock import RunLock

TWEET = "1460323737035677698"
PAGE = (f'<html><head><title>T</title></head><body><article><blockquote class="twitter-tweet"><p>Hi</p>&mdash; A (@a) '
        f'<a href="https://twitter.com/a/status/{TWEET}">May 1, 2021</a></blockquote></article></body></html>')
FEED = ("<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>N</title>"
        "<entry><title>Two</title><link href='https://news.test/2'/><published>2021-05-02T00:00:00Z</published>"
        "<id>2</id><updated>2021-05-02T00:00:00Z</updated></entry></feed>")


@pytest.fixture
def web():
    js = {"content-type": "application/json"}
    routes = [
        Route("https://news.test/1", body=PAGE.encode(), headers={"content-type": "text/html"}),
        Route("https://news.test/2", body=PAGE.encode(), headers={"content-type": "text/html"}),
        Route("https://news.test/atom.xml", body=FEED.encode(), headers={"content-type": "application/atom+xml"}),
        Route("https://cdn.syndication.twimg.com/tweet-result", headers=js,
              body=json.dumps({"__typename": "Tweet", "id_str": TWEET, "text": "Hi",
                               "user": {"screen_name": "a", "name": "A"}}).encode()),
        Route("https://publish.twitter.com/oembed", headers=js, body=b'{"author_name": "A"}'),
    ]
    with Mirror(routes) as mirror:
        yield mirror.start()


def job_file(tmp_path, target: str, extra: str = "") -> str:
    (tmp_path / "saved").mkdir(exist_ok=True)
    (tmp_path / "saved" / "local.html").write_text(PAGE.replace("<title>T", "<title>Local"))
    origins = ["https://news.test", "https://cdn.syndication.twimg.com", "https://publish.twitter.com"]
    path = tmp_path / "nightly.toml"
    path.write_text(f"""
db_path = "study.db"
per_host_delay = 0
retries = 0
connect_to = {json.dumps([f"{o}={target}" for o in origins])}

[sources]
urls = ["https://news.test/1"]
feeds = ["https://news.test/atom.xml"]
files = ["saved"]
since = "2021-01-01"

[recheck]
older_than = "0s"
{extra}
""")
    return str(path)


def run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    return exit_.value.code


def test_job_crawls_its_sources_then_rechecks(tmp_path, web):
    path = job_file(tmp_path, web)
    report = tmp_path / "report.json"
    assert run(["run", path, "--report", str(report)]) == 0
    db = open_db(tmp_path / "study.db")  # relative to the job file
    urls = {r[0] for r in db.execute("select url from articles")}
    local = (tmp_path / "saved" / "local.html").as_uri()
    assert urls == {"https://news.test/1", "https://news.test/2", local}  # a URL, a feed entry, a local file
    commands = [json.loads(r[0])[1] for r in db.execute("select command from runs order by id")]
    assert len(commands) == 2  # a crawl run and a recheck run
    checks = db.execute("select count(*) from post_checks").fetchone()[0]
    assert checks == 2  # checked once by the crawl, once more by the recheck (older_than 0s)
    data = json.loads(report.read_text())
    assert [r["outcome"] for r in data["runs"]] == ["completed", "completed"]
    assert data["db"].endswith("study.db")


def test_job_on_a_busy_database_exits_3(tmp_path, web, capsys):
    path = job_file(tmp_path, web)
    lock = RunLock(tmp_path / "study.db")
    lock.acquire("run 12 (pid 99 on cron-host)")
    try:
        assert run(["run", path]) == 3
    finally:
        lock.release()
    assert "is busy: run 12 (pid 99 on cron-host) holds it" in capsys.readouterr().err


@pytest.mark.parametrize("extra, says", [
    ("bogus = 1", "unknown key [recheck].bogus"),
    ("older_than = 'soon'", "older_than is not a duration"),
])
def test_bad_job_file_is_one_line_exit_2(tmp_path, web, capsys, extra, says):
    path = job_file(tmp_path, web)
    text = open(path).read().replace('older_than = "0s"', extra)
    open(path, "w").write(text)
    assert run(["run", path]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1


def test_missing_job_file(capsys):
    assert run(["run", "no-such-job.toml"]) == 2
    assert capsys.readouterr().err.strip() == "archiver: job file no-such-job.toml does not exist"
