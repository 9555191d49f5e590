"""A resident's own record of every issuance made with their card (交付履歴の確認), as the kiosk
shows and prints it: the records each municipality (residence, registered domicile) sealed to this
terminal (``koufu-issuance-record/1``, opened and checked by :class:`kiosk.center_link.KioskSession`
with :func:`documents.issuance_record.open_issuance_record`), merged
into one list, newest first, with the municipalities that could not answer.

Every value is about the person; the session holds the view and drops it at its end
(:meth:`kiosk.center_link.KioskSession.forget`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from documents.issuance_record import IssuanceRecord


@dataclass(frozen=True)
class IssuanceRow:
    """One order's copies of one certificate type at one municipality: when, where, how many,
    their issue numbers and those voided."""

    municipality: str
    name: str  # the municipality's
    name_en: str
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
            "name": self.name,
            "name_en": self.name_en,
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


def merged(records: Sequence[IssuanceRecord], unavailable: Iterable[str]) -> IssuanceRecordView:
    """``records`` (each opened and checked: :func:`documents.issuance_record.open_issuance_record`)
    merged, newest first (a tie by first issue number, type and municipality, so the order never
    depends on the order of the answers); ``unavailable`` once each, by code."""
    rows = [
        IssuanceRow(
            municipality=record.municipality,
            name=record.name,
            name_en=record.name_en,
            issued_at=row.issued_at,
            store=row.store,
            terminal_id=row.terminal_id,
            certificate_type=str(row.certificate_type.value),
            copies=row.copies,
            issue_numbers=row.issue_numbers,
            voided=row.voided,
        )
        for record in records
        for row in record.issuances
    ]
    rows.sort(key=lambda r: (r.issue_numbers[:1], r.certificate_type, r.municipality))
    rows.sort(key=lambda r: r.issued_at, reverse=True)
    sources = tuple(RecordSource(r.municipality, r.name, r.name_en, r.since, r.until) for r in records)
    return IssuanceRecordView(tuple(rows), sources, tuple(sorted(set(unavailable))))
