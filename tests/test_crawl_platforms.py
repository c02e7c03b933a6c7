"""End to end, every platform: `archiver crawl` through the loopback mirror into SQLite.

Two articles embed posts of all eleven platforms in the markup forms the
platforms hand out (blockquotes, lazy and ``<noscript>`` iframes, AMP, SDK divs,
widget scripts, plain links). The mirror plays each platform's lookup endpoint
with the platform's own answer format: the real bodies of ``shared/corpus/api``
where the corpus has one (read from the corpus at test time, never copied here),
and bodies written to the documented shape where it has none (syndication JSON,
Bluesky getPostThread, Mastodon status JSON, Telegram widget pages, error
bodies). Every origin reaches the mirror through ``--connect-to``; nothing
leaves 127.0.0.1.

Asserted on the SQLite file: each post's status (available, deleted, protected,
restricted, not_found, unsupported), the embed kinds, one ``posts`` row per
video whatever URL form two articles used, the raw answer of every lookup kept
(``fetches.body_sha256`` -> ``bodies``), and with a Meta token the Instagram and
Facebook lookups going to the Graph endpoint with the token masked in storage.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from urllib.parse import urlencode

import pytest

from archiver.cli import main
from archiver.mirror import Mirror, Route
from archiver.store import open_db

ARTICLE = "https://site1.news.test/world/every-platform"
FOLLOW_UP = "https://site2.news.test/culture/follow-up"

# -- the posts ------------------------------------------------------------------------------
# Ids of posts whose answers come from the corpus are the ids those answers are about.

TW_OK, TW_GONE, TW_LOCKED = "436461658601713664", "1459883427446005761", "1460656155634524165"
YT_OK, YT_BLOCKED, YT_MISSING = "pO5L6vXtxsI", "NHriYTkvd0g", "zzzzzzzzzz0"
YT_FLASH = "eiHXASgRTcA"
IG_POST, IG_REEL, IG_COMMENTED = "B9bOM-6Ax_d", "CIyNZQhH4DQ", "COMMENTED01"
FB_POST = "https://www.facebook.com/rubyonrailstogo/posts/3610333842332884"
FB_VIDEO = "https://www.facebook.com/EuropeanParliament/videos/1027512354489937/"
TT_OK, TT_GONE = "6806030056956251397", "7005293332821822726"
DID = "did:plc:4ngdlnrlckj2rdtpw3t3ne6v"
BSKY_OK = f"at://{DID}/app.bsky.feed.post/3kdtwmt4zpl2x"
BSKY_GONE = f"at://{DID}/app.bsky.feed.post/3kdtx2emfo22z"
MASTO_OK, MASTO_GONE = "fosstodon.org/101733810026327049", "mastodon.social/111394458204932105"
THREADS = "CuP48CiS5sx"
RD_OK, RD_PRIVATE = "7pfpeq", "1a2b3c"
TG_OK, TG_GONE = "durov/43", "nexta_live/999999"
VM_OK, VM_GONE = "235352744", "111111111"

EXPECTED = {
    f"twitter:{TW_OK}": "available",
    f"twitter:{TW_GONE}": "deleted",
    f"twitter:{TW_LOCKED}": "protected",
    f"youtube:{YT_OK}": "available",
    f"youtube:{YT_BLOCKED}": "restricted",
    f"youtube:{YT_MISSING}": "not_found",
    f"youtube:{YT_FLASH}": "available",
    f"instagram:{IG_POST}": "unsupported",
    f"instagram:{IG_REEL}": "unsupported",
    "facebook:3610333842332884": "unsupported",
    "facebook:1027512354489937": "unsupported",
    f"tiktok:{TT_OK}": "available",
    f"tiktok:{TT_GONE}": "not_found",
    f"bluesky:{BSKY_OK}": "available",
    f"bluesky:{BSKY_GONE}": "not_found",
    f"mastodon:{MASTO_OK}": "available",
    f"mastodon:{MASTO_GONE}": "not_found",
    f"threads:{THREADS}": "unsupported",
    f"reddit:{RD_OK}": "available",
    f"reddit:{RD_PRIVATE}": "restricted",
    f"telegram:{TG_OK}": "available",
    f"telegram:{TG_GONE}": "not_found",
    f"vimeo:{VM_OK}": "available",
    f"vimeo:{VM_GONE}": "not_found",
}
ASKS_NOBODY = {"threads"}  # no endpoint at all; Meta platforms ask nobody without a token
META = {"instagram", "facebook"}

# -- the articles ------------------------------------------------------------------------------

PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The week online</title>
<link rel="canonical" href="{ARTICLE}"></head><body>
<nav><a href="https://site1.news.test/">Home</a></nav>
<article class="story"><h1>The week online</h1>
<p>Everything people posted about the summit, platform by platform.</p>

<blockquote class="twitter-tweet"><p lang="es" dir="ltr">RT <a href="https://twitter.com/PabloHerreros?ref_src=twsrc%5Etfw">@PabloHerreros</a> Pepephone rompe la baraja - <a href="http://t.co/mFn7mcB1vy">http://t.co/mFn7mcB1vy</a></p>&mdash; Pepephone (@pepephone) <a href="https://twitter.com/pepephone/status/{TW_OK}?ref_src=twsrc%5Etfw">February 20, 2014</a></blockquote>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
<p>A reply that has since disappeared: <a href="https://x.com/somebody/status/{TW_GONE}">this post</a>.</p>
<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{TW_LOCKED}"></amp-twitter>

<iframe width="560" height="315" src="https://www.youtube.com/embed/{YT_OK}?feature=oembed" title="YouTube video player" frameborder="0" allowfullscreen></iframe>
<iframe class="lazyload" data-src="https://www.youtube-nocookie.com/embed/{YT_BLOCKED}" width="560" height="315"></iframe>
<noscript><iframe src="https://www.youtube-nocookie.com/embed/{YT_BLOCKED}" width="560" height="315"></iframe></noscript>
<lite-youtube videoid="{YT_MISSING}" playlabel="Play: the lost interview"></lite-youtube>

<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="https://www.instagram.com/p/{IG_POST}/?utm_source=ig_embed&amp;utm_campaign=loading" data-instgrm-version="13">
<div><p><a href="https://www.instagram.com/p/{IG_POST}/?utm_source=ig_embed" target="_blank">Ruby is eloquent</a></p>
<p>A post shared by <a href="https://www.instagram.com/ruby_eloquent/?utm_source=ig_embed" target="_blank">Ruby</a> (@ruby_eloquent) on <time style="font-family:Arial" datetime="2020-03-07T09:41:01+00:00">Mar 7, 2020 at 1:41am PST</time></p></div></blockquote>
<script async src="//www.instagram.com/embed.js"></script>
<amp-instagram data-shortcode="{IG_REEL}" data-captioned width="400" height="400" layout="responsive"></amp-instagram>
<!-- <blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/{IG_COMMENTED}/"></blockquote> -->

<div id="fb-root"></div>
<script async defer crossorigin="anonymous" src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v9.0"></script>
<div class="fb-post" data-href="{FB_POST}" data-width="552"><blockquote cite="{FB_POST}" class="fb-xfbml-parse-ignore"><p>Rails 6.1 is out.</p>Posted by <a href="https://www.facebook.com/rubyonrailstogo">Ruby on Rails</a> on&nbsp;<a href="{FB_POST}">Wednesday, December 9, 2020</a></blockquote></div>
<iframe src="https://www.facebook.com/plugins/video.php?href={FB_VIDEO.replace(':', '%3A').replace('/', '%2F')}&show_text=false&width=560" width="560" height="314" style="border:none;overflow:hidden" scrolling="no" frameborder="0" allowfullscreen="true"></iframe>

<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@a3noticias/video/{TT_OK}" data-video-id="{TT_OK}" style="max-width: 605px;min-width: 325px;"><section><a target="_blank" title="@a3noticias" href="https://www.tiktok.com/@a3noticias?refer=embed">@a3noticias</a><p>Nuestro #AplausoSanitario más sincero.</p><a target="_blank" title="♬ sonido original - Antena 3 Noticias" href="https://www.tiktok.com/music/sonido-original?refer=embed">♬ sonido original - Antena 3 Noticias</a></section></blockquote>
<script async src="https://www.tiktok.com/embed.js"></script>
<iframe src="https://www.tiktok.com/embed/v2/{TT_GONE}" width="325" height="740" allowfullscreen></iframe>

<blockquote class="bluesky-embed" data-bluesky-uri="{BSKY_OK}" data-bluesky-cid="bafyreihwvdj2bb3ssexvo5c7y6vcbpzfsvfpkjwn46ug4rfvpxoxjxkxlq"><p lang="en">Delegates are leaving the hall now; the vote is postponed to Friday.</p>&mdash; Newsroom Desk (<a href="https://bsky.app/profile/{DID}?ref_src=embed">@desk.bsky.social</a>) <a href="https://bsky.app/profile/{DID}/post/3kdtwmt4zpl2x?ref_src=embed">November 16, 2023 at 2:01 PM</a></blockquote>
<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>
<iframe src="https://embed.bsky.app/embed/{DID}/app.bsky.feed.post/3kdtx2emfo22z" width="600" height="400"></iframe>

<iframe src="https://fosstodon.org/@chris/101733810026327049/embed" class="mastodon-embed" style="max-width: 100%; border: 0" width="400" allowfullscreen="allowfullscreen"></iframe>
<blockquote class="mastodon-embed" data-embed-url="https://mastodon.social/@reporter/111394458204932105/embed" style="background: #FCF8FF;"><a href="https://mastodon.social/@reporter/111394458204932105" target="_blank">Post by @reporter@mastodon.social</a></blockquote>
<script data-allowed-prefixes="https://mastodon.social/" async src="https://mastodon.social/embed.js"></script>

<blockquote class="text-post-media" data-text-post-permalink="https://www.threads.net/@zuck/post/{THREADS}" data-text-post-version="0"><a href="https://www.threads.net/@zuck/post/{THREADS}" target="_blank">View on Threads</a></blockquote>
<script async src="https://www.threads.net/embed.js"></script>

<blockquote class="reddit-embed-bq" style="height:316px" data-embed-height="316"><a href="https://www.reddit.com/r/investing/comments/{RD_OK}/buffett_on_cyrptocurrencies_i_can_say_almost_with/">Buffett on cyrptocurrencies: 'I can say almost with certainty that they will come to a bad ending'</a><br> by <a href="https://www.reddit.com/user/dennisrieves/">u/dennisrieves</a> in <a href="https://www.reddit.com/r/investing/">investing</a></blockquote>
<script async src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>
<p>The thread in a private subreddit is <a href="https://www.reddit.com/r/summitstaff/comments/{RD_PRIVATE}/who_booked_the_hall/">here</a>.</p>

<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="{TG_OK}" data-width="100%"></script>
<iframe src="https://t.me/{TG_GONE}?embed=1" width="100%" height="300" frameborder="0"></iframe>

<iframe src="https://player.vimeo.com/video/{VM_OK}?badge=0" width="640" height="360" frameborder="0" allow="autoplay; fullscreen" title="Vimeo Live is here"></iframe>
<iframe data-lazy-src="https://player.vimeo.com/video/{VM_GONE}" width="640" height="360"></iframe>
</article>
<footer><a href="https://twitter.com/newsdesk">Follow us</a></footer>
</body></html>"""

# The same video as FOLLOW_UP's readers met it: a youtu.be link and a watch?v= link; and an older
# video in YouTube's Flash-era embed code (parameters after the id without "?").
SECOND_PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>Follow-up</title></head><body><article>
<p>Watch the clip again <a href="https://youtu.be/{YT_OK}">on YouTube</a>, or
<a href="https://www.youtube.com/watch?v={YT_OK}&amp;t=42s">from minute one</a>.</p>
<object width="425" height="344"><param name="movie" value="http://www.youtube.com/v/{YT_FLASH}&hl=en&fs=1"></param>
<param name="allowFullScreen" value="true"></param><embed src="http://www.youtube.com/v/{YT_FLASH}&hl=en&fs=1"
type="application/x-shockwave-flash" allowfullscreen="true" width="425" height="344"></embed></object>
</article></body></html>"""

# -- the platforms' answers ----------------------------------------------------------------------

SYNDICATION = "https://cdn.syndication.twimg.com/tweet-result"
TWITTER_OEMBED = "https://publish.twitter.com/oembed"
YOUTUBE_OEMBED = "https://www.youtube.com/oembed"
TIKTOK_OEMBED = "https://www.tiktok.com/oembed"
REDDIT_OEMBED = "https://www.reddit.com/oembed"
VIMEO_OEMBED = "https://vimeo.com/api/oembed.json"
APPVIEW = "https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread"
GRAPH = "https://graph.facebook.com/v18.0"

ORIGINS = (
    "https://site1.news.test", "https://site2.news.test",
    "https://cdn.syndication.twimg.com", "https://publish.twitter.com",
    "https://www.youtube.com", "https://www.tiktok.com", "https://www.reddit.com", "https://vimeo.com",
    "https://public.api.bsky.app", "https://fosstodon.org", "https://mastodon.social", "https://t.me",
    "https://graph.facebook.com",
)

TWEET = {  # the syndication shape (react-tweet's types); the corpus has no real capture of one
    "__typename": "Tweet", "lang": "es", "favorite_count": 3, "possibly_sensitive": False,
    "created_at": "2014-02-20T11:23:17.000Z", "display_text_range": [0, 74],
    "entities": {"hashtags": [], "urls": [{"display_url": "bit.ly/1fmjA2K", "expanded_url": "http://bit.ly/1fmjA2K",
                                            "indices": [52, 74], "url": "http://t.co/mFn7mcB1vy"}],
                 "user_mentions": [{"id_str": "18235263", "indices": [3, 17], "name": "Pablo Herreros",
                                    "screen_name": "PabloHerreros"}], "symbols": []},
    "id_str": TW_OK, "text": "RT @PabloHerreros: Pepephone rompe la baraja - http://t.co/mFn7mcB1vy",
    "user": {"id_str": "34573926", "name": "Pepephone", "screen_name": "pepephone", "verified": False,
             "is_blue_verified": False, "profile_image_shape": "Circle",
             "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/pepephone_normal.png"},
    "edit_control": {"edit_tweet_ids": [TW_OK], "editable_until_msecs": "1392897197000",
                     "is_edit_eligible": False, "edits_remaining": "5"},
    "conversation_count": 0, "news_action_type": "conversation", "isEdited": False, "isStaleEdit": False,
}
TOMBSTONE = {"__typename": "TweetTombstone",
             "tombstone": {"text": {"text": "This Post was deleted by the Post author. Learn more",
                                    "entities": [{"from_index": 41, "to_index": 51, "ref": {
                                        "__typename": "TimelineUrl",
                                        "url": "https://help.twitter.com/rules-and-policies/notices-on-twitter",
                                        "url_type": "ExternalUrl"}}], "rtl": False}}}

BSKY_THREAD = {"thread": {
    "$type": "app.bsky.feed.defs#threadViewPost",
    "post": {
        "uri": BSKY_OK, "cid": "bafyreihwvdj2bb3ssexvo5c7y6vcbpzfsvfpkjwn46ug4rfvpxoxjxkxlq",
        "author": {"did": DID, "handle": "desk.bsky.social", "displayName": "Newsroom Desk",
                   "avatar": f"https://cdn.bsky.app/img/avatar/plain/{DID}/bafkreif3zqwv3ybmbzg6@jpeg",
                   "associated": {"chat": {"allowIncoming": "following"}},
                   "viewer": {"muted": False, "blockedBy": False}, "labels": [],
                   "createdAt": "2023-05-02T09:12:44.105Z"},
        "record": {"$type": "app.bsky.feed.post", "createdAt": "2023-11-16T14:01:09.412Z", "langs": ["en"],
                   "text": "Delegates are leaving the hall now; the vote is postponed to Friday."},
        "embed": {"$type": "app.bsky.embed.images#view", "images": [{
            "thumb": f"https://cdn.bsky.app/img/feed_thumbnail/plain/{DID}/bafkreia4hall@jpeg",
            "fullsize": f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/bafkreia4hall@jpeg",
            "alt": "The hall, emptying", "aspectRatio": {"height": 1536, "width": 2048}}]},
        "replyCount": 2, "repostCount": 11, "likeCount": 40, "quoteCount": 1,
        "indexedAt": "2023-11-16T14:01:10.233Z", "viewer": {"threadMuted": False, "embeddingDisabled": False},
        "labels": []},
    "replies": [], "threadContext": {}}}
BSKY_NOT_FOUND = {"error": "NotFound", "message": f"Post not found: {BSKY_GONE}"}

MASTODON_STATUS = {
    "id": "101733810026327049", "created_at": "2019-03-12T15:08:31.000Z", "in_reply_to_id": None,
    "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
    "language": "en", "uri": "https://fosstodon.org/users/chris/statuses/101733810026327049",
    "url": "https://fosstodon.org/@chris/101733810026327049", "replies_count": 3, "reblogs_count": 9,
    "favourites_count": 14, "edited_at": None,
    "content": "<p>Licensing your software is not optional.</p><p>Pick a licence <a href=\"https://choosealicense.com\""
               " rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://</span>"
               "<span class=\"\">choosealicense.com</span></a></p>",
    "reblog": None, "application": {"name": "Web", "website": None},
    "account": {"id": "1", "username": "chris", "acct": "chris", "display_name": "Chris", "locked": False,
                "bot": False, "discoverable": True, "group": False, "created_at": "2017-04-05T00:00:00.000Z",
                "note": "<p>fosstodon admin</p>", "url": "https://fosstodon.org/@chris",
                "avatar": "https://cdn.fosstodon.org/accounts/avatars/000/000/001/original/a.png",
                "avatar_static": "https://cdn.fosstodon.org/accounts/avatars/000/000/001/original/a.png",
                "header": "https://fosstodon.org/headers/original/missing.png",
                "header_static": "https://fosstodon.org/headers/original/missing.png",
                "followers_count": 5000, "following_count": 300, "statuses_count": 20000,
                "last_status_at": "2019-03-12", "emojis": [], "fields": []},
    "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
}

TELEGRAM_POST = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Telegram Widget</title>
<link href="//telegram.org/css/widget-frame.css?66" rel="stylesheet"></head>
<body class="body_widget_post emoji_image nodark">
<div class="tgme_widget_message_wrap js-widget_message_wrap">
 <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="durov/43" data-view="eyJjIjoxMDA2NTAzMTIyfQ" data-peer="c1006503122_-1" data-post-id="43">
  <div class="tgme_widget_message_user"><a href="https://t.me/durov"><i class="tgme_widget_message_user_photo bgcolor0" data-content="D"><img src="https://cdn4.telesco.pe/file/durov.jpg"></i></a></div>
  <div class="tgme_widget_message_bubble">
   <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/durov"><span dir="auto">Durov's Channel</span></a></div>
   <a class="tgme_widget_message_photo_wrap 5300 1" href="https://t.me/durov/43" style="width:800px;background-image:url('https://cdn4.telesco.pe/file/photo43.jpg')"></a>
   <div class="tgme_widget_message_text js-message_text" dir="auto"><b>Bonus track</b>. Embeddable posts for any website.<br/><br/>Try it.</div>
   <div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short js-message_info">
    <span class="tgme_widget_message_views">1.2M</span><span class="copyonly"> views</span>
    <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/durov/43"><time datetime="2016-02-05T14:05:32+00:00" class="time">Feb 5, 2016</time></a></span>
   </div></div>
  </div>
 </div>
</div>
<script src="//telegram.org/js/widget-frame.js?64"></script>
</body></html>"""

TELEGRAM_NOT_FOUND = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Telegram Widget</title>
<link href="//telegram.org/css/widget-frame.css?66" rel="stylesheet"></head>
<body class="body_widget_post emoji_image nodark">
<div class="tgme_widget_message_wrap js-widget_message_wrap">
 <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="nexta_live/999999">
  <div class="tgme_widget_message_bubble">
   <div class="tgme_widget_message_error">Post not found</div>
  </div>
 </div>
</div>
<script src="//telegram.org/js/widget-frame.js?64"></script>
</body></html>"""

FB_VIDEO_OEMBED = {  # oembed_video answers in oembed_post's shape (corpus facebook/*), with the video's plugin
    "author_name": "European Parliament", "author_url": "https://www.facebook.com/178362315106",
    "provider_url": "https://www.facebook.com", "provider_name": "Facebook", "success": True, "height": None,
    "html": f"<div id=\"fb-root\"></div>\n<div class=\"fb-video\" data-href=\"{FB_VIDEO}\"></div>",
    "type": "video", "version": "1.0", "url": FB_VIDEO, "width": 552,
}

JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def q(base: str, **params: str) -> str:
    return f"{base}?{urlencode(params)}"


def api(corpus: Path, name: str) -> bytes:
    """A real answer from the corpus, read in place."""
    return (corpus / "api" / name).read_bytes()


def routes(corpus: Path) -> list[Route]:
    dump = lambda data: json.dumps(data).encode()  # noqa: E731
    yt = lambda vid: q(YOUTUBE_OEMBED, format="json", url=f"https://www.youtube.com/watch?v={vid}")  # noqa: E731
    return [
        Route(ARTICLE, body=PAGE.encode(), headers=HTML),
        Route(FOLLOW_UP, body=SECOND_PAGE.encode(), headers=HTML),
        # Twitter: syndication + oEmbed, whose agreement makes a status
        Route(q(SYNDICATION, id=TW_OK), body=dump(TWEET), headers=JSON),
        Route(q(SYNDICATION, id=TW_GONE), body=dump(TOMBSTONE), headers=JSON),
        Route(q(SYNDICATION, id=TW_LOCKED), body=dump({"__typename": "TweetUnavailable"}), headers=JSON),
        Route(q(TWITTER_OEMBED, url=f"https://twitter.com/pepephone/status/{TW_OK}"), headers=JSON,
              body=api(corpus, f"twitter/oembed-publish.twitter.com-pepephone-{TW_OK}.json")),
        Route(q(TWITTER_OEMBED, url=f"https://twitter.com/i/status/{TW_LOCKED}"), status=403, headers=JSON,
              body=b'{"error":"Sorry, you are not authorized to see this status."}'),
        Route(TWITTER_OEMBED, status=404, headers=JSON,
              body=b'{"errors":[{"code":34,"message":"Sorry, that page does not exist."}]}'),
        # YouTube: the corpus's 200 and 403 answers; 404 for a removed video
        Route(yt(YT_OK), body=api(corpus, "youtube/oembed-ruby-oembed-1-http200.json"), headers=JSON),
        Route(yt(YT_BLOCKED), status=403, body=api(corpus, "youtube/oembed-ruby-oembed-4-http403.txt"),
              headers={"Content-Type": "text/html; charset=utf-8"}),
        Route(yt(YT_FLASH), body=api(corpus, "youtube/oembed-2.json"), headers=JSON),
        Route(yt(YT_MISSING), status=404, body=b"Not Found", headers={"Content-Type": "text/html; charset=utf-8"}),
        # TikTok: the corpus's a3noticias answer; for removed, private and unknown videos TikTok's one answer,
        # the body its clients compare byte for byte (its HTTP status is not documented)
        Route(q(TIKTOK_OEMBED, url=f"https://www.tiktok.com/@a3noticias/video/{TT_OK}"), headers=JSON,
              body=api(corpus, f"tiktok/oembed-a3noticias-{TT_OK}.json")),
        Route(q(TIKTOK_OEMBED, url=f"https://www.tiktok.com/share/video/{TT_GONE}"), status=400, headers=JSON,
              body=b'{"status_msg":"Something went wrong"}'),
        # Bluesky: the public AppView
        Route(q(APPVIEW, uri=BSKY_OK), body=dump(BSKY_THREAD), headers=JSON),
        Route(q(APPVIEW, uri=BSKY_GONE), status=400, body=dump(BSKY_NOT_FOUND), headers=JSON),
        # Mastodon: the status API of each status's own server
        Route("https://fosstodon.org/api/v1/statuses/101733810026327049", body=dump(MASTODON_STATUS), headers=JSON),
        Route("https://mastodon.social/api/v1/statuses/111394458204932105", status=404, headers=JSON,
              body=b'{"error":"Record not found"}'),
        # Reddit: the corpus's answer; 403 for a private subreddit
        Route(q(REDDIT_OEMBED, url=f"https://www.reddit.com/r/investing/comments/{RD_OK}/"), headers=JSON,
              body=api(corpus, "reddit/oembed-1.json")),
        Route(q(REDDIT_OEMBED, url=f"https://www.reddit.com/r/summitstaff/comments/{RD_PRIVATE}/"), status=403,
              headers=JSON, body=b'{"message": "Forbidden", "error": 403}'),
        # Telegram: the widget page, 200 whatever happened
        Route(f"https://t.me/{TG_OK}?embed=1", body=TELEGRAM_POST, headers=HTML),
        Route(f"https://t.me/{TG_GONE}?embed=1", body=TELEGRAM_NOT_FOUND, headers=HTML),
        # Vimeo: the corpus's answer; 404 for a removed video
        Route(q(VIMEO_OEMBED, url=f"https://vimeo.com/{VM_OK}"), body=api(corpus, "vimeo/oembed-2.json"), headers=JSON),
        Route(q(VIMEO_OEMBED, url=f"https://vimeo.com/{VM_GONE}"), status=404, body=b"404 Not Found",
              headers={"Content-Type": "text/plain"}),
        # Meta Graph (asked only with a token): the corpus's instagram_oembed and oembed_post answers
        Route(q(f"{GRAPH}/instagram_oembed", url=f"https://www.instagram.com/p/{IG_POST}/"), headers=JSON,
              body=api(corpus, "instagram/oembed-ruby-oembed-1-http200.json")),
        Route(q(f"{GRAPH}/instagram_oembed", url=f"https://www.instagram.com/p/{IG_REEL}/"), headers=JSON,
              body=api(corpus, "instagram/oembed-ruby-oembed-5-http200.json")),
        Route(q(f"{GRAPH}/oembed_post", url=FB_POST), body=api(corpus, "facebook/oembed-ruby-oembed-1-http200.json"),
              headers=JSON),
        Route(q(f"{GRAPH}/oembed_video", url=FB_VIDEO), body=dump(FB_VIDEO_OEMBED), headers=JSON),
    ]


@pytest.fixture
def web(corpus_dir):
    with Mirror(routes(corpus_dir)) as mirror:
        yield mirror


@pytest.fixture(scope="module")
def archived(corpus_dir, tmp_path_factory):
    """One crawl without a Meta token, shared by the tests that only read its archive."""
    path = tmp_path_factory.mktemp("platforms") / "archive.db"
    with pytest.MonkeyPatch.context() as monkeypatch, Mirror(routes(corpus_dir)) as mirror:
        monkeypatch.delenv("ARCHIVER_META_ACCESS_TOKEN", raising=False)
        crawl(path, mirror, monkeypatch)
    return open_db(path), mirror.requests


def crawl(db: Path, mirror: Mirror, monkeypatch) -> None:
    monkeypatch.setenv("ARCHIVER_RETRIES", "0")
    args = ["crawl", ARTICLE, FOLLOW_UP, "--db", str(db), "--delay", "0"]
    for origin in ORIGINS:
        args += ["--connect-to", f"{origin}={mirror.origin}"]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 0


def body_of(db, sha: str) -> bytes:
    row = db.execute("select content, compression from bodies where sha256 = ?", [sha]).fetchone()
    assert row is not None, f"body {sha} missing"
    return zlib.decompress(row[0]) if row[1] == "zlib" else bytes(row[0])


def statuses(db) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("select key, status from posts")}


# -- the tests -------------------------------------------------------------------------------------


def test_every_platform_gets_its_status(archived, corpus_dir):
    db, requests = archived

    assert statuses(db) == EXPECTED  # nothing more: the commented-out Instagram post is no post

    details = {r[0]: r[1] for r in db.execute("select key, status_detail from posts")}
    for key in ("instagram:" + IG_POST, "facebook:3610333842332884"):
        assert "meta_access_token" in details[key]
    assert "Threads" in details[f"threads:{THREADS}"]

    # what the article showed, in the form it used
    kinds = {r[0]: r[1] for r in db.execute(
        "select e.post_key, e.kind from embeds e join articles a on a.id = e.article_id where a.url = ?", [ARTICLE])}
    assert kinds == {
        f"twitter:{TW_OK}": "blockquote", f"twitter:{TW_GONE}": "link", f"twitter:{TW_LOCKED}": "amp",
        f"youtube:{YT_OK}": "iframe", f"youtube:{YT_BLOCKED}": "iframe", f"youtube:{YT_MISSING}": "iframe",
        f"instagram:{IG_POST}": "blockquote", f"instagram:{IG_REEL}": "amp",
        "facebook:3610333842332884": "div", "facebook:1027512354489937": "iframe",
        f"tiktok:{TT_OK}": "blockquote", f"tiktok:{TT_GONE}": "iframe",
        f"bluesky:{BSKY_OK}": "blockquote", f"bluesky:{BSKY_GONE}": "iframe",
        f"mastodon:{MASTO_OK}": "iframe", f"mastodon:{MASTO_GONE}": "blockquote",
        f"threads:{THREADS}": "blockquote",
        f"reddit:{RD_OK}": "blockquote", f"reddit:{RD_PRIVATE}": "link",
        f"telegram:{TG_OK}": "script", f"telegram:{TG_GONE}": "iframe",
        f"vimeo:{VM_OK}": "iframe", f"vimeo:{VM_GONE}": "iframe",
    }
    positions = [r[0] for r in db.execute(
        "select e.position from embeds e join articles a on a.id = e.article_id where a.url = ? order by e.position",
        [ARTICLE])]
    assert positions == list(range(len(kinds)))  # the lazy iframe and its <noscript> copy are one embed
    shown = {r[0]: r[1:] for r in db.execute(
        "select post_key, author_handle, author_name, fallback_text from embeds where post_key in (?, ?, ?, ?)",
        [f"instagram:{IG_POST}", f"tiktok:{TT_OK}", f"bluesky:{BSKY_OK}", f"mastodon:{MASTO_GONE}"])}
    assert shown[f"instagram:{IG_POST}"][:2] == ("ruby_eloquent", "Ruby")
    assert shown[f"tiktok:{TT_OK}"] == ("a3noticias", None, "Nuestro #AplausoSanitario más sincero.")
    assert shown[f"bluesky:{BSKY_OK}"][1:] == (
        "Newsroom Desk", "Delegates are leaving the hall now; the vote is postponed to Friday.")
    assert shown[f"mastodon:{MASTO_GONE}"][0] == "reporter@mastodon.social"

    # what the platforms said, kept on the post
    post = lambda key: next(db.query("select * from posts where key = ?", [key]))  # noqa: E731
    assert post(f"twitter:{TW_OK}")["author_handle"] == "pepephone"
    assert post(f"youtube:{YT_OK}")["author_handle"] == "CKEditor"
    assert post(f"tiktok:{TT_OK}")["author_name"] == "Antena 3 Noticias"
    assert post(f"bluesky:{BSKY_OK}")["created_at"] == "2023-11-16T14:01:09.412Z"
    assert post(f"mastodon:{MASTO_OK}")["author_handle"] == "chris@fosstodon.org"
    assert post(f"mastodon:{MASTO_OK}")["text"].startswith("Licensing your software is not optional.")
    assert post(f"reddit:{RD_OK}")["author_handle"] == "dennisrieves"
    assert post(f"telegram:{TG_OK}")["author_name"] == "Durov's Channel"
    assert post(f"telegram:{TG_OK}")["text"].startswith("Bonus track. Embeddable posts")
    assert post(f"vimeo:{VM_OK}")["text"] == "Vimeo Live is here"

    # every lookup's raw answer is kept, byte for byte; a post that asks nobody has a check without fetches
    lookups = list(db.query("select post_key, endpoint, status, body_sha256 from fetches where purpose = 'lookup'"))
    asked = {r["post_key"] for r in lookups}
    assert asked == {k for k in EXPECTED if k.split(":")[0] not in ASKS_NOBODY | META}
    assert all(r["body_sha256"] and r["status"] for r in lookups)
    for r in lookups:
        body_of(db, r["body_sha256"])
    youtube = next(r for r in lookups if r["post_key"] == f"youtube:{YT_BLOCKED}")
    assert (youtube["status"], body_of(db, youtube["body_sha256"])) == (
        403, api(corpus_dir, "youtube/oembed-ruby-oembed-4-http403.txt"))
    checks = {r["post_key"]: r for r in db.query("select * from post_checks")}
    assert set(checks) == set(EXPECTED)
    for key, check in checks.items():
        fetch_ids = json.loads(check["fetch_ids"] or "[]")
        if key.split(":")[0] in ASKS_NOBODY | META:
            assert fetch_ids == [] and check["fetch_id"] is None
        else:
            assert fetch_ids and check["fetch_id"] in fetch_ids and check["content_sha256"], key
    assert len(json.loads(checks[f"twitter:{TW_GONE}"]["fetch_ids"])) == 2  # syndication and oEmbed
    telegram = checks[f"telegram:{TG_GONE}"]
    assert body_of(db, telegram["content_sha256"]) == TELEGRAM_NOT_FOUND
    assert "Post not found" in telegram["detail"]

    # nobody was asked about Meta posts or Threads, and the graph was never called
    assert not [r for r in requests if r.host.startswith(("graph.facebook.com", "www.threads"))]


def test_same_video_in_three_url_forms_is_one_post(archived):
    db, requests = archived

    key = f"youtube:{YT_OK}"
    assert db.execute("select count(*) from posts where platform = 'youtube' and post_id = ?", [YT_OK]).fetchone() == (1,)
    embeds = list(db.query("""select a.url, e.kind, e.url_as_found from embeds e join articles a on a.id = e.article_id
                              where e.post_key = ? order by a.url""", [key]))
    assert [(e["url"], e["kind"]) for e in embeds] == [(ARTICLE, "iframe"), (FOLLOW_UP, "link")]
    assert embeds[0]["url_as_found"].startswith(f"https://www.youtube.com/embed/{YT_OK}")
    assert embeds[1]["url_as_found"] == f"https://youtu.be/{YT_OK}"  # the first form the follow-up used
    post = next(db.query("select * from posts where key = ?", [key]))
    assert post["url"] == f"https://www.youtube.com/watch?v={YT_OK}" and post["status"] == "available"
    # checked once, by one request, for all three forms
    assert db.execute("select count(*) from post_checks where post_key = ?", [key]).fetchone() == (1,)
    asked = [r for r in requests if r.host.startswith("www.youtube.com") and YT_OK in r.path]
    assert len(asked) == 1

    # the Flash-era <object> is found through the <embed src> it carries (its <param name=movie> is not read)
    follow_up = {r["post_key"]: (r["kind"], r["url_as_found"]) for r in db.query(
        "select e.* from embeds e join articles a on a.id = e.article_id where a.url = ?", [FOLLOW_UP])}
    assert follow_up == {key: ("link", f"https://youtu.be/{YT_OK}"),
                         f"youtube:{YT_FLASH}": ("iframe", f"http://www.youtube.com/v/{YT_FLASH}&hl=en&fs=1")}
    flash = next(db.query("select * from posts where key = ?", [f"youtube:{YT_FLASH}"]))
    assert (flash["status"], flash["author_handle"]) == ("available", "smshdchrb")


def test_meta_token_resolves_instagram_and_facebook_through_the_graph(tmp_path, web, monkeypatch, corpus_dir):
    token = "EAAGm0PX4ZCpsBAtest-app-token-0123456789"
    monkeypatch.setenv("ARCHIVER_META_ACCESS_TOKEN", token)
    path = tmp_path / "archive.db"
    crawl(path, web, monkeypatch)
    db = open_db(path)

    expected = dict(EXPECTED)
    expected.update({k: "available" for k in EXPECTED if k.split(":")[0] in META})
    assert statuses(db) == expected

    post = next(db.query("select * from posts where key = ?", [f"instagram:{IG_POST}"]))
    assert post["author_handle"] == "ruby_eloquent"
    assert post["text"] is None and post["media"] in (None, "[]")  # Meta's terms: availability, not content
    assert "terms" in json.loads(post["extra"])
    assert next(db.query("select author_handle from posts where key = ?",
                         [f"instagram:{IG_REEL}"]))["author_handle"] == "travellomatic"

    graph = list(db.query("""select * from fetches where purpose = 'lookup' and endpoint like ?""", ["%oembed%"]))
    meta = [f for f in graph if f["post_key"].split(":")[0] in META]
    assert {f["endpoint"] for f in meta} == {"instagram.oembed", "facebook.oembed_post", "facebook.oembed_video"}
    for fetch in meta:
        assert fetch["url"].startswith(GRAPH + "/") and fetch["connected_to"] == web.origin
        assert fetch["status"] == 200 and fetch["body_sha256"]
        assert "access_token" not in fetch["url"]
        sent = [[k.lower(), v] for k, v in json.loads(fetch["request_headers"])]
        assert ["authorization", "***"] in sent
    instagram = next(f for f in meta if f["post_key"] == f"instagram:{IG_POST}")
    assert body_of(db, instagram["body_sha256"]) == api(corpus_dir, "instagram/oembed-ruby-oembed-1-http200.json")

    # the token went to the Graph and nowhere else, and is stored nowhere
    graph_requests = [r for r in web.requests if r.host.startswith("graph.facebook.com")]
    assert len(graph_requests) == 4
    assert all(r.headers.get("authorization") == f"Bearer {token}" for r in graph_requests)
    assert not [r for r in web.requests if not r.host.startswith("graph.facebook.com")
                and token in json.dumps(r.headers)]
    dump = "\n".join(db.iterdump())
    assert token not in dump
    settings = json.loads(db.execute("select settings from runs").fetchone()[0])
    assert settings["meta_access_token"] == "***"
