"""The syndication token must match JavaScript's digit for digit, or the endpoint answers {}."""

from __future__ import annotations

import math

import pytest

from corpus import shared_path

from archiver.platforms.twitter.token import syndication_token, to_radix_string



def test_every_reference_vector_matches_node() -> None:
    rows = [
        line.split("\t")
        for line in shared_path("reference", "token-vectors.tsv").read_text(encoding="utf-8").splitlines()[1:]
        if line.strip()
    ]
    assert len(rows) == 2004
    mismatches = [(tweet_id, want, syndication_token(tweet_id)) for tweet_id, want in rows
                  if syndication_token(tweet_id) != want]
    assert not mismatches, (
        f"{len(mismatches)}/{len(rows)} tokens differ from Node.js; first ones "
        "(id, expected, got): " + "; ".join(map(str, mismatches[:5]))
    )


@pytest.mark.parametrize(
    ("value", "radix", "expected"),
    [
        # Values printed by Node.js (v8) for Number.prototype.toString(radix).
        (0.5, 36, "0.i"),
        (255.5, 16, "ff.8"),
        (-0.1, 2, "-0.0001100110011001100110011001100110011001100110011001101"),
        (1e21, 36, "5v1j4f4ds7c000"),
        ((861627479294746624 / 1e15) * math.pi, 36, "236.vrsocvda"),
        (0.0, 36, "0"),
        (35.0, 36, "z"),
    ],
)
def test_radix_printing_matches_javascript(value: float, radix: int, expected: str) -> None:
    assert to_radix_string(value, radix) == expected


def test_token_of_a_known_id() -> None:
    # First row of the vectors; kept here so the rule is visible without the file.
    assert syndication_token("20") == "6dq1a2xwd93"


@pytest.mark.parametrize("bad", ["", "12a", "-5", "1.5", "١٢٣"])
def test_non_numeric_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        syndication_token(bad)
