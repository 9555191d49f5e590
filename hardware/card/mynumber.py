"""My Number (個人番号): 11 digits and a check digit (行政手続番号法施行令 第8条)."""

from __future__ import annotations

import secrets


def check_digit(first_eleven: str) -> int:
    """The 12th digit: weights 2..7 then 2..6 from the right, mod 11."""
    if len(first_eleven) != 11 or not first_eleven.isdigit():
        raise ValueError("need exactly 11 digits")
    total = 0
    for n, digit in enumerate(reversed(first_eleven), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid(number: str) -> bool:
    return len(number) == 12 and number.isdigit() and check_digit(number[:11]) == int(number[11])


def random_my_number() -> str:
    """A well-formed, random number for test cards (not drawn from any real register)."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(11))
    return body + str(check_digit(body))
