"""Local HTML and text files, and directories of them, as inputs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archiver.errors import InputError
from archiver.sources.base import ArticleInput, BadInput
from archiver.sources.files import read_file, read_files

CANONICAL = b"""<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<meta property="og:url" content="https://news.example/og-variant">
<link rel="canonical" href="https://news.example/2024/05/story">
<title>Story</title>
</head><body><p>Text</p></body></html>
"""
OG_ONLY = b"""<html><head><meta property="og:url" content="https://news.example/og-only"></head><body></body></html>"""
RELATIVE = b"""<html><head><base href="https://news.example/section/">
<link rel="canonical" href="story-2"></head><body></body></html>"""
NO_URL = b"""<html><head><link rel="canonical" href="/relative/without/base"><title>x</title></head></html>"""


def test_html_file_takes_its_canonical_url(tmp_path: Path):
    path = tmp_path / "story.html"
    path.write_bytes(CANONICAL)
    article = read_file(path)
    assert isinstance(article, ArticleInput)
    assert article.url == "https://news.example/2024/05/story"
    assert article.source == f"file {path}"
    doc = article.document
    assert doc is not None
    assert (doc.body, doc.media, doc.origin, doc.content_type) == (CANONICAL, "html", "file", None)
    assert dict(doc.provenance) == {"path": str(path.resolve()), "sha256": hashlib.sha256(CANONICAL).hexdigest()}


@pytest.mark.parametrize(
    ("body", "url"),
    [
        (OG_ONLY, "https://news.example/og-only"),
        (RELATIVE, "https://news.example/section/story-2"),
        (NO_URL, None),  # falls back to the file: URI
    ],
)
def test_declared_url_or_file_uri(tmp_path: Path, body: bytes, url: str | None):
    path = tmp_path / "page.htm"
    path.write_bytes(body)
    article = read_file(path)
    assert isinstance(article, ArticleInput)
    assert article.url == (url or path.resolve().as_uri())


def test_declared_url_is_read_in_the_page_s_own_charset(tmp_path: Path):
    """A Latin-1 page's canonical URL with a non-ASCII letter: decoded as extraction decodes the page."""
    body = ("<html><head><meta charset='iso-8859-1'>"
            "<link rel='canonical' href='https://news.example/caf\xe9'></head><body>x</body></html>").encode("latin-1")
    path = tmp_path / "latin1.html"
    path.write_bytes(body)
    article = read_file(path)
    assert isinstance(article, ArticleInput)
    assert article.url == "https://news.example/caf\xe9"  # read as UTF-8, it would end in U+FFFD


def test_text_file_and_sniffed_media(tmp_path: Path):
    text = tmp_path / "story.txt"
    text.write_text("Breaking: a text article. pic.twitter.com/abc https://t.co/xyz\n", encoding="utf-8")
    article = read_file(text)
    assert isinstance(article, ArticleInput)
    assert article.document is not None and article.document.media == "text"
    assert article.url == text.resolve().as_uri()
    no_suffix = tmp_path / "saved-page"
    no_suffix.write_bytes(CANONICAL)
    article = read_file(no_suffix)
    assert isinstance(article, ArticleInput) and article.document is not None
    assert article.document.media == "html"


def test_bad_files_are_bad_inputs(tmp_path: Path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    big = tmp_path / "big.html"
    big.write_bytes(b"<html>" + b"x" * 5000)
    assert read_file(empty) == BadInput(str(empty), "empty file")
    assert read_file(binary) == BadInput(str(binary), "not HTML or text (binary or another format); skipped")
    assert read_file(big, max_bytes=1000) == BadInput(str(big), "file larger than 1000 bytes; skipped")


def test_directory_is_walked_in_order(tmp_path: Path):
    root = tmp_path / "pages"
    (root / "b" / "deeper").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.html").write_bytes(CANONICAL)
    (root / "b" / "c.txt").write_text("plain text article\n")
    (root / "b" / "deeper" / "d.htm").write_bytes(OG_ONLY)
    (root / "b" / "index.php").write_bytes(NO_URL)  # saved by wget: no .html, but HTML inside
    (root / "b" / "empty.html").write_bytes(b"")
    (root / "style.css").write_text("body { color: red }")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    (root / ".hidden.html").write_bytes(CANONICAL)
    (root / ".git" / "x.html").write_bytes(CANONICAL)
    items = list(read_files(root))
    found = [(i.url, i.document.media) if isinstance(i, ArticleInput) else str(i) for i in items]
    assert found == [
        ("https://news.example/2024/05/story", "html"),
        ((root / "b" / "c.txt").resolve().as_uri(), "text"),
        f"{root / 'b' / 'empty.html'}: empty file",
        ((root / "b" / "index.php").resolve().as_uri(), "html"),
        ("https://news.example/og-only", "html"),  # a folder's files before its subfolders
    ]


def test_single_file_and_missing_path(tmp_path: Path):
    path = tmp_path / "one.html"
    path.write_bytes(CANONICAL)
    assert [a.url for a in read_files(path)] == ["https://news.example/2024/05/story"]
    with pytest.raises(InputError, match="no such file or directory"):
        read_files(tmp_path / "missing")
