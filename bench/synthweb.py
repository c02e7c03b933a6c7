"""A synthetic news web on one loopback port, for the end-to-end benchmark.

One asyncio process (raw streams, HTTP/1.1 keep-alive) plays every site at
once, routed by the ``Host`` header: ``site<K>.news.test`` serves generated
article pages, and the platform hosts answer as the real endpoints do
(``cdn.syndication.twimg.com/tweet-result``, ``publish.twitter.com/oembed``,
``www.youtube.com/oembed``, ``www.tiktok.com/oembed``). Every answer waits
``--latency`` seconds first (``asyncio.sleep``: the wait costs no CPU, as a
distant server's wouldn't), so the crawler sees a network round trip on every
request.

Pages are generated on the fly from the article number in the URL, from
pieces built once at start-up, so the server spends microseconds per request
and its CPU does not hide archiver's (the benchmark reports it separately).

What article ``i`` holds (``article_plan``), about 100 KB of HTML like a real
news page: head metadata (title, canonical, published time, language), a
navigation bar, 18 paragraphs, a sidebar and a footer full of links, share
buttons (not posts), inline script and style, and in the body

- three tweets as the official ``blockquote.twitter-tweet`` embed code (ids
  unique to the article; one article in 25 has its third tweet deleted:
  a syndication tombstone and an oEmbed 404),
- one YouTube player iframe, one TikTok ``blockquote.tiktok-embed``,
- a plain link in the text to one of 100 "popular" tweets shared by every
  article (a post embedded in many articles is resolved once).

So an article costs 1 page request + 3 x 2 tweet lookups + 1 YouTube + 1 TikTok
lookup = 9 requests, plus 200 for the popular tweets once per run. Anything
else (``/robots.txt`` included: archiver asks each article host once) is a 404,
which robots.txt rules read as "everything allowed".

The server also counts the requests it holds (read, not yet answered) ten
times a second: their mean is how close the crawler came to keeping all its
request slots busy, which the latency bound assumes.

Run: ``python bench/synthweb.py --latency 0.1`` prints ``PORT <n>`` when it
listens; SIGTERM (or SIGINT) makes it print one JSON line of counts and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import signal
import socket
import sys
import time
from urllib.parse import parse_qs, unquote, urlsplit

TWEET_BASE = 1_600_000_000_000_000_000  # article i's tweets: TWEET_BASE + 8 i + k, k = 0..2
POPULAR_BASE = 1_500_000_000_000_000_000  # the shared tweets: POPULAR_BASE + p
POPULAR = 100
TIKTOK_BASE = 7_200_000_000_000_000_000
DELETED_EVERY = 25  # article i with i % 25 == 0 has its third tweet deleted
REQUESTS_PER_ARTICLE = 9
SAMPLE_EVERY = 0.1  # seconds between samples of the requests in flight

API_ORIGINS = (
    "https://cdn.syndication.twimg.com",
    "https://publish.twitter.com",
    "https://www.youtube.com",
    "https://www.tiktok.com",
)

_WORDS = (
    "harbour council budget minister report election coast storm river bridge school hospital transport "
    "museum festival season policy market energy price water court police union strike railway airport "
    "village mayor committee vote research climate forest island fishing tourism winter summer agreement "
    "statement investigation evidence witness community funding project development opposition government "
    "the a of and to in on for with at by from that this which after before during under over about"
).split()


# -- the article plan -----------------------------------------------------------------------


def host_of(i: int, hosts: int) -> str:
    return f"site{i % hosts}.news.test"


def article_url(i: int, hosts: int) -> str:
    return f"https://{host_of(i, hosts)}/{2020 + i % 5}/{1 + i % 12:02d}/story-{i}.html"


def handle(n: int) -> str:
    return f"reporter_{n % 997}"


def tweet_id(i: int, k: int) -> int:
    return TWEET_BASE + 8 * i + k


def youtube_id(i: int) -> str:
    return f"v{i:010d}"


def tiktok_id(i: int) -> int:
    return TIKTOK_BASE + i


def expected(n: int) -> dict[str, int]:
    """What a correct crawl of articles 0..n-1 finds: embeds, posts and requests."""
    deleted = len(range(0, n, DELETED_EVERY))
    popular = min(POPULAR, n)
    return {
        "embeds": 6 * n,  # 3 tweets, 1 YouTube, 1 TikTok, 1 linked tweet
        "posts": 5 * n + popular,
        "deleted": deleted,
        "requests": REQUESTS_PER_ARTICLE * n + 2 * popular,
    }


# -- page pieces, built once ------------------------------------------------------------------


class Pieces:
    def __init__(self, seed: int = 7) -> None:
        rnd = random.Random(seed)
        self.paragraphs = []
        for _ in range(97):
            words = [rnd.choice(_WORDS) for _ in range(110)]
            words[0] = words[0].capitalize()
            self.paragraphs.append(" ".join(words) + ".")
        self.nav = "".join(
            f'<li><a href="/section/{w}/">{w.capitalize()}</a></li>' for w in _WORDS[:40]
        )
        self.footer = "".join(
            f'<li><a href="https://corporate.news.test/{w}">{w} information</a></li>' for w in _WORDS[40:75]
        )
        config = {f"slot_{n}": {"size": [300, 250], "targeting": {"k": rnd.choice(_WORDS)}} for n in range(760)}
        self.script = "window.__CONFIG__ = " + json.dumps(config) + ";"
        self.style = "".join(f".c{n}{{margin:{n % 7}px;padding:{n % 5}px;color:#{n:06x}}}" for n in range(560))


def tweet_blockquote(i: int, k: int, pieces: Pieces) -> str:
    tid = tweet_id(i, k)
    user = handle(i * 3 + k)
    text = pieces.paragraphs[(i + k) % 97][:180]
    return (
        '<blockquote class="twitter-tweet" data-dnt="true"><p lang="en" dir="ltr">'
        f'{text} <a href="https://t.co/x{tid % 100000}">pic.twitter.com/x{tid % 100000}</a></p>'
        f"&mdash; Reporter {i * 3 + k} (@{user}) "
        f'<a href="https://twitter.com/{user}/status/{tid}?ref_src=twsrc%5Etfw">March {1 + k}, 2024</a>'
        "</blockquote>\n"
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n'
    )


def youtube_iframe(i: int) -> str:
    return (
        f'<figure class="video"><iframe width="560" height="315" src="https://www.youtube.com/embed/{youtube_id(i)}" '
        f'title="Video {i}" frameborder="0" allowfullscreen></iframe></figure>\n'
    )


def tiktok_blockquote(i: int) -> str:
    vid = tiktok_id(i)
    user = f"creator{i % 500}"
    return (
        f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@{user}/video/{vid}" data-video-id="{vid}">'
        f'<section><a target="_blank" href="https://www.tiktok.com/@{user}">@{user}</a> clip {i}</section>'
        '</blockquote><script async src="https://www.tiktok.com/embed.js"></script>\n'
    )


def article_page(i: int, hosts: int, pieces: Pieces) -> bytes:
    host = host_of(i, hosts)
    url = article_url(i, hosts)
    paras = [pieces.paragraphs[(i * 7 + j * 13) % 97] for j in range(18)]
    popular = POPULAR_BASE + i % POPULAR
    body: list[str] = []
    for j, para in enumerate(paras):
        if j == 3:
            para += f' As <a href="https://x.com/newsdesk/status/{popular}">this post</a> shows, it spread.'
        if j % 4 == 1:
            para += f' See <a href="https://{host_of(i + j, hosts)}/2021/02/story-{i + j}.html">related story</a>.'
        body.append(f"<p>{para}</p>\n")
        if j == 2:
            body.append(tweet_blockquote(i, 0, pieces))
        elif j == 5:
            body.append(youtube_iframe(i))
        elif j == 8:
            body.append(tweet_blockquote(i, 1, pieces))
        elif j == 11:
            body.append(tiktok_blockquote(i))
        elif j == 14:
            body.append(tweet_blockquote(i, 2, pieces))
    related = "".join(
        f'<li><a href="https://{host_of(i + r * 17, hosts)}/2022/05/story-{i + r * 17}.html">Story {i + r * 17}</a></li>'
        for r in range(1, 21)
    )
    title = f"Story {i}: " + pieces.paragraphs[i % 97][:60]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        f'<link rel="canonical" href="{url}">'
        f'<meta property="og:title" content="{title}"><meta property="og:url" content="{url}">'
        f'<meta property="article:published_time" content="2024-03-{1 + i % 28:02d}T08:00:00Z">'
        f"<style>{pieces.style}</style><script>{pieces.script}</script></head>\n"
        f'<body class="article"><header><nav class="main-nav"><ul>{pieces.nav}</ul></nav></header>\n'
        f'<main><article class="story"><h1>{title}</h1>'
        f'<div class="byline">By Staff, {host}</div>\n'
        '<div class="share"><a class="twitter-share-button" href="https://twitter.com/intent/tweet?url='
        f'{url}">Tweet</a> <a href="https://www.facebook.com/sharer/sharer.php?u={url}">Share</a></div>\n'
        '<div class="article-body">\n' + "".join(body) + "</div></article>\n"
        f'<aside class="sidebar"><h2>Related</h2><ul>{related}</ul></aside></main>\n'
        f'<footer class="site-footer"><ul>{pieces.footer}</ul></footer></body></html>\n'
    )
    return page.encode("utf-8")


# -- platform answers ---------------------------------------------------------------------------


def _tweet_json(tid: int, pieces: Pieces) -> bytes:
    user = handle(tid)
    return json.dumps({
        "__typename": "Tweet",
        "lang": "en",
        "favorite_count": tid % 1000,
        "conversation_count": tid % 37,
        "possibly_sensitive": False,
        "created_at": "2024-03-01T08:00:00.000Z",
        "display_text_range": [0, 180],
        "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
        "id_str": str(tid),
        "text": pieces.paragraphs[tid % 97][:180],
        "user": {"id_str": str(1_000_000 + tid % 997), "name": f"Reporter {tid % 997}", "screen_name": user,
                 "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
                 "verified": False, "is_blue_verified": False, "profile_image_shape": "Circle"},
        "edit_control": {"edit_tweet_ids": [str(tid)], "editable_until_msecs": "1709283600000",
                         "is_edit_eligible": False, "edits_remaining": "5"},
        "mediaDetails": [{"type": "photo", "media_url_https": f"https://pbs.twimg.com/media/{tid}.jpg",
                          "original_info": {"height": 1200, "width": 1600}}],
        "photos": [{"url": f"https://pbs.twimg.com/media/{tid}.jpg", "width": 1600, "height": 1200}],
        "isEdited": False,
        "isStaleEdit": False,
    }).encode()


_TOMBSTONE = json.dumps({
    "__typename": "TweetTombstone",
    "tombstone": {"text": {"text": "This Post was deleted by the Post author. Learn more", "entities": [],
                           "rtl": False}},
}).encode()


def _is_deleted(tid: int) -> bool:
    if tid < TWEET_BASE:
        return False
    i, k = divmod(tid - TWEET_BASE, 8)
    return k == 2 and i % DELETED_EVERY == 0


_DIGITS = re.compile(rb"(\d{15,20})")
_YT = re.compile(r"v(\d{10})")
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


def answer(host: str, target: str, hosts: int, pieces: Pieces) -> tuple[int, str, bytes, str]:
    """(status, content type, body, kind) for one request."""
    parts = urlsplit(target)
    path = parts.path
    if host.endswith(".news.test"):
        m = re.fullmatch(r"/\d{4}/\d{2}/story-(\d+)\.html", path)
        if m:
            return 200, HTML, article_page(int(m.group(1)), hosts, pieces), "article"
        return 404, "text/plain", b"not found\n", "other"
    query = parse_qs(parts.query)
    if host == "cdn.syndication.twimg.com" and path == "/tweet-result":
        tid = int((query.get("id") or ["0"])[0])
        if _is_deleted(tid):
            return 200, JSON, _TOMBSTONE, "syndication"
        return 200, JSON, _tweet_json(tid, pieces), "syndication"
    if host == "publish.twitter.com" and path == "/oembed":
        m = _DIGITS.search(unquote((query.get("url") or [""])[0]).encode())
        tid = int(m.group(1)) if m else 0
        if _is_deleted(tid):
            return 404, JSON, b'{"error":"not found"}', "twitter_oembed"
        user = handle(tid)
        body = json.dumps({
            "url": f"https://twitter.com/{user}/status/{tid}", "author_name": f"Reporter {tid % 997}",
            "author_url": f"https://twitter.com/{user}", "type": "rich", "provider_name": "Twitter",
            "html": f'<blockquote class="twitter-tweet"><p>{pieces.paragraphs[tid % 97][:180]}</p></blockquote>',
            "width": 550, "version": "1.0",
        }).encode()
        return 200, JSON, body, "twitter_oembed"
    if host == "www.youtube.com" and path == "/oembed":
        m = _YT.search(unquote((query.get("url") or [""])[0]))
        n = int(m.group(1)) if m else 0
        body = json.dumps({
            "title": f"Video {n}", "author_name": f"Channel {n % 300}",
            "author_url": f"https://www.youtube.com/@channel{n % 300}", "type": "video", "height": 113,
            "width": 200, "version": "1.0", "provider_name": "YouTube", "provider_url": "https://www.youtube.com/",
            "thumbnail_url": f"https://i.ytimg.com/vi/v{n:010d}/hqdefault.jpg",
            "html": f'<iframe src="https://www.youtube.com/embed/v{n:010d}?feature=oembed"></iframe>',
        }).encode()
        return 200, JSON, body, "youtube_oembed"
    if host == "www.tiktok.com" and path == "/oembed":
        m = _DIGITS.search(unquote((query.get("url") or [""])[0]).encode())
        vid = int(m.group(1)) if m else 0
        user = f"creator{(vid - TIKTOK_BASE) % 500}"
        body = json.dumps({
            "version": "1.0", "type": "video", "title": f"clip {vid - TIKTOK_BASE}", "author_url":
            f"https://www.tiktok.com/@{user}", "author_name": user, "author_unique_id": user,
            "provider_name": "TikTok", "embed_product_id": str(vid),
            "thumbnail_url": f"https://p16.tiktokcdn.com/{vid}.jpeg",
            "html": f'<blockquote class="tiktok-embed" data-video-id="{vid}"></blockquote>',
        }).encode()
        return 200, JSON, body, "tiktok_oembed"
    return 404, "text/plain", b"not found\n", "other"


# -- the server ---------------------------------------------------------------------------------


class Server:
    def __init__(self, latency: float, hosts: int) -> None:
        self.latency = latency
        self.hosts = hosts
        self.pieces = Pieces()
        self.counts: dict[str, int] = {}
        self.requests = 0
        self.connections = 0
        self.bytes_out = 0
        self.first: float | None = None
        self.last: float | None = None
        self.in_flight = 0  # requests read and not yet answered
        self.samples: list[int] = []  # in_flight every SAMPLE_EVERY seconds from the first request on

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = (lines[0].split(" ") + ["", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                now = time.monotonic()
                self.first = self.first or now
                host = headers.get("host", "").split(":")[0].lower()
                status, ctype, body, kind = answer(host, target, self.hosts, self.pieces)
                self.requests += 1
                self.counts[kind] = self.counts.get(kind, 0) + 1
                self.in_flight += 1
                try:
                    if self.latency:
                        await asyncio.sleep(self.latency)
                finally:
                    self.in_flight -= 1
                close = headers.get("connection", "").lower() == "close"
                reason = "OK" if status == 200 else "Not Found"
                out = (
                    f"HTTP/1.1 {status} {reason}\r\nServer: synthweb\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\nCache-Control: max-age=60\r\n"
                    f"{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n"
                ).encode("latin-1")
                writer.write(out if method == "HEAD" else out + body)
                self.bytes_out += len(out) + (0 if method == "HEAD" else len(body))
                await writer.drain()
                self.last = time.monotonic()
                if close:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    async def sample(self) -> None:
        """Record how many requests are in flight, ten times a second, once the first has come."""
        while True:
            await asyncio.sleep(SAMPLE_EVERY)
            if self.first is not None:
                self.samples.append(self.in_flight)

    def stats(self) -> dict:
        samples = self.samples
        while samples and samples[-1] == 0:  # the idle time after the last answer
            samples.pop()
        return {
            "in_flight_mean": sum(samples) / len(samples) if samples else 0.0,
            "in_flight_by_second": [round(sum(samples[i:i + 10]) / len(samples[i:i + 10]), 1)
                                    for i in range(0, len(samples), 10)],
            "requests": self.requests,
            "by_kind": self.counts,
            "connections": self.connections,
            "bytes_out": self.bytes_out,
            "busy_seconds": (self.last - self.first) if self.first and self.last else 0.0,
            "first": self.first,  # time.monotonic(): the same clock as the harness's perf_counter on Linux
            "last": self.last,
        }


async def serve(port: int, latency: float, hosts: int) -> None:
    server = Server(latency, hosts)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=4096, reuse_address=True)
    sock = listener.sockets[0]
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    sampler = asyncio.create_task(server.sample())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    sampler.cancel()
    listener.close()
    print(json.dumps(server.stats()), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before every answer (default 0.1)")
    parser.add_argument("--hosts", type=int, default=500, help="article hosts site0..site<n-1>.news.test")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.latency, args.hosts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
