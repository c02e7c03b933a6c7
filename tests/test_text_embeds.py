"""Tweets that survive only as text: the corpus seed, and hand-written variants."""

from __future__ import annotations


import pytest
from hypothesis import given, settings, strategies as st

from corpus import shared_path

from archiver.extract.text import extract_text
from archiver.models import Embed

def _seed_text() -> str:
    """The seed article of the shared corpus."""
    return shared_path("corpus", "text", "seed-belarus.txt").read_text(encoding="utf-8")


HANNA_TEXT = (
    "#Belarus Another large group of migrants is leaving the border right now. Today, Iraq plans to "
    "evacuate Iraqi citizens from Belarus to Iraq pic.twitter.com/bJ7wHuwl4f"
)
STRAZ_TEXT = (
    "Nieopodal ok.100-os.grupa migrantów oczekiwała na możliwość nielegalnego przekroczenia granicy. "
    "Białorusini wyposażyli cudzoziemców w gaz łzawiący, który został użyty w kierunku polskich służb. "
    "Tej oraz kolejnym próbom nielegalnego przekroczenia gr. 🇵🇱🇧🇾zapobiegliśmy pic.twitter.com/aUq2WLbv0T"
)
AMANPOUR_TEXT = (
    "Belarusian opposition leader Svetlana @Tsihanouskaya tells me migrants on the Belarus/Poland border are "
    "“in the hands of a criminal who wants to take revenge on EU because they are standing with Belarusians” "
    "– and stresses Lukashenko’s regime does not represent Belarusians. pic.twitter.com/SAY7AdHYdF"
)


def _tweet(position: int, handle: str, name: str, date: str | None, text: str | None,
           snippet: str, links: tuple[str, ...]) -> Embed:
    return Embed(platform="twitter", post=None, kind="text", position=position, author_handle=handle,
                 author_name=name, fallback_text=text, shown_date=date, snippet=snippet, short_links=links)


def test_seed_gives_exactly_the_three_expected_tweets() -> None:
    assert extract_text(_seed_text()) == [
        _tweet(0, "HannaLiubakova", "Hanna Liubakova", "November 18, 2021", HANNA_TEXT,
               HANNA_TEXT + "\n— Hanna Liubakova (@HannaLiubakova) November 18, 2021",
               ("https://t.co/bJ7wHuwl4f",)),
        _tweet(1, "Straz_Graniczna", "Straż Graniczna", "November 13, 2021", STRAZ_TEXT,
               STRAZ_TEXT + "\n— Straż Graniczna (@Straz_Graniczna) November 13, 2021",
               ("https://t.co/aUq2WLbv0T",)),
        _tweet(2, "camanpour", "Christiane Amanpour", "November 17, 2021", AMANPOUR_TEXT,
               AMANPOUR_TEXT + "\n— Christiane Amanpour (@camanpour) November 17, 2021",
               ("https://t.co/SAY7AdHYdF",)),
    ]


def test_seed_mentions_and_quotes_are_not_tweets() -> None:
    handles = [e.author_handle for e in extract_text(_seed_text())]
    assert "Tsihanouskaya" not in handles
    assert len(handles) == 3  # the TASS and Putin quotes give nothing


def test_mdash_entity_and_blank_line_paragraphs() -> None:
    text = (
        "The council met on Monday.\n\n"
        "Ferry traffic resumes tomorrow at 6am,\nweather permitting. https://t.co/a1B2c3D4e5\n"
        "&mdash; Port of Tallinn (@PortOfTallinn) March 3, 2023\n\n"
        "More on that later."
    )
    assert extract_text(text) == [
        _tweet(0, "PortOfTallinn", "Port of Tallinn", "March 3, 2023",
               "Ferry traffic resumes tomorrow at 6am,\nweather permitting. https://t.co/a1B2c3D4e5",
               "Ferry traffic resumes tomorrow at 6am,\nweather permitting. https://t.co/a1B2c3D4e5\n"
               "&mdash; Port of Tallinn (@PortOfTallinn) March 3, 2023",
               ("https://t.co/a1B2c3D4e5",)),
    ]


def test_double_hyphen_and_date_on_the_next_line_without_pic_link() -> None:
    text = (
        "Residents described the night.\n"
        "Power is back in the north district, still out in the south.\n"
        "-- Jane Q. Reporter (@janeqreports)\n"
        "July 9, 2022\n"
        "Officials did not comment."
    )
    assert extract_text(text) == [
        _tweet(0, "janeqreports", "Jane Q. Reporter", "July 9, 2022",
               "Power is back in the north district, still out in the south.",
               "Power is back in the north district, still out in the south.\n"
               "-- Jane Q. Reporter (@janeqreports)\nJuly 9, 2022",
               ()),
    ]


def test_signature_run_into_the_text_line_with_http_links() -> None:
    text = ("Intro paragraph.\n"
            "Queues at the crossing again http://t.co/Zx9Yw8Vu7T pic.x.com/Qq1Ww2Ee3R "
            "— Border Watch (@border_watch) Nov 2, 2021 and the article goes on.")
    (embed,) = extract_text(text)
    assert embed.author_handle == "border_watch"
    assert embed.author_name == "Border Watch"
    assert embed.shown_date == "Nov 2, 2021"
    assert embed.fallback_text == "Queues at the crossing again http://t.co/Zx9Yw8Vu7T pic.x.com/Qq1Ww2Ee3R"
    assert embed.short_links == ("https://t.co/Zx9Yw8Vu7T", "https://t.co/Qq1Ww2Ee3R")
    assert embed.snippet == ("Queues at the crossing again http://t.co/Zx9Yw8Vu7T pic.x.com/Qq1Ww2Ee3R "
                             "— Border Watch (@border_watch) Nov 2, 2021")


def test_html_remains_of_a_blockquote_on_one_line() -> None:
    text = ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Snow in May <a href="https://t.co/'
            'Ab12Cd34Ef">pic.twitter.com/Ab12Cd34Ef</a></p>&mdash; Weather Desk (@wxdesk) <a href="https://'
            'twitter.com/wxdesk/status/1655555555555555555?ref_src=twsrc%5Etfw">May 9, 2023</a></blockquote>')
    (embed,) = extract_text(text)
    assert (embed.author_handle, embed.author_name, embed.shown_date) == ("wxdesk", "Weather Desk", "May 9, 2023")
    assert embed.fallback_text == "Snow in May pic.twitter.com/Ab12Cd34Ef"
    assert embed.short_links == ("https://t.co/Ab12Cd34Ef",)


def test_two_tweets_in_a_row_keep_their_own_text() -> None:
    text = ("First tweet text pic.twitter.com/AAAA1111\n— One (@one) January 1, 2020\n"
            "Second tweet text\n— Two (@two) January 2, 2020\n")
    first, second = extract_text(text)
    assert (first.fallback_text, first.position) == ("First tweet text pic.twitter.com/AAAA1111", 0)
    assert (second.fallback_text, second.position, second.short_links) == ("Second tweet text", 1, ())


@pytest.mark.parametrize("text", [
    "",
    "No embeds here, just @mentions like @someone and an email a@b.c.",
    "“We will respond,” he said — a spokesman (@ministry) said nothing else",
    "The minister – who tweets as (@minister) – declined.",
    "— (@) January 1, 2020",
    "@" * 10_000,
    "— " * 5_000 + "(@x)",
])
def test_prose_mentions_and_junk_are_not_tweets(text: str) -> None:
    assert extract_text(text) == []


@pytest.mark.parametrize("value", [None, 42, b"\xff\xfe\x00@", ["a"]])
def test_wrong_types_give_nothing(value: object) -> None:
    assert extract_text(value) == []  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab @()—-–&;\n\r\t.,:/0123456789") +
                                ["pic.twitter.com/", "&mdash;", "Nov ", "<a>", "(@x)", " — "]), max_size=120).map("".join))
def test_never_raises(text: str) -> None:
    for embed in extract_text(text):
        assert embed.platform == "twitter" and embed.kind == "text" and embed.post is None
