"""The verification code (検証コード) printed on every page, for the public verification endpoint.

It is derived from the municipality's signature: the first 60 bits of
``SHA-256(b"koufu-verify/1" + signature)``, as 12 symbols of Crockford's base32
(``0123456789ABCDEFGHJKMNPQRSTVWXYZ``, most significant first), shown in three groups of four:
``7K3M-Q0ZD-X4AT``. Reading one back (:func:`parse_verification_code`) follows Crockford: case does
not matter, hyphens are ignored, ``I`` and ``L`` read as ``1``, ``O`` as ``0``; ``U`` is no symbol.
"""

from __future__ import annotations

import hashlib

from documents.errors import BadVerificationCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONTEXT = b"koufu-verify/1"
_SYMBOLS = 12
_READ = {**{c: c for c in ALPHABET}, "I": "1", "L": "1", "O": "0"}


def verification_code(signature: bytes) -> str:
    """The printed code of a signed document, ``XXXX-XXXX-XXXX``."""
    digest = hashlib.sha256(_CONTEXT + bytes(signature)).digest()
    bits = int.from_bytes(digest[:8], "big") >> 4  # the first 60 bits
    symbols = "".join(ALPHABET[(bits >> (5 * (_SYMBOLS - 1 - i))) & 0x1F] for i in range(_SYMBOLS))
    return _grouped(symbols)


def parse_verification_code(text: str) -> str:
    """A code as a person typed it, in its printed form; :class:`BadVerificationCode` if it is not one."""
    if not isinstance(text, str) or len(text) > 64 or not text.isascii():
        raise BadVerificationCode("a verification code is 12 symbols")
    symbols = [_READ.get(c) for c in text.replace("-", "").upper()]
    if len(symbols) != _SYMBOLS or None in symbols:
        raise BadVerificationCode("a verification code is 12 symbols of 0-9 and A-Z without U")
    return _grouped("".join(s for s in symbols if s is not None))


def code_digest(code: str) -> str:
    """What a certificate store keeps of a code (never the code itself): hex SHA-256 of its
    printed form; :class:`BadVerificationCode` if ``code`` is not one."""
    return hashlib.sha256(b"koufu-verify-code/1\n" + parse_verification_code(code).encode()).hexdigest()


def _grouped(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, _SYMBOLS, 4))
