"""My Numbers (個人番号): twelve digits, the last a check digit (検査用数字) of the other eleven."""

from __future__ import annotations

_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # Qn, from the left


def my_number_check_digit(base: str) -> int:
    """The check digit (検査用数字) of a My Number's first 11 digits, by the formula of 総務省令第八十五号
    第五条: with Pn the n-th digit counted from the right and Qn = n + 1 (n ≤ 6) or n − 5 (n ≥ 7),
    11 − (Σ Pn × Qn mod 11), or 0 when the remainder is 0 or 1."""
    if len(base) != 11 or not base.isascii() or not base.isdigit():
        raise ValueError(f"a My Number's base is 11 digits, got {base!r}")
    remainder = sum(int(digit) * weight for digit, weight in zip(base, _MY_NUMBER_WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(number: str) -> bool:
    """Twelve ASCII digits whose last is the check digit of the others."""
    return (
        len(number) == 12
        and number.isascii()
        and number.isdigit()
        and my_number_check_digit(number[:11]) == int(number[11])
    )
