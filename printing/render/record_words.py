"""The words of the printed issuance record (交付履歴), in Japanese and English.

The certificate types are named as the kiosk's screens name them (``certificate.<type>`` in
``kiosk/messages``; a test holds the two alike): the resident reads on paper what they chose on
screen. A type not listed here is printed as its code.
"""

from __future__ import annotations

import datetime as dt

LANGUAGES = ("ja", "en")

#: 証明書の種類: (Japanese, English)
CERTIFICATE_TYPES: dict[str, tuple[str, str]] = {
    "resident_record": ("住民票の写し", "Certificate of residence"),
    "resident_record_entries": ("住民票記載事項証明書", "Certificate of resident record entries"),
    "seal_registration": ("印鑑登録証明書", "Seal registration certificate"),
    "tax": ("税証明書", "Tax certificate"),
    "family_register": ("戸籍証明書", "Family register certificate"),
    "family_register_attachment": ("戸籍の附票の写し", "Family register attachment (addresses)"),
}

#: the page's own words: (Japanese, English)
WORDS: dict[str, tuple[str, str]] = {
    "title": ("交付履歴", "Issuance record"),
    "not_certificate": ("この用紙は証明書ではありません", "This is not a certificate"),
    "explanation": (
        "あなたのマイナンバーカードで交付された証明書の記録を、ご本人の確認のために印刷したものです。",
        "It lists the certificates issued with your My Number Card, printed for you to check them.",
    ),
    "period": ("対象期間", "Period"),
    "printed": ("印刷日時", "Printed"),
    "when": ("交付日時", "Date and time (JST)"),
    "store": ("店舗", "Store"),
    "type": ("証明書", "Certificate"),
    "copies": ("通数", "Copies"),
    "numbers": ("交付番号", "Issue numbers"),
    "voided": ("［廃棄］", "[voided]"),
    "continued": ("（続き）", " (continued)"),
    "none": ("この期間の交付はありません。", "No certificates were issued in this period."),
    "nothing": (
        "この期間に、あなたのカードで交付された証明書はありません。",
        "No certificates were issued with your card in this period.",
    ),
    "unavailable": (
        "次の市区町村の記録は取得できませんでした：",
        "The record of these municipalities could not be obtained: ",
    ),
    "legend": (
        "［廃棄］：交付の後に無効とされた写し（最後まで印刷されなかったものなど）です。",
        "[voided]: a copy made invalid after its issue (for example, one not printed whole).",
    ),
    "end": ("以上", "End of the record"),
}


def word(key: str, language: str) -> str:
    """The page's word ``key`` in ``language`` (``ja`` or ``en``)."""
    return WORDS[key][LANGUAGES.index(language)]


def certificate_type(kind: str, language: str) -> str:
    """The certificate type ``kind`` in words of ``language``; the code itself if unknown."""
    names = CERTIFICATE_TYPES.get(kind)
    return names[LANGUAGES.index(language)] if names else kind


def day(value: dt.date, language: str) -> str:
    """``2026年11月24日`` or ``2026-11-24`` (the Western calendar: a record, not a certificate)."""
    if language == "ja":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def period(since: dt.date, until: dt.date, language: str) -> str:
    joiner = "～" if language == "ja" else " to "
    return f"{day(since, language)}{joiner}{day(until, language)}"


def moment(value: dt.datetime, language: str) -> str:
    """A moment already in JST: its day and ``14:05`` (``(JST)`` added in English)."""
    clock = f"{value.hour:02d}:{value.minute:02d}"
    return f"{day(value.date(), language)} {clock}" + ("" if language == "ja" else " (JST)")
