"""Instagram: the official blockquote, AMP, embed iframes, BuzzFeed's subbuzz; Meta oEmbed.

Identity is the shortcode: ``/p/CODE``, ``/reel/CODE``, ``/reels/CODE``,
``/tv/CODE`` and the newer ``/USER/p/CODE`` all give
``PostRef("instagram", CODE, "https://www.instagram.com/p/CODE/")``. Stories are
ephemeral and not embeddable: None, like profiles.

What the article showed: the blockquote's caption paragraph (older embed codes
carry it, ``data-instgrm-captioned``), the "A post shared by NAME (@handle)"
line and its ``<time datetime>``. BuzzFeed's ``subbuzz-instagram`` keeps only a
placeholder link and an "Instagram: @handle" attribution.

Resolution: Meta's Graph ``instagram_oembed``, only with ``meta_access_token``
set; without it no lookup is made and the post is ``unsupported``. Platform
terms: Meta restricts storing what oEmbed returns, so a check records the
availability and the author's username (which the article itself displayed)
and nothing else: no caption, no thumbnail. The raw answer is kept by the fetch
layer like every answer, for provenance.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from archiver import dom
from archiver.models import Answer, Check, Lookup, PostRef
from archiver.platforms import oembed
from archiver.platforms.base import Sighting
from archiver.platforms.page import Page
from archiver.settings import Settings

NAME = "instagram"
ENDPOINT = "instagram.oembed"
DOMAINS = ("instagram.com", "instagr.am")
TAGS = ("blockquote", "div", "amp-instagram", *oembed.FRAME_TAGS, "a")

_CODE = re.compile(r"^[A-Za-z0-9_-]{5,64}$")
_KINDS = {"p", "reel", "reels", "tv"}
_HOSTS = {"instagram.com", "instagr.am"}
_SHARED_BY = re.compile(r"^(?P<lead>.*?)\(@(?P<handle>[A-Za-z0-9_.]{1,30})\)")
_ATTRIBUTION = re.compile(r"@([A-Za-z0-9_.]{1,30})")


def _code(url: str) -> tuple[str, bool] | None:
    """(shortcode, is embed URL) of a post URL."""
    parts = oembed.split(url)
    if not parts:
        return None
    host, segs, _ = parts
    if oembed.bare_host(host, ("www.", "m.")) not in _HOSTS:
        return None
    if len(segs) >= 3 and segs[1] in _KINDS and segs[0] not in _KINDS:
        segs = segs[1:]  # /USER/p/CODE
    if len(segs) >= 2 and segs[0] in _KINDS and _CODE.match(segs[1]) and segs[1] != "audio":
        return segs[1], len(segs) >= 3 and segs[2] in ("embed", "captioned")
    return None


def _ref(code: str) -> PostRef:
    return PostRef(NAME, code, f"https://www.instagram.com/p/{code}/")


def identify(url: str) -> PostRef | None:
    found = _code(url)
    return _ref(found[0]) if found else None


def _is_player(url: str) -> bool:
    found = _code(url)
    return bool(found and found[1])


def _blockquote(bq: Any, base_url: str | None) -> Sighting | None:
    permalink = bq.attributes.get("data-instgrm-permalink")
    post = identify(permalink) if permalink else None
    if post is None:  # old embed codes (v7, Us Weekly) have no permalink attribute
        for a in dom.descendants(bq, "a"):
            raw = a.attributes.get("href")
            href = oembed.absolute(raw, base_url)
            post = identify(href) if href else None
            if post:
                permalink = raw
                break
    if post is None:
        return None
    handle = name = caption = None
    for p in dom.descendants(bq, "p"):
        text = oembed.text_of(p)
        if not text:
            continue
        match = _SHARED_BY.match(text)
        if match and handle is None:
            handle = match.group("handle")
            profile = [oembed.text_of(a) for a in dom.descendants(p, "a")
                       if identify(a.attributes.get("href") or "") is None]
            lead = profile[0] if profile and profile[0] else match.group("lead")
            name = oembed.clean(re.sub(r"^A post shared by\s*", "", lead or "", flags=re.I)) or None
        elif caption is None and not match:
            caption = text
    return Sighting(element=bq, post=post, kind="blockquote", url_as_found=permalink, author_handle=handle,
                    author_name=name, fallback_text=caption, shown_date=dom.first_value(bq, "time", "datetime"))


def _subbuzz(div: Any, base_url: str | None) -> Sighting | None:
    """BuzzFeed: a placeholder link in place of the blockquote, the handle in the attribution."""
    anchors = list(dom.descendants(div, "a"))  # the div is no <a>: its descendants only
    placeholders = [a for a in anchors if oembed.has_class(a, "subbuzz-embed__placeholder")]
    for a in placeholders + anchors:  # (an <a> without href leads nowhere)
        href = a.attributes.get("href")
        post = identify(oembed.absolute(href, base_url) or "")
        if post:
            handle = None
            for attribution in _attributions(div):  # the last one's handle, or None
                match = _ATTRIBUTION.search(oembed.text_of(attribution) or "")
                handle = match.group(1) if match else None
            # the subbuzz title above it is BuzzFeed's words, not the post's: no fallback text
            return Sighting(element=div, post=post, kind="blockquote", url_as_found=href, author_handle=handle)
    return None


def _attributions(div: Any) -> Iterator[Any]:
    """Elements below ``div`` whose class attribute contains "subbuzz__attribution" (as a substring)."""
    for el in dom.below(div):
        value = el.attributes.get("class")
        if value and "subbuzz__attribution" in value:
            yield el


def detect(page: Page) -> Iterator[Sighting]:
    """Blockquotes, subbuzz, amp-instagram, embed iframes, then plain links."""
    base_url = page.base_url
    claimed: set[Any] = set()
    for bq in page.with_class("blockquote", "instagram-media"):
        sighting = _blockquote(bq, base_url)
        if sighting:
            claimed.add(bq)
            yield sighting
    for div in page.with_class("div", "subbuzz-instagram"):
        sighting = _subbuzz(div, base_url)
        if sighting:
            claimed.add(div)
            yield sighting
    for el in page.tagged("amp-instagram"):
        code = (el.attributes.get("data-shortcode") or "").strip()
        if _CODE.match(code):
            claimed.add(el)
            yield Sighting(element=el, post=_ref(code), kind="amp", url_as_found=code)
    for el, url, kind in page.frames:
        if _is_player(url):
            claimed.add(el)
            yield Sighting(element=el, post=identify(url), kind=kind, url_as_found=url)
    yield from oembed.link_sightings(page, DOMAINS, identify, claimed, _is_player)


def lookups(post: PostRef, settings: Settings) -> list[Lookup]:
    return oembed.meta_lookups(post, settings, ENDPOINT, "instagram_oembed")


def classify(post: PostRef, answers: list[Answer]) -> Check:
    # Instagram's oEmbed author_name is the account's username.
    return oembed.classify_meta(answers, ENDPOINT, handle_is_author_name=True)
