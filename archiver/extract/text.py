"""Tweet embeds that survive only as text.

Scraped article text (datasets, copy-paste, text-only archives) keeps a tweet
embed as the tweet's text followed by the widget's signature line::

    #Belarus Another large group of migrants ... pic.twitter.com/bJ7wHuwl4f
    — Hanna Liubakova (@HannaLiubakova) November 18, 2021

The markup, and with it the status URL, is gone; the signature is the one
reliable trace, so detection starts there and never from an ``@handle`` alone
(mentions such as ``@Tsihanouskaya`` inside a tweet, or quotations attributed
with a dash, must not become posts). A signature is a dash (``—``, ``&mdash;``,
``--``, en dash or horizontal bar), the display name, ``(@handle)`` and the date
``Month D, YYYY`` (also ``D Month YYYY``, abbreviated months and ISO dates):

- on its own line, the date may be missing, follow on the same line, or sit
  alone on the next line;
- inside a line (text run together), it counts only with a date after it, and
  the text before it on that line is the tweet text.

The tweet text is the paragraph before the signature. Documents with blank lines
between paragraphs give the whole block above it; documents with one paragraph
per line (like the corpus seed) give the previous line only, as a tweet of
several lines cannot be told from the article text there.

``pic.twitter.com/X``, ``pic.x.com/X`` and ``t.co/X`` links in the tweet text go
to ``short_links`` as ``https://t.co/X``: the widget prints a media link as
``pic.twitter.com/X`` over ``href="https://t.co/X"`` (same code, see the oEmbed
bodies in the corpus), and ``https://t.co/X`` is the URL that redirects to
``twitter.com/HANDLE/status/ID/...``. Following it is how such an embed later
gains its post: ``Embed.post`` stays None here.

``extract_text`` is pure and total: any string (or bytes, or None) gives a list,
never an exception, and its regular expressions are bounded so that long or
hostile lines cannot make them backtrack for long.
"""

from __future__ import annotations

import html
import re

from archiver.models import Embed

_DASH = r"(?:\u2014|\u2013|\u2015|&mdash;|&#8212;|&#x2014;|--)"
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
)
_DATE = rf"(?:{_MONTH}\.?\s{{1,3}}\d{{1,2}},?\s{{1,3}}\d{{4}}|\d{{1,2}}\s{{1,3}}{_MONTH}\.?,?\s{{1,3}}\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
_SIGNATURE = re.compile(
    rf"(?:^|(?<=\s)){_DASH}\s{{0,3}}"
    r"(?P<name>[^\s(@\u2013\u2014\u2015][^\n\u2013\u2014\u2015]{0,79}?)\s{0,3}"
    r"\(@(?P<handle>[A-Za-z0-9_]{1,15})\)"
    rf"(?:\s{{0,6}}(?:on\s{{1,3}})?(?P<date>{_DATE}))?",
    re.I,
)
_DATE_LINE = re.compile(rf"^\s*(?P<date>{_DATE})[\s.]*$", re.I)
_SHORT_LINK = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:www\.)?(?P<host>pic\.twitter\.com|pic\.x\.com|t\.co)/(?P<code>[A-Za-z0-9]{4,32})",
    re.I,
)
_TAG = re.compile(r"<[^<>\n]{0,500}>")
_SPACES = re.compile(r"[ \t]{2,}")
_MAX_BLOCK_LINES = 25  # a paragraph longer than this is article text, not one tweet
_MAX_TEXT = 30_000  # long posts run to 25,000 characters; beyond that it is not a tweet


def extract_text(text: str) -> list[Embed]:
    """Every tweet embed that survives as text in ``text``, in document order."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str) or "@" not in text:
        return []
    raw_lines = text.splitlines()
    lines = [_clean(line) for line in raw_lines]
    block_mode = _uses_blank_lines(lines)
    consumed: set[int] = set()  # lines already part of an embed (a tweet's text, signature or date)
    embeds: list[Embed] = []

    for index, line in enumerate(lines):
        if index in consumed or "@" not in line:
            continue
        start = 0
        for match in _SIGNATURE.finditer(line):
            before = line[start:match.start()].strip()
            own_line = not line[:match.start()].strip()
            if not own_line and not match.group("date"):
                continue  # an attribution inside prose, not a widget signature
            date = match.group("date")
            snippet_lines = [index]
            if own_line and not date and index + 1 < len(lines):
                next_date = _DATE_LINE.match(lines[index + 1])
                if next_date:
                    date = next_date.group("date")
                    snippet_lines.append(index + 1)
                    consumed.add(index + 1)
            if before or start:  # the signature shares its line with the tweet text
                body, body_lines = before or None, []
                snippet = line[start:match.end()].strip()
            else:
                body_lines = _paragraph_above(lines, index, block_mode, consumed)
                body = "\n".join(lines[i].strip() for i in body_lines) or None
                snippet = "\n".join(raw_lines[i] for i in sorted(set(body_lines + snippet_lines)))
            consumed.update(body_lines)
            consumed.add(index)
            body = body[-_MAX_TEXT:] if body else None
            embeds.append(
                Embed(
                    platform="twitter",
                    post=None,
                    kind="text",
                    position=len(embeds),
                    author_handle=match.group("handle"),
                    author_name=match.group("name").strip() or None,
                    fallback_text=body,
                    shown_date=_squash(date) if date else None,
                    snippet=snippet,
                    short_links=_short_links(body or ""),
                )
            )
            start = match.end()
    return embeds


def _clean(line: str) -> str:
    """A line as matching sees it: tags dropped, entities decoded, spaces kept."""
    if "<" in line:
        line = _SPACES.sub(" ", _TAG.sub(" ", line))
    if "&" in line:
        line = html.unescape(line)
    return line


def _uses_blank_lines(lines: list[str]) -> bool:
    """Whether paragraphs are separated by blank lines (rather than one per line)."""
    filled = sum(1 for line in lines if line.strip())
    blank_after_text = sum(
        1 for a, b in zip(lines, lines[1:]) if a.strip() and not b.strip()
    )
    return filled > 0 and blank_after_text * 3 >= filled


def _paragraph_above(lines: list[str], index: int, block_mode: bool, consumed: set[int]) -> list[int]:
    """Indices of the lines of the paragraph just above line ``index`` (maybe none)."""
    above = index - 1
    while above >= 0 and not lines[above].strip() and index - above <= 3:
        above -= 1
    if above < 0 or above in consumed or not lines[above].strip() or _SIGNATURE.match(lines[above].strip()):
        return []
    if not block_mode:
        return [above]
    first = above
    while (
        first - 1 >= 0
        and lines[first - 1].strip()
        and first - 1 not in consumed
        and above - first + 1 < _MAX_BLOCK_LINES
    ):
        first -= 1
    if above - first + 1 >= _MAX_BLOCK_LINES:
        return [above]  # a run this long is the article's prose; the last line is the best guess
    return list(range(first, above + 1))


def _short_links(body: str) -> tuple[str, ...]:
    links = (f"https://t.co/{m.group('code')}" for m in _SHORT_LINK.finditer(body))
    return tuple(dict.fromkeys(links))


def _squash(value: str) -> str:
    return " ".join(value.split())
