"""Writing a built town into the record stores of :mod:`center.municipal.schema`, with ids after
those already there."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from center.municipal import schema
from devtools.synthetic.records import Ids, Register, jst_time
from devtools.synthetic.registers import attachment
from devtools.synthetic.tax import Income, tax_rows
from devtools.synthetic.town import Town


def next_ids(connection: sa.Connection) -> Ids:
    """The first id of each table after those already in it."""

    def after(table: sa.Table) -> int:
        last = connection.execute(sa.select(sa.func.max(table.c.id))).scalar_one()
        return int(last or 0) + 1

    return Ids(
        after(schema.households),
        after(schema.residents),
        after(schema.family_registers),
        after(schema.issuance_blocks),
    )


def existing_my_numbers(connection: sa.Connection) -> set[str]:
    """The My Numbers already recorded: a new resident's is none of them."""
    column = schema.residents.c.my_number
    return set(connection.execute(sa.select(column).where(column.is_not(None))).scalars())


def write_rows(connection: sa.Connection, town: Town, first_serial: int) -> None:
    """Insert every record of ``town``, card serials consecutive from ``first_serial`` (the link
    times and incomes are drawn here, after the cases); on PostgreSQL advance the id sequences."""
    rng = town.rng
    rows: dict[sa.Table, list[dict[str, Any]]] = {
        table: []
        for table in (
            schema.households,
            schema.family_registers,
            schema.residents,
            schema.register_members,
            schema.register_addresses,
            schema.card_links,
            schema.seal_registrations,
            schema.tax_assessments,
            schema.issuance_blocks,
        )
    }
    for household in town.households:
        rows[schema.households].append(
            {"id": household.id, "address": household.address, "address_kana": None}
        )
    register_rows(rows, town.registers)
    serial = first_serial
    block_id = town.ids.block
    for resident in town.residents:
        foreign = resident.foreign
        rows[schema.residents].append(
            {
                "id": resident.id,
                "household_id": resident.household.id,
                "family_name": resident.family[0],
                "given_name": resident.given[0],
                "family_name_kana": resident.family[1],
                "given_name_kana": resident.given[1],
                "birth_date": resident.birth,
                "sex": resident.sex,
                "relationship": resident.relationship,
                "became_resident_on": resident.became,
                "moved_in_on": resident.moved_in,
                "previous_address": resident.previous_address,
                "domicile": resident.domicile,
                "domicile_head": resident.domicile_head,
                "my_number": resident.my_number,
                "status": resident.status,
                "status_on": resident.status_on,
                "foreign_resident": foreign is not None,
                "alias": foreign.alias if foreign else None,
                "nationality": foreign.nationality if foreign else None,
                "residence_card_number": foreign.card_number if foreign else None,
                "residence_status": foreign.status if foreign else None,
                "residence_period_until": foreign.until if foreign else None,
                "pending_characters": resident.pending_characters,
                "register_id": resident.entry.register.id if resident.entry is not None else None,
            }
        )
        if resident.linked_on is not None:
            at = (
                jst_time(resident.linked_on, 8, 30)
                if resident.linked_on == town.today
                else jst_time(resident.linked_on, rng.randint(9, 16), rng.randint(0, 59))
            )
            rows[schema.card_links].append(
                {"certificate_serial": serial, "resident_id": resident.id, "linked_at": at}
            )
            serial += 1
        if resident.sealed_on is not None:
            rows[schema.seal_registrations].append(
                {
                    "resident_id": resident.id,
                    "registration_number": f"{resident.id:08d}",
                    "impression": resident.impression,
                    "registered_on": resident.sealed_on,
                }
            )
        income = Income(rng, resident)
        for year, here, filed in tax_rows(resident, town.tax_years):
            rows[schema.tax_assessments].append(income.assessment(year, here and filed, town.latest))
        for kind, starts, ends in resident.blocks:
            rows[schema.issuance_blocks].append(
                {
                    "id": block_id,
                    "resident_id": resident.id,
                    "kind": kind,
                    "starts_at": starts,
                    "ends_at": ends,
                }
            )
            block_id += 1
    for table, table_rows in rows.items():
        if table_rows:
            connection.execute(table.insert(), table_rows)
    if connection.dialect.name == "postgresql":
        for table in (schema.households, schema.residents, schema.family_registers, schema.issuance_blocks):
            if rows[table]:
                connection.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )


def register_rows(rows: dict[sa.Table, list[dict[str, Any]]], registers: list[Register]) -> None:
    """The rows of ``registers``, their members and 附票 lines, added to ``rows``."""
    for register in registers:
        rows[schema.family_registers].append(
            {
                "id": register.id,
                "domicile": register.domicile,
                "head_name": register.head_name,
                "status": register.status,
                "compiled_on": register.compiled_on,
                "filing_pending_since": register.pending_since,
            }
        )
        for position, entry in enumerate(register.entries, start=1):
            kin = entry.kin
            rows[schema.register_members].append(
                {
                    "register_id": register.id,
                    "position": position,
                    "resident_id": kin.resident.id if kin.resident is not None else None,
                    "family_name": kin.family[0],
                    "given_name": kin.given[0],
                    "birth_date": kin.birth,
                    "sex": kin.sex,
                    "father": kin.father,
                    "mother": kin.mother,
                    "relationship": entry.relationship,
                    "events": json.dumps(sorted(entry.events, key=lambda e: e["date"]), ensure_ascii=False),
                    "removed": kin.removed_on is not None,
                }
            )
            for seq, (address, since, until) in enumerate(attachment(entry), start=1):
                rows[schema.register_addresses].append(
                    {
                        "register_id": register.id,
                        "position": position,
                        "seq": seq,
                        "address": address,
                        "from_date": since,
                        "to_date": until,
                    }
                )
