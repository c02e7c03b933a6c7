"""Resolving a tweet without login: which requests to make, and what their answers mean.

Two public, login-free sources are asked about every tweet, because neither is
conclusive on its own:

- **syndication** (``cdn.syndication.twimg.com/tweet-result``), the endpoint
  behind Twitter's embedded-tweet widget. It wants ``lang``, a ``features`` list
  and a ``token`` derived from the id (``token.py``). Request and answer shapes
  follow vercel/react-tweet (``packages/react-tweet/src/api/fetch-tweet.ts`` and
  ``api/types/*.ts``, read at commit 074901d9): a post is a JSON ``Tweet``
  (``__typename``, ``id_str``, ``text``, ``user{screen_name,name,id_str}``,
  ``created_at`` in ISO 8601, ``lang``, ``mediaDetails[]`` with
  ``media_url_https`` and ``video_info.variants[].url``, ``photos[].url``,
  ``video.variants[].src``, ``edit_control.edit_tweet_ids``, ``isEdited``,
  ``note_tweet``, ``quoted_tweet``, ``parent``, ``favorite_count``,
  ``conversation_count``, ``possibly_sensitive``). react-tweet reports a
  ``TweetTombstone`` as "made private" and ``{}`` or HTTP 404 as "not found";
  other clients' tests show the tombstone's shape,
  ``{"__typename": "TweetTombstone", "tombstone": {"text": {"text": "This Post was
  deleted by the Post author. Learn more", ...}}}``, an empty ``"tombstone": {}``
  for live posts withheld from anonymous readers, and "Age-restricted adult
  content" texts. react-tweet issue #129 shows tweet-shaped answers without a
  ``user``. ``{}`` also comes back when the token is refused or the endpoint
  throttles, so it means "ask again later" first.
- **oEmbed** (``publish.twitter.com/oembed``): 200 with ``author_name``,
  ``author_url`` and the blockquote ``html``; 403 with ``{"error": "Sorry, you are
  not authorized to see this status."}`` for protected accounts; 404 for posts
  that are gone (``shared/reference/PLATFORMS.md``; bodies in
  ``shared/corpus/api/twitter``).

Rules of ``classify``, first match wins (``detail`` always says which fired):

1. Syndication ``Tweet`` (``__typename`` "Tweet", or an ``id_str``) with a user:
   **available**, with author, text (the ``note_tweet`` full text when the answer
   carries it), creation time, language, media, edit ids and counts.
2. ``TweetTombstone`` whose text names a suspended account: **suspended**; whose
   text speaks of age, sensitive/adult content or withholding: **restricted**.
3. Any other tombstone, ``TweetUnavailable`` (reported for protected posts,
   unverified), a tweet without a user, ``{}`` and 404 are "unavailable" signals
   that the oEmbed answer decides:
   - oEmbed 403 with the "not authorized" message: **protected**;
   - oEmbed 404: **deleted** after a tombstone or ``TweetUnavailable`` (the post
     existed and two sources say it is gone); **not_found** after a syndication
     404 or ``{}`` (no source says it ever existed);
   - oEmbed 200: **available** from oEmbed (author, text and html); after a
     tombstone, ``TweetUnavailable`` or a user-less tweet the two sources
     disagree: **error** "ambiguous";
   - a user-less tweet with an oEmbed 404 stays **error** "ambiguous" (it may be
     a suspended account; nothing says which);
   - oEmbed missing or failed: **error** "ambiguous", ``retry`` set when the
     failure was transient.
4. Syndication ``{}`` always sets ``retry``: the caller asks again later.
5. 429 from either source: **error**, ``retry``; 5xx and network failures:
   **error** with the reason, ``retry`` (unless the other source decided alone:
   oEmbed 200 gives available, oEmbed's protected 403 gives protected).

``deleted`` never comes from one signal: it takes an unavailable syndication
answer *and* an oEmbed 404.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef, Status
from archiver.platforms.twitter.ids import parse_status
from archiver.platforms.twitter.token import syndication_token
from archiver.settings import Settings

SYNDICATION = "twitter.syndication"
OEMBED = "twitter.oembed"

# The feature flags react-tweet sends (fetch-tweet.ts); the endpoint shapes its answer by them.
SYNDICATION_FEATURES = ";".join([
    "tfw_timeline_list:",
    "tfw_follower_count_sunset:true",
    "tfw_tweet_edit_backend:on",
    "tfw_refsrc_session:on",
    "tfw_fosnr_soft_interventions_enabled:on",
    "tfw_show_birdwatch_pivots_enabled:on",
    "tfw_show_business_verified_badge:on",
    "tfw_duplicate_scribes_to_settings:on",
    "tfw_use_profile_image_shape_enabled:on",
    "tfw_show_blue_verified_badge:on",
    "tfw_legacy_timeline_sunset:true",
    "tfw_show_gov_verified_badge:on",
    "tfw_show_business_affiliate_badge:on",
    "tfw_tweet_edit_frontend:on",
])

_SUSPENDED = re.compile(r"suspended", re.I)
_RESTRICTED = re.compile(r"age[- ]restricted|sensitive|adult content|withheld|in your country|under 18", re.I)
_NOT_AUTHORIZED = re.compile(r"not authori[sz]ed", re.I)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    """Syndication first (the richer answer), then oEmbed (the second opinion).

    ``post.post_id`` must be decimal digits (``identify`` guarantees it); the token
    computation raises ValueError otherwise.
    """
    syndication = urlencode({
        "id": post.post_id,
        "lang": "en",
        "features": SYNDICATION_FEATURES,
        "token": syndication_token(post.post_id),
    })
    oembed = urlencode({"url": oembed_target(post), "omit_script": "1", "dnt": "true"})
    return [
        Lookup(SYNDICATION, f"{settings.endpoints.twitter_syndication}?{syndication}"),
        Lookup(OEMBED, f"{settings.endpoints.twitter_oembed}?{oembed}"),
    ]


def oembed_target(post: PostRef) -> str:
    """The status URL oEmbed is asked about: with the handle when the post's URL has one."""
    link = parse_status(post.url)
    return f"https://twitter.com/{link.handle if link and link.handle else 'i'}/status/{post.post_id}"


@dataclass(frozen=True)
class _Signal:
    """One source's answer reduced to a kind, with what the rules need from it."""

    # syndication: tweet, no_user, tombstone, unavailable, empty, not_found; oEmbed: ok, forbidden,
    # not_found; either: rate_limited, failed (5xx or no response), other, missing (not asked)
    kind: str
    http_status: int | None
    data: Any = None
    reason: str = ""


def classify(post: PostRef, answers: list[Answer]) -> Check:
    """A status from the syndication and oEmbed answers (see the module docstring)."""
    syn = _syndication_signal(_last(answers, SYNDICATION))
    emb = _oembed_signal(_last(answers, OEMBED))
    said = f"syndication: {syn.reason}; oEmbed: {emb.reason}"

    if syn.kind == "tweet":
        return _from_tweet(post, syn, emb)

    if syn.kind == "tombstone":
        text = syn.reason
        if _SUSPENDED.search(text):
            return Check(Status.SUSPENDED, f"tombstone names a suspended account ({said})", 200, SYNDICATION)
        if _RESTRICTED.search(text):
            return Check(Status.RESTRICTED, f"tombstone says the post is gated ({said})", 200, SYNDICATION)

    retry = syn.kind in ("empty", "rate_limited", "failed") or emb.kind in ("rate_limited", "failed")
    gone = syn.kind in ("tombstone", "unavailable", "no_user")  # the post existed once

    if emb.kind == "forbidden":
        return Check(Status.PROTECTED, f"oEmbed refuses: not authorized to see this status ({said})",
                     403, OEMBED, retry=retry)
    if emb.kind == "ok":
        if gone:
            return Check(Status.ERROR, f"ambiguous: oEmbed serves the post but syndication does not ({said})",
                         200, OEMBED, retry=retry)
        return _from_oembed(emb, f"available from oEmbed ({said})", retry)
    if emb.kind == "not_found" and syn.kind in ("tombstone", "unavailable"):
        return Check(Status.DELETED, f"both sources say the post is gone ({said})", 404, OEMBED, retry=retry)
    if emb.kind == "not_found" and syn.kind in ("not_found", "empty"):
        return Check(Status.NOT_FOUND, f"no source knows the post ({said})", 404, OEMBED, retry=retry)

    for signal, endpoint in ((syn, SYNDICATION), (emb, OEMBED)):
        if signal.kind == "rate_limited":
            return Check(Status.ERROR, f"rate limited ({said})", 429, endpoint, retry=True)
    failed = next(((s, e) for s, e in ((syn, SYNDICATION), (emb, OEMBED)) if s.kind == "failed"), None)
    if failed:
        return Check(Status.ERROR, f"request failed ({said})", failed[0].http_status, failed[1], retry=True)
    return Check(Status.ERROR, f"ambiguous: the sources do not settle it ({said})",
                 syn.http_status, SYNDICATION, retry=retry)


def _last(answers: list[Answer], endpoint: str) -> Answer | None:
    """The latest answer from one endpoint (a retry replaces an earlier attempt)."""
    found = [a for a in answers if a.endpoint == endpoint]
    return found[-1] if found else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None


def _transport(answer: Answer | None) -> _Signal | None:
    """The signal for answers whose body does not matter: none, network failure, 429, 5xx."""
    if answer is None:
        return _Signal("missing", None, reason="not asked")
    if answer.status is None:
        return _Signal("failed", None, reason=f"no response ({answer.error or 'network error'})")
    if answer.status == 429:
        return _Signal("rate_limited", 429, reason="HTTP 429 rate limited")
    if answer.status >= 500:
        return _Signal("failed", answer.status, reason=f"HTTP {answer.status} server error")
    return None


def _syndication_signal(answer: Answer | None) -> _Signal:
    early = _transport(answer)
    if early or answer is None:
        return early or _Signal("missing", None)
    status, data = answer.status, _json(answer.body)
    if status == 404:
        return _Signal("not_found", 404, reason="HTTP 404")
    if status != 200:
        return _Signal("other", status, reason=f"HTTP {status}")
    if not isinstance(data, dict):
        return _Signal("other", 200, reason="HTTP 200 with a body that is not a JSON object")
    if not data:
        return _Signal("empty", 200, reason="{} (token refused or throttled; retry later)")
    typename = data.get("__typename")
    if typename == "TweetTombstone":
        text = _tombstone_text(data)
        return _Signal("tombstone", 200, data, text or "TweetTombstone without text")
    if typename == "TweetUnavailable":
        return _Signal("unavailable", 200, data, "TweetUnavailable")
    if typename == "Tweet" or data.get("id_str"):
        if not isinstance(data.get("user"), dict):
            return _Signal("no_user", 200, data, "a Tweet without its user (react-tweet #129)")
        return _Signal("tweet", 200, data, "Tweet")
    return _Signal("other", 200, data, f"unknown answer (__typename {typename!r})")


def _tombstone_text(data: dict) -> str:
    tombstone = data.get("tombstone")
    text = tombstone.get("text") if isinstance(tombstone, dict) else None
    if isinstance(text, dict):
        text = text.get("text")
    return text.strip() if isinstance(text, str) else ""


def _oembed_signal(answer: Answer | None) -> _Signal:
    early = _transport(answer)
    if early or answer is None:
        return early or _Signal("missing", None)
    status, data = answer.status, _json(answer.body)
    if status == 200 and isinstance(data, dict) and (data.get("html") or data.get("author_name")):
        return _Signal("ok", 200, data, "HTTP 200")
    if status == 403:
        message = _error_message(data)
        if message and _NOT_AUTHORIZED.search(message):
            return _Signal("forbidden", 403, data, f"HTTP 403 {message!r}")
        return _Signal("other", 403, data, "HTTP 403 without the not-authorized message")
    if status == 404:
        return _Signal("not_found", 404, data, "HTTP 404")
    return _Signal("other", status, data, f"HTTP {status}")


def _error_message(data: Any) -> str | None:
    """``{"error": "..."}`` as documented, or the API's ``{"errors": [{"message": "..."}]}``."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("error"), str):
        return data["error"]
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message")
        return message if isinstance(message, str) else None
    return None


def _from_tweet(post: PostRef, syn: _Signal, emb: _Signal) -> Check:
    data: dict = syn.data
    user = data["user"]
    detail = "syndication returned the Tweet"
    if emb.kind in ("not_found", "forbidden"):
        detail += f"; oEmbed disagrees ({emb.reason}): the syndication copy may be cached"
    if data.get("id_str") and str(data["id_str"]) != post.post_id:
        detail += f"; it answered for id {data['id_str']}"
    return Check(
        Status.AVAILABLE,
        detail,
        200,
        SYNDICATION,
        author_handle=_str(user.get("screen_name")),
        author_name=_str(user.get("name")),
        text=_note_text(data.get("note_tweet")) or _str(data.get("text")),
        created_at=_iso(data.get("created_at")),
        lang=_str(data.get("lang")),
        media=_media(data),
        edit_ids=tuple(str(i) for i in _get(data, "edit_control", "edit_tweet_ids") or ()),
        extra=_tweet_extra(data),
    )


def _note_text(note: Any) -> str | None:
    """The full text of a long post, in the shapes it has been seen in.

    react-tweet types ``note_tweet`` as ``{id}`` only (a marker that ``text`` is
    truncated); GraphQL answers carry ``note_tweet_results.result.text``.
    """
    if not isinstance(note, dict):
        return None
    for path in (("text",), ("note_tweet_results", "result", "text")):
        value = _get(note, *path)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _media(data: dict) -> tuple[str, ...]:
    """Photo URLs, video posters and the best MP4 of each video, without repeats."""
    urls: list[str] = []
    for item in data.get("mediaDetails") or ():
        if not isinstance(item, dict):
            continue
        urls.append(_str(item.get("media_url_https")) or "")
        variants = _get(item, "video_info", "variants") or []
        mp4 = [v for v in variants if isinstance(v, dict) and v.get("content_type") == "video/mp4"]
        if mp4:
            urls.append(_str(max(mp4, key=lambda v: v.get("bitrate") or 0).get("url")) or "")
    if not urls:  # older answers: photos[] and video{}
        urls += [_str(p.get("url")) or "" for p in data.get("photos") or () if isinstance(p, dict)]
        video = data.get("video")
        if isinstance(video, dict):
            urls.append(_str(video.get("poster")) or "")
            urls += [_str(v.get("src")) or "" for v in video.get("variants") or ()
                     if isinstance(v, dict) and "mp4" in str(v.get("type"))][-1:]
    return tuple(dict.fromkeys(u for u in urls if u))


def _tweet_extra(data: dict) -> dict:
    """Counts and relations worth keeping beside the text; absent fields are left out."""
    extra = {
        "id_str": data.get("id_str"),
        "user_id": _get(data, "user", "id_str"),
        "favorite_count": data.get("favorite_count"),
        "conversation_count": data.get("conversation_count"),
        "possibly_sensitive": data.get("possibly_sensitive"),
        "isEdited": data.get("isEdited"),
        "isStaleEdit": data.get("isStaleEdit"),
        "quoted_tweet_id": _get(data, "quoted_tweet", "id_str"),
        "parent_id": _get(data, "parent", "id_str") or data.get("in_reply_to_status_id_str"),
        "in_reply_to_screen_name": data.get("in_reply_to_screen_name"),
        "note_tweet_id": _get(data, "note_tweet", "id"),
        "urls": [u.get("expanded_url") for u in _get(data, "entities", "urls") or () if isinstance(u, dict)],
    }
    return {k: v for k, v in extra.items() if v not in (None, [], "")}


def _from_oembed(emb: _Signal, detail: str, retry: bool) -> Check:
    data: dict = emb.data
    html = _str(data.get("html")) or ""
    text, lang = _blockquote_text(html)
    author_url = _str(data.get("author_url")) or ""
    handle = author_url.rstrip("/").rsplit("/", 1)[-1] if "/" in author_url else None
    extra = {k: data[k] for k in ("url", "author_url", "provider_name", "html") if data.get(k)}
    return Check(Status.AVAILABLE, detail, 200, OEMBED, retry=retry, author_handle=handle or None,
                 author_name=_str(data.get("author_name")), text=text, lang=lang, extra=extra)


def _blockquote_text(html: str) -> tuple[str | None, str | None]:
    """The tweet text and language from the ``<p lang>`` of oEmbed's blockquote."""
    root = dom.parse(html.encode("utf-8", "replace"))
    if root is None:
        return None, None
    for blockquote in dom.descendants(root, "blockquote"):
        for paragraph in dom.children(blockquote):
            if paragraph.tag == "p":
                return dom.text_content(paragraph).strip() or None, paragraph.attributes.get("lang")
    return None, None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _iso(value: Any) -> str | None:
    """Syndication's ``2021-11-18T14:02:33.000Z`` as UTC ISO 8601; other text kept as is."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
