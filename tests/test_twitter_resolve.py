"""Twitter resolution: the lookups asked for, and one test per classification rule.

oEmbed bodies come from ``shared/corpus/api/twitter`` (real captures). No real
syndication capture exists in any public fixture (corpus NOTES.md), so the
syndication bodies below are written by hand in the shape vercel/react-tweet's
types describe (``packages/react-tweet/src/api/types``) and other clients' tests
show for tombstones.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from archiver.models import Answer, PostRef, Status
from corpus import shared_path

from archiver.platforms import twitter
from archiver.platforms.twitter.resolve import OEMBED, SYNDICATION, SYNDICATION_FEATURES, classify, lookups
from archiver.platforms.twitter.token import syndication_token
from archiver.settings import Endpoints, Settings


POST = PostRef("twitter", "1727041869325197312", "https://twitter.com/harbourwatch_ee/status/1727041869325197312")
RAILS = PostRef("twitter", "702136612822634496", "https://twitter.com/RailsGirlsSoC/status/702136612822634496")


def _corpus(name: str) -> bytes:
    """A real oEmbed body from the shared corpus."""
    return shared_path("corpus", "api", "twitter", name).read_bytes()


def syn(status: int | None, body: object = b"", error: str | None = None) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(SYNDICATION, status, raw, error=error)


def emb(status: int | None, body: object = b"", error: str | None = None) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(OEMBED, status, raw, error=error)


NOT_AUTHORIZED = {"error": "Sorry, you are not authorized to see this status."}

TWEET = {
    "__typename": "Tweet",
    "lang": "en",
    "favorite_count": 412,
    "possibly_sensitive": False,
    "created_at": "2023-11-21T18:04:11.000Z",
    "display_text_range": [0, 121],
    "entities": {
        "hashtags": [{"indices": [0, 8], "text": "Tallinn"}],
        "urls": [{"display_url": "harbour.example/ice", "expanded_url": "https://harbour.example/ice",
                  "indices": [97, 120], "url": "https://t.co/Qm3vX1aZpL"}],
        "user_mentions": [],
        "symbols": [],
        "media": [{"display_url": "pic.twitter.com/Zk8Lw2YpQe", "expanded_url":
                   "https://twitter.com/harbourwatch_ee/status/1727041869325197312/video/1",
                   "indices": [122, 145], "url": "https://t.co/Zk8Lw2YpQe"}],
    },
    "id_str": "1727041869325197312",
    "text": "#Tallinn First ice breaker of the season left the old harbour this morning, two weeks earlier than last year. "
            "https://t.co/Qm3vX1aZpL https://t.co/Zk8Lw2YpQe",
    "user": {
        "id_str": "1290345511723888640",
        "name": "Harbour Watch",
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/1290346/aB3d_normal.jpg",
        "screen_name": "harbourwatch_ee",
        "verified": False,
        "is_blue_verified": False,
        "profile_image_shape": "Circle",
    },
    "edit_control": {
        "edit_tweet_ids": ["1727041869325197312"],
        "editable_until_msecs": "1700593451000",
        "is_edit_eligible": True,
        "edits_remaining": "5",
    },
    "mediaDetails": [
        {"display_url": "pic.twitter.com/Zk8Lw2YpQe", "expanded_url":
         "https://twitter.com/harbourwatch_ee/status/1727041869325197312/video/1",
         "ext_media_availability": {"status": "Available"}, "indices": [122, 145],
         "media_url_https": "https://pbs.twimg.com/ext_tw_video_thumb/1727041801/pu/img/Fh2kq9.jpg",
         "type": "video", "url": "https://t.co/Zk8Lw2YpQe",
         "video_info": {"aspect_ratio": [16, 9], "duration_millis": 21033, "variants": [
             {"content_type": "application/x-mpegURL",
              "url": "https://video.twimg.com/ext_tw_video/1727041801/pu/pl/Xy1.m3u8?tag=12"},
             {"bitrate": 832000, "content_type": "video/mp4",
              "url": "https://video.twimg.com/ext_tw_video/1727041801/pu/vid/640x360/a1.mp4?tag=12"},
             {"bitrate": 2176000, "content_type": "video/mp4",
              "url": "https://video.twimg.com/ext_tw_video/1727041801/pu/vid/1280x720/b2.mp4?tag=12"},
         ]}},
        {"display_url": "pic.twitter.com/Zk8Lw2YpQe", "type": "photo",
         "media_url_https": "https://pbs.twimg.com/media/F_aQ1xWXcAAb7kR.jpg", "url": "https://t.co/Zk8Lw2YpQe"},
    ],
    "conversation_count": 17,
    "news_action_type": "conversation",
    "quoted_tweet": {"id_str": "1726700012345678848", "lang": "en", "text": "Ice forecast for the week"},
    "in_reply_to_status_id_str": "1727030000111222333",
    "in_reply_to_screen_name": "tallinnport",
    "parent": {"id_str": "1727030000111222333", "lang": "et", "text": "Sadam on avatud."},
    "isEdited": False,
    "isStaleEdit": False,
}


def tombstone(text: str | None) -> dict:
    body: dict = {"__typename": "TweetTombstone", "tombstone": {}}
    if text is not None:
        body["tombstone"] = {"text": {"text": text, "entities": [], "rtl": False}}
    return body


# --- lookups ---------------------------------------------------------------------------


def test_lookups_ask_syndication_with_token_and_features_then_oembed() -> None:
    first, second = lookups(POST, Settings())
    assert first.endpoint == "twitter.syndication"
    assert first.url.startswith("https://cdn.syndication.twimg.com/tweet-result?")
    query = parse_qs(urlsplit(first.url).query)
    assert query == {"id": [POST.post_id], "lang": ["en"], "features": [SYNDICATION_FEATURES],
                     "token": [syndication_token(POST.post_id)]}
    assert second.endpoint == "twitter.oembed"
    assert second.url.startswith("https://publish.twitter.com/oembed?")
    assert parse_qs(urlsplit(second.url).query) == {
        "url": ["https://twitter.com/harbourwatch_ee/status/1727041869325197312"],
        "omit_script": ["1"], "dnt": ["true"]}


def test_lookups_without_a_handle_use_i_status_and_follow_the_settings() -> None:
    post = PostRef("twitter", "1727041869325197312", "https://twitter.com/i/web/status/1727041869325197312")
    settings = Settings(endpoints=Endpoints(twitter_syndication="http://127.0.0.1:9/tweet-result",
                                            twitter_oembed="http://127.0.0.1:9/oembed"))
    first, second = lookups(post, settings)
    assert first.url.startswith("http://127.0.0.1:9/tweet-result?id=1727041869325197312&lang=en&")
    assert parse_qs(urlsplit(second.url).query)["url"] == ["https://twitter.com/i/status/1727041869325197312"]


def test_the_platform_module_exports_the_resolver() -> None:
    assert twitter.classify is classify and twitter.lookups is lookups


# --- rule 1: a syndication Tweet ---------------------------------------------------------


def test_syndication_tweet_is_available_with_its_fields() -> None:
    check = classify(POST, [syn(200, TWEET), emb(200, _corpus("oembed-ruby-oembed-1-http200.json"))])
    assert check.status is Status.AVAILABLE
    assert (check.endpoint, check.http_status, check.retry) == ("twitter.syndication", 200, False)
    assert check.detail == "syndication returned the Tweet"
    assert check.author_handle == "harbourwatch_ee"
    assert check.author_name == "Harbour Watch"
    assert check.text == TWEET["text"]
    assert check.created_at == "2023-11-21T18:04:11+00:00"
    assert check.lang == "en"
    assert check.media == (
        "https://pbs.twimg.com/ext_tw_video_thumb/1727041801/pu/img/Fh2kq9.jpg",
        "https://video.twimg.com/ext_tw_video/1727041801/pu/vid/1280x720/b2.mp4?tag=12",
        "https://pbs.twimg.com/media/F_aQ1xWXcAAb7kR.jpg",
    )
    assert check.edit_ids == ("1727041869325197312",)
    assert check.extra == {
        "id_str": "1727041869325197312",
        "user_id": "1290345511723888640",
        "favorite_count": 412,
        "conversation_count": 17,
        "possibly_sensitive": False,
        "isEdited": False,
        "isStaleEdit": False,
        "quoted_tweet_id": "1726700012345678848",
        "parent_id": "1727030000111222333",
        "in_reply_to_screen_name": "tallinnport",
        "urls": ["https://harbour.example/ice"],
    }


def test_note_tweet_full_text_wins_over_the_truncated_text() -> None:
    full = "A long post. " * 40
    body = dict(TWEET, note_tweet={"id": "Tm90ZVR3ZWV0OjE3MjcwNDE4Njk", "note_tweet_results": {
        "result": {"text": full}}}, isEdited=True,
        edit_control={"edit_tweet_ids": ["1727041869325197312", "1727043000000000000"]})
    check = classify(POST, [syn(200, body)])
    assert check.status is Status.AVAILABLE
    assert check.text == full
    assert check.edit_ids == ("1727041869325197312", "1727043000000000000")
    assert check.extra["isEdited"] is True and check.extra["note_tweet_id"] == "Tm90ZVR3ZWV0OjE3MjcwNDE4Njk"


def test_an_id_str_without_typename_and_photos_only_is_still_a_tweet() -> None:
    body = {k: v for k, v in TWEET.items() if k not in ("__typename", "mediaDetails")}
    body["photos"] = [{"url": "https://pbs.twimg.com/media/F_aQ1xWXcAAb7kR.jpg", "width": 1200, "height": 800}]
    check = classify(POST, [syn(200, body), emb(404)])
    assert check.status is Status.AVAILABLE
    assert check.media == ("https://pbs.twimg.com/media/F_aQ1xWXcAAb7kR.jpg",)
    assert check.detail == ("syndication returned the Tweet; oEmbed disagrees (HTTP 404): "
                            "the syndication copy may be cached")


# --- rule 2: tombstones that speak for themselves -----------------------------------------


def test_tombstone_of_a_suspended_account_is_suspended() -> None:
    check = classify(POST, [syn(200, tombstone("This Post is from a suspended account. Learn more")), emb(404)])
    assert (check.status, check.endpoint, check.http_status) == (Status.SUSPENDED, "twitter.syndication", 200)
    assert check.detail == ("tombstone names a suspended account (syndication: This Post is from a suspended "
                            "account. Learn more; oEmbed: HTTP 404)")


@pytest.mark.parametrize("text", [
    "Age-restricted adult content. This content might not be appropriate for people under 18 years old. "
    "To view this media, you\u2019ll need to log in to X. Learn more",
    "This Post contains sensitive content. Learn more",
    "This Post has been withheld in Germany in response to a legal demand. Learn more",
])
def test_gated_tombstones_are_restricted(text: str) -> None:
    check = classify(POST, [syn(200, tombstone(text)), emb(200, _corpus("oembed-ruby-oembed-1-http200.json"))])
    assert check.status is Status.RESTRICTED
    assert check.detail.startswith("tombstone says the post is gated (syndication: ")


# --- rule 3: unavailable signals that oEmbed decides ---------------------------------------


def test_deleted_tombstone_and_oembed_404_is_deleted() -> None:
    check = classify(POST, [syn(200, tombstone("This Post was deleted by the Post author. Learn more")),
                            emb(404)])
    assert (check.status, check.endpoint, check.http_status, check.retry) == (
        Status.DELETED, "twitter.oembed", 404, False)
    assert check.detail == ("both sources say the post is gone (syndication: This Post was deleted by the "
                            "Post author. Learn more; oEmbed: HTTP 404)")


def test_deleted_tombstone_alone_is_not_deleted() -> None:
    check = classify(POST, [syn(200, tombstone("This Post was deleted by the Post author. Learn more"))])
    assert (check.status, check.retry) == (Status.ERROR, False)
    assert check.detail.startswith("ambiguous: the sources do not settle it")
    assert check.detail.endswith("oEmbed: not asked)")


def test_empty_tombstone_and_oembed_403_is_protected() -> None:
    check = classify(POST, [syn(200, tombstone(None)), emb(403, NOT_AUTHORIZED)])
    assert (check.status, check.endpoint, check.http_status) == (Status.PROTECTED, "twitter.oembed", 403)
    assert check.detail == ("oEmbed refuses: not authorized to see this status (syndication: TweetTombstone "
                            "without text; oEmbed: HTTP 403 'Sorry, you are not authorized to see this status.')")


def test_tombstone_while_oembed_serves_the_post_is_ambiguous() -> None:
    check = classify(RAILS, [syn(200, tombstone("This Post is unavailable. Learn more")),
                             emb(200, _corpus("oembed-ruby-oembed-1-http200.json"))])
    assert (check.status, check.endpoint, check.retry) == (Status.ERROR, "twitter.oembed", False)
    assert check.detail.startswith("ambiguous: oEmbed serves the post but syndication does not")


def test_tweet_unavailable_and_oembed_403_is_protected() -> None:
    check = classify(POST, [syn(200, {"__typename": "TweetUnavailable"}), emb(403, NOT_AUTHORIZED)])
    assert (check.status, check.http_status) == (Status.PROTECTED, 403)
    assert "syndication: TweetUnavailable" in check.detail


def test_syndication_404_and_oembed_404_is_not_found() -> None:
    check = classify(POST, [syn(404, b""), emb(404, b"")])
    assert (check.status, check.endpoint, check.http_status, check.retry) == (
        Status.NOT_FOUND, "twitter.oembed", 404, False)
    assert check.detail == "no source knows the post (syndication: HTTP 404; oEmbed: HTTP 404)"


def test_tweet_without_user_and_oembed_404_stays_ambiguous() -> None:
    body = {k: v for k, v in TWEET.items() if k != "user"}
    check = classify(POST, [syn(200, body), emb(404)])
    assert check.status is Status.ERROR
    assert "a Tweet without its user (react-tweet #129)" in check.detail


# --- rule 4: {} means ask again --------------------------------------------------------------


def test_empty_syndication_with_real_oembed_200_is_available_from_oembed_and_retried() -> None:
    check = classify(RAILS, [syn(200, b"{}"), emb(200, _corpus("oembed-ruby-oembed-1-http200.json"))])
    assert (check.status, check.endpoint, check.http_status, check.retry) == (
        Status.AVAILABLE, "twitter.oembed", 200, True)
    assert check.author_handle == "RailsGirlsSoC"
    assert check.author_name == "Rails Girls Summer of Code"
    assert check.lang == "en"
    assert check.text == ("Our 2016 fundraising campaign is now open!! Let\u2019s make another amazing summer "
                          "happen!\u2728\U0001f49c\U0001f4aa\U0001f49a\u2728\U0001f449 https://t.co/R8Jg36xaQx "
                          "pic.twitter.com/mIwKR0fzGR")
    assert check.extra["url"] == "https://twitter.com/RailsGirlsSoC/status/702136612822634496"
    assert check.extra["html"].startswith('<blockquote class="twitter-tweet">')
    assert check.detail.startswith("available from oEmbed (syndication: {} (token refused")


def test_empty_syndication_and_oembed_404_is_not_found_but_retried() -> None:
    check = classify(POST, [syn(200, b"{}"), emb(404)])
    assert (check.status, check.retry) == (Status.NOT_FOUND, True)


def test_empty_syndication_and_protected_oembed_is_protected_and_retried() -> None:
    check = classify(POST, [syn(200, b"{}"), emb(403, NOT_AUTHORIZED)])
    assert (check.status, check.retry) == (Status.PROTECTED, True)


# --- rule 5: failures ----------------------------------------------------------------------


def test_server_error_is_an_error_to_retry() -> None:
    check = classify(POST, [syn(503, b"<html>Service Unavailable</html>"), emb(404)])
    assert (check.status, check.endpoint, check.http_status, check.retry) == (
        Status.ERROR, "twitter.syndication", 503, True)
    assert check.detail == "request failed (syndication: HTTP 503 server error; oEmbed: HTTP 404)"


def test_network_failure_keeps_its_reason() -> None:
    check = classify(POST, [syn(None, error="ConnectTimeout: timed out"), emb(None, error="ConnectError")])
    assert (check.status, check.http_status, check.retry) == (Status.ERROR, None, True)
    assert check.detail == ("request failed (syndication: no response (ConnectTimeout: timed out); "
                            "oEmbed: no response (ConnectError))")


def test_rate_limit_is_an_error_to_retry() -> None:
    check = classify(POST, [syn(429, b'{"errors":[{"code":88,"message":"Rate limit exceeded"}]}'), emb(404)])
    assert (check.status, check.http_status, check.retry) == (Status.ERROR, 429, True)
    assert check.detail.startswith("rate limited (syndication: HTTP 429 rate limited")


def test_failed_syndication_with_oembed_200_is_available_from_oembed() -> None:
    check = classify(POST, [syn(502), emb(200, _corpus("oembed-publish.x.com-pepephone-436461658601713664.json"))])
    assert (check.status, check.retry, check.author_handle, check.lang) == (Status.AVAILABLE, True, "pepephone", "es")
    assert check.text == "RT @PabloHerreros Pepephone rompe la baraja - http://t.co/mFn7mcB1vy"


def test_403_without_the_protected_message_is_not_protected() -> None:
    check = classify(POST, [syn(404), emb(403, b"<html>Forbidden</html>")])
    assert check.status is Status.ERROR
    assert check.detail.endswith("oEmbed: HTTP 403 without the not-authorized message)")


def test_oembed_400_from_the_corpus_is_inconclusive() -> None:
    check = classify(POST, [syn(404), emb(400, _corpus("oembed-ruby-oembed-3-http400.json"))])
    assert (check.status, check.retry) == (Status.ERROR, False)
    assert check.detail == "ambiguous: the sources do not settle it (syndication: HTTP 404; oEmbed: HTTP 400)"


@pytest.mark.parametrize("body", [b"\xff\xfe", b"[1, 2]", b"null", b'{"__typename": "Mystery"}', b"<html>"])
def test_garbage_bodies_never_raise(body: bytes) -> None:
    check = classify(POST, [syn(200, body), emb(200, body)])
    assert check.status is Status.ERROR


def test_no_answers_at_all() -> None:
    check = classify(POST, [])
    assert check.status is Status.ERROR
    assert check.detail == "ambiguous: the sources do not settle it (syndication: not asked; oEmbed: not asked)"


def test_the_latest_answer_of_an_endpoint_wins() -> None:
    check = classify(POST, [syn(200, b"{}"), syn(200, TWEET)])
    assert check.status is Status.AVAILABLE


def test_protected_message_in_the_api_errors_shape_is_understood() -> None:
    body = {"errors": [{"code": 179, "message": "Sorry, you are not authorized to see this status."}]}
    check = classify(POST, [syn(200, {"__typename": "TweetUnavailable"}), emb(403, body)])
    assert check.status is Status.PROTECTED
