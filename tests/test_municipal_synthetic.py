"""Synthetic municipalities: deterministic, realistic, consistent, and every special case really
is what the Population says (checked here from the records, independently of the generator).

Runs on each database of the ``database_url`` fixture (SQLite and PostgreSQL), migrated by the
municipal migrations, so every CHECK and foreign key of the schema is enforced.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from center.municipal import schema
from center.store.schema_versions import SchemaVersions, make_engine
from devtools import synthetic
from devtools.synthetic import Person, Population
from devtools.synthetic import data as synthetic_data
from documents import JST

MIGRATIONS = Path(__file__).resolve().parent.parent / "center" / "municipal" / "migrations"
TODAY = dt.date(2025, 3, 10)  # before June: the newest tax year is 2024
NOON = dt.datetime.combine(TODAY, dt.time(12), JST)
TOWN: dict[str, Any] = {"municipality": "131016", "name": "千代田区", "prefecture": "東京都"}
FIRST_SERIAL = 7_000_001

KANJI = re.compile(r"[\u4e00-\u9fff々]+")
KATAKANA = re.compile(r"[\u30a1-\u30fc]+")
FULL_WIDTH_NUMBER = "[０-９]+"
ADDRESS = re.compile(
    rf"東京都千代田区\w+?{FULL_WIDTH_NUMBER}丁目{FULL_WIDTH_NUMBER}番{FULL_WIDTH_NUMBER}号"
    rf"(　\w+{FULL_WIDTH_NUMBER}号)?"
)
RESIDENCE_CARD = re.compile(r"[A-Z]{2}\d{8}[A-Z]{2}")


def _migrated(url: str) -> sa.Engine:
    engine = make_engine(url)
    SchemaVersions(MIGRATIONS, schema.VERSION_TABLE, what="the municipal database").upgrade(engine)
    return engine


def _generate(engine: sa.Engine, households: int, seed: int = 1, **options: Any) -> Population:
    with engine.begin() as connection:
        return synthetic.generate(
            connection,
            **TOWN,
            households=households,
            seed=seed,
            today=TODAY,
            first_serial=options.pop("first_serial", FIRST_SERIAL),
            **options,
        )


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = _migrated(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def town(engine: sa.Engine) -> Population:
    return _generate(engine, 120, seed=20250310)


def _rows(connection: sa.Connection, table: sa.Table) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(sa.select(table).order_by(*table.primary_key))]


def _dump(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {table.name: _rows(connection, table) for table in schema.metadata.sorted_tables}


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# -- My Number, tax years ------------------------------------------------------------------------------


def test_my_number_check_digit_against_examples_worked_by_hand() -> None:
    # 2 0 2 4 0 4 0 1 1 2 3 times weights 6 5 4 3 2 7 6 5 4 3 2 = 12+0+8+12+0+28+0+5+4+6+6 = 81;
    # 81 mod 11 = 4; 11 - 4 = 7
    assert synthetic.my_number_check_digit("20240401123") == 7
    assert synthetic.is_valid_my_number("202404011237")
    # 1 in the 10th place from the left (weight 3) and 1 in the 11th (weight 2): 5, so 11 - 5 = 6
    assert synthetic.my_number_check_digit("00000000011") == 6
    # remainders 0 and 1 give 0: 6 + 5 = 11 (mod 11 = 0); 2 x 6 = 12 (mod 11 = 1)
    assert synthetic.my_number_check_digit("11000000000") == 0
    assert synthetic.my_number_check_digit("00000020000") == 0
    assert synthetic.my_number_check_digit("10000000000") == 5  # 6 mod 11 = 6


def test_a_wrong_check_digit_or_a_malformed_number_is_refused() -> None:
    for digit in "0123456789":
        assert synthetic.is_valid_my_number("20240401123" + digit) is (digit == "7")
    for bad in (
        "",
        "20240401123",
        "2024040112370",
        "2024040112３7",
        "２０２４０４０１１２３７",
        "20240401123x",
    ):
        assert not synthetic.is_valid_my_number(bad)
    for bad in ("2024040112", "2024040112x", "２０２４０４０１１２３"):
        with pytest.raises(ValueError):
            synthetic.my_number_check_digit(bad)


def test_the_newest_tax_year_changes_in_june() -> None:
    assert synthetic.latest_tax_year(dt.date(2025, 5, 31)) == 2024
    assert synthetic.latest_tax_year(dt.date(2025, 6, 1)) == 2025
    assert synthetic.latest_tax_year(dt.date(2025, 1, 1)) == 2024


# -- determinism -------------------------------------------------------------------------------------


def test_the_same_seed_writes_the_same_rows_and_another_seed_other_rows(tmp_path: Path) -> None:
    dumps, populations = [], []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        engine = _migrated(f"sqlite:///{tmp_path / name}.sqlite3")
        populations.append(_generate(engine, 80, seed=seed))
        dumps.append(_dump(engine))
        engine.dispose()
    assert dumps[0] == dumps[1] and populations[0] == populations[1]
    assert dumps[0]["residents"] and dumps[0]["register_addresses"] and dumps[0]["tax_assessments"]
    assert dumps[0]["residents"] != dumps[2]["residents"]
    assert dumps[0]["households"] != dumps[2]["households"]
    assert populations[0] != populations[2]


def test_the_global_random_generator_is_neither_used_nor_disturbed(tmp_path: Path) -> None:
    random.seed(99)
    expected = random.random()
    random.seed(99)
    engine = _migrated(f"sqlite:///{tmp_path / 'g.sqlite3'}")
    _generate(engine, 30)
    engine.dispose()
    assert random.random() == expected


# -- what the records say about a person ---------------------------------------------------------------


@dataclass
class Records:
    """Every table of one town, read back, indexed for the checks."""

    residents: dict[int, dict[str, Any]]
    households: dict[int, dict[str, Any]]
    members_of: dict[int, list[dict[str, Any]]]  # household id -> residents
    cards: dict[int, list[dict[str, Any]]]  # resident id -> links
    seals: dict[int, dict[str, Any]]
    taxes: dict[int, dict[int, dict[str, Any]]]  # resident id -> tax year -> row
    registers: dict[int, dict[str, Any]]
    register_members: dict[int, list[dict[str, Any]]]  # register id -> members by position
    addresses: dict[tuple[int, int], list[dict[str, Any]]]  # (register, position) -> lines by seq
    blocks: dict[int, list[dict[str, Any]]]

    @classmethod
    def read(cls, engine: sa.Engine) -> Records:
        dump = _dump(engine)
        residents = {row["id"]: row for row in dump["residents"]}
        members_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in dump["residents"]:
            members_of[row["household_id"]].append(row)
        cards: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in dump["card_links"]:
            cards[row["resident_id"]].append(row)
        taxes: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        for row in dump["tax_assessments"]:
            taxes[row["resident_id"]][row["tax_year"]] = row
        register_members: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in dump["register_members"]:
            register_members[row["register_id"]].append(row)
        addresses: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for row in dump["register_addresses"]:
            addresses[row["register_id"], row["position"]].append(row)
        blocks: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in dump["issuance_blocks"]:
            blocks[row["resident_id"]].append(row)
        return cls(
            residents,
            {row["id"]: row for row in dump["households"]},
            members_of,
            cards,
            {row["resident_id"]: row for row in dump["seal_registrations"]},
            taxes,
            {row["id"]: row for row in dump["family_registers"]},
            register_members,
            addresses,
            blocks,
        )

    def blocked(self, resident_id: int) -> bool:
        return any(
            b["starts_at"] <= NOON and (b["ends_at"] is None or b["ends_at"] > NOON)
            for b in self.blocks[resident_id]
        )

    def failures(self, resident_id: int, tax_years: tuple[int, ...]) -> set[str]:
        """Why the person is not ordinary, in the words of the tests (empty: ordinary)."""
        person = self.residents[resident_id]
        failed = set()
        if person["foreign_resident"]:
            failed.add("foreign")
        if person["status"] != "resident":
            failed.add("status")
        if self.blocked(resident_id):
            failed.add("block")
        if _age(person["birth_date"], TODAY) < 20:
            failed.add("age")
        if person["pending_characters"]:
            failed.add("pending")
        if person["moved_in_on"] >= TODAY:
            failed.add("moved_in")
        if not any(link["linked_at"].astimezone(JST).date() < TODAY for link in self.cards[resident_id]):
            failed.add("card")
        if resident_id not in self.seals:
            failed.add("seal")
        taxes = self.taxes[resident_id]
        if not all(
            year in taxes and taxes[year]["resident_on_january_1"] and taxes[year]["filed"]
            for year in tax_years
        ):
            failed.add("tax")
        register = self.registers.get(person["register_id"])
        entry = [
            m
            for m in self.register_members.get(person["register_id"], [])
            if m["resident_id"] == resident_id and not m["removed"]
        ]
        if (
            register is None
            or not entry
            or register["status"] != "current"
            or register["filing_pending_since"] is not None
            or any(
                self.blocked(m["resident_id"])
                for m in self.register_members[register["id"]]
                if m["resident_id"] not in (None, resident_id)
            )
        ):
            failed.add("register")
        if any(
            other["status"] == "moving_out" or other["pending_characters"] or self.blocked(other["id"])
            for other in self.members_of[person["household_id"]]
            if other["id"] != resident_id
        ):
            failed.add("household")
        return failed


EXPECTED_FAILURES = {
    "minors": {"age", "seal", "tax"},
    "deceased": {"status", "register"},
    "moved_out": {"status"},
    "moving_out": {"status"},
    "moving_out_household": {"household"},
    "protected": {"block"},
    "issuance_stopped": {"block"},
    "stop_lifted": set(),
    "no_seal": {"seal"},
    "not_resident_january_1": {"tax"},
    "tax_not_filed": {"tax"},
    "register_pending": {"register"},
    "register_closed": {"register"},
    "pending_characters": {"pending"},
    "moved_in_today": {"moved_in"},
    "linked_today": {"card"},
    "no_card": {"card"},
    "domicile_elsewhere": {"register"},
}


def test_every_special_case_is_present_and_is_ordinary_but_for_its_property(
    engine: sa.Engine, town: Population
) -> None:
    records = Records.read(engine)
    years = town.tax_years
    assert years == (2024, 2023, 2022)
    assert town.ordinary and len(town.ordinary) > town.residents // 6
    for person in town.ordinary:
        assert records.failures(person.resident_id, years) == set(), person
    cases = town.special_cases()
    assert set(cases) == {*EXPECTED_FAILURES, "foreign"}
    for name, expected in EXPECTED_FAILURES.items():
        assert cases[name], f"no {name}"
        for person in cases[name]:
            assert records.failures(person.resident_id, years) == expected, (name, person)
    for person in cases["foreign"]:
        assert records.failures(person.resident_id, years) <= {"foreign", "register", "seal", "tax"}
        assert "foreign" in records.failures(person.resident_id, years)
    for name, persons in (("ordinary", town.ordinary), *cases.items()):
        for person in persons:
            row = records.residents[person.resident_id]
            assert row["household_id"] == person.household_id, name
            links = records.cards[person.resident_id]
            assert [link["certificate_serial"] for link in links] == (
                [person.certificate_serial] if person.certificate_serial is not None else []
            ), name


def test_each_special_case_has_its_property_in_the_records(engine: sa.Engine, town: Population) -> None:
    records = Records.read(engine)

    def rows(persons: tuple[Person, ...]) -> list[dict[str, Any]]:
        assert persons
        return [records.residents[p.resident_id] for p in persons]

    for row in rows(town.minors):
        assert _age(row["birth_date"], TODAY) < 15 and records.cards[row["id"]]
    for row in rows(town.deceased):
        assert row["status"] == "deceased" and row["status_on"] < TODAY and records.cards[row["id"]]
        [member] = [m for m in records.register_members[row["register_id"]] if m["resident_id"] == row["id"]]
        assert member["removed"] and json.loads(member["events"])[-1]["kind"] == "death"
        assert all(
            link["linked_at"].astimezone(JST).date() < row["status_on"] for link in records.cards[row["id"]]
        )
    for row in rows(town.moved_out):
        assert row["status"] == "moved_out" and row["status_on"] < TODAY
    moving = rows(town.moving_out)
    for row in moving:
        assert row["status"] == "moving_out" and TODAY - dt.timedelta(days=14) <= row["status_on"] < TODAY
    for row in rows(town.moving_out_household):
        assert row["status"] == "resident"
        assert any(m["status"] == "moving_out" for m in records.members_of[row["household_id"]])
    assert {r["household_id"] for r in moving} == {p.household_id for p in town.moving_out_household}
    for row in rows(town.protected):
        [block] = records.blocks[row["id"]]
        assert block["kind"] == "protection_measure" and block["ends_at"] is None
        assert block["starts_at"] < NOON
    for row in rows(town.issuance_stopped):
        [block] = records.blocks[row["id"]]
        assert block["kind"] == "issuance_stop" and block["starts_at"] < NOON < block["ends_at"]
    for row in rows(town.stop_lifted):
        [block] = records.blocks[row["id"]]
        assert block["kind"] == "issuance_stop" and block["starts_at"] < block["ends_at"] < NOON
    for row in rows(town.no_seal):
        assert row["id"] not in records.seals
    newest = dt.date(town.tax_years[0], 1, 1)
    for row in rows(town.not_resident_january_1):
        assert newest < row["became_resident_on"] == row["moved_in_on"] < TODAY
        assert not row["previous_address"].startswith("東京都千代田区")
        latest = records.taxes[row["id"]].get(town.tax_years[0])
        assert latest is None or not latest["resident_on_january_1"]
        assert all(
            link["linked_at"].astimezone(JST).date() >= row["became_resident_on"]
            for link in records.cards[row["id"]]
        )
    for row in rows(town.tax_not_filed):
        assert not records.taxes[row["id"]][town.tax_years[0]]["filed"]
        assert all(records.taxes[row["id"]][year]["filed"] for year in town.tax_years[1:])
    for row in rows(town.register_pending):
        pending = records.registers[row["register_id"]]["filing_pending_since"]
        assert pending is not None and TODAY - dt.timedelta(days=7) < pending <= TODAY
    for row in rows(town.register_closed):
        assert records.registers[row["register_id"]]["status"] == "closed"
    for row in rows(town.pending_characters):
        assert row["pending_characters"]
    for row in rows(town.moved_in_today):
        assert row["moved_in_on"] == TODAY and row["previous_address"].startswith("東京都千代田区")
        assert row["previous_address"] != records.households[row["household_id"]]["address"]
    for row in rows(town.linked_today):
        [link] = records.cards[row["id"]]
        assert link["linked_at"].astimezone(JST).date() == TODAY
    for person, row in zip(town.no_card, rows(town.no_card), strict=True):
        assert person.certificate_serial is None and not records.cards[row["id"]]
    for row in rows(town.foreign):
        assert row["foreign_resident"] and row["nationality"] and row["domicile"] is None
        assert row["register_id"] is None and RESIDENCE_CARD.fullmatch(row["residence_card_number"])
    for row in rows(town.domicile_elsewhere):
        assert row["register_id"] is None and not row["domicile"].startswith("東京都")
        assert row["domicile"].endswith("番地") and row["domicile_head"]


def test_special_cases_do_not_share_households(town: Population) -> None:
    seen: dict[int, str] = {}
    cases = town.special_cases()
    for name in EXPECTED_FAILURES.keys() - {"no_card", "domicile_elsewhere", "moving_out_household"}:
        for household in {p.household_id for p in cases[name]}:
            assert seen.setdefault(household, name) == name, (household, name, seen[household])
    assert not {p.resident_id for p in town.ordinary} & {
        p.resident_id
        for name, persons in cases.items()
        for p in persons
        if name not in ("no_card", "foreign", "domicile_elsewhere")
    }


# -- realism and consistency ---------------------------------------------------------------------------


def test_names_are_kanji_with_katakana_readings(engine: sa.Engine, town: Population) -> None:
    families = dict(synthetic_data.FAMILY_NAMES)
    given = {
        name: kana for era in (*synthetic_data.MALE_NAMES, *synthetic_data.FEMALE_NAMES) for name, kana in era
    }
    males = {name for era in synthetic_data.MALE_NAMES for name, _ in era}
    residents = Records.read(engine).residents.values()
    japanese = [r for r in residents if not r["foreign_resident"]]
    assert japanese
    for row in japanese:
        assert KANJI.fullmatch(row["family_name"]) and KANJI.fullmatch(row["given_name"]), row
        assert KATAKANA.fullmatch(row["family_name_kana"]) and KATAKANA.fullmatch(row["given_name_kana"]), row
        assert families[row["family_name"]] == row["family_name_kana"]
        assert given[row["given_name"]] == row["given_name_kana"]
        assert (row["given_name"] in males) == (row["sex"] == "male"), row
    assert len({r["family_name"] for r in japanese}) > 20 and len({r["given_name"] for r in japanese}) > 30
    for row in residents:
        if row["foreign_resident"]:
            assert re.fullmatch(r"[A-Z]+( [A-Z]+)*", row["family_name"] + " " + row["given_name"]), row
            assert re.fullmatch(r"[\u30a1-\u30fc　]+", row["family_name_kana"] + row["given_name_kana"]), row


def test_addresses_are_in_the_municipality_with_full_width_numbers(
    engine: sa.Engine, town: Population
) -> None:
    records = Records.read(engine)
    addresses = [h["address"] for h in records.households.values()]
    assert len(addresses) == town.households == 120
    for address in addresses:
        assert ADDRESS.fullmatch(address), address
        assert not re.search(r"[0-9]", address)
    assert any("　" in address for address in addresses)  # some with a building and room
    assert len(set(addresses)) == len(addresses)
    for row in records.residents.values():
        if row["previous_address"] is not None:
            assert re.search(f"{FULL_WIDTH_NUMBER}番{FULL_WIDTH_NUMBER}号", row["previous_address"])


def test_my_numbers_are_valid_and_unique(engine: sa.Engine, town: Population) -> None:
    numbers = [r["my_number"] for r in Records.read(engine).residents.values()]
    assert len(numbers) == town.residents and len(set(numbers)) == len(numbers)
    assert all(synthetic.is_valid_my_number(number) for number in numbers)


def test_households_relationships_and_ages_are_consistent(engine: sa.Engine, town: Population) -> None:
    records = Records.read(engine)
    older_than_head = {"母", "父"}
    for members in records.members_of.values():
        assert 1 <= len(members) <= 6
        [head] = [m for m in members if m["relationship"] == "世帯主"]
        by_relation: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for member in members:
            by_relation[member["relationship"]].append(member)
            assert member["birth_date"] <= member["became_resident_on"] <= member["moved_in_on"] <= TODAY
        spouses = by_relation["妻"] + by_relation["夫"]
        assert len(spouses) <= 1
        parents = [head, *spouses]
        for child in by_relation["子"]:
            assert all(_age(parent["birth_date"], child["birth_date"]) >= 16 for parent in parents), child
        for grandchild in by_relation["孫"]:
            for child in by_relation["子"]:
                assert _age(child["birth_date"], grandchild["birth_date"]) >= 16
            assert by_relation["子の妻"]
        for elder in (m for m in members if m["relationship"] in older_than_head):
            assert _age(elder["birth_date"], head["birth_date"]) >= 16
    assert {"世帯主", "妻", "子"} <= {r["relationship"] for r in records.residents.values()}


def test_family_registers_are_in_order_with_their_events(engine: sa.Engine, town: Population) -> None:
    records = Records.read(engine)
    assert len(records.registers) == town.registers > 0
    removed = 0
    for register_id, members in records.register_members.items():
        register = records.registers[register_id]
        head = members[0]
        assert [m["position"] for m in members] == list(range(1, len(members) + 1))
        assert register["head_name"] == f"{head['family_name']}　{head['given_name']}"
        assert register["domicile"].startswith("東京都千代田区") and register["domicile"].endswith("番地")
        assert register["compiled_on"] >= head["birth_date"]
        assert len({m["family_name"] for m in members}) == 1
        spouses = [m for m in members if m["relationship"] in ("妻", "夫")]
        assert len(spouses) <= 1 and members[1 : 1 + len(spouses)] == spouses
        children = members[1 + len(spouses) :]
        counts = {"male": 0, "female": 0}
        for child in children:
            counts[child["sex"]] += 1
            assert child["relationship"] == "長二三四五六"[counts[child["sex"]] - 1] + (
                "男" if child["sex"] == "male" else "女"
            )
            assert _age(head["birth_date"], child["birth_date"]) >= 16
            assert head["given_name"] in (child["father"] + child["mother"])
        assert [c["birth_date"] for c in children] == sorted(c["birth_date"] for c in children)
        for member in members:
            events = json.loads(member["events"])
            assert events[0] == {
                "kind": "birth",
                "date": member["birth_date"].isoformat(),
                "detail": events[0]["detail"],
            }
            assert all(set(e) == {"kind", "date", "detail"} for e in events)
            dates = [dt.date.fromisoformat(e["date"]) for e in events]
            assert dates == sorted(dates) and dates[-1] <= TODAY
            assert member["removed"] == any(
                e["kind"] in ("death",) or e["detail"] == "婚姻により除籍" for e in events
            )
            removed += member["removed"]
            if member["resident_id"] is not None:
                resident = records.residents[member["resident_id"]]
                assert (resident["given_name"], resident["birth_date"]) == (
                    member["given_name"],
                    member["birth_date"],
                )
                if not member["removed"]:
                    assert resident["register_id"] == register_id
                    assert (resident["domicile"], resident["domicile_head"]) == (
                        register["domicile"],
                        register["head_name"],
                    )
    assert removed > 0
    for row in records.residents.values():
        if row["register_id"] is not None:
            entries = records.register_members[row["register_id"]]
            assert sum(m["resident_id"] == row["id"] for m in entries) == 1


def test_attachment_lines_are_consecutive_and_open_for_the_living(
    engine: sa.Engine, town: Population
) -> None:
    records = Records.read(engine)
    for register_id, members in records.register_members.items():
        for member in members:
            lines = records.addresses[register_id, member["position"]]
            assert 1 <= len(lines) <= 3 and [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
            for line, after in itertools.pairwise(lines):
                assert line["from_date"] < after["from_date"] and line["to_date"] == after["from_date"]
            last = lines[-1]
            resident = records.residents.get(member["resident_id"])
            if member["removed"]:
                assert last["to_date"] is not None and last["to_date"] <= TODAY
            else:
                assert last["to_date"] is None
            if resident is not None and resident["status"] in ("resident", "moving_out"):
                assert last["address"] == records.households[resident["household_id"]]["address"]
                assert last["from_date"] == resident["moved_in_on"]
            if resident is not None and resident["status"] == "moved_out":
                assert last["from_date"] == resident["status_on"]
                assert not last["address"].startswith("東京都千代田区")


def test_records_hold_together(engine: sa.Engine, town: Population) -> None:
    records = Records.read(engine)
    serials = sorted(link["certificate_serial"] for links in records.cards.values() for link in links)
    assert serials == list(range(FIRST_SERIAL, FIRST_SERIAL + len(serials)))
    assert all(
        link["linked_at"].astimezone(JST).date() <= TODAY
        for links in records.cards.values()
        for link in links
    )
    numbers = [seal["registration_number"] for seal in records.seals.values()]
    assert len(set(numbers)) == len(numbers)
    for seal in records.seals.values():
        resident = records.residents[seal["resident_id"]]
        assert _age(resident["birth_date"], seal["registered_on"]) >= 15 and seal["registered_on"] < TODAY
        impressions = {resident["family_name"], resident["family_name"] + resident["given_name"]}
        if resident["foreign_resident"]:
            alias = resident["alias"]
            impressions = {alias.split("　")[0]} if alias else {resident["family_name_kana"]}
        assert seal["impression"] in impressions
    for row in records.residents.values():
        assert (row["status"] == "resident") == (row["status_on"] is None)
        assert row["foreign_resident"] == (row["nationality"] is not None)
        if row["foreign_resident"]:
            assert row["domicile"] is None and row["register_id"] is None
            assert RESIDENCE_CARD.fullmatch(row["residence_card_number"]) and row["residence_status"]
            permanent = row["residence_status"] in ("永住者", "特別永住者")
            assert (row["residence_period_until"] is None) == permanent
            assert row["residence_period_until"] is None or row["residence_period_until"] > TODAY
        else:
            assert row["residence_card_number"] is None and row["alias"] is None and row["domicile"]
    for resident_id, years in records.taxes.items():
        for year, tax in years.items():
            assert year in town.tax_years
            assert tax["taxable_income"] == max(0, tax["total_income"] - tax["deductions"]) // 1000 * 1000
            assert tax["paid"] + tax["outstanding"] == tax["municipal_tax"] + tax["prefectural_tax"]
            assert tax["paid"] >= 0 and tax["outstanding"] >= 0
            if tax["total_income"] > 450_000:
                flat = (3_500, 1_500) if year <= 2023 else (3_000, 1_000)
                assert tax["municipal_tax"] == tax["taxable_income"] * 6 // 10_000 * 100 + flat[0]
                assert tax["prefectural_tax"] == tax["taxable_income"] * 4 // 10_000 * 100 + flat[1]
            else:
                assert tax["municipal_tax"] == tax["prefectural_tax"] == 0
            if tax["resident_on_january_1"]:
                assert records.residents[resident_id]["became_resident_on"] <= dt.date(year, 1, 1)
    assert any(tax["total_income"] > 3_000_000 for years in records.taxes.values() for tax in years.values())


def test_ids_continue_and_the_id_sequences_follow(engine: sa.Engine, town: Population) -> None:
    second = _generate(engine, 60, seed=2, first_serial=9_000_001)
    records = Records.read(engine)
    assert len(records.residents) == town.residents + second.residents
    assert len(records.households) == town.households + second.households
    assert min(p.household_id for p in second.ordinary) > 120
    numbers = [r["my_number"] for r in records.residents.values()]
    assert len(set(numbers)) == len(numbers)
    with engine.begin() as connection:  # a row inserted without an id gets a fresh one (PostgreSQL too)
        new = connection.execute(
            schema.households.insert()
            .values(address="東京都千代田区本町１丁目１番１号")
            .returning(schema.households.c.id)
        ).scalar_one()
    assert new == max(records.households) + 1


# -- sizes and options -----------------------------------------------------------------------------------


def test_two_thousand_households(tmp_path: Path) -> None:
    engine = _migrated(f"sqlite:///{tmp_path / 'big.sqlite3'}")
    town = _generate(engine, 2000, seed=3)
    with engine.connect() as connection:
        residents = connection.execute(sa.select(sa.func.count()).select_from(schema.residents)).scalar_one()
        foreign = connection.execute(
            sa.select(sa.func.count())
            .select_from(schema.residents)
            .where(schema.residents.c.foreign_resident)
        ).scalar_one()
        adults = (
            connection.execute(
                sa.select(schema.residents.c.id).where(schema.residents.c.birth_date <= dt.date(2005, 3, 10))
            )
            .scalars()
            .all()
        )
        linked = set(connection.execute(sa.select(schema.card_links.c.resident_id)).scalars())
    engine.dispose()
    assert residents == town.residents and 4000 < residents < 6000
    assert 0.015 < foreign / residents < 0.05
    assert 0.72 < sum(a in linked for a in adults) / len(adults) < 0.88  # cards = 0.8
    assert all(
        2 <= len(persons) <= 30
        for name, persons in town.special_cases().items()
        if name not in ("no_card", "foreign", "domicile_elsewhere")
    )
    assert len(town.ordinary) > residents // 4


def test_the_share_of_cards_follows_the_option(tmp_path: Path) -> None:
    for cards in (0.0, 1.0):
        engine = _migrated(f"sqlite:///{tmp_path / f'cards{cards}.sqlite3'}")
        town = _generate(engine, 60, cards=cards)
        records = Records.read(engine)
        engine.dispose()
        assert town.no_card and town.minors and town.linked_today and town.protected
        special = {p.resident_id for persons in town.special_cases().values() for p in persons}
        linked = {rid for rid, links in records.cards.items() if links}
        if cards == 0.0:  # only the special cases have a card: nobody is ordinary
            assert not town.ordinary and town.foreign and town.domicile_elsewhere
            assert {p.resident_id for p in town.linked_today} <= linked < special
        else:
            assert town.ordinary
            without = [
                r for r in records.residents.values() if r["id"] not in linked and r["status"] == "resident"
            ]
            assert {r["id"] for r in without} <= special


def test_small_towns_and_bad_arguments(tmp_path: Path) -> None:
    engine = _migrated(f"sqlite:///{tmp_path / 'small.sqlite3'}")
    town = _generate(engine, 1)
    assert town.households == 1 and town.residents >= 1
    for bad in ({"municipality": "131017"}, {"households": 0}, {"first_serial": 0}, {"cards": 1.5}):
        arguments: dict[str, Any] = {
            **TOWN,
            "households": 10,
            "seed": 1,
            "today": TODAY,
            "first_serial": 1,
            **bad,
        }
        with engine.begin() as connection, pytest.raises(ValueError):
            synthetic.generate(connection, **arguments)
    engine.dispose()
