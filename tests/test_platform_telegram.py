"""Telegram: widget scripts (not discussions), widget iframes, links; channel/ID identity; widget page verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import page_root

from archiver import dom
from archiver.models import Answer, PostRef, Status
from archiver.platforms import telegram
from archiver.platforms.page import Page
from archiver.settings import Endpoints, Settings

POST = PostRef("telegram", "durov/43", "https://t.me/durov/43")

# the widget page t.me serves for ?embed=1 (structure as served; long style and svg parts left out)
WIDGET = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram Widget</title></head>
<body class="body_widget_post emoji_image nodark">
<div class="tgme_widget_message_wrap js-widget_message_wrap">
 <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="Durov/43" data-post-id="43">
  <div class="tgme_widget_message_user"><a href="https://t.me/durov"><i class="tgme_widget_message_user_photo"><img
   src="https://cdn4.cdn-telegram.org/file/avatar.jpg"></i></a></div>
  <div class="tgme_widget_message_bubble">
   <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name"
    href="https://t.me/durov"><span dir="auto">Du Rove&#39;s Channel</span></a></div>
   <a class="tgme_widget_message_photo_wrap 5300 1" href="https://t.me/durov/43"
    style="width:800px;background-image:url('https://cdn4.cdn-telegram.org/file/photo.jpg')"></a>
   <div class="tgme_widget_message_text js-message_text" dir="auto"><b>Bonus track</b>. An embeddable widget.<br/><br/>
    Journalists are going to love this.</div>
   <div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short">
    <span class="tgme_widget_message_views">1.2M</span><span class="copyonly"> views</span>
    <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/durov/43"><time
     datetime="2017-11-20T12:04:33+00:00" class="time">Nov 20, 2017</time></a></span></div></div>
  </div>
 </div>
</div></body></html>"""

ERROR_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram Widget</title></head>
<body class="body_widget_post emoji_image nodark"><div class="tgme_widget_message_wrap js-widget_message_wrap">
<div class="tgme_widget_message js-widget_message" data-post="durov/999999"><div class="tgme_widget_message_bubble">
<div class="tgme_widget_message_error">{}</div></div></div></div></body></html>"""


def detect(html: str) -> list:
    return list(telegram.detect(Page(dom.parse(f"<html><body>{html}</body></html>".encode()), None)))


@pytest.mark.parametrize("markup, kind", [
    ('<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="Durov/43" '
     'data-width="100%"></script>', "script"),
    ('<iframe id="telegram-post-durov-43" src="https://t.me/durov/43?embed=1&amp;userpic=true"></iframe>', "iframe"),
    ('<iframe data-src="https://t.me/durov/43?embed=1"></iframe>', "iframe"),
    ('<a href="https://t.me/s/durov/43">the post</a>', "link"),
    ('<a href="https://t.me/durov/43?embed=1">consent: open the widget</a>', "iframe"),
])
def test_markup_forms(markup: str, kind: str) -> None:
    assert [(s.kind, s.post, s.author_handle) for s in detect(markup)] == [(kind, POST, "durov")]


@pytest.mark.parametrize("markup", [
    '<script async src="https://telegram.org/js/telegram-widget.js?18" data-page-url="https://unzensuriert.at/x" '
    'data-telegram-discussion="unzAT/" data-comments-limit="5"></script>',  # 048: a comments widget
    '<a href="https://t.me/unzAT" target="_new">Telegram-Kanal</a>',
    '<a href="https://t.me/share/url?url=https%3A%2F%2Fnews.example">share</a>',
    '<a href="https://t.me/joinchat/AAAAAEJk">join</a><a href="https://t.me/+AbCdEf">invite</a>',
    '<a href="https://t.me/c/1234567890/89">private channel</a>',
    '<script data-telegram-post="unzAT/"></script>',
    '<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-login="bot"></script>',
])
def test_traps(markup: str) -> None:
    assert detect(markup) == []


def test_corpus_discussion_widget_is_not_a_post(corpus_dir: Path) -> None:
    root = page_root(corpus_dir / "pages" / "048-unzensuriert-NEG-telegram-discussion.html")
    assert list(telegram.detect(Page(root, None))) == []


@pytest.mark.parametrize("url", [
    "https://t.me/durov/43", "https://t.me/Durov/43?embed=1", "https://t.me/s/durov/43", "http://telegram.me/durov/43",
    "https://t.me/durov/43?single", "t.me/durov/43",
])
def test_identify(url: str) -> None:
    assert telegram.identify(url) == POST


@pytest.mark.parametrize("url", [
    "https://t.me/durov", "https://t.me/c/1234567/89", "https://t.me/joinchat/AAAA", "https://t.me/share/url?url=x",
    "https://t.me/addstickers/abc", "https://t.me/durov/abc", "https://nott.me/durov/43",
])
def test_identify_rejects(url: str) -> None:
    assert telegram.identify(url) is None


def test_lookup_is_the_widget_page() -> None:
    [lookup] = telegram.lookups(POST, Settings(endpoints=Endpoints(telegram="http://127.0.0.1:9/")))
    assert (lookup.endpoint, lookup.url) == ("telegram.widget", "http://127.0.0.1:9/durov/43?embed=1")


def page(status: int | None, body: str) -> list[Answer]:
    return [Answer("telegram.widget", status, body.encode())]


def test_classify_available_widget() -> None:
    check = telegram.classify(POST, page(200, WIDGET))
    assert (check.status, check.author_handle, check.author_name) == (Status.AVAILABLE, "durov", "Du Rove's Channel")
    assert check.text == "Bonus track. An embeddable widget.\n\nJournalists are going to love this."
    assert check.created_at == "2017-11-20T12:04:33+00:00"
    assert check.media == ("https://cdn4.cdn-telegram.org/file/photo.jpg",)
    assert check.extra == {"data_post": "Durov/43", "views": "1.2M"}


@pytest.mark.parametrize("message, verdict", [
    ("Post not found", Status.NOT_FOUND), ("Channel is private", Status.PROTECTED),
    ("Something strange", Status.ERROR),
])
def test_classify_error_widget(message: str, verdict: Status) -> None:
    check = telegram.classify(POST, page(200, ERROR_PAGE.format(message)))
    assert (check.status, check.detail, check.http_status) == (verdict, f"Telegram: {message}", 200)


@pytest.mark.parametrize("status, body, verdict, retry", [
    (200, "<html><body>maintenance</body></html>", Status.ERROR, False),
    (404, "", Status.NOT_FOUND, False), (429, "", Status.ERROR, True), (502, "", Status.ERROR, True),
    (302, "", Status.ERROR, False),
])
def test_classify_other_answers(status: int, body: str, verdict: Status, retry: bool) -> None:
    check = telegram.classify(POST, page(status, body))
    assert (check.status, check.retry) == (verdict, retry)
