"""End to end: tweets that survive only as text become resolvable posts during a crawl.

A research corpus often holds an article's text alone (``text/plain``), where an
embedded tweet is its text and the widget's signature line, ``— Name (@handle)
Month D, YYYY``, with a ``pic.twitter.com/X`` or ``t.co/X`` link inside. The crawl
follows ``https://t.co/X`` (mapped to the loopback mirror with ``--connect-to``),
which answers as t.co does: 301 to ``https://twitter.com/HANDLE/status/ID/photo/1``.
The status id in that hop makes the text embed a post, checked through the
syndication and oEmbed routes like any other tweet.

Three cases: twitter.com answered by the mirror too; twitter.com unreachable (the
last hop fails, and the post is still read from the hop's URL); and the corpus's
real seed text (``shared/corpus/text/seed-belarus.txt``, read in place, never
copied), where one short link leads nowhere and its embed stays a text embed.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.store import open_db

ARTICLE = "https://texts.news.test/2021/11/summit-queues.txt"
SEED = "https://texts.news.test/corpus/seed-belarus.txt"
SYNDICATION = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED = "https://publish.twitter.com/oembed"

# Written for this test, in the shape of the corpus seed: one paragraph per line, each tweet
# followed by its signature, in three dash spellings and two date orders; around them, a
# mention (@pacific_voice) and a quotation attributed with a dash, neither of which is a tweet.
TEXT = """Thousands of delegates arrived on Monday as the climate summit opened, and the queues at the entrance stretched for hours.
Organisers apologised on social media:
We are aware of long queues at the venue this morning. Please bring your badge and photo ID to speed things up pic.twitter.com/Qm4Zt7LpXa
\u2014 Summit Helpdesk (@summit_help) November 1, 2021
Not everyone was patient. One delegate, @pacific_voice, said the wait was "a metaphor for the talks".
"We will keep the doors open until everyone is inside," \u2014 the summit's president told reporters.
Hours later a campaigner posted, and then deleted, a video from outside the hall:
They kept us outside in the rain for three hours. Is this what climate justice looks like? https://t.co/Vb7Nc2Kd9q
&mdash; Field Notes (@fieldnotes_jo) November 1, 2021
The city's transport operator added buses in the afternoon:
Extra buses run every ten minutes from Central Station to the venue until 8pm pic.x.com/Hn3Rt8Ws2e
-- Glasgow Buses (@glasgow_buses) 1 November 2021
By evening the queues had gone.
"""

# (short code, handle, status id, what the platform says now)
TWEETS = [
    ("Qm4Zt7LpXa", "summit_help", "1455123456789012481", "available"),
    ("Vb7Nc2Kd9q", "fieldnotes_jo", "1455234567890123777", "deleted"),
    ("Hn3Rt8Ws2e", "glasgow_buses", "1455345678901234563", "protected"),
]
NAMES = {"summit_help": "Summit Helpdesk", "fieldnotes_jo": "Field Notes", "glasgow_buses": "Glasgow Buses"}
DATES = {"summit_help": "November 1, 2021", "fieldnotes_jo": "November 1, 2021", "glasgow_buses": "1 November 2021"}

JSON = {"Content-Type": "application/json; charset=utf-8"}
TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}


def tco(code: str, target: str) -> Route:
    """t.co as it answers a client that is not a browser: 301, and the target again in the body."""
    body = (f'<head><noscript><META http-equiv="refresh" content="0;URL={target}"></noscript>'
            f"<title>{target}</title></head><script>window.opener = null; "
            f'location.replace("{target.replace("/", chr(92) + "/")}")</script>').encode()
    return Route(f"https://t.co/{code}", status=301, body=body,
                 headers={"Location": target, "Content-Type": "text/html; charset=utf-8",
                          "Cache-Control": "private,max-age=300"})


def tweet(status_id: str, handle: str, text: str) -> bytes:
    """A syndication ``Tweet`` (react-tweet's shape)."""
    return json.dumps({
        "__typename": "Tweet", "id_str": status_id, "lang": "en", "created_at": "2021-11-01T09:12:40.000Z",
        "text": text, "display_text_range": [0, len(text)], "favorite_count": 12, "conversation_count": 3,
        "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
        "user": {"id_str": "99" + status_id[-6:], "name": NAMES.get(handle, handle), "screen_name": handle,
                 "verified": False, "is_blue_verified": False},
        "edit_control": {"edit_tweet_ids": [status_id], "editable_until_msecs": "1635761560000",
                         "is_edit_eligible": False, "edits_remaining": "5"},
        "isEdited": False, "isStaleEdit": False,
    }).encode()


TOMBSTONE = json.dumps({"__typename": "TweetTombstone", "tombstone": {"text": {
    "text": "This Post was deleted by the Post author. Learn more", "entities": [], "rtl": False}}}).encode()


def platform_routes() -> list[Route]:
    (a_code, a_handle, a_id, _), (b_code, b_handle, b_id, _), (c_code, c_handle, c_id, _) = TWEETS
    return [
        Route(ARTICLE, body=TEXT.encode(), headers=TEXT_PLAIN),
        tco(a_code, f"https://twitter.com/{a_handle}/status/{a_id}/photo/1"),
        tco(b_code, f"https://twitter.com/{b_handle}/status/{b_id}/video/1"),
        tco(c_code, f"https://twitter.com/{c_handle}/status/{c_id}/photo/1"),
        Route(f"{SYNDICATION}?id={a_id}", headers=JSON, body=tweet(
            a_id, a_handle, "We are aware of long queues at the venue this morning. Please bring your badge and "
                            "photo ID to speed things up https://t.co/Qm4Zt7LpXa")),
        Route(f"{SYNDICATION}?id={b_id}", headers=JSON, body=TOMBSTONE),
        Route(f"{SYNDICATION}?id={c_id}", headers=JSON, body=b'{"__typename":"TweetUnavailable"}'),
        Route(f"{OEMBED}?url=https://twitter.com/{c_handle}/status/{c_id}", status=403, headers=JSON,
              body=b'{"error":"Sorry, you are not authorized to see this status."}'),
        Route(OEMBED, status=404, headers=JSON, body=b'{"errors":[{"code":34,"message":"Sorry, that page does not exist."}]}'),
    ]


def twitter_pages() -> list[Route]:
    """twitter.com's answer to a status page asked for without a browser: 200, a page without the post."""
    page = b"<!DOCTYPE html><html dir=\"ltr\" lang=\"en\"><head><title>X</title></head><body><noscript>" \
           b"JavaScript is not available.</noscript></body></html>"
    return [Route(f"https://twitter.com/{handle}/status/{sid}/{media}/1", body=page,
                  headers={"Content-Type": "text/html; charset=utf-8"})
            for _, handle, sid, _ in TWEETS for media in ("photo", "video")]


@pytest.fixture
def closed_port():
    """An origin on 127.0.0.1 that refuses connections: bound, never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def crawl(db: Path, urls: list[str], mapping: dict[str, str], monkeypatch, *extra: str) -> None:
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    args = ["crawl", *urls, "--db", str(db), "--delay", "0", *extra]
    for origin, target in mapping.items():
        args += ["--connect-to", f"{origin}={target}"]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 0


def mapping(mirror: Mirror, twitter: str | None = None) -> dict[str, str]:
    """Every origin to the mirror; twitter.com to ``twitter`` (the mirror when None)."""
    origins = ("https://texts.news.test", "https://t.co", "https://cdn.syndication.twimg.com",
               "https://publish.twitter.com")
    found = {o: mirror.origin for o in origins}
    found["https://twitter.com"] = twitter or mirror.origin
    return found


def table_counts(db) -> dict[str, int]:
    return {t: db.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("articles", "embeds", "posts", "post_checks", "bodies")}


def test_text_embeds_become_posts_through_their_short_links(tmp_path, monkeypatch):
    path = tmp_path / "archive.db"
    with Mirror(platform_routes() + twitter_pages()) as mirror:
        crawl(path, [ARTICLE], mapping(mirror), monkeypatch)
        db = open_db(path)

        article = next(db.query("select * from articles"))
        assert article["last_status"] == 200 and not article["last_error"]
        embeds = list(db.query("select * from embeds order by position"))
        # three signatures, three embeds: the mention and the dash-attributed quotation are not tweets
        assert [(e["kind"], e["platform"], e["author_handle"]) for e in embeds] == [
            ("text", "twitter", handle) for _, handle, _, _ in TWEETS]
        for embed, (code, handle, sid, _) in zip(embeds, TWEETS):
            assert embed["post_key"] == embed["embed_key"] == f"twitter:{sid}"
            assert embed["author_name"] == NAMES[handle] and embed["shown_date"] == DATES[handle]
            assert json.loads(embed["short_links"]) == [f"https://t.co/{code}"]
            assert embed["fallback_text"].endswith(code) and embed["region"] == "body"
        assert embeds[0]["fallback_text"].startswith("We are aware of long queues")

        # each short link is kept hop by hop: the t.co 301, then the status page it named
        for code, handle, sid, _ in TWEETS:
            final = next(db.query("select * from fetches where purpose = 'shortlink' and requested_url = ?",
                                  [f"https://t.co/{code}"]))
            assert final["status"] == 200 and final["url"].startswith(f"https://twitter.com/{handle}/status/{sid}/")
            assert json.loads(final["redirect_chain"])[0] == f"https://t.co/{code}"
            hop = next(db.query("select * from fetches where parent_fetch_id = ?", [final["id"]]))
            assert (hop["purpose"], hop["url"], hop["status"]) == ("redirect", f"https://t.co/{code}", 301)
            assert hop["body_sha256"] and hop["connected_to"] == mirror.origin
            location = dict((k.lower(), v) for k, v in json.loads(hop["response_headers"]))["location"]
            assert f"/status/{sid}/" in location

        # and each post was checked like any embedded tweet
        posts = {r["post_id"]: r for r in db.query("select * from posts")}
        assert {sid: posts[sid]["status"] for _, _, sid, _ in TWEETS} == {sid: s for _, _, sid, s in TWEETS}
        assert set(posts) == {sid for _, _, sid, _ in TWEETS}
        available = posts[TWEETS[0][2]]
        assert available["author_handle"] == "summit_help" and available["url"].endswith(f"/status/{TWEETS[0][2]}")
        assert available["text"].startswith("We are aware of long queues")
        lookups = list(db.query("select endpoint, body_sha256 from fetches where purpose = 'lookup'"))
        assert len(lookups) == 6 and all(r["body_sha256"] for r in lookups)
        assert {r["endpoint"] for r in lookups} == {"twitter.syndication", "twitter.oembed"}
        asked = [r.path for r in mirror.requests if r.host.startswith("publish.twitter.com")]
        assert any("glasgow_buses%2Fstatus%2F" + TWEETS[2][2] in p for p in asked)  # oEmbed asked with the handle

        # the article is updated: a second crawl extracts it again and follows the links again, and
        # the text embeds land on the same rows (keyed by their posts now), with no post checked twice
        first = table_counts(db)
        mirror.set(Route(ARTICLE, body=(TEXT + "Update: the venue opened a second entrance.\n").encode(),
                         headers=TEXT_PLAIN))
        crawl(path, [ARTICLE], mapping(mirror), monkeypatch, "--refresh-after", "0")
        db = open_db(path)
        assert {k: v for k, v in table_counts(db).items() if k != "bodies"} == {
            k: v for k, v in first.items() if k != "bodies"}
        assert db.execute("select count(*) from fetches where purpose = 'shortlink'").fetchone() == (6,)
        assert db.execute("select count(*) from fetches where purpose = 'lookup'").fetchone() == (6,)
        assert [r[0] for r in db.execute("select post_key from embeds order by position")] == [
            f"twitter:{sid}" for _, _, sid, _ in TWEETS]


def test_post_is_recovered_when_the_last_hop_fails(tmp_path, monkeypatch, closed_port):
    """twitter.com unreachable: the status id is read from the URL t.co pointed at."""
    path = tmp_path / "archive.db"
    with Mirror(platform_routes()) as mirror:
        crawl(path, [ARTICLE], mapping(mirror, twitter=closed_port), monkeypatch)
    db = open_db(path)

    assert [(e["post_key"], e["kind"]) for e in db.query("select * from embeds order by position")] == [
        (f"twitter:{sid}", "text") for _, _, sid, _ in TWEETS]
    for code, handle, sid, _ in TWEETS:
        final = next(db.query("select * from fetches where purpose = 'shortlink' and requested_url = ?",
                              [f"https://t.co/{code}"]))
        assert final["url"].startswith(f"https://twitter.com/{handle}/status/{sid}/")
        assert final["status"] is None and final["error"]  # the hop that failed is stored, with why
        hop = next(db.query("select * from fetches where parent_fetch_id = ?", [final["id"]]))
        assert (hop["purpose"], hop["status"]) == ("redirect", 301)
    statuses = {r["post_id"]: r["status"] for r in db.query("select post_id, status from posts")}
    assert statuses == {sid: status for _, _, sid, status in TWEETS}


def test_corpus_seed_text(tmp_path, monkeypatch, corpus_dir):
    """The real seed: three tweets from their signatures; two short links lead to a status, one to nothing."""
    seed = (corpus_dir / "text" / "seed-belarus.txt").read_bytes()
    # Status ids invented for the test: the corpus knows only the short codes, not where they lead.
    resolved = {"bJ7wHuwl4f": ("HannaLiubakova", "1461299999999999001"),
                "aUq2WLbv0T": ("Straz_Graniczna", "1459599999999999002")}
    routes = [Route(SEED, body=seed, headers=TEXT_PLAIN),
              Route("https://t.co/SAY7AdHYdF", status=404, body=b"", headers={"Content-Type": "text/html"})]
    for code, (handle, sid) in resolved.items():
        routes += [tco(code, f"https://twitter.com/{handle}/status/{sid}/photo/1"),
                   Route(f"{SYNDICATION}?id={sid}", headers=JSON, body=tweet(sid, handle, "text as served")),
                   Route(f"https://twitter.com/{handle}/status/{sid}/photo/1", body=b"<html></html>",
                         headers={"Content-Type": "text/html"})]
    path = tmp_path / "archive.db"
    with Mirror(routes) as mirror:
        crawl(path, [SEED], mapping(mirror), monkeypatch)
    db = open_db(path)

    embeds = list(db.query("select * from embeds order by position"))
    assert [(e["author_handle"], e["author_name"], e["shown_date"]) for e in embeds] == [
        ("HannaLiubakova", "Hanna Liubakova", "November 18, 2021"),
        ("Straz_Graniczna", "Stra\u017c Graniczna", "November 13, 2021"),
        ("camanpour", "Christiane Amanpour", "November 17, 2021"),
    ]
    assert all(e["kind"] == "text" and e["platform"] == "twitter" for e in embeds)
    assert embeds[0]["fallback_text"].startswith("#Belarus Another large group of migrants")
    assert "@Tsihanouskaya" in embeds[2]["fallback_text"]  # a mention inside the tweet, not an author
    assert [e["post_key"] for e in embeds[:2]] == [f"twitter:{sid}" for _, sid in resolved.values()]
    # the third short link answered 404: its embed is kept, unresolved, under its signature
    assert embeds[2]["post_key"] is None
    assert embeds[2]["embed_key"] == "text:twitter:@camanpour:November 17, 2021:2"
    dead = next(db.query("select * from fetches where purpose = 'shortlink' and requested_url = ?",
                         ["https://t.co/SAY7AdHYdF"]))
    assert dead["status"] == 404 and dead["body_sha256"]

    statuses = {r["post_id"]: r["status"] for r in db.query("select post_id, status from posts")}
    assert statuses == {sid: "available" for _, sid in resolved.values()}  # no post for the mention
