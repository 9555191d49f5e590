"""Reading a municipality's record stores: the facts eligibility and certificates are made of.

Everything is read inside the issuing transaction, so one order sees one state of the records
(a move-out entered meanwhile is either wholly before or wholly after it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from center.municipal import schema
from documents import JST


@dataclass(frozen=True)
class Resident:
    """One person of the resident register (住民票の記載事項)."""

    id: int
    household_id: int
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: str
    relationship: str  # 続柄
    became_resident_on: dt.date
    moved_in_on: dt.date
    previous_address: str | None
    domicile: str | None
    domicile_head: str | None
    my_number: str | None
    status: str
    status_on: dt.date | None
    foreign_resident: bool
    alias: str | None
    nationality: str | None
    residence_card_number: str | None
    residence_status: str | None
    residence_period_until: dt.date | None
    pending_characters: bool
    register_id: int | None

    @property
    def name(self) -> str:
        return f"{self.family_name}　{self.given_name}"

    @property
    def name_kana(self) -> str:
        return f"{self.family_name_kana}　{self.given_name_kana}"

    def age_on(self, day: dt.date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (1 if before_birthday else 0)


@dataclass(frozen=True)
class Household:
    """世帯: its address and members, the head (世帯主) first."""

    id: int
    address: str
    members: tuple[Resident, ...]

    @property
    def head(self) -> Resident | None:
        return next((member for member in self.members if member.relationship == "世帯主"), None)


@dataclass(frozen=True)
class CardLink:
    resident_id: int
    linked_at: dt.datetime

    def usable_on(self, day: dt.date) -> bool:
        """A new link is usable from the next day in Japan (the issuance server syncs overnight)."""
        return self.linked_at.astimezone(JST).date() < day


@dataclass(frozen=True)
class SealRegistration:
    registration_number: str
    impression: str
    registered_on: dt.date


@dataclass(frozen=True)
class TaxAssessment:
    tax_year: int
    resident_on_january_1: bool
    filed: bool
    total_income: int
    deductions: int
    taxable_income: int
    municipal_tax: int
    prefectural_tax: int
    paid: int
    outstanding: int


@dataclass(frozen=True)
class RegisterMember:
    position: int
    resident_id: int | None
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    father: str | None
    mother: str | None
    relationship: str
    events: tuple[dict[str, Any], ...]
    removed: bool
    addresses: tuple[tuple[str, dt.date, dt.date | None], ...]  # 附票: (address, from, to)


@dataclass(frozen=True)
class FamilyRegister:
    """戸籍: its domicile, head (筆頭者), status and members in register order."""

    id: int
    domicile: str
    head_name: str
    status: str
    compiled_on: dt.date
    filing_pending_since: dt.date | None
    members: tuple[RegisterMember, ...]

    def member_for(self, resident_id: int) -> RegisterMember | None:
        return next((m for m in self.members if m.resident_id == resident_id and not m.removed), None)

    def member_at(self, position: int) -> RegisterMember | None:
        """The member at ``position``, unless removed (除籍)."""
        return next((m for m in self.members if m.position == position and not m.removed), None)


_RESIDENT_COLUMNS = [schema.residents.c[name] for name in Resident.__dataclass_fields__]


class RecordStore:
    """The record stores as the issuance server reads them, on the caller's connection."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def card_link(self, certificate_serial: int) -> CardLink | None:
        row = self.connection.execute(
            sa.select(schema.card_links.c.resident_id, schema.card_links.c.linked_at).where(
                schema.card_links.c.certificate_serial == certificate_serial
            )
        ).first()
        return None if row is None else CardLink(row.resident_id, row.linked_at)

    def resident(self, resident_id: int) -> Resident | None:
        row = self.connection.execute(
            sa.select(*_RESIDENT_COLUMNS).where(schema.residents.c.id == resident_id)
        ).first()
        return None if row is None else Resident(**row._asdict())

    def household(self, household_id: int) -> Household:
        address = self.connection.execute(
            sa.select(schema.households.c.address).where(schema.households.c.id == household_id)
        ).scalar_one()
        rows = self.connection.execute(
            sa.select(*_RESIDENT_COLUMNS)
            .where(schema.residents.c.household_id == household_id)
            .order_by(schema.residents.c.id)
        ).all()
        members = sorted(
            (Resident(**row._asdict()) for row in rows),
            key=lambda member: (member.relationship != "世帯主", member.id),
        )
        return Household(household_id, address, tuple(members))

    def blocked(self, resident_ids: Iterable[int], at: dt.datetime) -> set[int]:
        """The persons among ``resident_ids`` for whom an issuance stop or a protection measure
        (支援措置) is in force at ``at``."""
        blocks = schema.issuance_blocks.c
        rows = self.connection.execute(
            sa.select(blocks.resident_id).where(
                blocks.resident_id.in_(list(resident_ids)),
                blocks.starts_at <= at,
                sa.or_(blocks.ends_at.is_(None), blocks.ends_at > at),
            )
        ).scalars()
        return set(rows)

    def seal(self, resident_id: int) -> SealRegistration | None:
        seals = schema.seal_registrations.c
        row = self.connection.execute(
            sa.select(seals.registration_number, seals.impression, seals.registered_on).where(
                seals.resident_id == resident_id
            )
        ).first()
        return None if row is None else SealRegistration(**row._asdict())

    def tax(self, resident_id: int, tax_year: int) -> TaxAssessment | None:
        taxes = schema.tax_assessments
        columns = [taxes.c[name] for name in TaxAssessment.__dataclass_fields__]
        row = self.connection.execute(
            sa.select(*columns).where(taxes.c.resident_id == resident_id, taxes.c.tax_year == tax_year)
        ).first()
        return None if row is None else TaxAssessment(**row._asdict())

    def register(self, register_id: int) -> FamilyRegister:
        registers = schema.family_registers.c
        head = self.connection.execute(
            sa.select(
                registers.domicile,
                registers.head_name,
                registers.status,
                registers.compiled_on,
                registers.filing_pending_since,
            ).where(registers.id == register_id)
        ).one()
        places = schema.register_addresses.c
        addresses: dict[int, list[tuple[str, dt.date, dt.date | None]]] = {}
        for line in self.connection.execute(
            sa.select(places.position, places.address, places.from_date, places.to_date)
            .where(places.register_id == register_id)
            .order_by(places.position, places.seq)
        ):
            addresses.setdefault(line.position, []).append((line.address, line.from_date, line.to_date))
        members = schema.register_members.c
        rows = self.connection.execute(
            sa.select(schema.register_members)
            .where(members.register_id == register_id)
            .order_by(members.position)
        ).all()
        return FamilyRegister(
            register_id,
            head.domicile,
            head.head_name,
            head.status,
            head.compiled_on,
            head.filing_pending_since,
            tuple(
                RegisterMember(
                    row.position,
                    row.resident_id,
                    row.family_name,
                    row.given_name,
                    row.birth_date,
                    row.sex,
                    row.father,
                    row.mother,
                    row.relationship,
                    tuple(json.loads(row.events)),
                    row.removed,
                    tuple(addresses.get(row.position, ())),
                )
                for row in rows
            ),
        )
