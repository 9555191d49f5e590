"""The kiosk's message catalogs: every language has every key, with the same placeholders."""

from __future__ import annotations

import pytest

from kiosk.messages import LANGUAGES, Catalog, MissingText, placeholders
from kiosk.ui.words import reason_words, refusal_words, unavailable_words
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
    only English came); without a reason, the catalog's words alone; a calendar's code still has
    the catalog's words only."""
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
    suspended = {"code": "suspended", "en": "Certificate issuance is suspended (until 6:30)", "ja": "停止中"}
    assert unavailable_words(ja, {"reason": "suspended", "refusal": suspended}) == ja.text(
        "refusal.suspended"
    )
