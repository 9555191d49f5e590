"""The family registers of a domicile municipality (本籍地) for residents of a generated town
whose 本籍 is there: the other side of the town's ``domicile_elsewhere`` persons.

:func:`generate_domicile` reads the town's resident records (the 本籍 and 筆頭者 each states,
names, birth date, sex, address, card) and writes, into the domicile municipality's record
stores, one register per (本籍, 筆頭者) as the records state them: the 筆頭者 first (the resident
named so, or a parent or late spouse who lives nowhere in the town), then the spouse and the
children, some of them removed (除籍: married away, died); a resident who died in the town is
removed by death. Each member living in the town has the town's addresses on the 附票. A few
registers of people unknown to the town are added. Deterministic from the seed.

Generate the town with ``far_domicile`` set to this municipality so that every 本籍 elsewhere is
here; residents whose 本籍 is in another place are left out.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from center.municipal import schema
from devtools.synthetic import data
from devtools.synthetic.records import DAY, SPACE, Kin, Register, age_on, years_after, years_before
from devtools.synthetic.registers import Registers
from devtools.synthetic.rows import next_ids, register_rows

SPOUSE_AGE = 45  # a lone member this old under a 筆頭者 of the other sex who lives nowhere: the widow(er)
_ORDINALS = ("長", "二", "三", "四", "五", "六")


@dataclass(frozen=True)
class DomicileEntry:
    """A town's resident and their entry in a register here."""

    resident_id: int  # in the town
    certificate_serial: int | None  # of the card linked in the town
    register_id: int
    position: int


@dataclass(frozen=True)
class DomicileRegisters:
    registers: int  # written, in all
    entries: tuple[DomicileEntry, ...]  # by resident id
    others: int  # registers of people unknown to the town


def generate_domicile(
    connection: sa.Connection,
    *,
    town: sa.Connection,
    prefecture: str,
    name: str,
    seed: int,
    today: dt.date,
    others: int = 10,
) -> DomicileRegisters:
    """Write the registers of the residents of ``town`` whose 本籍 is in this municipality
    (``prefecture``, ``name``) into the record stores on ``connection`` (the caller's transaction)."""
    builder = Registers(random.Random(seed), today, name, prefecture, set(), next_ids(connection))
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in _residents(town, prefecture + name):
        groups[(row.domicile, row.domicile_head)].append(row)
    members: dict[int, tuple[Register, Kin]] = {}
    for (domicile, head_name), rows in groups.items():
        for kin, row in _register(builder, domicile, head_name, rows):
            members[row.id] = (builder.registers[-1], kin)
    for _ in range(others):
        married = builder.today - dt.timedelta(days=builder.rng.randint(2 * 365, 40 * 365))
        husband, wife, head = builder.couple(married)
        kids = builder.children(head.family, husband.full, wife.full, wife.birth, married, 3)
        builder.leave_home(kids)
        builder.register(head, married, spouse=wife if head is husband else husband, children=kids)
    rows_by_table: dict[sa.Table, list[dict[str, Any]]] = {
        schema.family_registers: [],
        schema.register_members: [],
        schema.register_addresses: [],
    }
    register_rows(rows_by_table, builder.registers)
    for table, table_rows in rows_by_table.items():
        if table_rows:
            connection.execute(table.insert(), table_rows)
    if connection.dialect.name == "postgresql" and builder.registers:
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('family_registers', 'id'), "
                "(SELECT max(id) FROM family_registers))"
            )
        )
    serials = dict(
        town.execute(sa.select(schema.card_links.c.resident_id, schema.card_links.c.certificate_serial)).all()
    )
    entries = []
    for resident_id, (register, kin) in sorted(members.items()):
        position = next(i for i, entry in enumerate(register.entries, start=1) if entry.kin is kin)
        entries.append(DomicileEntry(resident_id, serials.get(resident_id), register.id, position))
    return DomicileRegisters(len(builder.registers), tuple(entries), others)


def _residents(town: sa.Connection, place: str) -> list[Any]:
    residents, households = schema.residents, schema.households
    return [
        row
        for row in town.execute(
            sa.select(residents, households.c.address)
            .join(households, households.c.id == residents.c.household_id)
            .where(residents.c.register_id.is_(None), residents.c.domicile.is_not(None))
            .order_by(residents.c.id)
        )
        if row.domicile.startswith(place)
    ]


def _sex_of(given: str) -> str:
    female = {name for era in data.FEMALE_NAMES for name, _ in era}
    return "female" if given in female else "male"


def _kin(row: Any) -> Kin:
    died = row.status == "deceased"
    return Kin(
        (row.family_name, row.family_name_kana),
        (row.given_name, row.given_name_kana),
        row.sex,
        row.birth_date,
        removed_on=row.status_on if died else None,
        died=died,
    )


def _register(builder: Registers, domicile: str, head_name: str, rows: list[Any]) -> list[tuple[Kin, Any]]:
    """One register for the residents ``rows`` (one 本籍 and 筆頭者); their kin, in order."""
    family, given = head_name.split(SPACE, 1)
    head_row = next((row for row in rows if f"{row.family_name}{SPACE}{row.given_name}" == head_name), None)
    others = sorted((row for row in rows if row is not head_row), key=lambda row: row.birth_date)
    spouse_row = None
    if head_row is not None:
        head = _kin(head_row)
        spouse_row = next(
            (
                row
                for row in others
                if row.sex != head.sex and abs((row.birth_date - head.birth).days) < 15 * 365
            ),
            None,
        )
    else:
        sex = _sex_of(given)
        oldest = others[0]
        if len(others) == 1 and oldest.sex != sex and age_on(oldest.birth_date, builder.today) >= SPOUSE_AGE:
            spouse_row = oldest  # a widow(er): the 筆頭者 died
            birth = oldest.birth_date + dt.timedelta(days=builder.rng.randint(-1500, 1500))
            died = builder.between(years_after(birth, 50), builder.today - DAY)
            head = Kin((family, ""), (given, ""), sex, birth, removed_on=died, died=True)
        else:  # a parent
            birth = years_before(oldest.birth_date, builder.rng.randint(25, 35))
            head = Kin((family, ""), (given, ""), sex, birth)
    children_rows = [row for row in others if row is not spouse_row]
    spouse = _kin(spouse_row) if spouse_row is not None else None
    if spouse is None and head_row is None:
        spouse_sex = "female" if head.sex == "male" else "male"
        spouse_birth = head.birth + dt.timedelta(days=builder.rng.randint(-1500, 1500))
        spouse = Kin((family, ""), builder.given_name(spouse_sex, spouse_birth), spouse_sex, spouse_birth)
    kids = [_kin(row) for row in children_rows]
    first_child = min((kid.birth for kid in kids), default=builder.today)
    compiled_on = builder.between(
        years_after(max(head.birth, spouse.birth if spouse else head.birth), 20),
        min(first_child - 300 * DAY, builder.today - 30 * DAY),
    )
    if builder.chance(0.3) and spouse is not None:  # a child who married away (除籍)
        mother = spouse if spouse.sex == "female" else head
        away = builder.children(head.family, head.full, spouse.full, mother.birth, compiled_on, 1)
        for kid in away:
            if age_on(kid.birth, builder.today) >= 25:
                kid.removed_on = builder.between(years_after(kid.birth, 24), builder.today - DAY)
                kids.append(kid)
    register = Register(builder.ids.register, domicile, head_name, compiled_on)
    builder.ids.register += 1
    builder.registers.append(register)
    builder.enter(register, head, builder.birth_order(head.sex), compiled_on, [builder.born_event(head)])
    if spouse is not None:
        label = "妻" if spouse.sex == "female" else "夫"
        event = {"kind": "marriage", "date": compiled_on.isoformat(), "detail": f"{head.full}と婚姻"}
        builder.enter(register, spouse, label, compiled_on, [builder.born_event(spouse), event])
    counts = {"male": 0, "female": 0}
    for kid in sorted(kids, key=lambda kin: kin.birth):
        counts[kid.sex] += 1
        label = _ORDINALS[min(counts[kid.sex], len(_ORDINALS)) - 1] + ("男" if kid.sex == "male" else "女")
        builder.enter(register, kid, label, max(kid.birth, compiled_on), [builder.born_event(kid)])
    by_kin: list[tuple[Kin, Any]] = []
    for row in rows:
        if row is head_row:
            by_kin.append((head, row))
        elif row is spouse_row and spouse is not None:
            by_kin.append((spouse, row))
        else:
            by_kin.append((kids[children_rows.index(row)], row))
    for entry in register.entries:  # the town's residents: the town's addresses on the 附票
        row = next((row for kin, row in by_kin if kin is entry.kin), None)
        if row is not None:
            entry.away = _addresses(row, entry.joined)
    return by_kin


def _addresses(row: Any, joined: dt.date) -> list[tuple[str, dt.date]]:
    """The 附票's lines of a resident of the town: the address before (when known), the town's."""
    if row.previous_address is not None and row.moved_in_on > joined:
        return [(row.previous_address, joined), (row.address, row.moved_in_on)]
    return [(row.address, joined)]
