"""The words a screen shows for the workflow's codes: certificate names, refusals, why a session
ended. Every word comes from the catalogs (:mod:`kiosk.messages`); nothing here is Kivy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.messages import Catalog

REASONS = {"timeout": "cancelled.timeout", "card_removed": "cancelled.card_removed", "locked": "pin.locked"}


def certificate_name(catalog: Catalog, kind: str) -> str:
    return say(catalog, f"certificate.{kind}", fallback=kind)


def refusal_words(catalog: Catalog, refusal: Mapping[str, Any] | None) -> str:
    """A refusal in plain words: the catalog's for its code, else the words the center sent in
    this language, else the catalog's general words (拒否の理由)."""
    if not refusal:
        return ""
    code = refusal.get("code")
    if code and f"refusal.{code}" in catalog.texts:
        return catalog.text(f"refusal.{code}")
    words = refusal.get(catalog.language)
    if isinstance(words, str) and words:
        return words
    return catalog.text("refusal.other")


def reason_words(catalog: Catalog, reason: str | None, refusal: Mapping[str, Any] | None) -> str:
    """Why a session was cancelled (取消の理由); nothing for a plain cancel."""
    if refusal:
        return refusal_words(catalog, refusal)
    if reason in REASONS:
        return catalog.text(REASONS[reason])
    if reason and f"refusal.{reason}" in catalog.texts:
        return catalog.text(f"refusal.{reason}")
    return ""


def relationship(catalog: Catalog, word: str) -> str:
    """A household member's relationship (続柄), as the register says it, in this language."""
    return say(catalog, f"relationship.{word}", fallback=word)


def say(catalog: Catalog, key: str, *, fallback: str, **values: object) -> str:
    return catalog.text(key, **values) if key in catalog.texts else fallback
