"""The domain's basics, defined once for every side: Japan Standard Time, the certificate types a
kiosk issues, unpadded URL-safe base64 (the text form of binary values in documents and on the
wire), and what words for residents may be (the center bounds the words people write for a kiosk's
screen; a kiosk shows only such words). Imports nothing of the project.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import unicodedata
from enum import StrEnum

#: Japan Standard Time (日本標準時): Asia/Tokyo has had no daylight saving since 1951, so a fixed
#: offset is exact and needs no time-zone database.
JST = dt.timezone(dt.timedelta(hours=9), "JST")

_B64URL = re.compile(r"[A-Za-z0-9_-]*")

#: Words for residents that people write for a kiosk's screen (an issuance stop's reason, a
#: maintenance window's or a municipal stop's words): at most this many characters in each
#: language, what a kiosk's screen shows in a few lines.
RESIDENT_WORDS_MAX = 160
# Unicode categories that are not plain text on one line: control, format (bidirectional
# overrides among them), surrogate, private use, unassigned, line and paragraph separators
_NOT_PLAIN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_MARKUP = frozenset("<>")  # what would make a tag of the words in a page that forgot to escape


class CertificateType(StrEnum):
    """The certificates a kiosk can issue (証明書の種類)."""

    RESIDENT_RECORD = "resident_record"  # 住民票の写し
    RESIDENT_RECORD_ENTRIES = "resident_record_entries"  # 住民票記載事項証明書
    SEAL_REGISTRATION = "seal_registration"  # 印鑑登録証明書
    TAX = "tax"  # 各種税証明書
    FAMILY_REGISTER = "family_register"  # 戸籍証明書
    FAMILY_REGISTER_ATTACHMENT = "family_register_attachment"  # 戸籍の附票の写し


def plain_line(text: str) -> bool:
    """Whether ``text`` is one line of plain text: no control or format character, no line or
    paragraph separator, nothing private or unassigned, no ``<`` or ``>`` (markup). Its length
    is the caller's to bound."""
    return not any(unicodedata.category(char) in _NOT_PLAIN or char in _MARKUP for char in text)


def b64url_encode(data: bytes) -> str:
    """Unpadded URL-safe base64."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url_encode`: no padding, no other characters, no stray bits
    (``ValueError`` otherwise), so every byte string has one text form."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded URL-safe base64")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not unpadded URL-safe base64") from None
    if b64url_encode(data) != text:
        raise ValueError("not the canonical base64 of its bytes")
    return data
