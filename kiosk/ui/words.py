"""The words a screen shows for the workflow's codes: certificate names, refusals, why a session
ended. Every word comes from the catalogs (:mod:`kiosk.messages`); nothing here is Kivy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.messages import Catalog, placeholders

REASONS = {"timeout": "cancelled.timeout", "card_removed": "cancelled.card_removed", "locked": "pin.locked"}


def certificate_name(catalog: Catalog, kind: str) -> str:
    return say(catalog, f"certificate.{kind}", fallback=kind)


def refusal_words(catalog: Catalog, refusal: Mapping[str, Any] | None) -> str:
    """A refusal in plain words: the catalog's for its code, else the words the center sent in
    this language, else the catalog's general words (拒否の理由). A code whose words take the
    center's (``{reason}``: an operator's stop of issuance, 交付停止) has them in this language,
    else in English."""
    if not refusal:
        return ""
    code = refusal.get("code")
    words = refusal.get(catalog.language)
    if code and f"refusal.{code}" in catalog.texts:
        return _code_words(catalog, code, words if _said(words) else refusal.get("en"))
    if _said(words):
        return str(words)
    return catalog.text("refusal.other")


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
    """Why a certificate of the list cannot be chosen now: the center's words when it sent them
    (``refusal``: the calendar's, an operator's stop), else its reason code's."""
    refusal = item.get("refusal")
    if refusal:
        return refusal_words(catalog, refusal)
    reason = item.get("reason")
    return refusal_words(catalog, {"code": str(reason)}) if reason else ""


def _code_words(catalog: Catalog, code: str, center_words: object) -> str:
    key = f"refusal.{code}"
    if "reason" not in placeholders(catalog.texts[key]):
        return catalog.text(key)
    return catalog.text(key, reason=center_words if _said(center_words) else "").strip()


def _said(words: object) -> bool:
    return isinstance(words, str) and bool(words)


def relationship(catalog: Catalog, word: str) -> str:
    """A household member's relationship (続柄), as the register says it, in this language."""
    return say(catalog, f"relationship.{word}", fallback=word)


def say(catalog: Catalog, key: str, *, fallback: str, **values: object) -> str:
    return catalog.text(key, **values) if key in catalog.texts else fallback
