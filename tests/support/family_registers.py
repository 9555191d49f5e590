"""Family registers (戸籍) written straight into a municipality's database for its tests: the
register (本籍, 筆頭者) and its entries (在籍者) in order, and, where a test needs it, each
entry's address on the register's attachment (戸籍の附票)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from center.municipal import schema


@dataclass(frozen=True)
class Entry:
    """One person on a register (在籍者); ``born``: their birth written as the entry's event."""

    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str  # "male" or "female"
    relationship: str  # 続柄
    removed: bool = False  # 除籍
    born: bool = False


def write_register(
    connection: sa.Connection,
    register_id: int,
    *,
    domicile: str,
    head: str,
    entries: Sequence[Entry],
    compiled_on: dt.date,
    status: str = "current",
    filing_pending_since: dt.date | None = None,
    address: str | None = None,
) -> None:
    """The register and its ``entries`` at positions from 1; with ``address``, each entry's
    address on the attachment (附票) since the register was compiled."""
    connection.execute(
        schema.family_registers.insert().values(
            id=register_id,
            domicile=domicile,
            head_name=head,
            status=status,
            compiled_on=compiled_on,
            filing_pending_since=filing_pending_since,
        )
    )
    for position, entry in enumerate(entries, start=1):
        events = (
            [{"kind": "birth", "date": entry.birth_date.isoformat(), "detail": "出生"}] if entry.born else []
        )
        connection.execute(
            schema.register_members.insert().values(
                register_id=register_id,
                position=position,
                family_name=entry.family_name,
                given_name=entry.given_name,
                birth_date=entry.birth_date,
                sex=entry.sex,
                relationship=entry.relationship,
                events=json.dumps(events),
                removed=entry.removed,
            )
        )
        if address is not None:
            connection.execute(
                schema.register_addresses.insert().values(
                    register_id=register_id,
                    position=position,
                    seq=1,
                    address=address,
                    from_date=compiled_on,
                    to_date=None,
                )
            )
