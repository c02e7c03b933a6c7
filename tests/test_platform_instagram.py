"""Instagram: blockquote, AMP, iframe and BuzzFeed forms; shortcode identity; Meta oEmbed terms."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import instagram
from archiver.platforms.page import Page
from archiver.platforms.oembed import META_TOKEN_MISSING
from archiver.settings import Endpoints, Settings

CODE = "BNpLF8LD0GD"
POST = PostRef("instagram", CODE, f"https://www.instagram.com/p/{CODE}/")

OLD_BLOCKQUOTE = f"""
<blockquote class="instagram-media" data-instgrm-captioned="" data-instgrm-version="7">
 <div><p style="margin:8px 0 0 0"><a href="https://www.instagram.com/p/{CODE}/">Letters to soldiers #kindness</a></p>
 <p>A post shared by <a href="https://www.instagram.com/ladygaga/">xoxo, Gaga</a> (@ladygaga) on
 <time datetime="2016-12-05T17:10:10+00:00">Dec 5, 2016 at 9:10am PST</time></p></div>
</blockquote>"""

NEW_BLOCKQUOTE = f"""
<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/reel/{CODE}/?utm_source=ig_embed"
 data-instgrm-version="14"><div><a href="https://www.instagram.com/reel/{CODE}/?utm_source=ig_embed">View this post on
 Instagram</a></div><p><a href="https://www.instagram.com/reel/{CODE}/?utm_source=ig_embed">A post shared by
 Chateau La Coste (@chateaulacoste)</a></p></blockquote>
<script async src="//platform.instagram.com/en_US/embeds.js"></script>"""

SUBBUZZ = f"""
<div class="subbuzz subbuzz-instagram" data-module="embed-instagram"><h2><span class="js-subbuzz__title-text">
 BuzzFeed's own words</span></h2><blockquote class="js-instagram__container">
 <a class="subbuzz-embed__placeholder subbuzz__media-link" href="https://instagram.com/p/{CODE}/">View</a></blockquote>
 <span class="subbuzz__attribution"><a href="https://instagram.com/p/{CODE}/#author_vladyart">Instagram: @vladyart</a>
 </span></div>"""


def detect(html: str) -> list:
    return list(instagram.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


def test_old_blockquote_without_permalink_keeps_what_the_article_showed() -> None:
    [s] = detect(OLD_BLOCKQUOTE)
    assert (s.kind, s.post, s.url_as_found) == ("blockquote", POST, f"https://www.instagram.com/p/{CODE}/")
    assert (s.author_handle, s.author_name) == ("ladygaga", "xoxo, Gaga")
    assert s.fallback_text == "Letters to soldiers #kindness"
    assert s.shown_date == "2016-12-05T17:10:10+00:00"


def test_new_blockquote_reel_permalink() -> None:
    [s] = detect(NEW_BLOCKQUOTE)
    assert (s.kind, s.post, s.author_handle, s.author_name, s.fallback_text) == (
        "blockquote", POST, "chateaulacoste", "Chateau La Coste", None)


def test_buzzfeed_subbuzz_placeholder_and_attribution() -> None:
    [s] = detect(SUBBUZZ)
    assert (s.kind, s.post, s.author_handle, s.fallback_text) == ("blockquote", POST, "vladyart", None)


@pytest.mark.parametrize("markup, kind", [
    (f'<amp-instagram data-shortcode="{CODE}" data-captioned width="1" height="1"></amp-instagram>', "amp"),
    (f'<iframe src="https://www.instagram.com/p/{CODE}/embed/captioned/"></iframe>', "iframe"),
    (f'<iframe data-src="//www.instagram.com/reel/{CODE}/embed"></iframe>', "iframe"),
    (f'<noscript><iframe src="https://www.instagram.com/p/{CODE}/embed"></iframe></noscript>', "noscript"),
    (f'<p>See <a href="https://www.instagram.com/tv/{CODE}/?igshid=1">the post</a></p>', "link"),
])
def test_other_markup_forms(markup: str, kind: str) -> None:
    assert [(s.kind, s.post) for s in detect(markup)] == [(kind, POST)]


def test_links_inside_an_embed_are_not_reported_again() -> None:
    assert [s.kind for s in detect(OLD_BLOCKQUOTE + NEW_BLOCKQUOTE)] == ["blockquote", "blockquote"]


@pytest.mark.parametrize("markup", [
    "<style>.instagram-media{max-width:540px}</style><div class='instagram-media-placeholder'></div>",  # 047
    '<a href="https://www.instagram.com/jolie_redaktion">Instagram</a>',
    '<a href="https://instagram.com/TheLocalSweden">profile</a>',
    '<a href="https://www.instagram.com/explore/tags/kindness/">tag</a>',
    '<blockquote class="instagram-media"><a href="https://www.instagram.com/ladygaga/">?</a></blockquote>',
    '<amp-instagram data-shortcode=""></amp-instagram>',
])
def test_traps_are_not_embeds(markup: str) -> None:
    assert detect(markup) == []


@pytest.mark.parametrize("url", [
    f"https://www.instagram.com/p/{CODE}/", f"https://instagram.com/p/{CODE}/?igshid=1mn51zsvrhoiq",
    f"http://instagr.am/p/{CODE}/", f"https://www.instagram.com/reel/{CODE}/",
    f"https://www.instagram.com/reels/{CODE}/",
    f"https://www.instagram.com/tv/{CODE}", f"https://www.instagram.com/ladygaga/p/{CODE}/",
    f"https://www.instagram.com/p/{CODE}/embed/captioned/", f"https://m.instagram.com/p/{CODE}",
])
def test_identify_every_form_gives_one_key(url: str) -> None:
    assert instagram.identify(url) == POST


@pytest.mark.parametrize("url", [
    "https://www.instagram.com/ladygaga/", "https://www.instagram.com/stories/ladygaga/3012345678901234567/",
    "https://www.instagram.com/explore/tags/x/", "https://www.instagram.com/reels/audio/123456789/",
    "https://www.instagram.com/p/", f"https://www.instagram.org/p/{CODE}/", "https://help.instagram.com/1",
])
def test_identify_rejects(url: str) -> None:
    assert instagram.identify(url) is None


def test_corpus_pages_yield_the_expected_posts(corpus_dir: Path) -> None:
    rows: dict[str, set[str]] = {}
    with open(corpus_dir / "EXPECTED.tsv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["platform"] == "instagram":
                rows.setdefault(Path(row["file"]).name, set()).add(row["post_id"])
    assert sum(len(ids) for ids in rows.values()) == 96
    for name, ids in rows.items():
        root = page_root(corpus_dir / "pages" / name)
        assert {s.post.post_id for s in instagram.detect(Page(root, None))} == ids, name


def test_corpus_css_only_page_has_no_embed(corpus_dir: Path) -> None:
    root = page_root(corpus_dir / "pages" / "047-clarin-NEG-css-only.html")
    assert list(instagram.detect(Page(root, None))) == []


def test_no_token_no_lookup_and_unsupported() -> None:
    assert instagram.lookups(POST, Settings()) == []
    check = instagram.classify(POST, [])
    assert (check.status, check.detail) == (Status.UNSUPPORTED, META_TOKEN_MISSING)
    assert META_TOKEN_MISSING == "Meta oEmbed needs an app token (meta_access_token)"


def test_token_lookup_keeps_the_token_out_of_the_url() -> None:
    settings = Settings(meta_access_token="APP|SECRET", endpoints=Endpoints(meta_graph="http://127.0.0.1:9/v18.0"))
    [lookup] = instagram.lookups(POST, settings)
    assert lookup.endpoint == "instagram.oembed"
    assert lookup.url == ("http://127.0.0.1:9/v18.0/instagram_oembed?url=https%3A%2F%2Fwww.instagram.com"
                          "%2Fp%2FBNpLF8LD0GD%2F&omitscript=true")
    assert "SECRET" not in lookup.url and lookup.headers == (("Authorization", "Bearer APP|SECRET"),)


def meta(status: int | None, body: object) -> list[Answer]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return [Answer("instagram.oembed", status, raw)]


@pytest.mark.parametrize("name, author", [
    ("oembed-ruby-oembed-1-http200.json", "ruby_eloquent"), ("oembed-ruby-oembed-4-http200.json", "ruby_eloquent"),
    ("oembed-ruby-oembed-5-http200.json", "travellomatic"),
])
def test_classify_real_answers_keeps_availability_and_author_only(corpus_dir: Path, name: str, author: str) -> None:
    check = instagram.classify(POST, meta(200, (corpus_dir / "api" / "instagram" / name).read_bytes()))
    assert (check.status, check.http_status, check.author_name, check.author_handle) == (
        Status.AVAILABLE, 200, author, author)
    assert (check.text, check.media) == (None, ())
    assert "terms" in check.extra


@pytest.mark.parametrize("status, body, verdict, retry, detail", [
    (400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}},
     Status.ERROR, False, "Meta rejected the app token: Invalid OAuth access token."),
    (400, {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4}},
     Status.ERROR, True, "Meta rate limit: (#4) Application request limit reached"),
    (400, {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}},
     Status.ERROR, False, "Meta error 100: (#100) Invalid parameter"),
    (404, b"", Status.NOT_FOUND, False, "HTTP 404"),
    (500, b"", Status.ERROR, True, "server error (HTTP 500)"),
    (429, b"", Status.ERROR, True, "rate limited (HTTP 429)"),
])
def test_classify_graph_errors(status: int, body: object, verdict: Status, retry: bool, detail: str) -> None:
    check = instagram.classify(POST, meta(status, body))
    assert (check.status, check.retry, check.detail, check.http_status) == (verdict, retry, detail, status)
