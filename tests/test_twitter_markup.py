"""Twitter/X: every embed form, the traps that are not posts, canonical identity, corpus pages."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from archiver import dom
from archiver.extract import extract_document
from archiver.models import PostRef
from archiver.platforms import twitter
from archiver.platforms.page import Page
from archiver.platforms.base import Sighting
from archiver.platforms.twitter.ids import identify, parse_status, status_url


def detect(html: str) -> list[Sighting]:
    return list(twitter.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


def embeds(html: str) -> list[Sighting]:
    """The embed sightings; plain status links (kind "link") are tested on their own."""
    return [s for s in detect(html) if s.kind != "link"]


def ref(post_id: str, handle: str | None = None) -> PostRef:
    return PostRef("twitter", post_id, status_url(post_id, handle))


def fields(s: Sighting) -> tuple:
    return (s.kind, s.post, s.url_as_found, s.author_handle, s.author_name, s.fallback_text, s.shown_date, s.lang)


BLOCKQUOTE = """<blockquote class="twitter-tweet" data-lang="de"><p lang="en" dir="ltr">Honored to
 offer the benediction. <a href="https://t.co/dLVatVHxRr">https://t.co/dLVatVHxRr</a></p>
&mdash; Seth Goldstein (@Rabbi_360) <a
 href="https://twitter.com/Rabbi_360/status/1214387633146564608?ref_src=twsrc%5Etfw">January 7, 2020</a>
</blockquote><script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>"""


# -- the official blockquote --------------------------------------------------


def test_blockquote_reads_every_field() -> None:
    [s] = embeds(BLOCKQUOTE)
    assert fields(s) == (
        "blockquote",
        ref("1214387633146564608", "Rabbi_360"),
        "https://twitter.com/Rabbi_360/status/1214387633146564608?ref_src=twsrc%5Etfw",
        "Rabbi_360",
        "Seth Goldstein",
        "Honored to offer the benediction. https://t.co/dLVatVHxRr",
        "January 7, 2020",
        "en",
    )
    assert s.element.tag == "blockquote"


def test_twitter_video_blockquote() -> None:
    [s] = embeds('<blockquote class="twitter-video" data-status="hidden"><p lang="es">Gol</p>&mdash; AS (@diarioas)'
                 ' <a href="https://twitter.com/diarioas/status/900000000000000001">May 1, 2019</a></blockquote>')
    assert (s.kind, s.post, s.author_name, s.lang) == ("blockquote", ref("900000000000000001", "diarioas"), "AS", "es")


def test_permalink_is_the_last_status_link() -> None:
    """The text may link another tweet first; the signature's link is the post."""
    [s] = embeds('<blockquote class="twitter-tweet"><p lang="en">see <a href="https://twitter.com/other/status/111">'
                 'this</a></p>&mdash; Me (@me) <a href="https://twitter.com/me/status/222">Jan 1, 2020</a>'
                 "</blockquote>")
    assert (s.post, s.author_handle, s.fallback_text) == (ref("222", "me"), "me", "see this")


def test_footer_handle_names_an_i_web_url() -> None:
    [s] = embeds('<blockquote class="twitter-tweet"><p>Hi</p>&mdash; Ann (@ann_b) '
                 '<a href="https://twitter.com/i/web/status/333">March 2, 2021</a></blockquote>')
    assert (s.post, s.author_handle, s.author_name, s.fallback_text, s.lang) == (
        ref("333", "ann_b"), "ann_b", "Ann", "Hi", None)


def test_statuses_url_and_signature_paragraph() -> None:
    """readability's page (015): old /statuses/ URL; timesofisrael puts the signature in its own <p>."""
    [s] = embeds('<blockquote class="twitter-tweet"><p lang="en">Text</p><p>&mdash; Shay (@ironshay) '
                 '<a href="https://twitter.com/ironshay/statuses/370525864523743232">August 22, 2013</a></p>'
                 "</blockquote>")
    assert (s.post, s.author_name, s.fallback_text) == (ref("370525864523743232", "ironshay"), "Shay", "Text")


def test_blockquote_without_text_or_date() -> None:
    """Mashable (011) keeps only a link whose text is not a date."""
    [s] = embeds('<blockquote class="twitter-tweet"><a href="https://twitter.com/TomNamako/status/808782171829891072">'
                 "Tweet may have been deleted</a></blockquote>")
    assert fields(s)[3:] == ("TomNamako", None, None, None, None)


def test_blockquote_with_only_an_id_attribute() -> None:
    [s] = embeds('<blockquote class="twitter-tweet" data-tweet-id="444"></blockquote>')
    assert (s.kind, s.post, s.url_as_found) == ("blockquote", ref("444"), "444")


def test_blockquote_without_any_id_is_nothing() -> None:
    assert detect('<blockquote class="twitter-tweet"><p>quoted words</p></blockquote>') == []


# -- rendered widgets, AMP, wrappers ------------------------------------------


def test_rendered_iframe_ignores_the_publishers_screen_name() -> None:
    """037: creatorScreenName is the publisher's account, not the author."""
    [s] = embeds('<div class="twitter-tweet twitter-tweet-rendered"><iframe id="twitter-widget-0" '
                 'src="https://platform.twitter.com/embed/Tweet.html?creatorScreenName=katiejmbaker'
                 '&amp;id=790936002017755136"'
                 ' data-tweet-id="790936002017755136"></iframe></div>')
    assert fields(s) == ("iframe", ref("790936002017755136"), "790936002017755136", None, None, None, None, None)


def test_iframe_class_twitter_tweet_with_data_tweet_id() -> None:
    [s] = embeds('<iframe class="twitter-tweet twitter-tweet-rendered" data-tweet-id="800384752746254337"></iframe>')
    assert (s.kind, s.post) == ("iframe", ref("800384752746254337"))


@pytest.mark.parametrize("attr", ["src", "data-src", "data-lazy-src"])
def test_iframe_src_tweet_html(attr: str) -> None:
    [s] = embeds(f'<iframe {attr}="//platform.twitter.com/embed/Tweet.html?dnt=true&amp;id=555"></iframe>')
    assert (s.kind, s.post, s.url_as_found) == (
        "iframe", ref("555"), "//platform.twitter.com/embed/Tweet.html?dnt=true&id=555")


def test_noscript_copy_is_kind_noscript() -> None:
    [s] = embeds(f"<noscript>{BLOCKQUOTE}</noscript>")
    assert (s.kind, s.post) == ("noscript", ref("1214387633146564608", "Rabbi_360"))


def test_amp_twitter() -> None:
    [s] = embeds('<amp-twitter width="500" height="100" data-tweetid="1311697819384844290"></amp-twitter>')
    assert (s.kind, s.post, s.author_handle) == ("amp", ref("1311697819384844290"), None)


def test_amp_placeholder_blockquote_is_seen_too() -> None:
    """Extraction merges the two sightings; the detector reports what it sees."""
    found = embeds('<amp-twitter data-tweetid="666"><blockquote placeholder class="twitter-tweet"><p lang="fr">Oui</p>'
                   '&mdash; B (@bb) <a href="https://twitter.com/bb/status/666">1 mai 2020</a></blockquote></amp-twitter>')
    assert sorted((s.kind, s.author_handle) for s in found) == [("amp", None), ("blockquote", "bb")]


def test_cms_wrappers_take_the_handle_from_their_link() -> None:
    """Bustle (014) wraps an empty link in blockquote[data-tweetid]; others use div[data-tweet-id]."""
    found = embeds('<blockquote data-tweetid="636842709739659264"><a href="https://twitter.com/reinventmag/status/'
                   '636842709739659264"></a></blockquote><div data-tweet-id="777"></div>')
    assert [(s.kind, s.post, s.author_handle) for s in found] == [
        ("div", ref("636842709739659264", "reinventmag"), "reinventmag"), ("div", ref("777"), None)]


def test_wrapper_around_official_markup_leaves_it_to_the_blockquote() -> None:
    found = embeds(f'<div class="embed" data-tweet-id="1214387633146564608">{BLOCKQUOTE}</div>')
    assert [s.kind for s in found] == ["blockquote"]


def test_cnn_embed_twitter() -> None:
    [s] = embeds('<div class="embed-twitter" data-embed-id="888"><p>loading</p></div>')
    assert (s.kind, s.post) == ("div", ref("888"))
    assert detect('<div class="embed-twitter" data-embed-id="cms.cnn.com/_components/x"></div>') == []


def test_wordpress_block_with_the_url_only() -> None:
    [s] = embeds('<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
                 '<div class="wp-block-embed__wrapper">\nhttps://twitter.com/jack/status/20\n</div></figure>')
    assert (s.kind, s.post, s.url_as_found) == ("div", ref("20", "jack"), "https://twitter.com/jack/status/20")
    rendered = embeds(f'<figure class="wp-block-embed is-provider-twitter"><div>{BLOCKQUOTE}</div></figure>')
    assert [s.kind for s in rendered] == ["blockquote"]


def test_buzzfeed_card() -> None:
    [s] = embeds("""<div class="subbuzz subbuzz-tweet"><h2>
      <a href="https://twitter.com/hisillusion/status/781883829942382592">@hisillusion</a></h2>
      <figure><blockquote class="subbuzz-tweet__container"><div class="subbuzz-tweet__tweet">
      <a class="subbuzz-tweet__display-name" href="https://twitter.com/liquoronurlips">J. Trump</a>
      <a class="subbuzz-tweet__username" href="https://twitter.com/liquoronurlips">@liquoronurlips</a>
      <p class="subbuzz-tweet__text">Here it is</p><time><a class="subbuzz-tweet__created-at"
      href="https://twitter.com/liquoronurlips/status/781874683289411588">Fri Sep 30 2016</a></time>
      <a href="https://twitter.com/intent/retweet?tweet_id=781874683289411588">Retweet</a>
      </div></blockquote></figure></div>""")
    assert fields(s) == ("blockquote", ref("781874683289411588", "liquoronurlips"),
                         "https://twitter.com/liquoronurlips/status/781874683289411588", "liquoronurlips",
                         "J. Trump", "Here it is", "Fri Sep 30 2016", None)
    assert s.element.tag == "blockquote"  # the header link beside the card stays outside it


def test_iframely() -> None:
    """vice (035): the div names the tweet, the iframe inside only names iframely's proxy."""
    [s] = embeds('<div data-iframely-id="AL6KIQt" data-embedded-url="https://twitter.com/BeyondDShadows/status/'
                 '1163535602798776321"><div><iframe data-iframely-url="//oembed.vice.com/AL6KIQt?app=1"></iframe>'
                 "</div></div>")
    assert (s.kind, s.post, s.author_handle) == (
        "iframe", ref("1163535602798776321", "BeyondDShadows"), "BeyondDShadows")
    [s] = embeds('<iframe data-iframely-url="https://cdn.iframe.ly/api/iframe?url=https%3A%2F%2Fx.com%2Fa%2Fstatus%2F9"'
                 "></iframe>")
    assert (s.kind, s.post) == ("iframe", ref("9", "a"))


def test_inline_create_tweet_call() -> None:
    [s] = embeds('<div id="t"></div><script>twttr.widgets.createTweet("1221", document.getElementById("t"));</script>')
    assert (s.kind, s.post) == ("script", ref("1221"))


def test_links_to_tweets_in_every_spelling() -> None:
    found = detect('<a href="https://x.com/a/status/1">1</a><a href="http://mobile.twitter.com/b/status/2?s=20">2</a>'
                   '<a href="https://twitter.com/#!/c/status/3">3</a><a href="https://www.twitter.com/d/statuses/4">4</a>'
                   '<a href="https://twitter.com/i/web/status/5">5</a>')
    assert [(s.kind, s.post, s.author_handle) for s in found] == [
        ("link", ref("1", "a"), "a"), ("link", ref("2", "b"), "b"), ("link", ref("3", "c"), "c"),
        ("link", ref("4", "d"), "d"), ("link", ref("5"), None)]


# -- traps: not posts ---------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        '<a class="twitter-timeline" href="https://twitter.com/caktusgroup" data-widget-id="616657501325541376">T</a>',
        '<a class="twitter-tweet" href="https://twitter.com/intent/tweet?original_referer=x&amp;ref_src=twsrc%5Etfw">t</a>',
        '<iframe class="twitter-share-button twitter-tweet-button" src="https://platform.twitter.com/widgets/'
        'tweet_button.html#dnt=false&amp;id=twitter-widget-0&amp;type=share"></iframe>',
        '<a class="twitter-follow-button" href="https://twitter.com/phoronix">Follow</a>',
        '<a class="twitter-moment" href="https://twitter.com/i/moments/650667182356082688">Moment</a>',
        '<a class="twitter-timeline" href="https://twitter.com/user/timelines/539487832448843776">coll</a>',
        '<a href="https://twitter.com/intent/retweet?tweet_id=781874683289411588">RT</a>',
        '<a href="https://twitter.com/search?q=status">s</a><a href="https://twitter.com/hashtag/status">h</a>',
        '<iframe src="https://syndication.twitter.com/srv/timeline-profile/screen-name/x"></iframe>',
        '<div data-tweet-id="not-a-number"></div><amp-twitter data-tweetid=""></amp-twitter>',
        '<script>window.state = {"html": "\\u003Cblockquote class=\\"twitter-tweet\\"\\u003E'
        '\\u003Ca href=\\"https://twitter.com/a/status/1\\"\\u003E"}</script>',
        '<!-- <blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/1">x</a></blockquote> -->',
        '<style>.twitter-tweet { margin: 0 }</style><p>twitter.com/a/status/1 as plain text</p>',
    ],
)
def test_not_a_post(html: str) -> None:
    assert detect(html) == []


# -- canonical identity ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://twitter.com/WSig/status/1146146914985009154", ref("1146146914985009154", "WSig")),
        ("https://twitter.com/WSig/status/1146146914985009154/photo/1?ref_src=twsrc", ref("1146146914985009154", "WSig")),
        ("HTTPS://X.COM/TRAlNWRECKSTAN/status/781894722650533888", ref("781894722650533888", "TRAlNWRECKSTAN")),
        ("https://mobile.twitter.com/noaasatellites/status/1161360217671532544",
         ref("1161360217671532544", "noaasatellites")),
        ("http://twitter.com/NGC6544/statuses/1227210443825041413", ref("1227210443825041413", "NGC6544")),
        ("https://twitter.com/i/web/status/1227210443825041413", ref("1227210443825041413")),
        ("https://twitter.com/i/status/42", ref("42")),
        ("https://twitter.com/#!/jack/status/20", ref("20", "jack")),
        ("//twitter.com/jack/status/20", ref("20", "jack")),
        ("twitter.com/jack/status/20", ref("20", "jack")),
        ("https://platform.twitter.com/embed/Tweet.html?id=790936002017755136", ref("790936002017755136")),
        ("https://twitter.com/caktusgroup", None),
        ("https://twitter.com/intent/tweet?in_reply_to=781874683289411588", None),
        ("https://twitter.com/share?url=https://example.org", None),
        ("https://twitter.com/user/lists/news", None),
        ("https://twitter.com/i/moments/650667182356082688", None),
        ("https://twitter.com/hashtag/Berlin?src=hash", None),
        ("https://twitter.com/search/status/1", None),
        ("https://twitter.com/jack/status/notanumber", None),
        ("https://twitter.com/jack/status/123456789012345678901234", None),
        ("https://nottwitter.com/jack/status/20", None),
        ("https://example.com/?u=https://twitter.com/jack/status/20", None),
        ("ftp://twitter.com/jack/status/20", None),
        ("https://platform.twitter.com/widgets/tweet_button.html#id=twitter-widget-0", None),
        ("http://[::1/status/1", None),
        ("", None),
    ],
)
def test_identify(url: str, expected: PostRef | None) -> None:
    assert identify(url) == expected


def test_status_url_and_parse() -> None:
    assert status_url("20") == "https://twitter.com/i/web/status/20"
    assert status_url("20", "jack") == "https://twitter.com/jack/status/20"
    link = parse_status("https://x.com/jack/status/20")
    assert (link.post_id, link.handle) == ("20", "jack")
    assert twitter.identify is identify and twitter.NAME == "twitter"


# -- the corpus: every twitter row of EXPECTED.tsv, nothing on negative pages --

TWITTER_PAGES = [
    "001-basicthinking-de-tweets.html", "002-theverge-ios13.html", "003-amnesty-de-consent-textarea.html",
    "004-gaijinpot-tweets.html", "005-report24-tweets.html", "006-sciencesetavenir-tweets.html",
    "007-standard-co-uk-amp-twitter.html", "008-eltiempo-rendered-tweet-iframes.html",
    "009-timesofisrael-tweets-links.html", "010-fr-de-tweets-youtube.html", "011-mashable-tweets.html",
    "012-deadline-tweets.html", "013-takagi-hiromitsu-diary-tweets.html", "014-bustle-data-tweetid.html",
    "015-readability-001-statuses-url.html", "016-breitbart-data-tweet-id.html", "017-aktualne-tweet.html",
    "018-forward-tweets.html", "019-theatlantic-tweets.html", "020-inquisitr-tweets-youtube.html",
    "035-vice-iframely-tweet.html", "036-buzzfeed-subbuzz-embeds.html", "037-buzzfeed-rendered-tweets.html",
]
NEGATIVE_PAGES = [
    "039-caktusgroup-NEG-twitter-timeline.html", "040-spektrum-scilogs-NEG-timeline.html", "041-heise-NEG.html",
    "042-sueddeutsche-NEG.html", "043-washingtonpost-NEG-share-widgets.html", "044-metrotimes-NEG-threads-profile.html",
    "045-buzzap-NEG-share-a-twitter-tweet.html", "046-phoronix-NEG-tweet-button.html", "047-clarin-NEG-css-only.html",
    "048-unzensuriert-NEG-telegram-discussion.html", "049-nurmeinstandpunkt-NEG-sidebar-tweets.html",
]
_KINDS = {"link-only": "link"}


def expected_rows(corpus: Path, page: str) -> set[tuple]:
    with open(corpus / "EXPECTED.tsv", newline="", encoding="utf-8") as f:
        return {
            (r["post_id"], r["post_url"] or None, r["author_handle"] or None, _KINDS.get(r["embed_kind"], r["embed_kind"]))
            for r in csv.DictReader(f, delimiter="\t")
            if r["file"] == f"pages/{page}" and r["platform"] == "twitter"
        }


def found_rows(corpus: Path, page: str) -> list[tuple]:
    extraction = extract_document((corpus / "pages" / page).read_bytes())
    return [
        (e.post.post_id, e.post.url if e.author_handle else None, e.author_handle, e.kind)
        for e in extraction.embeds
        if e.platform == "twitter"
    ]


@pytest.mark.parametrize("page", TWITTER_PAGES)
def test_corpus_page_yields_exactly_the_expected_tweets(corpus_dir: Path, page: str) -> None:
    """Ids, canonical URLs, handles and markup kinds, one row per post (no duplicates)."""
    found = found_rows(corpus_dir, page)
    assert len(found) == len(set(found))
    assert set(found) == expected_rows(corpus_dir, page)


@pytest.mark.parametrize("page", NEGATIVE_PAGES)
def test_negative_page_yields_no_tweet(corpus_dir: Path, page: str) -> None:
    assert found_rows(corpus_dir, page) == []


def test_corpus_blockquote_record(corpus_dir: Path) -> None:
    """One record in full, from the page (009 timesofisrael)."""
    page = (corpus_dir / "pages" / "009-timesofisrael-tweets-links.html").read_bytes()
    embed = [e for e in extract_document(page).embeds if e.post.post_id == "1214239528954712064"][0]
    assert (embed.kind, embed.author_handle, embed.author_name, embed.shown_date, embed.lang, embed.region) == (
        "blockquote", "drewmikkelsenk5", "Drew Mikkelsen", "January 6, 2020", "en", "body")
    assert embed.fallback_text == (
        "The state’s newest Supreme Court Justice, Raquel Montoya-Lewis, heading into courtroom to be sworn in. "
        "She is the first state justice of Native American heritage. pic.twitter.com/CIHDX5qmux")
    assert embed.css_path == "div.article-wrap > div.article-content.sticky-sidebar-relative > div.the-content > " \
                             "blockquote.twitter-tweet"
    assert embed.snippet.startswith('<blockquote class="twitter-tweet" data-width="550" data-dnt="true">')


def test_wrappers_are_found_from_the_page_bytes_in_any_letter_case() -> None:
    """The wrapper search is skipped when the page's bytes name none of the attributes: upper case names them too."""
    html = b'<html><body><DIV DATA-TWEET-ID="777"></DIV><div Data-Embed-Id="888" class="embed-twitter"></div></body></html>'
    found = list(twitter.detect(Page(dom.parse(html), None, data=html)))
    assert [(s.kind, s.post) for s in found] == [("div", ref("777")), ("div", ref("888"))]
    plain = b"<html><body><p>data-tweet</p><div></div></body></html>"
    assert list(twitter.detect(Page(dom.parse(plain), None, data=plain))) == []
