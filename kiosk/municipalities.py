"""The participating municipalities a resident can choose from at this kiosk (参加団体の選択), and the
sealing key of each: what the kiosk seals to when a resident tells their municipality something the
center must not read (e.g. their 本籍 and 筆頭者, :func:`documents.seal_to_municipality`).

The center serves the list (``GET /v1/municipalities``), but the kiosk does not take its word for
the keys: each entry's statement is signed by its municipality, and only those that verify
against the kiosk's own trusted municipal keys (its ``trust`` setting) under the entry's code, and
have not expired, are kept (:func:`documents.verify_sealing_key`). An entry that does not is
dropped and logged by its kind of failure only (the error's code; never the entry's contents).
The choice is offered as the real service does: the prefecture (north to south, by its JIS X 0401
code, the municipality code's first two digits), then the municipality.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from center.client import CenterClient
from documents import DocumentError, SealingKey, TrustedKey, b64url_decode, verify_sealing_key
from documents.errors import MalformedDocument

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prefecture:
    """A prefecture with at least one participating municipality."""

    code: str  # JIS X 0401, two digits
    name: str


@dataclass(frozen=True)
class ParticipatingMunicipalities:
    """The verified sealing keys by municipality code; what was dropped, counted by kind."""

    keys: Mapping[str, SealingKey]
    dropped: Mapping[str, int] = field(default_factory=dict)

    def prefectures(self) -> list[Prefecture]:
        """The prefectures to choose from, north to south."""
        found = {key.prefecture_code: key.prefecture for key in self.keys.values()}
        return [Prefecture(code, found[code]) for code in sorted(found)]

    def municipalities_of(self, prefecture_code: str) -> list[SealingKey]:
        """The municipalities of one prefecture, by code (each with its name and sealing key)."""
        return [
            self.keys[code]
            for code in sorted(self.keys)
            if self.keys[code].prefecture_code == prefecture_code
        ]

    def sealing_key(self, municipality: str) -> SealingKey | None:
        return self.keys.get(municipality)


def verified_municipalities(
    entries: list[tuple[str, str]], trust: Mapping[str, TrustedKey], *, now: dt.datetime
) -> ParticipatingMunicipalities:
    """Of ``(code, statement as base64url)`` entries, those whose statement verifies for that
    code; a code given twice keeps its statement with the latest ``not_after``."""
    keys: dict[str, SealingKey] = {}
    dropped: dict[str, int] = {}
    for code, text in entries:
        try:
            try:
                statement = b64url_decode(text)
            except ValueError:
                raise MalformedDocument("the statement is not base64url") from None
            key = verify_sealing_key(statement, trust, now=now)
            if key.municipality != code:
                raise MalformedDocument("the statement is another municipality's")
        except DocumentError as error:
            dropped[error.code] = dropped.get(error.code, 0) + 1
            log.warning("a participating municipality's sealing key was dropped: %s", error.code)
            continue
        if code not in keys or keys[code].not_after < key.not_after:
            keys[code] = key
    return ParticipatingMunicipalities(keys, dropped)


def fetch_municipalities(
    client: CenterClient,
    trust: Mapping[str, TrustedKey],
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> ParticipatingMunicipalities:
    """The center's list, each statement verified here (:func:`verified_municipalities`)."""
    answer = client.municipalities()
    entries = [(entry.code, entry.statement) for entry in answer.municipalities]
    return verified_municipalities(entries, trust, now=clock())
