"""The My Number Card's applications, files and PIN rules (マイナンバーカードのAPとEF).

Facts from ``reference/jpki-card.md`` §2–§7, shared by the kiosk's card client and the emulator.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AID(bytes, enum.Enum):
    """Application identifiers selected by DF name."""

    JPKI = bytes.fromhex("D392F000260100000001")  # 公的個人認証AP
    INPUT_SUPPORT = bytes.fromhex("D3921000310001010408")  # 券面事項入力補助AP
    CARD_FACE_CHECK = bytes.fromhex("D3921000310001010402")  # 券面事項確認AP
    RESIDENT_REGISTRY = bytes.fromhex("D3921000310001010401")  # 住基AP
    COMMON = bytes.fromhex("D3921000310001010100")  # common card AP (name uncertain)


class JpkiFile(enum.IntEnum):
    """Elementary files of the JPKI application."""

    SIGN_CERT = 0x0001  # 署名用電子証明書 (needs the signing password)
    SIGN_CA_CERT = 0x0002
    TOKEN_INFO = 0x0006  # 32-byte ASCII label
    CERT_PRESENCE = 0x0008
    AUTH_CERT = 0x000A  # 利用者証明用電子証明書
    AUTH_CA_CERT = 0x000B
    AUTH_KEY = 0x0017
    AUTH_PIN = 0x0018
    SIGN_KEY = 0x001A
    SIGN_PIN = 0x001B


class InputSupportFile(enum.IntEnum):
    """Elementary files of the card-info input-support application (券面事項入力補助AP)."""

    MY_NUMBER = 0x0001  # 個人番号
    BASIC_FOUR = 0x0002  # 基本4情報
    PIN = 0x0011
    CHECK_NUMBER_A = 0x0014  # 照合番号A: the 12-digit My Number
    CHECK_NUMBER_B = 0x0015  # 照合番号B: birth YYMMDD + expiry year YYYY + security code


class TokenLabel(enum.StrEnum):
    """Labels found in EF ``0006`` of the JPKI application."""

    MY_NUMBER_CARD = "JPKIAPICCTOKEN2"
    RESIDENT_REGISTRY_CARD = "JPKIAPICCTOKEN"
    ANDROID = "JPKIAPGPSETOKEN"
    IPHONE = "JPKIAPIOSTOKEN"


@dataclass(frozen=True)
class PinPolicy:
    """Form and try limit of one piece of reference data."""

    name: str
    min_length: int
    max_length: int
    alphabet: str
    max_tries: int

    @property
    def alphabet_description(self) -> str:
        return "digits" if self.alphabet == DIGITS else "digits and capital letters A-Z"

    def check(self, value: bytes | bytearray) -> str | None:
        """``None`` when ``value`` has the required form, else a reason (never containing the value).

        Works on the buffer in place: no immutable copy of a PIN is made.
        """
        if not self.min_length <= len(value) <= self.max_length:
            if self.min_length == self.max_length:
                return f"{self.name} must be {self.min_length} characters"
            return f"{self.name} must be {self.min_length} to {self.max_length} characters"
        allowed = self.alphabet.encode("ascii")
        if any(byte not in allowed for byte in value):
            return f"{self.name} may contain only {self.alphabet_description}"
        return None


DIGITS = "0123456789"
UPPER_ALNUM = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

USER_AUTH_PIN = PinPolicy("user-authentication PIN", 4, 4, DIGITS, 3)  # 利用者証明用暗証番号
SIGNING_PASSWORD = PinPolicy("signing password", 6, 16, UPPER_ALNUM, 5)  # 署名用パスワード
INPUT_SUPPORT_PIN = PinPolicy("input-support PIN", 4, 4, DIGITS, 3)  # 券面事項入力補助用暗証番号
CHECK_NUMBER_A = PinPolicy("check number A", 12, 12, DIGITS, 3)  # 照合番号A
CHECK_NUMBER_B = PinPolicy("check number B", 14, 14, DIGITS, 3)  # 照合番号B

# SHA-256 DigestInfo prefix (PKCS#1 v1.5): the kiosk sends this followed by the 32-byte hash.
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
MAX_SIGN_INPUT = 245  # 256-byte modulus − 11 bytes of PKCS#1 v1.5 padding
