"""Property-based: extract_document never raises, whatever the bytes, and finishes in bounded time.

The pages archiver reads are written by strangers, cut short by networks and
mislabelled by servers. Three generators attack the extractor: arbitrary bytes,
arbitrary text, and real embed markup (every platform's forms) mangled the
ways pages and proxies mangle it: cut anywhere, nested inside each other,
attributes filled with garbage, escaped into attributes and textareas, encoded
in a charset other than the one declared. Time is bounded by hypothesis's
``deadline`` per example, not by timed assertions.
"""

from __future__ import annotations

import html
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.extract import extract_document
from archiver.models import EMBED_KINDS, Embed, Extraction, Link

TWEET = "1460323737035677698"
FRAGMENTS = (
    f'<blockquote class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">Stuck at the border '
    f'<a href="https://t.co/AbCdEf">pic.twitter.com/AbCdEf</a></p>&mdash; Hanna (@HannaLiubakova) '
    f'<a href="https://twitter.com/HannaLiubakova/status/{TWEET}?ref_src=twsrc%5Etfw">November 18, 2021</a>'
    f'</blockquote><script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>',
    f'<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{TWEET}"></amp-twitter>',
    f'<div class="tweet" data-tweet-id="{TWEET}"></div>',
    f'<iframe src="https://platform.twitter.com/embed/Tweet.html?id={TWEET}"></iframe>',
    '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/CxYz123AbC/" '
    'data-instgrm-version="14"><a href="https://www.instagram.com/p/CxYz123AbC/">A post shared by x</a>'
    '</blockquote><script async src="//www.instagram.com/embed.js"></script>',
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ?rel=0" allowfullscreen>'
    "</iframe>",
    '<iframe data-src="//www.youtube-nocookie.com/embed/dQw4w9WgXcQ"></iframe>',
    '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@scout2015/video/6718335390845095173" '
    'data-video-id="6718335390845095173"><section><a href="https://www.tiktok.com/@scout2015">@scout2015</a>'
    '</section></blockquote><script async src="https://www.tiktok.com/embed.js"></script>',
    '<div class="fb-post" data-href="https://www.facebook.com/20531316728/posts/10154009990506729/" '
    'data-width="500"></div>',
    '<iframe src="https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2F20531316728'
    '%2Fposts%2F10154009990506729%2F"></iframe>',
    '<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.'
    'post/3k44deefqdk2g" data-bluesky-cid="bafyrei"><p>Hello</p>&mdash; Bluesky (@bsky.app)</blockquote>',
    '<iframe src="https://mastodon.social/@Gargron/109362452347633476/embed" class="mastodon-embed"></iframe>'
    '<script src="https://mastodon.social/embed.js" async="async"></script>',
    '<blockquote class="reddit-embed-bq" data-embed-height="316"><a href="https://www.reddit.com/r/investing/'
    'comments/7pfpeq/buffett/">Buffett</a> by <a href="https://www.reddit.com/user/someone/">u/someone</a>'
    "</blockquote>",
    '<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="durov/43" '
    'data-width="100%"></script>',
    '<blockquote class="text-post-media" data-text-post-permalink="https://www.threads.net/@zuck/post/'
    'CuXFPIeLLod"><a href="https://www.threads.net/@zuck/post/CuXFPIeLLod">Post by @zuck</a></blockquote>',
    '<iframe src="https://player.vimeo.com/video/235352744?h=1" frameborder="0"></iframe>',
    f'<p>See <a href="https://x.com/someone/status/{TWEET}">this post</a> and '
    '<a href="https://example.org/a?utm_source=x#frag">a report</a>.</p>',
    f'<textarea class="consent">&lt;blockquote class="twitter-tweet"&gt;&lt;a href="https://twitter.com/a/'
    f'status/{TWEET}"&gt;x&lt;/a&gt;&lt;/blockquote&gt;</textarea>',
    '<div data-html="&lt;iframe src=&quot;https://www.youtube.com/embed/dQw4w9WgXcQ&quot;&gt;&lt;/iframe&gt;">'
    "</div>",
    '<div class="sqs-block" data-block-json="{&quot;html&quot;:&quot;&lt;blockquote class=\\&quot;'
    'instagram-media\\&quot;&gt;&lt;/blockquote&gt;&quot;}"></div>',
    "<p>Another large group of migrants pic.twitter.com/bJ7wHuwl4f</p>"
    "<p>— Hanna Liubakova (@HannaLiubakova) November 18, 2021</p>",
    '<nav><a href="/">Home</a></nav><aside class="sidebar"><a href="https://twitter.com/intent/tweet?text=x">'
    "Tweet</a></aside><footer>&copy; 2024</footer>",
    '<meta charset="windows-1251"><meta http-equiv="Content-Type" content="text/html; charset=shift_jis">'
    '<link rel="canonical" href="https://news.test/a"><base href="https://other.test/dir/">',
    "<!-- <blockquote class=\"twitter-tweet\"> --><![CDATA[ <iframe> ]]><?php echo 1 ?>",
)
GARBAGE = st.sampled_from(['"', "'", "<", ">", "&", "&#0;", "&#x110000;", "&amp", "\x00", "\ufffd", "\u202e",
                           "javascript:", "//", "%", "%ff", "\\", "]]>", "-->", "<!--", "<script>", "</", "=",
                           " data-tweet-id=", "status/", "\n", "é", "𝕏", "\ud800".encode("utf-8", "surrogatepass")
                           .decode("utf-8", "replace")])
CHARSETS = ("utf-8", "utf-16", "utf-16-le", "windows-1252", "windows-1251", "shift_jis", "gb18030", "koi8-r",
            "iso-8859-7", "euc-kr", "utf-7", "cp037", "latin-1", "ascii", "nonsense-charset")
CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(["text/html", "text/html; charset=utf-8", "text/html; charset=", "text/html; charset=\"x",
                     "application/octet-stream", "text/plain; charset=utf-16", "text/html;charset=UTF-8;x=y"]),
    st.builds(lambda c: f"text/html; charset={c}", st.sampled_from(CHARSETS)),
)
FUZZ = settings(max_examples=200, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow],
                database=None)


def check(result: Extraction) -> None:
    """What every caller relies on: an Extraction of well-formed records."""
    assert isinstance(result, Extraction)
    assert all(isinstance(e, Embed) and e.kind in EMBED_KINDS for e in result.embeds)
    assert all(isinstance(link, Link) for link in result.links)
    assert [e.position for e in result.embeds] == sorted(e.position for e in result.embeds)


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """Real embed markup, cut, nested, salted with garbage and escaped."""
    pieces = draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6))
    out: list[str] = []
    for piece in pieces:
        action = draw(st.sampled_from(["keep", "cut", "nest", "salt", "escape", "repeat", "unclose"]))
        if action == "cut":
            piece = piece[: draw(st.integers(0, len(piece)))]
        elif action == "nest":  # another fragment inside this one, anywhere, even inside a tag
            at = draw(st.integers(0, len(piece)))
            piece = piece[:at] + draw(st.sampled_from(FRAGMENTS)) + piece[at:]
        elif action == "salt":
            for _ in range(draw(st.integers(1, 5))):
                at = draw(st.integers(0, len(piece)))
                piece = piece[:at] + draw(GARBAGE) + piece[at:]
        elif action == "escape":  # markup parked in an attribute or a textarea, once or twice escaped
            inner = html.escape(html.escape(piece)) if draw(st.booleans()) else html.escape(piece)
            piece = draw(st.sampled_from([f'<div data-html="{inner}"></div>', f"<textarea>{inner}</textarea>"]))
        elif action == "repeat":
            piece = piece * draw(st.integers(2, 30))
        elif action == "unclose":
            piece = draw(st.sampled_from(["<div>", "<blockquote>", "<a href='", "<script>", "<!--", "<table><tr>"])) \
                * draw(st.integers(1, 300)) + piece
        out.append(piece)
    body = "".join(out)
    if draw(st.booleans()):
        body = f"<!doctype html><html><head><title>{draw(st.text(max_size=20))}</title></head><body>{body}"
    return body


@FUZZ
@given(body=st.binary(max_size=4096), content_type=CONTENT_TYPES, media=st.sampled_from(["html", "text"]))
def test_arbitrary_bytes(body: bytes, content_type: str | None, media: str) -> None:
    check(extract_document(body, url="https://news.test/a", content_type=content_type, media=media))


@FUZZ
@given(text=st.text(max_size=3000), media=st.sampled_from(["html", "text"]),
       url=st.one_of(st.none(), st.just("https://news.test/a"), st.text(max_size=30)))
def test_arbitrary_text(text: str, media: str, url: str | None) -> None:
    check(extract_document(text, url=url, media=media))


@FUZZ
@given(markup=mangled(), charset=st.sampled_from(CHARSETS), declared=CONTENT_TYPES)
def test_mangled_embed_markup_in_any_encoding(markup: str, charset: str, declared: str | None) -> None:
    try:
        body = markup.encode(charset, "replace")
    except LookupError:  # a label no codec answers to: the bytes go out as UTF-8, the label stays a lie
        body = markup.encode("utf-8", "surrogatepass")
    first = extract_document(body, url="https://news.test/story", content_type=declared)
    check(first)
    assert extract_document(body, url="https://news.test/story", content_type=declared) == first  # pure


@FUZZ
@given(markup=mangled())
def test_mangled_markup_as_text_and_as_scraped_text(markup: str) -> None:
    check(extract_document(markup, url="https://news.test/story"))
    check(extract_document(markup, media="text"))


def test_the_unmangled_fragments_are_found() -> None:
    """The generator starts from markup the extractor really reads (else the fuzzing proves little)."""
    found = extract_document("".join(FRAGMENTS).encode(), url="https://news.test/story")
    platforms = {e.platform for e in found.embeds}
    assert {"twitter", "instagram", "youtube", "tiktok", "facebook", "bluesky", "mastodon", "reddit", "telegram",
            "threads", "vimeo"} <= platforms
