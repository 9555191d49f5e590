"""The kiosk's message catalogs: every language has every key, with the same placeholders."""

from __future__ import annotations

import pytest

from kiosk.messages import LANGUAGES, Catalog, MissingText, placeholders
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
