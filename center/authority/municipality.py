"""地方公共団体コード: the six-digit code the authority maps each certificate serial to.

Five digits (two for the prefecture, three for the municipality) and a check digit: weights
6, 5, 4, 3, 2, sum modulo 11, the last digit of 11 minus the remainder (131016 千代田区,
131041 新宿区, 131130 渋谷区, 011002 札幌市). This module knows codes, not names: the authority's
database holds nothing about a resident but the code of the municipality that issued the card.
"""

from __future__ import annotations

from center.authority.errors import InvalidMunicipalityError

CHIYODA = "131016"  # 東京都千代田区, the default of test cards (their holder lives in 霞が関)

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> str:
    """The check digit (検査数字) of the first five digits of a municipality code."""
    total = sum(int(digit) * weight for digit, weight in zip(first_five, _WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def municipality_code(text: str) -> str:
    """``text`` if it is a valid 地方公共団体コード, else :class:`InvalidMunicipalityError`."""
    if len(text) != 6 or not text.isascii() or not text.isdigit():
        raise InvalidMunicipalityError(f"municipality code must be 6 digits, got {text!r}")
    if check_digit(text[:5]) != text[5]:
        raise InvalidMunicipalityError(f"municipality code {text} has a wrong check digit")
    if text[:2] == "00" or int(text[:2]) > 47:
        raise InvalidMunicipalityError(f"municipality code {text} names no prefecture")
    return text
