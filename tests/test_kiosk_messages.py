"""The kiosk's message catalogs: every language has every key, with the same placeholders; and
the words a screen shows for a refusal: the catalog's, or the center's for its own closures (the
service calendar's, an operator's stop), never twice, never words a screen cannot show."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from center.calendar import Closed, ReasonCode, ServiceCalendar
from center.calendar_rules import Message
from center.calendar_rules import reopening as closing_words
from documents import JST
from documents.basics import RESIDENT_WORDS_MAX
from kiosk.messages import LANGUAGES, Catalog, MissingText, placeholders
from kiosk.ui.words import (
    CALENDAR_CODES,
    SHOWN_WORDS_MAX,
    fitting_font_size,
    reason_words,
    refusal_words,
    unavailable_words,
)
from kiosk.workflow.steps import Step


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    catalogs = [Catalog.load(language) for language in LANGUAGES]
    keys = set(catalogs[0].texts)
    for catalog in catalogs[1:]:
        assert set(catalog.texts) == keys, catalog.language
        for key in keys:
            assert placeholders(catalog.texts[key]) == placeholders(catalogs[0].texts[key]), key
    assert all(text.strip() for catalog in catalogs for text in catalog.texts.values())


def test_every_screen_has_a_title() -> None:
    ja = Catalog.load("ja")
    for step in Step:
        assert f"{step.value}.title" in ja.texts, step


def test_texts_fill_their_placeholders() -> None:
    assert Catalog.load("ja").text("pin.tries_left", tries=2) == "残り2回間違えると、カードがロックされます"
    assert Catalog.load("en").text("payment.progress", paid=100, fee=300) == "Inserted 100 yen of 300 yen"
    with pytest.raises(MissingText):
        Catalog.load("en").text("no.such.key")
    with pytest.raises(ValueError, match="no catalog"):
        Catalog.load("fr")


def test_an_operator_s_stop_is_said_with_its_reason_in_the_resident_s_language() -> None:
    """交付停止: the catalog's words and the reason the center sent, in this language (English when
    only English came); without a reason, the catalog's words alone."""
    ja, en = Catalog.load("ja"), Catalog.load("en")
    stop = {"code": "issuance_stopped", "en": "Stopped for a system fault", "ja": "システム障害のため停止中"}
    assert refusal_words(ja, stop) == "ただいま証明書の交付を停止しています。システム障害のため停止中"
    assert refusal_words(en, stop) == "Certificate issuance is stopped for now. Stopped for a system fault"
    assert refusal_words(ja, {**stop, "ja": None}).endswith("。Stopped for a system fault")
    assert reason_words(ja, "issuance_stopped", None) == "ただいま証明書の交付を停止しています。"
    assert unavailable_words(en, {"reason": "issuance_stopped", "refusal": stop}).endswith("system fault")
    assert unavailable_words(en, {"reason": "issuance_stopped", "refusal": None}) == (
        "Certificate issuance is stopped for now."
    )
    assert refusal_words(en, {**stop, "en": "<b>fault</b>"}) == "Certificate issuance is stopped for now."


# -- the service calendar's closures: the center's words -----------------------------------------

AT = datetime(2026, 5, 13, 10, 0, tzinfo=JST)  # a Wednesday, in the service's hours
CHIYODA = "131016"
CHECK = Message("設備点検のため停止しています", "Stopped for an equipment check")
CALENDAR = ServiceCalendar.from_dict(
    {
        "format": 1,
        "service_hours": {"opens": "06:30", "closes": "23:00"},
        "year_end_closure": {"first": "12-29", "last": "01-03"},
        "maintenance": [
            {"start": "2026-05-13T09:00:00+09:00", "end": "2026-05-13T12:00:00+09:00"},
            {
                "start": "2026-05-14T09:00:00+09:00",
                "end": "2026-05-14T12:00:00+09:00",
                "message": {"ja": CHECK.ja, "en": CHECK.en},
            },
        ],
        "municipality_stops": [
            {
                "municipality": CHIYODA,
                "start": "2026-05-20T00:00:00+09:00",
                "end": "2026-05-21T00:00:00+09:00",
            }
        ],
        "certificate_hours": [
            {
                "municipality": CHIYODA,
                "certificate_type": "family_register",
                "periods": [
                    {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "09:00", "closes": "17:00"}
                ],
            }
        ],
        "suspensions": [
            {"id": "s", "since": "2026-06-01T00:00:00+09:00", "until": "2026-06-02T00:00:00+09:00"}
        ],
    }
)
# a question for each of the calendar's closures: the instant, the municipality and the type asked
QUESTIONS = {
    ReasonCode.SUSPENDED: (datetime(2026, 6, 1, 10, tzinfo=JST), None, None),
    ReasonCode.YEAR_END_CLOSURE: (datetime(2026, 12, 30, 10, tzinfo=JST), None, None),
    ReasonCode.MAINTENANCE: (AT, None, None),
    ReasonCode.MUNICIPALITY_STOP: (datetime(2026, 5, 20, 10, tzinfo=JST), CHIYODA, None),
    ReasonCode.OUTSIDE_SERVICE_HOURS: (datetime(2026, 5, 13, 23, 30, tzinfo=JST), None, None),
    ReasonCode.CERTIFICATE_HOURS: (datetime(2026, 5, 13, 18, tzinfo=JST), CHIYODA, "family_register"),
}


def sentences(words: str) -> list[str]:
    return [part.strip() for part in re.split(r"[。.;；]", words) if part.strip()]


def closure(code: ReasonCode) -> Closed:
    decision = CALENDAR.check(*QUESTIONS[code])
    assert isinstance(decision, Closed) and decision.reason_code is code
    return decision


def test_the_calendar_s_codes_are_the_kiosk_s() -> None:
    assert set(ReasonCode) == CALENDAR_CODES == set(QUESTIONS)
    for language in LANGUAGES:
        assert all(f"refusal.{code}" in Catalog.load(language).texts for code in CALENDAR_CODES)


@pytest.mark.parametrize("code", sorted(ReasonCode))
def test_a_calendar_s_closure_is_said_in_the_center_s_words_alone_with_its_reopening(
    code: ReasonCode,
) -> None:
    """The center's words say the closure and when it ends: shown alone (the catalog's sentence
    would say the closure twice), ended as a sentence; in this language, else in English; the
    catalog's words only when the center sent none, the same wherever a refusal is said."""
    ja, en = Catalog.load("ja"), Catalog.load("en")
    closed = closure(code)
    assert closed.reopens_at is not None and closed.message_ja.endswith("から利用できます")
    refusal = {"code": code.value, "en": closed.message_en, "ja": closed.message_ja}
    assert refusal_words(ja, refusal) == closed.message_ja + "。"
    assert refusal_words(en, refusal) == closed.message_en + "."
    for catalog in (ja, en):
        shown = refusal_words(catalog, refusal)
        assert catalog.text(f"refusal.{code}") not in shown.replace(refusal[catalog.language], "")
        assert len(sentences(shown)) == len(set(sentences(shown)))  # nothing said twice
        assert reason_words(catalog, code.value, refusal) == shown  # a session cancelled
        assert unavailable_words(catalog, {"reason": code.value, "refusal": refusal}) == shown  # the list
        # the center sent no words: the catalog's
        assert refusal_words(catalog, {"code": code.value}) == catalog.text(f"refusal.{code}")
        assert reason_words(catalog, code.value, None) == catalog.text(f"refusal.{code}")
        assert unavailable_words(catalog, {"reason": code.value, "refusal": None}) == catalog.text(
            f"refusal.{code}"
        )
    # only English came: a Japanese screen says it in English (as an operator's stop); an English
    # screen is never given the Japanese words alone
    assert refusal_words(ja, {**refusal, "ja": None}) == closed.message_en + "."
    assert refusal_words(en, {"code": code.value, "ja": closed.message_ja}) == en.text(f"refusal.{code}")


def test_an_operator_s_words_for_a_maintenance_window_reach_the_screen_with_the_reopening() -> None:
    closed = CALENDAR.check(datetime(2026, 5, 14, 10, tzinfo=JST))
    assert isinstance(closed, Closed) and closed.reason_code is ReasonCode.MAINTENANCE
    refusal = {"code": "maintenance", "en": closed.message_en, "ja": closed.message_ja}
    assert (
        refusal_words(Catalog.load("ja"), refusal)
        == "設備点検のため停止しています。5月14日（木）12:00から利用できます。"
    )
    assert refusal_words(Catalog.load("en"), refusal) == (
        "Stopped for an equipment check; available again from 12:00 on Thursday 14 May."
    )


def test_words_that_end_a_sentence_already_are_not_ended_again() -> None:
    ja, en = Catalog.load("ja"), Catalog.load("en")
    assert refusal_words(ja, {"code": "maintenance", "en": "x", "ja": "点検中です。"}) == "点検中です。"
    assert refusal_words(en, {"code": "maintenance", "en": "Back soon!"}) == "Back soon!"
    assert refusal_words(en, {"code": "maintenance", "en": "  Back at noon  "}) == "Back at noon."


@pytest.mark.parametrize(
    "words",
    [
        "x" * (SHOWN_WORDS_MAX + 1),
        "点検中です。\n明朝再開します",
        "<b>Closed</b> for a check",
        "Closed\u202e for a check",
        "Closed\u2029for a check",
        "\x1b[31mClosed",
    ],
)
def test_words_a_screen_cannot_show_give_way_to_the_catalog_s(words: str) -> None:
    """Too long for a few lines, or not one line of plain text: never shown, never cut short; the
    catalog's words for the code are (for a code it does not know, its general words)."""
    for catalog in (Catalog.load("ja"), Catalog.load("en")):
        for code in ("maintenance", "outside_service_hours"):
            refusal = {"code": code, "en": words, "ja": words}
            assert refusal_words(catalog, refusal) == catalog.text(f"refusal.{code}")
            assert unavailable_words(catalog, {"reason": code, "refusal": refusal}) == catalog.text(
                f"refusal.{code}"
            )
        stop = {"code": "issuance_stopped", "en": words, "ja": words}
        assert refusal_words(catalog, stop) == catalog.text("refusal.issuance_stopped", reason="").strip()
        unknown = {"code": "something_new", "en": words, "ja": words}
        assert refusal_words(catalog, unknown) == catalog.text("refusal.other")
    # the screen's words are unfit: the other language's are not taken instead
    bad_ja = {"code": "maintenance", "ja": "<b>点検</b>", "en": "Stopped for a check"}
    assert refusal_words(Catalog.load("ja"), bad_ja) == Catalog.load("ja").text("refusal.maintenance")


def test_the_longest_words_an_operator_may_write_are_shown_with_the_longest_reopening() -> None:
    reopening = closing_words(datetime(2026, 9, 30, 23, 0, tzinfo=JST)).en  # the longest there is
    assert reopening == "; available again from 23:00 on Wednesday 30 September"
    longest = "x" * RESIDENT_WORDS_MAX + reopening
    assert len(longest) <= SHOWN_WORDS_MAX
    assert refusal_words(Catalog.load("en"), {"code": "maintenance", "en": longest}) == longest + "."
    at_most = {"code": "maintenance", "en": "x" * SHOWN_WORDS_MAX}
    assert refusal_words(Catalog.load("en"), at_most) == "x" * SHOWN_WORDS_MAX + "."


def test_the_center_s_longest_words_beside_a_certificate_take_a_smaller_font_to_fit_its_button() -> None:
    """A certificate's button is of fixed size (1280×800 panel, two columns: a text box of about
    574×118 px) and Kivy leaves out the lines that do not fit it; the usual words keep the font of
    21 px, longer ones a smaller one reckoned to fit, never below 13 px: the longest Japanese an
    operator may write, with the longest reopening, takes 13 px (seen whole on the panel)."""
    name = "印鑑登録証明書  (ただいま取得できません)"
    usual = Catalog.load("ja").text("refusal.no_seal_registered")
    assert fitting_font_size(f"{name}\n{usual}", 574, 118, largest=21, smallest=13) == 21
    longest = "停" * RESIDENT_WORDS_MAX + "。12月30日（水）23:00から利用できます。"
    assert fitting_font_size(f"{name}\n{longest}", 574, 118, largest=21, smallest=13) == 13
    middling = "停" * 80 + "。12月30日（水）23:00から利用できます。"
    size = fitting_font_size(f"{name}\n{middling}", 574, 118, largest=21, smallest=13)
    assert 13 < size < 21
    english = "x" * RESIDENT_WORDS_MAX + "; available again from 23:00 on Wednesday 30 September."
    assert 13 <= fitting_font_size(f"Seal registration\n{english}", 574, 118, largest=21, smallest=13) < 21
    assert fitting_font_size("停" * 1000, 574, 118, largest=21, smallest=13) == 13
