"""Which character set an article's bytes are in, and where that choice came from.

Mis-decoded pages turn fallback text into mojibake, and mojibake is evidence
lost, so the choice is recorded with its source (``Extraction.charset`` and
``charset_source``) for a later reader to second-guess.

Order (after the HTML standard's "determining the character encoding", with the
transport layer first as the brief for this module asks):

1. ``header``: the ``charset`` parameter of the HTTP Content-Type;
2. ``bom``: a byte-order mark;
3. ``meta``: ``<meta charset>`` / ``http-equiv`` (or an XML declaration) near
   the top, found by beautifulsoup4's ``EncodingDetector``;
4. ``detected``: the bytes are valid UTF-8 (checked first: strict UTF-8
   decoding is fast and almost never wrong), else what charset-normalizer
   guesses (through ``EncodingDetector``, as ``UnicodeDammit`` would);
5. ``fallback``: bs4's last resort (windows-1252) decodes, or nothing does
   and the text is UTF-8 with replacement characters.

Each candidate must decode the whole body strictly; a header or meta tag that
lies is skipped rather than trusted. Labels are read the way browsers read them
(WHATWG): ``iso-8859-1``/``ascii`` mean windows-1252, and a UTF-16 label in a
document that is not UTF-16 means UTF-8.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from bs4.dammit import EncodingDetector

_ASCII_PROBE = "<a href=\"x\">/</a>"
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
# WHATWG's encoding labels that Python names differently or decodes more strictly.
_WHATWG = {
    "iso-8859-1": "windows-1252",
    "iso8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "l1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "cp819": "windows-1252",
    "iso-8859-9": "windows-1254",
    "tis-620": "windows-874",
    "x-sjis": "shift_jis",
    "x-user-defined": "windows-1252",
}


@dataclass(frozen=True)
class Decoded:
    """The text of a body, the charset it was decoded with and where that came from."""

    text: str
    charset: str
    source: str  # header, bom, meta, detected, fallback
    data: bytes  # the body without its byte-order mark

    @property
    def utf8(self) -> bytes:
        """The body as UTF-8 (what the parser is fed): its own bytes when it was UTF-8 already."""
        return self.data if self.charset == "utf-8" else self.text.encode("utf-8", "replace")


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value."""
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return match.group(1).strip().lower() if match else None


def normalize(label: str | None, *, from_document: bool = False) -> str | None:
    """A Python codec name for a charset label, or None when Python has no such codec."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _WHATWG.get(label, label)
    if from_document and label.startswith(("utf-16", "utf-32", "utf16", "utf32")):
        return "utf-8"  # a UTF-16 document cannot declare itself in ASCII bytes
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an article body, recording which rule chose the charset."""
    detector = EncodingDetector(body, is_html=True)
    data = detector.markup  # the body without a byte-order mark
    candidates = [
        (normalize(header_charset(content_type)), "header"),
        (normalize(detector.sniffed_encoding), "bom"),
        (normalize(EncodingDetector.find_declared_encoding(data, is_html=True), from_document=True), "meta"),
        ("utf-8", "detected"),
    ]
    tried: set[str] = set()
    for charset, source in candidates:
        if charset is None or charset in tried:
            continue
        tried.add(charset)
        text = _strict(data, charset)
        if text is not None:
            return Decoded(text=text, charset=charset, source=source, data=data)
    # charset-normalizer's guess (through bs4), then bs4's last resorts, each decoded strictly.
    guesser = EncodingDetector(data, is_html=True, exclude_encodings=sorted(tried))
    for label in guesser.encodings:
        charset = normalize(label)
        if charset is None or charset in tried or not _ascii_compatible(charset):
            continue  # an EBCDIC or UTF-16 guess for bytes that parsed as HTML is noise
        tried.add(charset)
        text = _strict(data, charset)
        if text is not None:
            source = "detected" if label == guesser.chardet_encoding else "fallback"
            return Decoded(text=text, charset=charset, source=source, data=data)
    return Decoded(text=data.decode("utf-8", "replace"), charset="utf-8", source="fallback", data=data)


def _ascii_compatible(charset: str) -> bool:
    try:
        return _ASCII_PROBE.encode(charset) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def _strict(data: bytes, charset: str) -> str | None:
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return None
