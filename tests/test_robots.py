"""robots.txt: reading answers, naming the refusing rule, one fetch per origin, provenance, --ignore-robots."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.capture import capture
from archiver.cli import main
from archiver.fetch.client import ClientPool
from archiver.fetch.pacing import Pacer
from archiver.fetch.robots import MAX_ROBOTS_BYTES, Robots, Rules, _can_fetch, explain, robots_from
from archiver.mirror import Mirror, Route
from archiver.models import Capture, Exchange
from archiver.settings import Settings
from archiver.store import Store, open_db
from fakeclock import FakeClock


ROBOTS = b"""# a news site
User-agent: *
Disallow: /private/
Disallow: /search

User-agent: archiver
Disallow: /private/
Disallow: /private/drafts/
Disallow: /*.pdf$
Allow: /private/public-note

User-agent: OtherBot
Disallow: /
"""


def exchange(status: int | None, body: bytes = b"", error: str | None = None) -> Exchange:
    return Exchange(url="https://site.test/robots.txt", method="GET", started="t", finished="t", duration_ms=1.0,
                    status=status, body=body, error=error)


# -- reading an answer (pure) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "allows_all", "warning", "note"),
    [
        (200, ROBOTS, None, False, False, "allowed by robots.txt of https://site.test"),
        (404, b"not found", None, True, False, "no robots.txt at https://site.test (HTTP 404): all allowed"),
        (403, b"", None, True, False, "(HTTP 403): all allowed"),
        (503, b"", None, True, True, "https://site.test/robots.txt failed (HTTP 503): treated as allow-all"),
        (429, b"", None, True, True, "failed (HTTP 429)"),
        (None, b"", "timed out after 1 s", True, True, "unavailable (timed out after 1 s): treated as allow-all"),
        (200, b"\x89PNG\r\n\x1a\n\x00\x00", None, True, True, "is not text (binary data)"),
        (200, b"<html><body>Welcome!</body></html>", None, True, True, "no readable directive (garbage)"),
        (200, b"", None, False, False, "allowed by robots.txt"),  # empty: a file with no rules
    ],
)
def test_how_an_answer_is_read(status, body, error, allows_all, warning, note) -> None:
    rules = robots_from("https://site.test", Capture("https://site.test/robots.txt", (exchange(status, body, error),)))
    assert (rules.parser is None) is allows_all
    assert rules.warning is warning and note in rules.note and "\n" not in rules.note


def test_a_capture_error_is_a_failure_even_with_a_status() -> None:
    cap = Capture("https://site.test/robots.txt", (exchange(302),), error="redirect loop: a -> b -> a")
    rules = robots_from("https://site.test", cap)
    assert rules.parser is None and rules.warning and "redirect loop" in rules.note


def test_only_the_first_500_kib_are_read() -> None:
    body = b"User-agent: *\n" + b"# padding\n" * (MAX_ROBOTS_BYTES // 10) + b"Disallow: /late/\n"
    rules = robots_from("https://site.test", Capture("https://site.test/robots.txt", (exchange(200, body),)))
    assert rules.parser is not None and rules.parser.can_fetch("https://site.test/late/x", "archiver")


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://site.test/private/drafts/1", "rule 'Disallow: /private/drafts/' for user-agent archiver"),
        ("https://site.test/private/x", "rule 'Disallow: /private/' for user-agent archiver"),
        ("https://site.test/files/report.pdf", "rule 'Disallow: /*.pdf$' for user-agent archiver"),
    ],
)
def test_the_refusing_rule_is_named(url: str, rule: str) -> None:
    assert explain(ROBOTS.decode(), url) == rule


def test_the_star_group_speaks_when_no_group_names_archiver() -> None:
    text = "User-agent: *\nDisallow: /\n\nUser-agent: googlebot\nAllow: /\n"
    assert explain(text, "https://site.test/a") == "rule 'Disallow: /' for user-agent *"


LINES = st.tuples(
    st.sampled_from(["User-agent", "user-agent", "Useragent", "Disallow", "disallow", "Allow", "Crawl-delay",
                     "Sitemap", "Host", "Request-rate", "Visit-time", "Dissalow", "User agent", "#", ""]),
    st.sampled_from([": ", ":", " ", ":\t"]),
    st.text(alphabet=st.sampled_from("/*$?=&%.aA0-_~:#é\\ \x00"), max_size=30),
).map("".join)


@settings(max_examples=150, deadline=timedelta(seconds=1), database=None)
@given(lines=st.lists(LINES, max_size=40), noise=st.binary(max_size=64),
       path=st.text(alphabet=st.sampled_from("/*$?=&%.aA0é \\#"), max_size=40))
def test_any_robots_txt_gives_a_decision_and_a_reason(lines: list[str], noise: bytes, path: str) -> None:
    """Whatever a site serves as robots.txt, the crawl gets a verdict, never an exception."""
    body = "\n".join(lines).encode("utf-8", "surrogatepass") + noise
    rules = robots_from("https://site.test", Capture("https://site.test/robots.txt", (exchange(200, body),)))
    url = "https://site.test/" + path
    if rules.parser is None:
        assert rules.warning and "\n" not in rules.note
        return
    if not _can_fetch(rules.parser, url, "archiver"):
        reason = explain(rules.text, url)
        assert reason.startswith(("rule '", "rules for", "rule not identified")) and "\n" not in reason


# -- against a real server ---------------------------------------------------------------------


def site(robots: bytes | None = ROBOTS, status: int = 200, **more: Route) -> Mirror:
    routes = [Route(f"https://site.test/{p}", body=b"<html>page</html>", headers={"Content-Type": "text/html"})
              for p in ("", "news/a", "private/public-note", "search", "private/x")]
    if robots is not None:
        routes.append(Route("https://site.test/robots.txt", status=status, body=robots,
                            headers={"Content-Type": "text/plain"}))
    return Mirror(routes + list(more.values()))


def crawl_urls(mirror: Mirror, urls: list[str], *, ignore: bool = False, store: Store | None = None,
               **settings_kwargs) -> tuple[list[Capture], Robots]:
    """Capture each URL (concurrently) with a Robots whose robots.txt captures go into ``store``."""
    settings_kwargs.setdefault("per_host_delay", 0)
    settings = Settings(connect_to=mirror.connect_to("https://site.test", "https://other.test"), **settings_kwargs)
    run_id = store.start_run(["test"], settings.public()) if store else 0

    async def main() -> tuple[list[Capture], Robots]:
        async with ClientPool(settings) as pool:
            record = (lambda cap: store.save_capture(cap, run_id, "robots")) if store else None
            robots = Robots(pool, record=record, ignore=ignore)
            caps = await asyncio.gather(*(capture(pool, u, robots=robots) for u in urls))
            return list(caps), robots

    return asyncio.run(main())


def test_disallowed_urls_are_refused_before_any_request_with_the_rule_and_fetch_id(tmp_path) -> None:
    store = Store(open_db(tmp_path / "a.db"))
    with site() as mirror:
        caps, robots = crawl_urls(mirror, ["https://site.test/news/a", "https://site.test/private/x",
                                           "https://site.test/private/public-note"], store=store)
        paths = [r.path for r in mirror.requests]
    allowed, refused, exception = caps
    assert allowed.ok and exception.ok
    robots_row = next(store.db.query("select * from fetches where purpose = 'robots'"))
    assert refused.error == ("disallowed by robots.txt of https://site.test (rule 'Disallow: /private/' "
                             f"for user-agent archiver; robots fetch {robots_row['id']})")
    assert refused.final.status is None and refused.final.error == refused.error
    assert "/private/x" not in paths and paths.count("/robots.txt") == 1
    assert (robots_row["url"], robots_row["status"], robots_row["error"]) == ("https://site.test/robots.txt", 200, None)
    body = store.db.execute("select size from bodies where sha256 = ?", [robots_row["body_sha256"]]).fetchone()
    assert body == (len(ROBOTS),) and robots.warnings == []


def test_robots_txt_is_fetched_once_per_origin_however_many_workers_ask() -> None:
    with site() as mirror:
        slow = Route("https://site.test/robots.txt", body=ROBOTS, delay=0.2)  # all 20 ask while it is in flight
        mirror.set(slow)
        caps, _ = crawl_urls(mirror, [f"https://site.test/news/a?n={i}" for i in range(20)], per_host_concurrency=4)
        asked = [r.path for r in mirror.requests].count("/robots.txt")
    assert asked == 1 and all(c.ok for c in caps)


def test_a_failing_robots_txt_allows_with_a_warning_stored_as_the_robots_rows_error(tmp_path) -> None:
    store = Store(open_db(tmp_path / "a.db"))
    with site(robots=b"down", status=503) as mirror:
        caps, robots = crawl_urls(mirror, ["https://site.test/private/x"], store=store, retries=0)
    assert caps[0].ok
    row = next(store.db.query("select status, error, attempts from fetches where purpose = 'robots'"))
    assert row["status"] == 503
    assert row["error"] == "https://site.test/robots.txt failed (HTTP 503): treated as allow-all"
    assert robots.warnings == [row["error"]]


def test_a_missing_robots_txt_allows_without_a_warning(tmp_path) -> None:
    store = Store(open_db(tmp_path / "a.db"))
    with site(robots=None) as mirror:
        caps, robots = crawl_urls(mirror, ["https://site.test/private/x"], store=store)
    row = next(store.db.query("select status, error from fetches where purpose = 'robots'"))
    assert caps[0].ok and (row["status"], row["error"]) == (404, None) and robots.warnings == []


def test_a_redirect_into_a_disallowed_path_is_refused_at_that_hop() -> None:
    hop = Route("https://other.test/go", status=302, headers={"Location": "https://site.test/private/x?q=1"})
    with site(hop=hop) as mirror:
        caps, _ = crawl_urls(mirror, ["https://other.test/go"])
        asked = [(r.host, r.path) for r in mirror.requests]
    (cap,) = caps
    assert [h.status for h in cap.hops] == [302, None]
    assert cap.error == ("disallowed by robots.txt of https://site.test (rule 'Disallow: /private/' for user-agent "
                         "archiver)")  # no robots fetch id: nothing recorded the robots.txt in this test
    assert ("other.test", "/robots.txt") in asked and ("site.test", "/private/x?q=1") not in asked


def test_a_group_naming_archiver_replaces_the_star_group() -> None:
    """RFC 9309: the most specific group applies alone; /search is only closed to the others."""
    with site() as mirror:
        caps, _ = crawl_urls(mirror, ["https://site.test/search"])
    assert caps[0].ok


def test_ignore_robots_fetches_no_robots_txt_and_says_so() -> None:
    with site() as mirror:
        caps, robots = crawl_urls(mirror, ["https://site.test/private/x"], ignore=True)
        paths = [r.path for r in mirror.requests]
    assert caps[0].ok and paths == ["/private/x"]

    async def verdict():
        return await robots.check("https://site.test/private/x")

    assert asyncio.run(verdict()).reason == "robots.txt ignored (--ignore-robots)"


def paced_visits(mirror: Mirror, urls: list[str], delay: float) -> tuple[list[float], Rules]:
    """Capture ``urls`` one after the other with a pacer on a fake clock; its sleeps, and the site's rules."""
    settings = Settings(connect_to=mirror.connect_to("https://site.test"), per_host_delay=delay)
    clock = FakeClock()

    async def main() -> Rules:
        pacer = Pacer(settings.per_host_concurrency, settings.per_host_delay, clock=clock, sleep=clock.sleep)
        async with ClientPool(settings, pacer=pacer) as pool:
            robots = Robots(pool)
            for url in urls:
                assert (await capture(pool, url, robots=robots)).ok
            return await robots.rules_for("https://site.test")

    rules = asyncio.run(main())
    return clock.slept, rules


@pytest.mark.parametrize("asked, run_delay, slept, said", [
    ("3", 0.0, [3.0, 3.0], "Crawl-delay 3 s: site.test requests 3 s apart"),
    ("0.5", 2.0, [2.0, 2.0], "Crawl-delay 0.5 s: site.test requests 2 s apart"),  # --delay is larger: it holds
    ("3600", 0.0, [30.0, 30.0], "Crawl-delay 3600 s, obeyed as 30 s: site.test requests 30 s apart"),
])
def test_crawl_delay_spaces_the_hosts_requests(asked, run_delay, slept, said) -> None:
    robots_txt = f"User-agent: *\nCrawl-delay: {asked}\nDisallow: /private/\n".encode()
    pages = ["https://site.test/news/a", "https://site.test/", "https://site.test/search"]
    with site(robots_txt) as mirror:
        sleeps, rules = paced_visits(mirror, pages, run_delay)
        paths = [r.path for r in mirror.requests]
    assert paths == ["/robots.txt", "/news/a", "/", "/search"]
    # robots.txt is read before the first page: that page waits the run's delay after it, the next ones the spacing
    assert sleeps == ([run_delay] if run_delay else []) + slept
    assert said in rules.note and rules.crawl_delay == min(float(asked), 30.0)


def test_without_crawl_delay_the_run_delay_spaces_requests() -> None:
    with site() as mirror:
        sleeps, rules = paced_visits(mirror, ["https://site.test/news/a", "https://site.test/"], 1.5)
    assert sleeps == [1.5, 1.5] and rules.crawl_delay is None


# -- through the CLI ---------------------------------------------------------------------------


def run_cli(tmp_path, mirror: Mirror, *extra: str) -> tuple[int, object]:
    db = tmp_path / "a.db"
    args = ["crawl", "https://site.test/news/a", "https://site.test/private/x", "--db", str(db), "--delay", "0",
            "--connect-to", f"https://site.test={mirror.origin}"]
    with pytest.raises(SystemExit) as exit_:
        main(args + list(extra))
    return exit_.value.code, open_db(db)


def test_crawl_obeys_robots_and_records_every_decision(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    with site() as mirror:
        code, db = run_cli(tmp_path, mirror)
        paths = [r.path for r in mirror.requests]
    err = capsys.readouterr().err
    assert code == 0 and "/private/x" not in paths and "Traceback" not in err
    robots_id = db.execute("select id from fetches where purpose = 'robots'").fetchone()[0]
    refused = db.execute("select last_error from articles where url = 'https://site.test/private/x'").fetchone()[0]
    assert refused.startswith("disallowed by robots.txt of https://site.test (rule 'Disallow: /private/'")
    assert refused.endswith(f"robots fetch {robots_id})")
    assert f"failed https://site.test/private/x: {refused}" in err
    assert json.loads(db.execute("select settings from runs").fetchone()[0])["ignore_robots"] is False


def test_crawl_with_ignore_robots_records_it_in_the_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    with site() as mirror:
        code, db = run_cli(tmp_path, mirror, "--ignore-robots")
        paths = [r.path for r in mirror.requests]
    assert code == 0 and "/private/x" in paths and "/robots.txt" not in paths
    assert json.loads(db.execute("select settings from runs").fetchone()[0])["ignore_robots"] is True
    assert db.execute("select count(*) from articles where last_error is not null").fetchone()[0] == 0


def test_platform_endpoints_are_not_subject_to_robots_txt(tmp_path, monkeypatch) -> None:
    """oEmbed and syndication are public APIs for programs: a robots.txt there does not stop a lookup."""
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    story = (b'<html><body><article><blockquote class="twitter-tweet"><p>hi</p>&mdash; A (@a) '
             b'<a href="https://twitter.com/a/status/1460323737035677698">Nov 18, 2021</a></blockquote>'
             b"</article></body></html>")
    deny = b"User-agent: *\nDisallow: /\n"
    routes = [Route("https://site.test/news/a", body=story, headers={"Content-Type": "text/html"})]
    for api in ("https://cdn.syndication.twimg.com", "https://publish.twitter.com"):
        routes.append(Route(f"{api}/robots.txt", body=deny, headers={"Content-Type": "text/plain"}))
    with Mirror(routes) as mirror:
        db = tmp_path / "a.db"
        args = ["crawl", "https://site.test/news/a", "--db", str(db), "--delay", "0"]
        for origin in ("https://site.test", "https://cdn.syndication.twimg.com", "https://publish.twitter.com"):
            args += ["--connect-to", f"{origin}={mirror.origin}"]
        with pytest.raises(SystemExit):
            main(args)
        asked = {(r.host, r.path.split("?")[0]) for r in mirror.requests}
    assert ("cdn.syndication.twimg.com", "/tweet-result") in asked and ("publish.twitter.com", "/oembed") in asked
    assert not any(host != "site.test" and path == "/robots.txt" for host, path in asked)
