"""Page-level extraction: hidden markup, traps, dedupe, order, regions, robustness, charsets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver import dom
from archiver.extract import PAGE_TAGS, extract_document, extract_page
from archiver.extract.embeds import MAX_SNIPPET
from archiver.extract.regions import RegionMap, token_region
from archiver.extract.trees import parse_document
from archiver.models import Embed, Extraction, PostRef
from archiver.platforms.page import Page
from corpus import shared_path

TWEET = "https://twitter.com/{handle}/status/{id}"


def tweet(post_id: str, handle: str = "ann") -> str:
    """Official embed code, as publish.twitter.com hands it out."""
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Tweet {post_id}</p>&mdash; Ann (@{handle}) '
            f'<a href="{TWEET.format(handle=handle, id=post_id)}?ref_src=twsrc%5Etfw">May 1, 2020</a></blockquote>'
            '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>')


def page(body: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


def summary(extraction: Extraction) -> list[tuple]:
    return [(e.position, e.platform, e.post.post_id if e.post else None, e.kind, e.region) for e in extraction.embeds]


# -- what is not an embed -----------------------------------------------------


def test_comments_and_script_strings_are_not_embeds() -> None:
    """vice (035) repeats the article in a JSON state blob; commented-out markup is not shown."""
    escaped = json.dumps({"body": tweet("2")}).replace("<", "\\u003C")
    html = page(f"<article><!-- {tweet('1')} --><script>window.__STATE__ = {escaped};</script>"
                f"<script type='text/template'>{tweet('3')}</script>"
                f"<script>var s = '{tweet('4')}';</script></article>")
    assert extract_document(html).embeds == ()


# -- markup hidden from the parser ----------------------------------------------


def test_textarea_consent_placeholder_is_reparsed() -> None:
    """amnesty.de (003): the embed code waits in a hidden <textarea> until the reader consents."""
    html = page('<article><div class="third-party-services--placeholder"><textarea class="third-party-'
                f'services--original-content" hidden><form><label>Twitter</label></form>{tweet("11")}</textarea>'
                "<h2>Twitter freischalten</h2></div></article>")
    [embed] = extract_document(html).embeds
    assert (embed.post, embed.kind, embed.region, embed.author_name, embed.fallback_text) == (
        PostRef("twitter", "11", "https://twitter.com/ann/status/11"), "blockquote", "body", "Ann", "Tweet 11")
    assert embed.css_path == ("article > div.third-party-services--placeholder > "
                              "textarea.third-party-services--original-content > blockquote.twitter-tweet")
    assert embed.snippet.startswith('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Tweet 11</p>')


def test_textarea_without_markup_is_left_alone() -> None:
    html = page("<form><textarea>https://twitter.com/ann/status/12 is just text here</textarea></form>")
    assert extract_document(html).embeds == ()


def test_template_contents_are_read_where_the_template_stands() -> None:
    """An HTML5 parser keeps <template> contents out of the tree; the embed in one is still the article's."""
    html = page(f"<article><p>{tweet('15')}</p><template class='later'>{tweet('16')}</template>"
                f"<p>{tweet('17')}</p></article>")
    embeds = extract_document(html).embeds
    assert [(e.post.post_id, e.position, e.region) for e in embeds] == [("15", 0, "body"), ("16", 1, "body"),
                                                                          ("17", 2, "body")]
    assert embeds[1].css_path == "article > template.later > blockquote.twitter-tweet"


def test_markup_escaped_in_attributes_is_reparsed() -> None:
    """elcomercio (028): data-iframe; Squarespace (031): data-html and JSON in data-block-json, same embed."""
    iframe = '<iframe src="https://platform.twitter.com/embed/Tweet.html?id=21"></iframe>'
    block_json = json.dumps({"html": iframe, "url": "x"})
    html = page("<article>"
                f"<div class='sqs-video-wrapper' data-html='{_attr(iframe)}' data-block-json='{_attr(block_json)}'>"
                "</div>"
                f"<div class='lazy' data-iframe='{_attr(tweet('22'))}'></div>"
                "</article>")
    embeds = extract_document(html).embeds
    assert [(e.post.post_id, e.kind, e.css_path) for e in embeds] == [
        ("21", "iframe", "article > div.sqs-video-wrapper[data-html] > iframe"),
        ("22", "blockquote", "article > div.lazy[data-iframe] > blockquote.twitter-tweet"),
    ]


def _attr(html: str) -> str:
    return html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")


def test_attribute_with_other_markup_is_not_reparsed() -> None:
    """takagi (013): a footnote's title holds a status link; the footnote's own link counts, once."""
    html = page('<div class="body"><p><a title=\'note: &lt;a href="https://twitter.com/t/status/31"&gt;x&lt;/a&gt;\' '
                'href="#f1">*1</a></p><p class="footnote"><a href="https://twitter.com/t/status/31">x</a></p></div>')
    assert summary(extract_document(html)) == [(0, "twitter", "31", "link", "body")]


# -- dedupe and order ---------------------------------------------------------


def test_one_embed_per_post_merging_what_later_sightings_add() -> None:
    """A rendered widget leaves the blockquote and an iframe; a link to the same post comes first."""
    html = page('<article><p>As <a href="https://x.com/ann/status/41">she said</a>:</p>'
                '<div class="twitter-tweet twitter-tweet-rendered"><iframe data-tweet-id="41"></iframe></div>'
                f"{tweet('41')}{tweet('42')}{tweet('42')}</article>")
    embeds = extract_document(html).embeds
    assert [(e.position, e.post.post_id, e.kind) for e in embeds] == [(0, "41", "iframe"), (1, "42", "blockquote")]
    first = embeds[0]
    assert (first.post.url, first.author_handle, first.author_name, first.fallback_text, first.shown_date) == (
        "https://twitter.com/ann/status/41", "ann", "Ann", "Tweet 41", "May 1, 2020")
    assert first.css_path == "article > div.twitter-tweet.twitter-tweet-rendered > iframe"


def test_lazy_iframe_and_its_noscript_twin_are_one_embed() -> None:
    src = "https://platform.twitter.com/embed/Tweet.html?id=45"
    html = page(f"<article><iframe data-src='{src}' class='lazy'></iframe><noscript><iframe src='{src}'></iframe>"
                f"</noscript></article><div><noscript><iframe src='{src.replace('45', '46')}'></iframe></noscript></div>")
    assert summary(extract_document(html)) == [
        (0, "twitter", "45", "iframe", "body"), (1, "twitter", "46", "noscript", "body")]


def test_positions_follow_document_order_across_platforms_and_trees() -> None:
    html = page("<article>"
                f"<div data-iframe='{_attr(tweet('51'))}'></div>"
                '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>'
                f"{tweet('52')}"
                f"<div><textarea>{tweet('53')}</textarea></div>"
                '<p><a href="https://twitter.com/bob/status/54">link</a></p>'
                "</article>")
    assert [(p, platform, post_id) for p, platform, post_id, _, _ in summary(extract_document(html))] == [
        (0, "twitter", "51"), (1, "youtube", "dQw4w9WgXcQ"), (2, "twitter", "52"), (3, "twitter", "53"),
        (4, "twitter", "54")]


# -- link-only posts and regions ------------------------------------------------


def test_link_only_posts_count_in_the_body_only() -> None:
    """Sidebars, widgets, footers, comments, share buttons and profiles are links, not embeds."""
    html = page(
        "<header><a href='https://twitter.com/site/status/60'>pinned</a></header>"
        "<div class='l-sidebar-fixed'><article><div class='c-entry-content'>"
        "<p>He <a href='https://twitter.com/ann/status/61'>tweeted</a>.</p>"
        "<figure><cite><a href='https://twitter.com/ann/status/62'>credit</a></cite></figure>"
        "<p><a href='https://twitter.com/ann'>@ann</a> <a href='https://twitter.com/intent/tweet?text=x'>share</a></p>"
        "</div><header class='entry-header'><a href='https://twitter.com/ann/status/63'>x</a></header>"
        "<div class='c-social-buttons'><a href='https://twitter.com/share?url=x'>t</a></div>"
        "</article><aside id='secondary'><ul class='tweets'><li><a href='https://twitter.com/w/status/64'>w</a>"
        "</li></ul></aside></div>"
        "<ol class='commentlist'><li><a href='https://twitter.com/c/status/65'>c</a></li></ol>"
        "<div class='refererlist'><a href='https://twitter.com/r/status/66'>r</a></div>"
        "<footer><a href='https://twitter.com/f/status/67'>f</a></footer>")
    extraction = extract_document(html, url="https://news.example/a")
    assert summary(extraction) == [(0, "twitter", "61", "link", "body"), (1, "twitter", "62", "link", "body")]
    assert [link.region for link in extraction.links] == [
        "header", "body", "body", "body", "body", "header", "aside", "aside", "comments", "aside", "footer"]


def test_links_inside_an_embed_belong_to_it() -> None:
    html = page("<article><blockquote class='twitter-tweet'><p>see <a href='https://twitter.com/o/status/71'>this</a>"
                "</p>&mdash; A (@a) <a href='https://twitter.com/a/status/72'>May 1, 2020</a></blockquote></article>")
    assert summary(extract_document(html)) == [(0, "twitter", "72", "blockquote", "body")]


def test_embeds_keep_their_region() -> None:
    html = page(f"<article>{tweet('81')}</article><aside class='widget'>{tweet('82')}</aside>"
                f"<div id='comments'>{tweet('83')}</div>")
    assert [(e.post.post_id, e.region) for e in extract_document(html).embeds] == [
        ("81", "body"), ("82", "aside"), ("83", "comments")]


@pytest.mark.parametrize(
    ("markup", "region"),
    [
        ("<nav><a id='x' href='/'>x</a></nav>", "nav"),
        ("<header><a id='x' href='/'>x</a></header>", "header"),
        ("<article><header><a id='x' href='/'>x</a></header></article>", "body"),
        ("<article><footer><a id='x' href='/'>x</a></footer></article>", "body"),
        ("<footer id='colophon'><article><a id='x' href='/'>x</a></article></footer>", "footer"),
        ("<aside><article class='post'><div class='entry-content'><a id='x' href='/'>x</a></div></article></aside>",
         "aside"),
        ("<div class='related-posts'><a id='x' href='/'>x</a></div>", "aside"),
        ("<div class='l-sidebar-fixed'><div class='c-entry-content'><a id='x' href='/'>x</a></div></div>", "body"),
        ("<div class='elementor-widget elementor-widget-theme-post-content'><a id='x' href='/'>x</a></div>", "body"),
        ("<div class='elementor-widget-container'><a id='x' href='/'>x</a></div>", "body"),
        ("<article class='comment-body'><a id='x' href='/'>x</a></article>", "comments"),
        ("<div class='subbuzz'><h2 class='subbuzz__header'><a id='x' href='/'>x</a></h2></div>", "body"),
        ("<ul class='c-global-header__links'><li><a id='x' href='/'>x</a></li></ul>", "header"),
        ("<div class='menu-main-container'><a id='x' href='/'>x</a></div>", "nav"),
        ("<div id='disqus_thread'><a id='x' href='/'>x</a></div>", "comments"),
        ("<div class='sticky-sidebar-relative'><a id='x' href='/'>x</a></div>", "body"),
    ],
)
def test_region_rules(markup: str, region: str) -> None:
    root = parse_document(f"<html><body class='has-sidebar right-sidebar'>{markup}</body></html>".encode())
    [target] = [el for el in dom.descendants(root, "a") if el.attributes.get("id") == "x"]
    assert RegionMap().region_of(target) == region


def test_a_link_s_own_class_decides_its_region() -> None:
    """find_links hands regions the anchor's attributes: those, not its parent's, are the link's signals."""
    html = page("<article><div class='story'><a class='share-button' href='https://x.test/b'>b</a>"
                "<a href='https://x.test/a'>a</a></div><p id='note'><a href='https://x.test/c'>c</a></p></article>")
    assert [link.region for link in extract_document(html, url="https://news.test/").links] == ["aside", "body",
                                                                                                "body"]


def test_token_words() -> None:
    assert [token_region(t) for t in ("widget_text", "td-sidebar", "entry-header", "js-comments", "socialcount",
                                      "c-footer__wrapper", "sharedaddy", "elementor-widget")] == [
        "aside", "aside", "header", "comments", None, "footer", None, None]


# -- robustness -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n\t", "", b"\x00\x01\x02\xff\xfe\x00", b"\xff\xfe\x00\x00", b"<", b"<html", b"</html></body>",
     b"<div>" * 3000, "<?xml version='1.0' encoding='latin-1'?><html><body>\u00e9</body></html>", "\ud800<p>",
     b"<a href='http://[::1'>x</a><a href='http://h:99999999/'>y</a><a href='javascript:alert(1)'>z</a>",
     b"<textarea><blockquote class='twitter-tweet'><a href='http://[::1'>", b"<div data-x='&lt;iframe &gt;'></div>",
     b"<div data-x='[&quot;&lt;iframe&quot;, {&quot;a&quot;: ['></div>"],
)
def test_never_raises(body: bytes | str) -> None:
    for media in ("html", "text"):
        result = extract_document(body, url="https://example.org/", content_type="text/html; charset=nonsense",
                                  media=media)
        assert isinstance(result, Extraction)


def test_empty_and_binary_give_an_empty_extraction() -> None:
    assert extract_document(b"").embeds == () and extract_document(b"").links == ()
    assert extract_document(bytes(range(256)) * 4).embeds == ()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400) | st.text(alphabet=st.sampled_from(list("<>/=\"' &;abiqxy#!-")) | st.characters(),
                                         max_size=400))
def test_never_raises_on_arbitrary_input(body: bytes | str) -> None:
    assert isinstance(extract_document(body, url="https://example.org/x"), Extraction)


def test_snippet_is_capped() -> None:
    html = page(f"<blockquote class='twitter-tweet'><p>{'x' * 50_000}</p>&mdash; A (@a) "
                "<a href='https://twitter.com/a/status/91'>May 1, 2020</a></blockquote>")
    [embed] = extract_document(html).embeds
    assert len(embed.snippet) == MAX_SNIPPET


# -- charset decisions --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "charset", "source"),
    [
        ("<p>café</p>".encode("cp1252"), "text/html; charset=windows-1252", "cp1252", "header"),
        ("<p>café</p>".encode("cp1252"), "text/html; charset=ISO-8859-1", "cp1252", "header"),
        ("<p>café</p>".encode(), "text/html; charset=utf-8", "utf-8", "header"),
        (b"\xef\xbb\xbf<meta charset='latin-1'><p>caf\xc3\xa9</p>", None, "utf-8", "bom"),
        ("<p>café</p>".encode("utf-16"), None, "utf-16-le", "bom"),
        ("<meta charset='euc-jp'><p>日本語</p>".encode("euc-jp"), None, "euc_jp", "meta"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><p>日本</p>'.encode("shift_jis"),
         "text/html", "shift_jis", "meta"),
        ("<meta charset='utf-16'><p>café</p>".encode(), None, "utf-8", "meta"),
        ("<p>café</p>".encode(), None, "utf-8", "detected"),
        (b"<p>plain ascii</p>", None, "utf-8", "detected"),
        (("<p>" + "Привет, как дела? Это обычный русский текст. " * 20 + "</p>").encode("cp1251"),
         None, "cp1251", "detected"),
    ],
)
def test_charset_choice_is_recorded(body: bytes, content_type: str | None, charset: str, source: str) -> None:
    result = extract_document(body, content_type=content_type)
    assert (result.charset, result.charset_source) == (charset, source)


def test_a_lying_header_is_not_trusted() -> None:
    """Bytes that are not UTF-8 under a UTF-8 header go to detection (whatever it guesses)."""
    text = "Le café de la gare est fermé. Les élèves étaient très déçus. " * 20
    result = extract_document(f"<p>{text}</p>".encode("cp1252"), content_type="text/html; charset=utf-8")
    assert result.charset != "utf-8" and result.charset_source == "detected"


def test_undecodable_bytes_fall_back_to_utf8_with_replacements() -> None:
    result = extract_document(b"<p>" + bytes(range(128, 256)) * 3 + b"</p>")
    assert (result.charset, result.charset_source, result.embeds) == ("utf-8", "fallback", ())


def test_decoded_text_reaches_the_embed() -> None:
    html = ("<meta charset='windows-1252'>" + tweet("95").replace("Tweet 95", "Caf\u00e9 \u2014 s\u00fc\u00df")
            ).encode("cp1252")
    result = extract_document(html)
    assert (result.embeds[0].fallback_text, result.charset, result.charset_source) == (
        "Café — süß", "cp1252", "meta")


def test_text_input_has_no_charset() -> None:
    result = extract_document(page(tweet("96")).decode())
    assert (summary(result), result.charset, result.charset_source) == ([(0, "twitter", "96", "blockquote", "body")],
                                                                        None, None)


# -- page facts and text media --------------------------------------------------


def test_page_facts() -> None:
    head = ("<title>Site | Story</title><meta property='og:title' content='The Story'>"
            "<link rel='Canonical' href='/story'><meta property='article:published_time' content='2020-05-01T10:00Z'>")
    body = page("<p>x</p>", head).replace(b"<html>", b"<html lang='de-AT'>")
    result = extract_document(body, url="https://news.example/story?utm=1")
    assert (result.title, result.canonical_url, result.published, result.lang) == (
        "The Story", "https://news.example/story", "2020-05-01T10:00Z", "de-AT")


def test_page_facts_collapse_whitespace() -> None:
    """Runs of any whitespace (newlines, tabs, no-break and em spaces) become one space; the ends are trimmed."""
    head = "<title>\n  Site\t|\u00a0 Story \u2003</title><meta name='pubdate' content=' 2020-05-01\n10:00 '>"
    result = extract_document(page("<p>x</p>", head), url="https://news.example/story")
    assert (result.title, result.published) == ("Site | Story", "2020-05-01 10:00")


def test_text_media_delegates_to_the_text_reader() -> None:
    text = ("Another large group of migrants pic.twitter.com/bJ7wHuwl4f\n"
            "\u2014 Hanna Liubakova (@HannaLiubakova) November 18, 2021\n")
    result = extract_document(text.encode(), media="text")
    try:
        from archiver.extract.text import extract_text
    except ImportError:
        assert result.embeds == ()
        return
    assert result.embeds == tuple(extract_text(text))
    assert all(isinstance(e, Embed) for e in result.embeds)
    assert result.charset == "utf-8" and result.links == ()


def test_text_media_without_the_text_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "archiver.extract.text", None)  # importing it now raises ImportError
    assert extract_document("\u2014 A (@a) May 1, 2020".encode(), media="text").embeds == ()


# -- the corpus ---------------------------------------------------------------


def corpus_page(corpus: Path, name: str) -> Extraction:
    return extract_document((corpus / "pages" / name).read_bytes())


def test_corpus_textarea_page(corpus_dir: Path) -> None:
    embeds = [e for e in corpus_page(corpus_dir, "003-amnesty-de-consent-textarea.html").embeds]
    assert [(e.post.post_id, e.kind, e.region) for e in embeds] == [
        ("1455512589295816707", "blockquote", "body"), ("1223159406038343685", "blockquote", "body")]
    assert all(" > textarea.third-party-services--original-content > " in e.css_path for e in embeds)


def test_corpus_iframely_page_ignores_the_state_blob(corpus_dir: Path) -> None:
    """035 carries the iframely tweet twice: in the article and \\u003C-escaped in a <script> JSON string."""
    result = corpus_page(corpus_dir, "035-vice-iframely-tweet.html")
    assert [(e.position, e.post.post_id, e.kind) for e in result.embeds] == [
        (0, "1161360217671532544", "link"), (1, "1163527563383382017", "link"), (2, "1163558051523244032", "link"),
        (3, "1163535602798776321", "iframe")]
    assert (result.charset, result.charset_source) == ("utf-8", "meta")


def test_corpus_referer_list_and_footnote_title(corpus_dir: Path) -> None:
    """013: the page-bottom referer list is not the article; the tweet embedded twice is one embed."""
    result = corpus_page(corpus_dir, "013-takagi-hiromitsu-diary-tweets.html")
    ids = [e.post.post_id for e in result.embeds]
    assert len(ids) == len(set(ids)) == 17
    assert "1096274886635319298" not in ids and "1095692048097669120" not in ids
    referers = [link for link in result.links if "1096274886635319298" in link.url]
    assert [link.region for link in referers] == ["aside"]


def test_corpus_sidebar_widget_page(corpus_dir: Path) -> None:
    result = corpus_page(corpus_dir, "049-nurmeinstandpunkt-NEG-sidebar-tweets.html")
    assert result.embeds == ()
    status_links = [link for link in result.links if "/status" in link.url]
    assert len(status_links) == 13 and {link.region for link in status_links} == {"aside"}


# -- one walk -------------------------------------------------------------------


def _walks(body: bytes, url: str | None) -> tuple[int, Extraction]:
    root = parse_document(body)
    page = Page(root, tags=PAGE_TAGS, data=body)
    extraction = extract_page(page, url)
    return page.walks, extraction


def test_every_reader_asks_the_page_only_for_tags_of_its_one_walk() -> None:
    body = page(
        tweet("20") + '<a href="relative">home</a><textarea>' + tweet("21").replace("<", "&lt;") + "</textarea>"
        '<div class="fb-post" data-href="https://www.facebook.com/ann/posts/1"></div>'
        '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe><aside><a href="https://x.test/">x</a></aside>',
        head='<base href="https://news.test/section/"><title>T</title><link rel="canonical" href="https://news.test/a">'
             '<time datetime="2020-05-01">May 1</time>',
    )
    walks, extraction = _walks(body, "https://news.test/a")
    assert walks == 1
    assert [link.url for link in extraction.links][:2] == ["https://twitter.com/ann/status/20?ref_src=twsrc%5Etfw",
                                                           "https://news.test/section/relative"]
    assert {e.post.post_id for e in extraction.embeds if e.post} >= {"20", "21", "dQw4w9WgXcQ"}


def test_corpus_pages_are_walked_once() -> None:
    pages = sorted(shared_path("corpus", "pages").glob("*.html"))
    assert pages
    for path in pages:
        walks, _ = _walks(path.read_bytes(), "https://news.test/" + path.name)
        assert walks == 1, path.name
