"""The loopback mirror: routing by Host, query subsets, files, manifests, live changes."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

from archiver.errors import InputError
from archiver.mirror import Mirror, Route, load_manifest


def get(mirror: Mirror, host: str, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """A request straight to the mirror with a chosen Host header, as --connect-to sends it."""
    conn = http.client.HTTPConnection("127.0.0.1", int(mirror.origin.rsplit(":", 1)[1]), timeout=5)
    try:
        conn.request(method, path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_routes_by_host_header_and_path() -> None:
    routes = [
        Route("https://site1.news.test/a", body=b"one"),
        Route("https://site2.news.test/a", body=b"two", headers={"Content-Type": "text/html"}),
    ]
    with Mirror(routes) as mirror:
        assert mirror.origin.startswith("http://127.0.0.1:")
        assert get(mirror, "site1.news.test", "/a")[2] == b"one"
        status, headers, body = get(mirror, "SITE2.news.test:443", "/a")
        assert (status, headers["content-type"], body) == (200, "text/html", b"two")
        assert get(mirror, "site3.news.test", "/a")[0] == 404
        assert get(mirror, "site1.news.test", "/b")[0] == 404
        assert [(r.method, r.host, r.path) for r in mirror.requests] == [
            ("GET", "site1.news.test", "/a"),
            ("GET", "SITE2.news.test:443", "/a"),
            ("GET", "site3.news.test", "/a"),
            ("GET", "site1.news.test", "/b"),
        ]


def test_query_parameters_are_a_subset_and_the_most_specific_route_wins() -> None:
    routes = [
        Route("https://cdn.syndication.twimg.com/tweet-result", status=400, body=b"no id"),
        Route("https://cdn.syndication.twimg.com/tweet-result?id=20", body=b"tweet 20"),
        Route("https://cdn.syndication.twimg.com/tweet-result?id=21", body=b"tweet 21"),
    ]
    with Mirror(routes) as mirror:
        host = "cdn.syndication.twimg.com"
        assert get(mirror, host, "/tweet-result?lang=en&id=20&token=4ab")[2] == b"tweet 20"
        assert get(mirror, host, "/tweet-result?id=21")[2] == b"tweet 21"
        assert get(mirror, host, "/tweet-result?id=22")[:3:2] == (400, b"no id")


def test_routes_change_while_running_and_times_uses_a_route_up() -> None:
    url = "https://cdn.syndication.twimg.com/tweet-result?id=20"
    host, path = "cdn.syndication.twimg.com", "/tweet-result?id=20"
    with Mirror([Route(url, status=503, times=1), Route(url, body=b"ok")]) as mirror:
        assert get(mirror, host, path)[0] == 503
        assert get(mirror, host, path)[:3:2] == (200, b"ok")
        assert get(mirror, host, path)[:3:2] == (200, b"ok")
        mirror.set(Route(url, status=404, body=b"{}"))  # the tweet was deleted
        assert get(mirror, host, path)[:3:2] == (404, b"{}")
        mirror.remove(url)
        assert get(mirror, host, path)[2] == b"not found\n"
        mirror.clear_requests()
        assert mirror.requests == []


def test_redirect_head_and_request_headers_recorded() -> None:
    routes = [Route("https://site.test/old", status=301, headers={"Location": "https://site.test/new"})]
    with Mirror(routes) as mirror:
        status, headers, body = get(mirror, "site.test", "/old")
        assert (status, headers["location"], body) == (301, "https://site.test/new", b"")
        mirror.set(Route("https://site.test/page", body=b"12345"))
        status, headers, body = get(mirror, "site.test", "/page", method="HEAD")
        assert (status, headers["content-length"], body) == (200, "5", b"")
        assert mirror.requests[-1].headers["host"] == "site.test"


def test_root_serves_files_per_host_and_never_outside(tmp_path: Path) -> None:
    site = tmp_path / "site1.news.test" / "2024"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<p>index</p>")
    (site / "story.html").write_text("<p>story</p>")
    (tmp_path / "secret.txt").write_text("secret")
    with Mirror(root=tmp_path) as mirror:
        status, headers, body = get(mirror, "site1.news.test", "/2024/story.html")
        assert (status, headers["content-type"], body) == (200, "text/html; charset=utf-8", b"<p>story</p>")
        assert get(mirror, "site1.news.test", "/2024/")[2] == b"<p>index</p>"
        assert get(mirror, "site1.news.test", "/../secret.txt")[0] == 404
        assert get(mirror, "site1.news.test", "/%2e%2e/secret.txt")[0] == 404
        assert get(mirror, "site2.news.test", "/2024/story.html")[0] == 404


def test_load_manifest_reads_bodies_relative_to_the_directory(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "tweet-20.json").write_text('{"id_str": "20"}')
    manifest = [
        {"url": "https://cdn.syndication.twimg.com/tweet-result?id=20", "body_file": "api/tweet-20.json"},
        {"url": "https://site.test/gone", "status": 410, "headers": {"X-Why": "removed"}, "body": "gone"},
        {"url": "https://site.test/moved", "status": 302, "headers": {"Location": "/gone"}, "comment": "redirect"},
    ]
    (tmp_path / "routes.json").write_text(json.dumps(manifest))
    routes = load_manifest(tmp_path)
    assert [r.status for r in routes] == [200, 410, 302]
    assert routes[1].body == b"gone" and routes[1].headers == {"X-Why": "removed"}
    with Mirror(routes) as mirror:
        status, headers, body = get(mirror, "cdn.syndication.twimg.com", "/tweet-result?id=20&token=x")
        assert (status, headers["content-type"], body) == (200, "application/json; charset=utf-8", b'{"id_str": "20"}')
        assert get(mirror, "site.test", "/moved")[1]["location"] == "/gone"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not valid JSON"),
        ('{"url": "x"}', "JSON list"),
        ('[{"status": 200}]', 'needs a "url"'),
        ('[{"url": "https://a.test/", "bodyfile": "x"}]', "unknown field(s) bodyfile"),
        ('[{"url": "https://a.test/", "body_file": "missing.json"}]', "does not exist"),
        ('[{"url": "https://a.test/", "status": "ok"}]', "route 0"),
    ],
)
def test_load_manifest_errors_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "routes.json").write_text(content)
    with pytest.raises(InputError, match="routes.json") as info:
        load_manifest(tmp_path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
