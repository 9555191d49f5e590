"""A synthetic domicile municipality (本籍地) for a synthetic town: every resident of the town whose
本籍 is there has an entry in a register there that says what the town's records say (names, birth
date, sex, the 本籍 and 筆頭者), with the town's address on the 附票; an application matches it;
and the whole is deterministic. The town is SQLite; the domicile's database is each of the
``database_url`` fixture's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from center.municipal import schema, service, settings
from center.municipal.domicile_match import Applicant, Match
from center.municipal.issuer import store_settings
from center.municipal.registrations import Registrations, Status
from center.store.schema_versions import sqlite_file_url
from devtools import synthetic
from devtools.cli import main as dev_main
from devtools.synthetic import DomicileRegisters, Population
from documents import JST

TODAY = dt.date(2025, 3, 10)
NOW = dt.datetime.combine(TODAY, dt.time(11), JST)
TOWN: dict[str, Any] = {"municipality": "131016", "name": "千代田区", "prefecture": "東京都"}
DOMICILE = ("大阪府", "大阪市北区")
DOMICILE_SETTINGS = settings.typical("271276", "大阪市北区", "Kita Ward", "大阪府", "大阪市長　大阪　一郎")
SPACE = "　"


def _town(path: Path, far_domicile: tuple[str, str] | None = DOMICILE) -> tuple[sa.Engine, Population]:
    engine = service.open_database(sqlite_file_url(path))
    with engine.begin() as connection:
        people = synthetic.generate(
            connection,
            **TOWN,
            households=80,
            seed=20250310,
            today=TODAY,
            first_serial=5_000_001,
            far_domicile=far_domicile,
        )
    return engine, people


def _domicile(url: str, town: sa.Engine, seed: int = 7) -> tuple[sa.Engine, DomicileRegisters]:
    engine = service.open_database(url)
    with town.connect() as source, engine.begin() as connection:
        store_settings(connection, DOMICILE_SETTINGS, NOW)
        registers = synthetic.generate_domicile(
            connection, town=source, prefecture=DOMICILE[0], name=DOMICILE[1], seed=seed, today=TODAY
        )
    return engine, registers


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sa.Engine, Population]]:
    engine, people = _town(tmp_path_factory.mktemp("town") / "town.db")
    yield engine, people
    engine.dispose()


def _dump(engine: sa.Engine, tables: tuple[sa.Table, ...]) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key))
            ]
            for table in tables
        }


def _same_but_the_domicile(plain: sa.Engine, moved: sa.Engine, table: sa.Table, column: str) -> None:
    """The rows are the same but for ``column``, where only a place elsewhere became the domicile's."""
    query = sa.select(table).order_by(*table.primary_key)
    with plain.connect() as a, moved.connect() as b:
        for left, right in zip(a.execute(query), b.execute(query), strict=True):
            changed = {key for key in left._mapping if left._mapping[key] != right._mapping[key]}
            assert changed <= {column}
            if changed:
                assert "大阪府大阪市北区" in right._mapping[column]


REGISTER_TABLES = (schema.family_registers, schema.register_members, schema.register_addresses)


def test_every_resident_whose_domicile_is_there_is_in_a_register_as_the_town_records_say(
    town: tuple[sa.Engine, Population], database_url: str
) -> None:
    town_engine, people = town
    engine, registers = _domicile(database_url, town_engine)
    try:
        with town_engine.connect() as source:
            residents = {
                row.id: row
                for row in source.execute(
                    sa.select(schema.residents, schema.households.c.address).join(schema.households)
                )
            }
        elsewhere = {
            row.id for row in residents.values() if row.register_id is None and row.domicile is not None
        }
        assert all(residents[i].domicile.startswith("大阪府大阪市北区") for i in elsewhere)
        assert {entry.resident_id for entry in registers.entries} == elsewhere
        assert {person.resident_id for person in people.domicile_elsewhere} <= elsewhere
        with engine.connect() as connection:
            books = {row.id: row for row in connection.execute(sa.select(schema.family_registers))}
            members = {
                (row.register_id, row.position): row
                for row in connection.execute(sa.select(schema.register_members))
            }
            lines: dict[tuple[int, int], list[Any]] = {}
            for row in connection.execute(
                sa.select(schema.register_addresses).order_by(schema.register_addresses.c.seq)
            ):
                lines.setdefault((row.register_id, row.position), []).append(row)
        for entry in registers.entries:
            resident = residents[entry.resident_id]
            member = members[(entry.register_id, entry.position)]
            book = books[entry.register_id]
            assert (member.family_name, member.given_name, member.birth_date, member.sex) == (
                resident.family_name,
                resident.given_name,
                resident.birth_date,
                resident.sex,
            )
            assert (book.domicile, book.head_name, book.status) == (
                resident.domicile,
                resident.domicile_head,
                "current",
            )
            assert member.removed is (resident.status == "deceased")
            head = members[(entry.register_id, 1)]
            assert f"{head.family_name}{SPACE}{head.given_name}" == book.head_name
            if not member.removed:
                last = lines[(entry.register_id, entry.position)][-1]
                assert (last.address, last.to_date) == (resident.address, None)
        # people the town does not know: other registers, and members living elsewhere or removed
        known = {(entry.register_id, entry.position) for entry in registers.entries}
        assert registers.others == 10 and registers.registers == len(books)
        assert len({entry.register_id for entry in registers.entries}) + registers.others == len(books)
        assert any(key not in known and row.removed for key, row in members.items())
        assert any(key not in known and not row.removed for key, row in members.items())
        assert len(set(books)) == len({(b.domicile, b.head_name) for b in books.values()})
    finally:
        engine.dispose()


def test_the_town_s_people_apply_and_are_matched(town: tuple[sa.Engine, Population], tmp_path: Path) -> None:
    town_engine, people = town
    engine, registers = _domicile(sqlite_file_url(tmp_path / "domicile.db"), town_engine)
    try:
        entries = {entry.resident_id: entry for entry in registers.entries}
        registrations = Registrations(engine, lambda: NOW.astimezone(dt.UTC))
        assert people.domicile_elsewhere
        with town_engine.connect() as source:
            for person in people.domicile_elsewhere:
                row = source.execute(
                    sa.select(schema.residents).where(schema.residents.c.id == person.resident_id)
                ).one()
                assert person.certificate_serial is not None
                assert entries[person.resident_id].certificate_serial == person.certificate_serial
                registration = registrations.apply(
                    Applicant(row.family_name, row.given_name, row.birth_date, row.sex),
                    row.domicile,
                    row.domicile_head.replace(SPACE, ""),
                    person.certificate_serial,
                )
                entry = entries[person.resident_id]
                assert registration.entry == Match(entry.register_id, entry.position)
                assert registration.status is Status.PENDING
    finally:
        engine.dispose()


def test_the_domicile_is_deterministic_and_the_town_is_the_same_without_it(
    town: tuple[sa.Engine, Population], tmp_path: Path
) -> None:
    town_engine, people = town
    first, _ = _domicile(sqlite_file_url(tmp_path / "a.db"), town_engine)
    second, _ = _domicile(sqlite_file_url(tmp_path / "b.db"), town_engine)
    other, _ = _domicile(sqlite_file_url(tmp_path / "c.db"), town_engine, seed=8)
    plain, plain_people = _town(tmp_path / "plain.db", far_domicile=None)
    try:
        assert _dump(first, REGISTER_TABLES) == _dump(second, REGISTER_TABLES)
        assert _dump(first, REGISTER_TABLES) != _dump(other, REGISTER_TABLES)
        # the town drawn with far_domicile is the same town; only the 本籍 elsewhere moved there
        assert plain_people == people
        tables = tuple(
            t for t in schema.metadata.sorted_tables if t not in (schema.residents, schema.register_members)
        )
        assert _dump(plain, tables) == _dump(town_engine, tables)
        _same_but_the_domicile(plain, town_engine, schema.residents, "domicile")
        _same_but_the_domicile(plain, town_engine, schema.register_members, "events")  # 転籍 there
    finally:
        for engine in (first, second, other, plain):
            engine.dispose()
    with pytest.raises(ValueError, match="another prefecture"):
        _town(tmp_path / "bad.db", far_domicile=("東京都", "八王子市"))


def test_the_development_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:

    service.initialise(tmp_path / "kita", DOMICILE_SETTINGS, now=NOW)
    service.initialise(
        tmp_path / "chiyoda",
        settings.typical("131016", "千代田区", "Chiyoda City", "東京都", "区長"),
        now=NOW,
    )
    town = ["town", "--dir", str(tmp_path / "chiyoda"), "--households", "30", "--seed", "3"]
    assert dev_main([*town, "--far-domicile", str(tmp_path / "kita")]) == 0
    assert (
        dev_main(["domicile-town", "--dir", str(tmp_path / "kita"), "--town", str(tmp_path / "chiyoda")]) == 0
    )
    out = capsys.readouterr().out
    assert "family registers" in out and "of the town's residents" in out
    server = service.MunicipalServer.open(tmp_path / "chiyoda")
    try:
        with server.engine.connect() as connection:
            places = connection.execute(
                sa.select(schema.residents.c.domicile).where(
                    schema.residents.c.register_id.is_(None), schema.residents.c.domicile.is_not(None)
                )
            ).scalars()
            assert all(place.startswith("大阪府大阪市北区") for place in places)
    finally:
        server.close()
