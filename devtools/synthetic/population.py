"""Who is who in a generated town: :class:`Population`, and the rules by which a resident is
ordinary or not (read from the records as finally written)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from devtools.synthetic.records import Resident, age_on
from devtools.synthetic.tax import TAX_YEARS, tax_rows
from devtools.synthetic.town import Town

ADULT_AGE = 20  # ordinary persons are at least this old (no municipality sets a higher minimum)


@dataclass(frozen=True)
class Person:
    """A generated resident, by reference only (read the rest from the records)."""

    resident_id: int
    household_id: int
    certificate_serial: int | None  # of the linked user-authentication certificate


@dataclass(frozen=True)
class Population:
    """What :func:`generate` wrote, and the persons a test or a demo can pick.

    ``ordinary``: adults (20 and over) living here, with a card linked before today, a seal, filed
    assessments as residents on 1 January for every year of ``tax_years``, an entry in a current
    family register here with no filing pending, no block, and no household or register member
    whose state refuses a household copy or a 附票 (move-out filed, block, pending characters).
    Every other tuple holds persons who are ordinary but for the property named, and a person is
    in at most one. The persons of a case were chosen (a few per case, at least one from 50
    households) in households and registers that hold no other chosen case; ``no_card``,
    ``foreign`` and ``domicile_elsewhere`` also list everyone else who is so.
    """

    residents: int
    households: int
    registers: int
    tax_years: tuple[int, ...]  # newest first
    ordinary: tuple[Person, ...]
    minors: tuple[Person, ...]  # under 15, with a card (no seal or tax needed)
    deceased: tuple[Person, ...]  # status 'deceased' (removed from the register), card link kept
    moved_out: tuple[Person, ...]  # status 'moved_out', card link kept
    moving_out: tuple[Person, ...]  # status 'moving_out': a move-out filed
    moving_out_household: tuple[Person, ...]  # ordinary, but a household member filed a move-out
    protected: tuple[Person, ...]  # an open-ended protection measure (支援措置)
    issuance_stopped: tuple[Person, ...]  # an issuance stop (交付停止) ending in the future
    stop_lifted: tuple[Person, ...]  # an issuance stop that ended in the past: ordinary again
    no_seal: tuple[Person, ...]
    not_resident_january_1: tuple[Person, ...]  # moved in after 1 January of the newest tax year
    tax_not_filed: tuple[Person, ...]  # the newest tax year not filed
    register_pending: tuple[Person, ...]  # their register has a filing not yet entered
    register_closed: tuple[Person, ...]  # their resident record points at a closed register (除籍)
    pending_characters: tuple[Person, ...]  # a name awaiting 外字 work
    moved_in_today: tuple[Person, ...]  # the household moved to a new address today
    linked_today: tuple[Person, ...]  # the card was linked today: usable from tomorrow
    no_card: tuple[Person, ...]  # no card linked (about 1 - cards of the adults)
    foreign: tuple[Person, ...]  # foreign adults with a card (no register, seal or tax needed)
    domicile_elsewhere: tuple[Person, ...]  # 本籍 in another prefecture (no register here)

    @classmethod
    def registers_only(cls, registers: int) -> Population:
        """Nobody: a municipality where no one of the stack lives but whose family registers are
        kept (the registered domicile, 本籍地, of another town's residents), ``registers`` of them."""
        empty: dict[str, Any] = {f.name: () for f in dataclasses.fields(cls)}
        return cls(**{**empty, "residents": 0, "households": 0, "registers": registers})

    def special_cases(self) -> dict[str, tuple[Person, ...]]:
        """Every tuple of persons but ``ordinary``, by field name."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("ordinary", "tax_years") and isinstance(getattr(self, f.name), tuple)
        }


def blocked(resident: Resident, noon: dt.datetime) -> bool:
    """A block in force today (the cases' blocks start at least a day before, end a day apart)."""
    return bool(resident.blocks) and any(
        start <= noon and (end is None or end > noon) for _, start, end in resident.blocks
    )


def failures(town: Town, resident: Resident) -> set[str]:
    """Why ``resident`` is not ordinary (see :class:`Population`); empty when ordinary."""
    failed = set()
    if resident.foreign is not None:
        failed.add("foreign")
    if resident.status != "resident":
        failed.add("status")
    if blocked(resident, town.noon):
        failed.add("block")
    if age_on(resident.birth, town.today) < ADULT_AGE:
        failed.add("age")
    if resident.pending_characters:
        failed.add("pending")
    if resident.moved_in >= town.today:
        failed.add("moved_in")
    if resident.linked_on is None:
        failed.add("card")
    elif resident.linked_on >= town.today:
        failed.add("card_usable")
    if resident.sealed_on is None:
        failed.add("seal")
    rows = tax_rows(resident, town.tax_years)
    if len(rows) < TAX_YEARS or not all(here for _, here, _ in rows):
        failed.add("tax_resident")
    if not all(filed for _, _, filed in rows):
        failed.add("tax_filed")
    entry = resident.entry
    if (
        entry is None
        or entry.kin.removed_on is not None
        or entry.register.status != "current"
        or entry.register.pending_since is not None
        or any(
            blocked(e.kin.resident, town.noon)
            for e in entry.register.entries
            if e.kin.resident is not None and e.kin.resident is not resident
        )
    ):
        failed.add("register")
    if any(
        other.status == "moving_out" or other.pending_characters or blocked(other, town.noon)
        for other in resident.household.members
        if other is not resident
    ):
        failed.add("household")
    return failed
