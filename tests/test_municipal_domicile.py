"""Usage registrations for the registered domicile (本籍地の利用登録), the domicile municipality's
side: matching an applicant to a register entry (one answer for every way of not matching), the
normalisation of what is typed, the business-day rule, the staff's decisions, the CLI through its
real entry point, and the migration.

Runs on each database of the ``database_url`` fixture (SQLite and PostgreSQL). One test clock:
nothing here reads the machine's clock but the CLI test, which asks only what holds at any date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from center.municipal import schema, service, settings
from center.municipal.domicile_match import Applicant, DenialReason, Match
from center.municipal.domicile_text import canonical_domicile, canonical_name, kanji_number
from center.municipal.issuer import load_settings, store_settings
from center.municipal.registrations import (
    BadStaffName,
    DecisionNotAllowed,
    RegistrationRefused,
    Registrations,
    SerialTaken,
    Status,
    UnknownRegistration,
)
from center.store.schema_versions import make_engine
from documents import JST
from koufu.cli import main
from support.family_registers import Entry, write_register

MONDAY = dt.datetime(2025, 3, 10, 10, 0, tzinfo=JST)  # approved by the rule on Monday 17 March
DUE = dt.datetime(2025, 3, 17, 0, 0, tzinfo=JST)
TOWN = settings.typical("131016", "千代田区", "Chiyoda City", "東京都", "千代田区長　山田　太郎")

YAMADA = "東京都千代田区栄町二丁目十五番地"
SATO = "東京都千代田区栄町３丁目１番地"
SUZUKI = "東京都千代田区一番町１０番地"
TAKAHASHI = "東京都千代田区栄町４丁目２番地"

TARO = Applicant("山田", "太郎", dt.date(1960, 4, 1), "male")
HANAKO = Applicant("山田", "花子", dt.date(1962, 5, 5), "female")
ICHIRO = Applicant("山田", "一郎", dt.date(1990, 1, 10), "male")
HARUKO = Applicant("山田", "春子", dt.date(1992, 2, 2), "female")  # married away: removed (除籍)
JIRO = Applicant("佐藤", "次郎", dt.date(1950, 1, 1), "male")  # only in a closed register
SABURO = Applicant("鈴木", "三郎", dt.date(1970, 7, 7), "male")  # a filing pending
MAKOTO = Applicant("高橋", "誠", dt.date(1955, 3, 3), "male")  # in a rewritten register and the current
STRANGER = Applicant("中村", "健一", dt.date(1960, 4, 1), "male")

# register id: (本籍, 筆頭者, status, filing pending since, members (applicant, 続柄, removed))
REGISTERS: dict[int, tuple[str, str, str, dt.date | None, list[tuple[Applicant, str, bool]]]] = {
    1: (
        YAMADA,
        "山田　太郎",
        "current",
        None,
        [(TARO, "長男", False), (HANAKO, "妻", False), (ICHIRO, "長男", False), (HARUKO, "長女", True)],
    ),
    2: (SATO, "佐藤　次郎", "closed", None, [(JIRO, "二男", False)]),
    3: (SUZUKI, "鈴木　三郎", "current", dt.date(2025, 3, 3), [(SABURO, "三男", False)]),
    4: (TAKAHASHI, "高橋　誠", "pre_revision", None, [(MAKOTO, "長男", False)]),
    5: (TAKAHASHI, "高橋　誠", "current", None, [(MAKOTO, "長男", False)]),
}


def _write_registers(connection: sa.Connection) -> None:
    for register_id, (domicile, head, status, pending, members) in REGISTERS.items():
        entries = [
            Entry(person.family_name, person.given_name, person.birth_date, person.sex, relationship, removed)
            for person, relationship, removed in members
        ]
        write_register(
            connection,
            register_id,
            domicile=domicile,
            head=head,
            entries=entries,
            compiled_on=dt.date(1989, 6, 1),
            status=status,
            filing_pending_since=pending,
        )


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = service.open_database(database_url)
    with engine.begin() as connection:
        store_settings(connection, TOWN, MONDAY)
        _write_registers(connection)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def registrations(engine: sa.Engine, clock: Clock) -> Registrations:
    return Registrations(engine, clock)


def _refusal(
    registrations: Registrations, applicant: Applicant, domicile: str, head: str, serial: int
) -> Any:
    with pytest.raises(RegistrationRefused) as refused:
        registrations.apply(applicant, domicile, head, serial)
    return refused.value


# -- what is typed --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "register"),
    [
        ("東京都千代田区栄町二丁目十五番地", "東京都千代田区栄町２丁目１５番地"),
        ("東京都千代田区栄町2丁目15番地", "東京都千代田区栄町２丁目１５番地"),
        ("東京都千代田区栄町２丁目１５番", "東京都千代田区栄町二丁目十五番地"),
        ("　東京都 千代田区　栄町 2 丁目 15 番地 ", "東京都千代田区栄町２丁目１５番地"),
        ("東京都千代田区栄町二丁目十五番地の三", "東京都千代田区栄町2丁目15番地の3"),
        ("東京都千代田区一番町１０番地", "東京都千代田区1番町10番"),
        ("大阪府大阪市北区梅田二〇三番地", "大阪府大阪市北区梅田２０３番地"),
        ("東京都千代田区栄町2丁目15番地－3", "東京都千代田区栄町2丁目15番地‐3"),
    ],
)
def test_the_same_domicile_typed_in_the_common_ways(typed: str, register: str) -> None:
    assert canonical_domicile(typed) == canonical_domicile(register)


@pytest.mark.parametrize(
    ("typed", "register"),
    [
        ("千代田区栄町2丁目15番地", "東京都千代田区栄町2丁目15番地"),  # the prefecture left out
        ("東京都千代田区栄町2-15", "東京都千代田区栄町2丁目15番地"),  # 丁目 as a hyphen
        ("東京都千代田区栄町2丁目15番地の3", "東京都千代田区栄町2丁目15番地"),
        ("東京都千代田区栄町2丁目16番地", "東京都千代田区栄町2丁目15番地"),
        ("東京都八王子市栄町2丁目15番地", "東京都千代田区栄町2丁目15番地"),
    ],
)
def test_a_different_domicile_is_different(typed: str, register: str) -> None:
    assert canonical_domicile(typed) != canonical_domicile(register)


def test_place_names_with_numbers_are_left_alone_unless_a_number_follows() -> None:
    assert canonical_domicile("東京都八王子市三崎町5番地") == "東京都八王子市三崎町5番"
    assert canonical_domicile("東京都三鷹市下連雀三丁目") == "東京都三鷹市下連雀3丁目"
    assert [kanji_number(text) for text in ("十", "十五", "二十", "百五", "千二百三十四", "二〇三")] == [
        10,
        15,
        20,
        105,
        1234,
        203,
    ]


def test_names_are_compared_without_spaces_and_width() -> None:
    assert (
        canonical_name("山田　太郎")
        == canonical_name("山田 太郎")
        == canonical_name(" 山田太郎 ")
        == "山田太郎"
    )
    assert canonical_name("ＳＭＩＴＨ　ＪＯＨＮ") == "SMITHJOHN"
    assert canonical_name("髙橋") != canonical_name("高橋")  # another character, not guessed at


# -- matching ------------------------------------------------------------------------------------------


def test_an_applicant_in_the_register_is_matched_and_pending(registrations: Registrations) -> None:
    registration = registrations.apply(HANAKO, "東京都千代田区栄町２丁目１５番", "山田太郎", 501)
    assert registration.entry == Match(1, 2)
    assert registration.status is Status.PENDING
    assert registration.applied_at == MONDAY
    assert registration.approves_at == DUE
    assert registration.decided_at is None and registration.decided_by is None
    assert registrations.for_serial(501) == registration
    assert len(registration.id) == 32 and int(registration.id, 16) >= 0


def test_names_typed_or_given_with_spaces_and_full_width_still_match(registrations: Registrations) -> None:
    applicant = Applicant("山田　", "　一郎", ICHIRO.birth_date, "male")
    assert registrations.apply(
        applicant, " 東京都千代田区栄町 2丁目 15番地 ", "山田　太郎", 502
    ).entry == Match(1, 3)


def test_every_way_of_not_matching_reads_the_same(registrations: Registrations, engine: sa.Engine) -> None:
    cases = [
        (TARO, "東京都千代田区栄町2丁目16番地", "山田　太郎"),  # no register with that 本籍
        (TARO, YAMADA, "山田　花子"),  # another 筆頭者 (a member, not the head)
        (TARO, YAMADA, "佐藤　次郎"),
        (STRANGER, YAMADA, "山田　太郎"),  # not in it
        (HARUKO, YAMADA, "山田　太郎"),  # removed from it (除籍)
        (dataclasses.replace(TARO, birth_date=dt.date(1960, 4, 2)), YAMADA, "山田　太郎"),
        (dataclasses.replace(TARO, sex="female"), YAMADA, "山田　太郎"),
        (dataclasses.replace(TARO, given_name="太朗"), YAMADA, "山田　太郎"),
        (SABURO, YAMADA, "山田　太郎"),  # in another register here
    ]
    answers = set()
    for serial, (applicant, domicile, head) in enumerate(cases, start=600):
        refused = _refusal(registrations, applicant, domicile, head, serial)
        assert refused.reason is DenialReason.NOT_MATCHED
        answers.add((refused.code, refused.reason.value, refused.message_ja, refused.message_en))
        assert registrations.for_serial(serial) is None
    assert len(answers) == 1
    (_, _, words_ja, words_en) = answers.pop()
    assert "窓口" in words_ja and "office" in words_en
    for name in ("山田", "太郎", "花子", "佐藤", "栄町"):
        assert name not in words_ja
    # each refusal is recorded, denied by the rule, with nothing of the register nor of what was typed
    denied = registrations.listed(Status.DENIED)
    assert len(denied) == len(cases)
    assert {(r.entry, r.denial_reason, r.decided_by, r.approves_at) for r in denied} == {
        (None, DenialReason.NOT_MATCHED, "rule", None)
    }


def test_an_entry_only_in_closed_registers_is_refused_as_such(registrations: Registrations) -> None:
    refused = _refusal(registrations, JIRO, SATO, "佐藤　次郎", 701)
    assert refused.reason is DenialReason.REGISTER_CLOSED
    assert refused.message_ja != DenialReason.NOT_MATCHED.message_ja
    assert registrations.get(refused.registration_id).entry is None


def test_the_current_register_is_matched_not_the_rewritten_one(registrations: Registrations) -> None:
    assert registrations.apply(MAKOTO, TAKAHASHI, "高橋　誠", 702).entry == Match(5, 1)


def test_a_register_with_a_filing_pending_is_accepted(registrations: Registrations) -> None:
    registration = registrations.apply(SABURO, SUZUKI, "鈴木　三郎", 703)
    assert registration.entry == Match(3, 1) and registration.status is Status.PENDING


def test_the_same_card_gets_its_registration_back(registrations: Registrations, engine: sa.Engine) -> None:
    first = registrations.apply(TARO, YAMADA, "山田　太郎", 704)
    assert registrations.apply(TARO, YAMADA, "山田太郎", 704) == first
    assert registrations.apply(TARO, "typed wrong this time", "?", 704) == first  # nothing is matched again
    with engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(schema.domicile_registrations)).scalar()
            == 1
        )
    # another card of the same person is another application; the staff may deny it as a duplicate
    second = registrations.apply(TARO, YAMADA, "山田　太郎", 705)
    assert second.id != first.id and second.entry == first.entry
    denied = registrations.deny(second.id, DenialReason.DUPLICATE, "窓口　担当A")
    assert denied.denial_reason is DenialReason.DUPLICATE
    assert registrations.for_serial(705) is None
    # once denied, the card may apply again
    again = registrations.apply(TARO, YAMADA, "山田　太郎", 705)
    assert again.id not in (first.id, second.id) and again.status is Status.PENDING


def test_the_same_card_applying_at_once_gets_one_registration(
    registrations: Registrations, engine: sa.Engine
) -> None:
    barrier = threading.Barrier(6)

    def apply() -> str:
        barrier.wait()
        return registrations.apply(TARO, YAMADA, "山田　太郎", 710).id

    with ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(lambda _: apply(), range(6)))
    assert len(ids) == 1
    with engine.connect() as connection:
        table = schema.domicile_registrations
        assert connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 1


def test_nothing_personal_is_logged(registrations: Registrations, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    registration = registrations.apply(HANAKO, YAMADA, "山田　太郎", 706)
    _refusal(registrations, STRANGER, YAMADA, "山田　太郎", 707)
    registrations.approve(registration.id, "窓口　担当A")
    registrations.suspend(registration.id)
    text = caplog.text
    assert registration.id in text
    # the registrations' random ids (32 hex digits) may hold any run of digits: set aside first
    text = re.sub(r"\b[0-9a-f]{32}\b", "<registration>", text)
    for private in ("山田", "花子", "中村", "栄町", "十五", "1962", "706", "707"):
        assert private not in text


# -- the rule, and the staff ---------------------------------------------------------------------------


def test_the_rule_approves_at_the_first_read_after_it_is_due(
    registrations: Registrations, clock: Clock
) -> None:
    pending = registrations.apply(TARO, YAMADA, "山田　太郎", 801)
    clock.now = (DUE - dt.timedelta(seconds=1)).astimezone(dt.UTC)
    assert registrations.get(pending.id).status is Status.PENDING
    clock.now = (DUE + dt.timedelta(days=3, hours=5)).astimezone(dt.UTC)
    approved = registrations.get(pending.id)
    assert approved.status is Status.APPROVED
    assert approved.decided_at == DUE and approved.decided_by == "rule"  # the rule's instant, not the read's
    assert registrations.listed(Status.PENDING) == []


def test_the_number_of_business_days_comes_from_the_settings(
    registrations: Registrations, engine: sa.Engine
) -> None:
    with engine.begin() as connection:
        store_settings(connection, dataclasses.replace(TOWN, registration_days=2), MONDAY)
        assert load_settings(connection).registration_days == 2
    registration = registrations.apply(TARO, YAMADA, "山田　太郎", 802)
    assert registration.approves_at == dt.datetime(2025, 3, 12, tzinfo=JST)


def test_settings_read_and_write_the_business_days() -> None:
    document = TOWN.to_json()
    assert document["domicile_registration"] == {"business_days": 5}
    assert settings.MunicipalSettings.from_json(document) == TOWN
    del document["domicile_registration"]
    assert settings.MunicipalSettings.from_json(document).registration_days == 5
    for bad in (0, 31, "5", True):
        document["domicile_registration"] = {"business_days": bad}
        with pytest.raises(settings.SettingsError, match=r"domicile_registration\.business_days"):
            settings.MunicipalSettings.from_json(document)
    document["domicile_registration"] = {"business_days": 5, "days": 5}
    with pytest.raises(settings.SettingsError, match="unknown key 'days'"):
        settings.MunicipalSettings.from_json(document)


def test_the_staff_approve_at_once_idempotently(registrations: Registrations, clock: Clock) -> None:
    pending = registrations.apply(TARO, YAMADA, "山田　太郎", 803)
    clock.now += dt.timedelta(hours=2)
    approved = registrations.approve(pending.id, "窓口　担当A")
    assert approved.status is Status.APPROVED
    assert (approved.decided_at, approved.decided_by) == (clock.now, "窓口　担当A")
    clock.now += dt.timedelta(hours=2)
    assert registrations.approve(pending.id, "窓口　担当B") == approved
    clock.now = DUE.astimezone(dt.UTC) + dt.timedelta(days=1)
    assert registrations.get(pending.id) == approved  # the rule does not decide again
    with pytest.raises(DecisionNotAllowed, match="approved: it cannot be denied"):
        registrations.deny(pending.id, DenialReason.OTHER, "窓口　担当A")


def test_a_denial_is_final(registrations: Registrations) -> None:
    pending = registrations.apply(TARO, YAMADA, "山田　太郎", 804)
    denied = registrations.deny(pending.id, DenialReason.OTHER, "窓口　担当A")
    assert denied.status is Status.DENIED and denied.denial_reason is DenialReason.OTHER
    assert registrations.deny(pending.id, DenialReason.OTHER, "窓口　担当B") == denied
    for action in (
        lambda: registrations.approve(pending.id, "窓口　担当A"),
        lambda: registrations.deny(pending.id, DenialReason.DUPLICATE, "窓口　担当A"),
        lambda: registrations.suspend(pending.id),
        lambda: registrations.resume(pending.id),
        lambda: registrations.add_serial(pending.id, 9001),
    ):
        with pytest.raises(DecisionNotAllowed) as refused:
            action()
        assert refused.value.status is Status.DENIED and refused.value.code == "decision_not_allowed"


def test_suspension_and_resumption(registrations: Registrations, clock: Clock) -> None:
    approved = registrations.approve(registrations.apply(TARO, YAMADA, "山田　太郎", 805).id, "窓口　担当A")
    suspended = registrations.suspend(approved.id)
    assert suspended.status is Status.SUSPENDED and suspended.suspended_at == clock.now
    assert registrations.suspend(approved.id) == suspended
    with pytest.raises(DecisionNotAllowed):
        registrations.approve(approved.id, "窓口　担当A")
    assert registrations.for_serial(805) == suspended  # still known by its card
    assert registrations.resume(approved.id) == approved
    assert registrations.resume(approved.id) == approved
    # a pending one suspended past its day is pending again, and the rule approves it at its own instant
    pending = registrations.apply(HANAKO, YAMADA, "山田　太郎", 806)
    registrations.suspend(pending.id)
    clock.now = DUE.astimezone(dt.UTC) + dt.timedelta(days=2)
    assert registrations.get(pending.id).status is Status.SUSPENDED
    resumed = registrations.resume(pending.id)
    assert resumed.status is Status.APPROVED and resumed.decided_at == DUE and resumed.decided_by == "rule"


def test_a_renewed_card_is_known_by_the_same_registration(registrations: Registrations) -> None:
    registration = registrations.apply(TARO, YAMADA, "山田　太郎", 807)
    other = registrations.apply(HANAKO, YAMADA, "山田　太郎", 808)
    registrations.add_serial(registration.id, 8070)
    registrations.add_serial(registration.id, 8070)
    assert (
        registrations.for_serial(8070) == registrations.for_serial(807) == registrations.get(registration.id)
    )
    with pytest.raises(SerialTaken):
        registrations.add_serial(other.id, 8070)


def test_bad_requests(registrations: Registrations) -> None:
    with pytest.raises(UnknownRegistration):
        registrations.approve("0" * 32, "窓口　担当A")
    with pytest.raises(UnknownRegistration):
        registrations.get("nope")
    pending = registrations.apply(TARO, YAMADA, "山田　太郎", 809)
    for name in ("", "  ", "rule", "RULE", "a" * 65, "担当\x07"):
        with pytest.raises(BadStaffName):
            registrations.approve(pending.id, name)
    with pytest.raises(ValueError, match="positive"):
        registrations.apply(TARO, YAMADA, "山田　太郎", 0)
    for serial in (0, -809):
        with pytest.raises(ValueError, match="positive"):
            registrations.add_serial(pending.id, serial)
    assert registrations.get(pending.id).status is Status.PENDING


def test_the_catalogue_of_reasons_matches_the_schema() -> None:
    assert tuple(reason.value for reason in DenialReason) == schema.DENIAL_REASONS
    assert tuple(status.value for status in Status) == schema.REGISTRATION_STATUSES
    for reason in DenialReason:
        assert reason.message_ja.endswith("窓口でお尋ねください。") and reason.message_en.endswith(
            "domicile."
        )


def test_the_database_refuses_an_incoherent_row(engine: sa.Engine) -> None:
    table = schema.domicile_registrations
    row = {"id": "x" * 32, "certificate_serial": 1, "status": "pending", "applied_at": MONDAY}
    for bad in (
        {},  # pending without an entry
        {"register_id": 1, "position": 9},  # no such member
        {"register_id": 1, "position": 1, "denial_reason": "other"},
        {"register_id": 1, "position": 1, "status": "approved", "decided_at": MONDAY},  # by nobody
        {"register_id": 1, "position": 1, "status": "suspended"},
        {"register_id": 1, "position": 1, "status": "gone"},
    ):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(table.insert().values(**{**row, **bad}))


# -- the CLI ---------------------------------------------------------------------------------------------


def test_the_staff_s_commands(tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "municipality"
    service.initialise(directory, TOWN, db_url=database_url, now=MONDAY)
    server = service.MunicipalServer.open(directory, db_url=database_url)
    try:
        with server.engine.begin() as connection:
            _write_registers(connection)
        long_ago = Registrations(server.engine, Clock(MONDAY))  # due long before any day this runs
        old = long_ago.apply(TARO, YAMADA, "山田　太郎", 901)
        refused = _refusal(long_ago, STRANGER, YAMADA, "山田　太郎", 902)
        # applied now: pending at any date this runs (approved five business days from now)
        fresh = Registrations(server.engine).apply(HANAKO, YAMADA, "山田　太郎", 903)
        denied_soon = Registrations(server.engine).apply(ICHIRO, YAMADA, "山田　太郎", 904)
    finally:
        server.close()
    location = ["--dir", str(directory), "--db", database_url]

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["municipal", "registrations", *argv, *location])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("list")
    assert code == 0
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0] == ["id", "status", "applied", "approval", "register", "position", "decided_by", "reason"]
    rows = {line[0]: line for line in lines[1:]}
    assert rows[old.id][1:] == ["approved", "2025-03-10 10:00", "2025-03-17 00:00", "1", "1", "rule", "-"]
    assert rows[refused.registration_id][1:] == [
        "denied",
        "2025-03-10 10:00",
        "-",
        "-",
        "-",
        "rule",
        "not_matched",
    ]
    assert rows[fresh.id][1] == "pending" and rows[fresh.id][4:] == ["1", "2", "-", "-"]
    for private in ("山田", "太郎", "花子", "栄町"):
        assert private not in out

    code, out, _ = run("approve", fresh.id, "--by", "窓口　担当A")
    assert code == 0 and out.startswith(f"{fresh.id} approved (")
    code, out, _ = run("deny", denied_soon.id, "--reason", "duplicate", "--by", "窓口　担当B")
    assert (code, out.strip()) == (0, f"{denied_soon.id} denied: duplicate")
    code, out, _ = run("list", "--status", "approved")
    assert {line.split("\t")[0]: line.split("\t")[6] for line in out.splitlines()[1:]} == {
        old.id: "rule",
        fresh.id: "窓口　担当A",
    }
    code, out, _ = run("list", "--status", "denied")
    assert {line.split("\t")[0] for line in out.splitlines()[1:]} == {refused.registration_id, denied_soon.id}
    code, _, err = run("approve", denied_soon.id, "--by", "窓口　担当A")
    assert code == 1 and "denied: it cannot be approved" in err
    code, _, err = run("approve", "f" * 32, "--by", "窓口　担当A")
    assert code == 1 and "no usage registration" in err
    code, _, err = run("approve", old.id, "--by", "rule")
    assert code == 1 and "rule" in err


# -- the migration ---------------------------------------------------------------------------------------


def test_the_migration_goes_up_and_down_and_matches_the_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        service.VERSIONS.upgrade(engine)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), schema.metadata)
        assert [d for d in differences if "municipal_alembic_version" not in repr(d)] == []
        config = service.VERSIONS.config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        inspector = sa.inspect(engine)
        assert "domicile_registrations" not in inspector.get_table_names()
        assert "ix_register_members_birth_date" not in {
            i["name"] for i in inspector.get_indexes("register_members")
        }
        service.VERSIONS.upgrade(engine)
        assert {"domicile_registrations", "domicile_registration_serials"} <= set(
            sa.inspect(engine).get_table_names()
        )
        assert service.VERSIONS.current(engine) == "0004"
    finally:
        engine.dispose()
