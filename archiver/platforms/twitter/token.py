"""The token the syndication endpoint wants beside a tweet id.

Public clients (vercel/react-tweet ``packages/react-tweet/src/api/fetch-tweet.ts``)
compute it in JavaScript as::

    ((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, '')

Without the right token the endpoint answers ``{}``, which looks like "no such
tweet"; so the token has to match JavaScript digit for digit. The arithmetic is
plain IEEE double arithmetic, which Python's ``float`` shares. The hard part is
``Number.prototype.toString(36)``: JavaScript prints the fraction of a double in
base 36 up to the shortest digit string that still identifies the double, and
Python has nothing like it. ``to_radix_string`` re-implements the algorithm V8
uses for it (``DoubleToRadixCString`` in ``src/numbers/conversions.cc``):

- the fraction is multiplied out one base-36 digit at a time, while ``delta``,
  half the distance to the next double (never less than the smallest subnormal),
  is scaled alongside it: digits stop once the remaining fraction is smaller than
  the precision the double actually holds;
- when the remainder after a digit is more than one half (or exactly one half
  after an odd digit) and rounding up would still stay within ``delta``, the last
  digit is rounded up, carrying into earlier digits and, past the point, into the
  integer part; generation then stops;
- the integer part is printed by repeated division, with ``0`` standing in for
  digits below the double's precision when the integer is 2**53 or more.

``tests/test_twitter_token.py`` checks all 2,004 ids of
``shared/reference/token-vectors.tsv`` (computed by Node.js).
"""

from __future__ import annotations

import math

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_SMALLEST_SUBNORMAL = math.ulp(0.0)  # 5e-324, V8's Double(0.0).NextDouble()


def to_radix_string(value: float, radix: int = 36) -> str:
    """``value.toString(radix)`` as V8 prints it, for a finite double and radix 2..36.

    Radix 10 is accepted but printed the same way; JavaScript itself uses a
    different (shortest decimal) algorithm there, so callers should not rely on it.
    """
    if not 2 <= radix <= 36:
        raise ValueError(f"radix must be between 2 and 36, not {radix}")
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"  # JavaScript prints -0 as "0" too

    negative = value < 0
    value = -value if negative else value
    integer = math.floor(value)
    fraction = value - integer
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), _SMALLEST_SUBNORMAL)

    fraction_digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            fraction_digits.append(digit)
            fraction -= digit
            if fraction > 0.5 or (fraction == 0.5 and digit & 1):
                if fraction + delta > 1:
                    integer = _round_up(fraction_digits, integer, radix)
                    break
            if fraction < delta:
                break

    return ("-" if negative else "") + _integer_digits(integer, radix) + (
        "." + "".join(_DIGITS[d] for d in fraction_digits) if fraction_digits else ""
    )


def _round_up(digits: list[int], integer: float, radix: int) -> float:
    """Add one to the last fraction digit, carrying leftwards; returns the integer part.

    A digit that would overflow is dropped (it would print as a trailing zero, which
    the shortest form leaves out); a carry out of the first digit bumps the integer.
    """
    while digits:
        last = digits.pop()
        if last + 1 < radix:
            digits.append(last + 1)
            return integer
    return integer + 1


def _integer_digits(integer: float, radix: int) -> str:
    """The digits of a non-negative integral double, most significant first."""
    out: list[str] = []
    # Above 2**53 the low digits carry no information: print them as zeros, as V8 does.
    while _exponent(integer / radix) > 0:
        integer /= radix
        out.append("0")
    while True:
        remainder = math.fmod(integer, radix)
        out.append(_DIGITS[int(remainder)])
        integer = (integer - remainder) / radix
        if integer <= 0:
            break
    return "".join(reversed(out))


def _exponent(value: float) -> int:
    """The binary exponent e with value = significand * 2**e, significand a 53-bit integer.

    Positive exactly when value >= 2**53, which is all ``_integer_digits`` asks.
    """
    if value == 0:
        return -1074
    mantissa, exp = math.frexp(value)  # value = mantissa * 2**exp, 0.5 <= mantissa < 1
    return max(exp - 53, -1074)


def syndication_token(tweet_id: str) -> str:
    """The ``token=`` parameter for ``tweet-result?id=tweet_id``.

    ``Number(id)`` rounds ids above 2**53 to the nearest double, as ``float(int)``
    does; the id must be decimal digits (a ValueError says otherwise).
    """
    text = str(tweet_id).strip()
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"a tweet id is decimal digits, not {tweet_id!r}")
    value = (float(int(text)) / 1e15) * math.pi
    return to_radix_string(value, 36).replace("0", "").replace(".", "")
