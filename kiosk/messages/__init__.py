"""The kiosk's words, from message catalogs (one JSON file per language), never from code.

``Catalog.load("ja")`` reads ``ja.json``; ``catalog.text("pin.tries_left", tries=2)`` fills the
placeholders. Every language has every key with the same placeholders (tested), so switching the
language at the start never shows a missing or broken text.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("ja", "en")
_HERE = Path(__file__).parent


class MissingText(KeyError):
    """A key no catalog has (a bug in a screen)."""


@dataclass(frozen=True)
class Catalog:
    language: str
    texts: dict[str, str]

    @classmethod
    def load(cls, language: str) -> Catalog:
        if language not in LANGUAGES:
            raise ValueError(f"no catalog for {language!r}: {', '.join(LANGUAGES)}")
        texts = json.loads((_HERE / f"{language}.json").read_text(encoding="utf-8"))
        return cls(language, texts)

    def text(self, key: str, **values: object) -> str:
        try:
            template = self.texts[key]
        except KeyError:
            raise MissingText(key) from None
        return template.format(**values)


def placeholders(template: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in string.Formatter().parse(template) if name}
