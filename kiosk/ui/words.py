"""The words a screen shows for the workflow's codes: certificate names, refusals, why a session
ended. The words come from the catalogs (:mod:`kiosk.messages`), but for the center's own closures
(the service calendar's, an operator's stop of issuance), whose words the center sends: those are
shown when they are words a screen can show (:func:`center_words`). Nothing here is Kivy.

Which words, for a refusal's code (拒否の理由):

- the service calendar's closures (:data:`CALENDAR_CODES`: ``suspended``, ``year_end_closure``,
  ``maintenance``, ``municipality_stop``, ``outside_service_hours``, ``certificate_hours``): the
  center's words alone, ended with the language's full stop. They say the closure whole (the
  calendar's default words or an operator's, then the reopening when it is known: 「サービス提供
  時間外です（6:30〜23:00）。1月4日（土）6:30から利用できます」), so the catalog's sentence is
  not added to them; the catalog's words are shown only when the center sent none;
- ``issuance_stopped`` (交付停止): the catalog's sentence with the stop's reason (``{reason}``);
- another code the catalog knows: the catalog's words;
- a code it does not know: the center's words in this language, else the catalog's general words.

The center's words are taken in the screen's language, else in English (the center always sends
English; the precedent of ``issuance_stopped``). When the first of these is not words a screen can
show, the catalog's words are shown instead, never a cut sentence (a cut may lose the reopening):
words longer than :data:`SHOWN_WORDS_MAX` characters, or not one line of plain text (a control or
format character, a line break, ``<`` or ``>``: ``documents.basics.plain_line``). The center bounds
what people write to :data:`documents.basics.RESIDENT_WORDS_MAX` characters of such text; this is
the kiosk's own check of what arrives."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Any

from documents.basics import RESIDENT_WORDS_MAX, plain_line
from kiosk.messages import Catalog, placeholders

REASONS = {
    "timeout": "cancelled.timeout",
    "card_removed": "cancelled.card_removed",
    "locked": "pin.locked",
    "signing_locked": "signing.locked",
}
#: the service calendar's reason codes (docs/calendar.md): the center's words say these closures
CALENDAR_CODES = frozenset(
    {
        "suspended",
        "year_end_closure",
        "maintenance",
        "municipality_stop",
        "outside_service_hours",
        "certificate_hours",
    }
)
#: the most characters of the center's words a screen shows: an operator's words (at most
#: RESIDENT_WORDS_MAX) with the reopening the center adds (under 60 characters)
SHOWN_WORDS_MAX = RESIDENT_WORDS_MAX + 80
LINE_HEIGHT = 1.6  # ems: a line of text as the kiosk's screens lay it out
_FULL_STOPS = {"ja": "。"}  # any other language: "."
_SENTENCE_ENDS = tuple("。．.!?！？")


def certificate_name(catalog: Catalog, kind: str) -> str:
    return say(catalog, f"certificate.{kind}", fallback=kind)


def refusal_words(catalog: Catalog, refusal: Mapping[str, Any] | None) -> str:
    """A refusal in plain words (the module's rules): for the calendar's closures the center's
    words alone, else the catalog's; for ``issuance_stopped`` the catalog's with the center's
    reason; for a code the catalog knows its words; else the center's words in this language, else
    the catalog's general words (拒否の理由)."""
    if not refusal:
        return ""
    code = refusal.get("code")
    said = center_words(refusal, catalog.language)
    if code in CALENDAR_CODES and said is not None:
        return _sentence(*said)
    if code and f"refusal.{code}" in catalog.texts:
        return _code_words(catalog, code, None if said is None else said[0])
    own = center_words(refusal, catalog.language, other=False)
    return catalog.text("refusal.other") if own is None else own[0]


def center_words(refusal: Mapping[str, Any], language: str, *, other: bool = True) -> tuple[str, str] | None:
    """The words the center sent with ``refusal`` and their language: in ``language``, else (with
    ``other``) in English; ``None`` when there are none a screen can show (none sent, longer than
    :data:`SHOWN_WORDS_MAX`, or not one line of plain text)."""
    for asked in (language, "en") if other else (language,):
        words = refusal.get(asked)
        if isinstance(words, str) and words.strip():
            return (words.strip(), asked) if _showable(words.strip()) else None
    return None


def _showable(words: str) -> bool:
    return len(words) <= SHOWN_WORDS_MAX and plain_line(words)


def _sentence(words: str, language: str) -> str:
    """``words`` ended as a sentence of ``language`` (the center's end without a full stop)."""
    return words if words.endswith(_SENTENCE_ENDS) else words + _FULL_STOPS.get(language, ".")


def reason_words(catalog: Catalog, reason: str | None, refusal: Mapping[str, Any] | None) -> str:
    """Why a session was cancelled (取消の理由); nothing for a plain cancel."""
    if refusal:
        return refusal_words(catalog, refusal)
    if reason in REASONS:
        return catalog.text(REASONS[reason])
    if reason and f"refusal.{reason}" in catalog.texts:
        return _code_words(catalog, reason, None)
    return ""


def unavailable_words(catalog: Catalog, item: Mapping[str, Any]) -> str:
    """Why a certificate of the list cannot be chosen now: its refusal's words when the center
    sent one (``refusal``: the calendar's closure, an operator's stop; :func:`refusal_words`),
    else its reason code's."""
    refusal = item.get("refusal")
    if refusal:
        return refusal_words(catalog, refusal)
    reason = item.get("reason")
    return refusal_words(catalog, {"code": str(reason)}) if reason else ""


def _code_words(catalog: Catalog, code: str, reason: str | None) -> str:
    """The catalog's words for ``code``; with the center's ``reason`` where they take one."""
    key = f"refusal.{code}"
    if "reason" not in placeholders(catalog.texts[key]):
        return catalog.text(key)
    return catalog.text(key, reason=reason or "").strip()


def fitting_font_size(text: str, width: float, height: float, *, largest: int, smallest: int) -> int:
    """The largest font size, from ``largest`` down to ``smallest``, at which ``text`` wrapped at
    ``width`` pixels is reckoned to fit in ``height`` (a full-width character one em wide, any
    other 0.6 em, a line 1.6 em high as Kivy lays out IPAex Gothic; its lines as they are broken,
    each wrapped); ``smallest`` when none does. For the center's words beside a certificate, on a
    button of fixed size, where Kivy would leave out the lines that do not fit."""
    for size in range(largest, smallest - 1, -1):
        lines = sum(max(1, math.ceil(_ems(line) * size / width)) for line in text.split("\n"))
        if lines * size * LINE_HEIGHT <= height:
            return size
    return smallest


def _ems(line: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6 for char in line)


def relationship(catalog: Catalog, word: str) -> str:
    """A household member's relationship (続柄), as the register says it, in this language."""
    return say(catalog, f"relationship.{word}", fallback=word)


def say(catalog: Catalog, key: str, *, fallback: str, **values: object) -> str:
    return catalog.text(key, **values) if key in catalog.texts else fallback


#: the prefectures' names in English, by JIS X 0401 code (01 北海道 … 47 沖縄県)
PREFECTURES_EN = (
    "Hokkaido", "Aomori", "Iwate", "Miyagi", "Akita", "Yamagata", "Fukushima", "Ibaraki", "Tochigi",
    "Gunma", "Saitama", "Chiba", "Tokyo", "Kanagawa", "Niigata", "Toyama", "Ishikawa", "Fukui",
    "Yamanashi", "Nagano", "Gifu", "Shizuoka", "Aichi", "Mie", "Shiga", "Kyoto", "Osaka", "Hyogo",
    "Nara", "Wakayama", "Tottori", "Shimane", "Okayama", "Hiroshima", "Yamaguchi", "Tokushima",
    "Kagawa", "Ehime", "Kochi", "Fukuoka", "Saga", "Nagasaki", "Kumamoto", "Oita", "Miyazaki",
    "Kagoshima", "Okinawa",
)  # fmt: skip


def prefecture_name(catalog: Catalog, code: str, name: str) -> str:
    """A prefecture (都道府県) in the screen's language: ``name`` (Japanese), or its English name."""
    if catalog.language == "ja" or not code.isdigit() or not 1 <= int(code) <= len(PREFECTURES_EN):
        return name
    return PREFECTURES_EN[int(code) - 1]


def municipality_name(catalog: Catalog, municipality: Mapping[str, Any] | None) -> str:
    """A municipality as a view gives it (``{"code", "name", "name_en"}``), in the screen's language."""
    if not municipality:
        return ""
    name = municipality.get("name" if catalog.language == "ja" else "name_en") or municipality.get("name")
    return str(name or municipality.get("code", ""))


def date_words(catalog: Catalog, date: str | None) -> str:
    """A date of a view (``YYYY-MM-DD``) in the language's way (2026年12月14日, 12/14/2026)."""
    if not date:
        return ""
    year, month, day = date[:10].split("-")
    return catalog.text("date", year=int(year), month=int(month), day=int(day))


def moment_words(catalog: Catalog, moment: str) -> str:
    """A moment of a view (``YYYY-MM-DDTHH:MM``, JST) in the language's way."""
    date, _, time = moment.partition("T")
    year, month, day = date.split("-")
    hour, minute = (time or "00:00").split(":")[:2]
    return catalog.text(
        "moment", year=int(year), month=int(month), day=int(day), hour=int(hour), minute=minute
    )


def registration_reason(catalog: Catalog, reason: str | None, message: Mapping[str, Any] | None) -> str:
    """Why a usage registration was denied (不承認の理由): the municipality's words sealed to this
    terminal, in this language (else English) when a screen can show them; else the catalog's for
    the reason's code; else the catalog's general words."""
    if message:
        said = center_words(message, catalog.language)
        if said is not None:
            return _sentence(*said)
    if reason and f"refusal.{reason}" in catalog.texts:
        return _code_words(catalog, reason, None)
    return catalog.text("registration.reason_other")
