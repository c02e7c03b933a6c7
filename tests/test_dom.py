"""The parsed tree's helpers (archiver.dom) and the guard against pathologically deep markup."""

from __future__ import annotations

from archiver import dom
from archiver.extract import extract_document
from archiver.extract.embeds import OrderKeys

TWEET = ('<blockquote class="twitter-tweet"><p>Deep</p>&mdash; Ann (@ann) '
         '<a href="https://twitter.com/ann/status/42">May 1, 2020</a></blockquote>')


def test_same_tells_nodes_apart_where_equality_compares_markup() -> None:
    root = dom.parse(b"<p><a href='/x'>x</a><a href='/x'>x</a></p>")
    first, second = dom.descendants(root, "a")
    assert first == second  # selectolax compares the serialised HTML: the trap dom.same avoids
    assert not dom.same(first, second)
    assert dom.same(first, next(dom.descendants(root, "a")))


def test_walks_and_text() -> None:
    root = dom.parse(b"<div id=d>one <b>two</b> three<!-- no --><i>four</i></div>")
    div = next(dom.descendants(root, "div"))
    assert [el.tag for el in dom.descendants(div)] == ["div", "b", "i"]
    assert [el.tag for el in dom.children(div)] == ["b", "i"]
    outer = dom.parse(b"<div><div><a href=x>a</a></div></div>")
    first = next(dom.descendants(outer, "div"))
    assert [el.tag for el in dom.below(first, "div", "a")] == ["div", "a"]  # the element itself is not below it
    assert [el.tag for el in dom.below(first)] == ["div", "a"]
    assert dom.text_content(div) == "one two threefour"
    assert [el.tag for el in dom.ancestors(div)] == ["body", "html"]
    assert dom.parent(root) is None
    assert dom.outer_html(next(dom.descendants(div, "b"))) == "<b>two</b>"


def test_flatten_leaves_ordinary_pages_alone() -> None:
    ordinary = b"<html><body>" + b"<p><a href='/a'>a</a></p>" * 20_000 + b"</body></html>"
    assert dom.flatten(ordinary) is ordinary  # scanned (more than 10,000 "<"), nothing cut: not copied
    unclosed_links = b"<html><body>" + b"<a href='/a'>a" * 20_000  # each <a> closes the one before
    assert dom.flatten(unclosed_links) is unclosed_links
    small = b"<div>" * 3_000 + b"</div>" * 3_000
    assert dom.flatten(small) is small  # too few tags to be that deep: not even scanned


def _depth(root: object) -> int:
    return max(sum(1 for _ in dom.ancestors(el)) for el in dom.descendants(root))


def test_deep_nesting_is_capped_and_the_embed_at_the_bottom_still_found() -> None:
    for pile in (b"<div>" * 50_000, b"<blockquote>x" * 50_000, b"<b>" * 50_000):
        data = b"<html><body>" + pile + TWEET.encode()
        flat = dom.flatten(data)
        assert len(flat) < len(data)
        assert _depth(dom.parse(data)) <= dom.MAX_DEPTH
        [embed] = extract_document(data).embeds
        assert (embed.platform, embed.post.post_id, embed.author_handle) == ("twitter", "42", "ann")


def test_flatten_skips_comments_and_raw_text() -> None:
    """Tags inside comments, scripts and textareas are text: they neither open nor close anything."""
    hidden = b"<!--" + b"<div>" * 20_000 + b"--><script>" + b"<div>" * 20_000 + b"</script>"
    data = b"<html><body>" + hidden + b"<p>x</p>" * 10 + b"</body></html>"
    assert dom.flatten(data) is data


def test_order_keys_follow_document_order_in_a_wide_list() -> None:
    root = dom.parse(b"<ul>" + b"<li><a href='#'>x</a></li>" * 5_000 + b"</ul>")
    anchors = list(dom.descendants(root, "a"))
    keys = OrderKeys()
    forward = [keys(a) for a in anchors]
    assert forward == sorted(forward) and len(set(forward)) == len(anchors)
    fresh = OrderKeys()  # asked in reverse, each sibling position counted from scratch: the same keys
    assert [fresh(a) for a in reversed(anchors)] == forward[::-1]


def test_first_value_reads_a_bare_attribute_as_empty() -> None:
    root = dom.parse(b"<div><p>x</p><p lang>y</p><p lang=en>z</p></div>")
    assert dom.first_value(root, "p", "lang") == ""  # present without a value, as lxml read it
    assert dom.first_value(root, "time", "datetime") is None
