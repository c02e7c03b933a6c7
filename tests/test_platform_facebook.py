"""Facebook: SDK divs, plugin iframes, AMP; fbid identity; Meta oEmbed with and without a token."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import facebook
from archiver.platforms.page import Page
from archiver.platforms.oembed import META_TOKEN_MISSING
from archiver.settings import Endpoints, Settings

POST_URL = "https://www.facebook.com/Sozialdemokratie/posts/928812574504508/"
POST = PostRef("facebook", "928812574504508", POST_URL)
VIDEO = PostRef("facebook", "1661762744185332", "https://www.facebook.com/justiciatv/videos/1661762744185332/")
PLUGIN = "https://www.facebook.com/plugins/{}.php?href={}&width=500"
ENC_POST = "https%3A%2F%2Fwww.facebook.com%2FSozialdemokratie%2Fposts%2F928812574504508%2F"
ENC_VIDEO = "https%3A%2F%2Fwww.facebook.com%2Fjusticiatv%2Fvideos%2F1661762744185332%2F"

FB_POST = f"""
<div class="fb-post" data-href="{POST_URL}" data-width="600">
<blockquote cite="https://graph.facebook.com/Sozialdemokratie/videos/928812574504508/">
<p>In Zeiten explodierender Kosten&#8230;</p>
<p>Posted by <a href="https://www.facebook.com/Sozialdemokratie">SPÖ</a> on&nbsp;<a
 href="https://graph.facebook.com/Sozialdemokratie/videos/928812574504508/">Monday, February 7, 2022</a></p>
</blockquote></div>"""


def detect(html: str) -> list:
    return list(facebook.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


def test_fb_post_div_with_the_sdk_fallback() -> None:
    [s] = detect(FB_POST)
    assert (s.kind, s.post, s.url_as_found) == ("div", POST, POST_URL)
    assert (s.author_name, s.shown_date) == ("SPÖ", "Monday, February 7, 2022")
    assert s.fallback_text == "In Zeiten explodierender Kosten…"


@pytest.mark.parametrize("markup, kind, post", [
    (f'<div class="fb-video" data-href="{VIDEO.url}" data-allowfullscreen="true"></div>', "div", VIDEO),
    (f'<iframe src="{PLUGIN.format("post", ENC_POST)}"></iframe>', "iframe", POST),
    (f'<iframe src="{PLUGIN.format("video", ENC_VIDEO)}"></iframe>', "iframe", VIDEO),
    (f'<iframe data-lazy-src="{PLUGIN.format("post", ENC_POST)}"></iframe>', "iframe", POST),
    (f'<amp-facebook data-href="{POST_URL}" layout="responsive"></amp-facebook>', "amp", POST),
    (f'<amp-facebook data-embed-as="video" data-href="{VIDEO.url}"></amp-facebook>', "amp", VIDEO),
    (f'<amp-iframe src="{PLUGIN.format("post", ENC_POST)}"></amp-iframe>', "amp", POST),
    (f'<p>As <a href="{POST_URL}?__tn__=K-R">she wrote</a></p>', "link", POST),
])
def test_other_markup_forms(markup: str, kind: str, post: PostRef) -> None:
    assert [(s.kind, s.post) for s in detect(markup)] == [(kind, post)]


@pytest.mark.parametrize("markup", [
    '<iframe src="//www.facebook.com/plugins/like.php?href=https://www.phoronix.com/news/x&layout=button"></iframe>',
    '<iframe src="https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2Fmetro"></iframe>',
    '<iframe src="https://www.facebook.com/plugins/likebox.php?href=https%3A%2F%2Fwww.facebook.com%2Fx"></iframe>',
    '<amp-facebook-page data-href="https://www.facebook.com/cybercook"></amp-facebook-page>',
    f'<amp-facebook-comments data-href="{POST_URL}"></amp-facebook-comments>',
    f'<amp-facebook data-embed-as="comment" data-href="{POST_URL}?comment_id=1"></amp-facebook>',
    '<a href="https://www.facebook.com/metrotimes">Facebook</a><a href="http://facebook.com/knowtechie">f</a>',
    '<a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example">share</a>',
    '<div class="fb-page" data-href="https://www.facebook.com/spoe"></div>',
    '<div class="fb-post" data-href="https://www.facebook.com/spoe"></div>',
])
def test_traps_are_not_posts(markup: str) -> None:
    assert detect(markup) == []


@pytest.mark.parametrize("url, post_id, canonical", [
    (POST_URL, "928812574504508", POST_URL),
    ("https://m.facebook.com/Sozialdemokratie/posts/928812574504508/", "928812574504508", POST_URL),
    ("http://web.facebook.com/Sozialdemokratie/posts/928812574504508/?ref=embed_post", "928812574504508", POST_URL),
    ("https://www.facebook.com/photo.php?fbid=10207393772231779&set=a.1332832050135.2039779.1511060888&type=3",
     "10207393772231779",
     "https://www.facebook.com/photo.php?fbid=10207393772231779&set=a.1332832050135.2039779.1511060888&type=3"),
    ("https://www.facebook.com/photo/?fbid=3348617585198325&set=gm.1675022489341591", "3348617585198325",
     "https://www.facebook.com/photo/?fbid=3348617585198325&set=gm.1675022489341591"),
    ("https://www.facebook.com/unialesznoks/photos/pcb.3485430601537621/3485430308204317", "3485430308204317",
     "https://www.facebook.com/unialesznoks/photos/pcb.3485430601537621/3485430308204317"),
    ("https://www.facebook.com/tumocenter/photos/a.215522485152592/1084373708267461/?type=3", "1084373708267461",
     "https://www.facebook.com/tumocenter/photos/a.215522485152592/1084373708267461/"),
    ("https://m.facebook.com/story.php?story_fbid=123456789&id=987654321", "123456789",
     "https://www.facebook.com/story.php?story_fbid=123456789&id=987654321"),
    ("https://www.facebook.com/permalink.php?story_fbid=pfbid02AbCdEfGhIjKl&id=1", "pfbid02AbCdEfGhIjKl",
     "https://www.facebook.com/permalink.php?story_fbid=pfbid02AbCdEfGhIjKl&id=1"),
    ("https://www.facebook.com/watch/?v=1234567890123", "1234567890123",
     "https://www.facebook.com/watch/?v=1234567890123"),
    ("https://www.facebook.com/groups/rordevelopers/permalink/1675022489341591/", "1675022489341591",
     "https://www.facebook.com/groups/rordevelopers/permalink/1675022489341591/"),
    ("https://www.facebook.com/reel/1234567890", "1234567890", "https://www.facebook.com/reel/1234567890"),
    ("https://www.facebook.com/notes/facebook-app/welcome-to-the-facebook-blog/2207517130/",
     "facebook.com/notes/facebook-app/welcome-to-the-facebook-blog/2207517130",
     "https://www.facebook.com/notes/facebook-app/welcome-to-the-facebook-blog/2207517130/"),
    ("https://fb.watch/abcDEF12/", "fb.watch/abcdef12", "https://fb.watch/abcDEF12/"),
    (PLUGIN.format("post", ENC_POST), "928812574504508", POST_URL),
    (PLUGIN.format("video", ENC_VIDEO), VIDEO.post_id, VIDEO.url),
])
def test_identify(url: str, post_id: str, canonical: str) -> None:
    assert facebook.identify(url) == PostRef("facebook", post_id, canonical)


@pytest.mark.parametrize("url", [
    "https://www.facebook.com/metrotimes", "https://www.facebook.com/profile.php?id=100044264924472",
    "https://www.facebook.com/events/123456789/", "https://www.facebook.com/groups/rordevelopers/",
    "https://www.facebook.com/sharer/sharer.php?u=x", "https://www.facebook.com/dialog/share?href=x",
    "https://www.facebook.com/plugins/like.php?href=" + ENC_POST,
    "https://graph.facebook.com/1284562961576662/posts/3610333842332884/", "https://www.facebook.com/legal/terms",
])
def test_identify_rejects(url: str) -> None:
    assert facebook.identify(url) is None


def test_corpus_pages(corpus_dir: Path) -> None:
    def ids(name: str, attr: str | None = None) -> set[str]:
        root = page_root(corpus_dir / "pages" / name)
        if attr:  # the lazy embed survives only as HTML escaped in an attribute
            holder = next(el for el in dom.descendants(root) if attr in el.attributes)
            root = dom.parse(holder.attributes[attr].encode())
        return {s.post.post_id for s in facebook.detect(Page(root, None))}

    assert ids("026-spoe-at-fb-post.html") == {"928812574504508", "488827215936105"}
    assert ids("027-aol-fb-plugin-post.html") == {"10207393772231779", "10207375395892382", "10207351005242631"}
    assert ids("028-elcomercio-fb-video-data-iframe.html", "data-iframe") == {"1661762744185332"}
    assert ids("029-sportowefakty-fb-post.html") == {"3485430308204317"}
    assert ids("038-cybercook-youtube-amp-fbpage.html") == set()
    assert ids("046-phoronix-NEG-tweet-button.html") == set()


def test_no_token_means_unsupported() -> None:
    assert facebook.lookups(POST, Settings()) == []
    assert (facebook.classify(POST, []).status, facebook.classify(POST, []).detail) == (
        Status.UNSUPPORTED, META_TOKEN_MISSING)


def test_token_lookups_pick_post_or_video_endpoint() -> None:
    settings = Settings(meta_access_token="T", endpoints=Endpoints(meta_graph="http://127.0.0.1:9/v18.0/"))
    [post] = facebook.lookups(POST, settings)
    [video] = facebook.lookups(VIDEO, settings)
    assert (post.endpoint, video.endpoint) == ("facebook.oembed_post", "facebook.oembed_video")
    assert post.url.startswith("http://127.0.0.1:9/v18.0/oembed_post?url=https%3A%2F%2Fwww.facebook.com%2F")
    assert video.url.startswith("http://127.0.0.1:9/v18.0/oembed_video?url=")
    assert post.headers == (("Authorization", "Bearer T"),) and "access_token" not in post.url


@pytest.mark.parametrize("name, author", [
    ("oembed-ruby-oembed-1-http200.json", "Ruby on Rails"), ("oembed-ruby-oembed-4-http200.json",
                                                             "Ruby on Rails Developers"),
])
def test_classify_real_answers(corpus_dir: Path, name: str, author: str) -> None:
    body = (corpus_dir / "api" / "facebook" / name).read_bytes()
    check = facebook.classify(POST, [Answer("facebook.oembed_post", 200, body)])
    assert (check.status, check.author_name, check.author_handle, check.text, check.media) == (
        Status.AVAILABLE, author, None, None, ())


def test_classify_reads_the_answer_of_its_own_endpoint() -> None:
    check = facebook.classify(VIDEO, [Answer("facebook.oembed_video", 404, b"")])
    assert (check.status, check.endpoint) == (Status.NOT_FOUND, "facebook.oembed_video")
    rate = facebook.classify(POST, [Answer("facebook.oembed_post", 400,
                                           b'{"error":{"message":"(#32) Page request limit reached","code":32}}')])
    assert (rate.status, rate.retry) == (Status.ERROR, True)
