"""The store staff's code for the kiosk's maintenance mode (係員暗証番号).

The kiosk's settings hold only a salted PBKDF2-SHA256 hash of the code::

    staff_code = "pbkdf2_sha256$200000$<salt, hex>$<hash, hex>"

made with ``koufu staff-code`` (it asks for the code and prints the line). The code is 6 to 12
digits; the digits typed travel as small ints, are compared in constant time and dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

SCHEME = "pbkdf2_sha256"
ITERATIONS = 200_000
MIN_DIGITS = 6
MAX_DIGITS = 12


class StaffCodeError(ValueError):
    """A staff code setting or a new code that is not acceptable."""


@dataclass(frozen=True)
class StaffCode:
    iterations: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, text: str) -> StaffCode:
        try:
            scheme, iterations, salt, digest = text.split("$")
            code = cls(int(iterations), bytes.fromhex(salt), bytes.fromhex(digest))
        except ValueError:
            raise StaffCodeError("staff_code is pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>") from None
        if scheme != SCHEME or code.iterations < 10_000 or len(code.salt) < 16 or len(code.digest) != 32:
            raise StaffCodeError("staff_code is not a pbkdf2_sha256 hash made by koufu staff-code")
        return code

    @classmethod
    def make(cls, digits: str, *, iterations: int = ITERATIONS) -> StaffCode:
        if not (digits.isascii() and digits.isdigit() and MIN_DIGITS <= len(digits) <= MAX_DIGITS):
            raise StaffCodeError(f"a staff code is {MIN_DIGITS} to {MAX_DIGITS} digits")
        salt = secrets.token_bytes(16)
        return cls(iterations, salt, _derive(digits.encode(), salt, iterations))

    def text(self) -> str:
        return f"{SCHEME}${self.iterations}${self.salt.hex()}${self.digest.hex()}"

    def matches(self, digits: Sequence[int]) -> bool:
        """Whether the typed ``digits`` (ints 0-9) are the code."""
        if not MIN_DIGITS <= len(digits) <= MAX_DIGITS or any(not 0 <= d <= 9 for d in digits):
            return False
        typed = bytearray(48 + d for d in digits)
        try:
            return hmac.compare_digest(_derive(bytes(typed), self.salt, self.iterations), self.digest)
        finally:
            typed[:] = bytes(len(typed))


def _derive(code: bytes, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", code, salt, iterations)
