"""Issuance records (交付履歴) as a municipality seals them to the terminal (``koufu-issuance-record/1``
content), for the record page's tests: rows newest first, at a fixed moment (no clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from documents.basics import JST

PRINTED_AT = dt.datetime(2026, 12, 1, 10, 15, tzinfo=JST)
TYPES = (
    "resident_record",
    "seal_registration",
    "tax",
    "family_register",
    "resident_record_entries",
    "family_register_attachment",
)


def record_content(
    rows: int = 3,
    *,
    municipality: str = "131016",
    name: str = "千代田区",
    name_en: str = "Chiyoda City",
    copies: int = 2,
    voided_every: int = 3,
) -> dict[str, Any]:
    """A municipality's record: ``rows`` issuances a day and a half apart, newest first, each of
    ``copies`` copies; every ``voided_every``-th row's last copy voided."""
    issuances = []
    for row in range(rows):
        at = PRINTED_AT - dt.timedelta(hours=36 * row + 1, minutes=7 * row)
        numbers = [
            f"{at:%Y%m%d}/{municipality}/T-{row % 7 + 1:04d}/01/{row * copies + copy + 1:06d}"
            for copy in range(copies)
        ]
        issuances.append(
            {
                "issued_at": at.astimezone(dt.UTC).isoformat(),
                "store": f"コンビニエンスストア千代田第{row + 1}店",
                "terminal_id": f"T-{row % 7 + 1:04d}",
                "certificate_type": TYPES[row % len(TYPES)],
                "copies": copies,
                "issue_numbers": numbers,
                "voided": numbers[-1:] if row % voided_every == voided_every - 1 else [],
            }
        )
    return {
        "municipality": municipality,
        "name": name,
        "name_en": name_en,
        "since": (PRINTED_AT - dt.timedelta(days=365)).isoformat(),
        "until": PRINTED_AT.isoformat(),
        "issuances": issuances,
    }
