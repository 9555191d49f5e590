"""A resident's own record of every issuance made with their card (交付履歴の確認), as the kiosk
shows and prints it: the records each municipality (residence, registered domicile) sealed to this
terminal (``koufu-issuance-record/1``, opened by :class:`kiosk.center_link.KioskSession`), merged
into one list, newest first, with the municipalities that could not answer.

Every value is about the person; the session holds the view and drops it at its end
(:meth:`kiosk.center_link.KioskSession.forget`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.errors import KioskError


@dataclass(frozen=True)
class IssuanceRow:
    """One order's copies of one certificate type at one municipality: when, where, how many,
    their issue numbers and those voided."""

    municipality: str
    municipality_name: str
    municipality_name_en: str
    issued_at: dt.datetime
    store: str
    terminal_id: str
    certificate_type: str
    copies: int
    issue_numbers: tuple[str, ...]
    voided: tuple[str, ...]

    def view(self) -> dict[str, object]:
        """As a screen's view takes it (the time as ISO 8601)."""
        return {
            "municipality": self.municipality,
            "municipality_name": self.municipality_name,
            "municipality_name_en": self.municipality_name_en,
            "issued_at": self.issued_at.isoformat(),
            "store": self.store,
            "terminal_id": self.terminal_id,
            "certificate_type": self.certificate_type,
            "copies": self.copies,
            "issue_numbers": list(self.issue_numbers),
            "voided": list(self.voided),
        }


@dataclass(frozen=True)
class RecordSource:
    """A municipality whose record is in the view, and the span it covers."""

    municipality: str
    name: str
    name_en: str
    since: dt.datetime
    until: dt.datetime


@dataclass(frozen=True)
class IssuanceRecordView:
    """The merged record: ``rows`` newest first, the municipalities it comes from and those that
    could not be reached (or whose answer did not open): the resident is told the record may
    miss theirs."""

    rows: tuple[IssuanceRow, ...]
    sources: tuple[RecordSource, ...]
    unavailable: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.unavailable

    def view(self) -> dict[str, object]:
        return {
            "rows": [row.view() for row in self.rows],
            "municipalities": [
                {"municipality": s.municipality, "name": s.name, "name_en": s.name_en} for s in self.sources
            ],
            "unavailable": list(self.unavailable),
        }

    def __repr__(self) -> str:  # about a person: only its size
        return f"IssuanceRecordView({len(self.rows)} rows, {len(self.unavailable)} unavailable)"


def merged(records: Sequence[Mapping[str, Any]], unavailable: Iterable[str]) -> IssuanceRecordView:
    """The opened contents of ``records`` (``koufu-issuance-record/1``) merged, newest first (a
    tie by municipality, then issue number, so the order never depends on the answers' order);
    :class:`KioskError` if one is not a record."""
    rows: list[IssuanceRow] = []
    sources: list[RecordSource] = []
    for content in records:
        source, found = _read(content)
        sources.append(source)
        rows.extend(found)
    rows.sort(key=lambda r: (r.issue_numbers[:1], r.certificate_type, r.municipality))
    rows.sort(key=lambda r: r.issued_at, reverse=True)
    return IssuanceRecordView(tuple(rows), tuple(sources), tuple(sorted(set(unavailable))))


def _read(content: Mapping[str, Any]) -> tuple[RecordSource, list[IssuanceRow]]:
    try:
        source = RecordSource(
            _text(content["municipality"]),
            _text(content["name"]),
            _text(content["name_en"]),
            _moment(content["since"]),
            _moment(content["until"]),
        )
        issuances = content["issuances"]
        if not isinstance(issuances, list):
            raise TypeError("issuances")
        rows = [
            IssuanceRow(
                municipality=source.municipality,
                municipality_name=source.name,
                municipality_name_en=source.name_en,
                issued_at=_moment(item["issued_at"]),
                store=_text(item["store"]),
                terminal_id=_text(item["terminal_id"]),
                certificate_type=_text(item["certificate_type"]),
                copies=_count(item["copies"]),
                issue_numbers=_texts(item["issue_numbers"]),
                voided=_texts(item["voided"]),
            )
            for item in issuances
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise KioskError(f"an issuance record is not one ({type(error).__name__})") from None
    return source, rows


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("text expected")
    return value


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError("a list of text expected")
    return tuple(_text(item) for item in value)


def _count(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("a count expected")
    return value


def _moment(value: object) -> dt.datetime:
    moment = dt.datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("a moment has its offset")
    return moment
