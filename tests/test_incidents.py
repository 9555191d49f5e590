"""Stopping issuance now (交付停止): the rules (which stop refuses which request, every bad value an
operator can type), the store on a real database (SQLite and PostgreSQL: set, several in force,
lifted, the history kept, each change on the audit chain with who did it) and the command line
(``koufu center stop | stops | resume``). The center applying them to terminals' requests, with
several worker processes, is tests/test_incidents_stack.py."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

from center.audit import verify_chain
from center.config import CenterConfig, initialise
from center.errors import CenterError, IssuanceStopped
from center.incidents import MAX_OPERATOR, MAX_REASON, ActiveStops, IssuanceStop, Scope, StopReason
from center.incidents_store import in_force, lift_stop, lifted, set_stop, stop_of, stops
from center.store.driver import Database
from center.store.tables import audit_log, issuance_stops
from koufu.cli import main

T = TypeVar("T")
NOW = dt.datetime(2026, 12, 10, 1, 0, tzinfo=dt.UTC)
CHIYODA, CHUO = "131016", "131024"
REASON = StopReason("システム障害のため、交付を停止しています", "Stopped because of a system fault")


def stop(stop_id: int, scope: Scope, target: str | None, minutes: int = 0) -> IssuanceStop:
    return IssuanceStop(stop_id, scope, target, REASON, "運用 田中", NOW + dt.timedelta(minutes=minutes))


# -- the rules ---------------------------------------------------------------------------------------

EVERYTHING = stop(1, Scope.ALL, None)
AT_T1 = stop(2, Scope.TERMINAL, "T-0001")
IN_CHIYODA = stop(3, Scope.MUNICIPALITY, CHIYODA)
SEALS = stop(4, Scope.CERTIFICATE_TYPE, "seal_registration")


@pytest.mark.parametrize(
    ("the_stop", "session", "resident", "seal_offered", "seal_order", "record_order"),
    [
        # what a stop refuses at terminal T-0001 for a resident of Chiyoda: a new session, the
        # card's proof (and the offer), the seal certificate offered, an order of a seal
        # certificate, an order of a resident record
        (EVERYTHING, True, True, False, True, True),
        (AT_T1, True, True, False, True, True),
        (IN_CHIYODA, False, True, False, True, True),
        (SEALS, False, False, True, True, False),
    ],
)
def test_each_scope_refuses_what_it_should(
    the_stop: IssuanceStop,
    session: bool,
    resident: bool,
    seal_offered: bool,
    seal_order: bool,
    record_order: bool,
) -> None:
    stops = ActiveStops.of([the_stop])
    assert (stops.for_session("T-0001") is the_stop) is session
    assert (stops.for_resident("T-0001", CHIYODA) is the_stop) is resident
    assert (stops.for_certificate("seal_registration") is the_stop) is seal_offered
    assert (stops.for_order("T-0001", CHIYODA, ["seal_registration"]) is the_stop) is seal_order
    assert (stops.for_order("T-0001", CHIYODA, ["resident_record"]) is the_stop) is record_order
    assert (
        stops.for_order("T-0001", CHIYODA, ["resident_record", "seal_registration"]) is the_stop
    ) is seal_order


@pytest.mark.parametrize("the_stop", [AT_T1, IN_CHIYODA, SEALS])
def test_a_stop_refuses_nothing_else(the_stop: IssuanceStop) -> None:
    """Another terminal, a resident of another municipality, another certificate type."""
    stops = ActiveStops.of([the_stop])
    assert stops.for_session("T-0002") is None
    assert stops.for_resident("T-0002", CHUO) is None
    assert stops.for_certificate("tax") is None
    assert stops.for_order("T-0002", CHUO, ["resident_record", "tax"]) is None


def test_none_in_force_refuses_nothing() -> None:
    stops = ActiveStops.of([])
    assert not stops
    assert stops.for_session("T-0001") is None and stops.for_order("T-0001", CHIYODA, ["tax"]) is None


def test_the_most_general_stop_is_said_then_the_oldest() -> None:
    later_everything = stop(9, Scope.ALL, None, minutes=5)
    stops = ActiveStops.of([SEALS, IN_CHIYODA, later_everything, AT_T1, EVERYTHING])
    assert stops.for_order("T-0001", CHIYODA, ["seal_registration"]) is EVERYTHING
    assert (
        ActiveStops.of([SEALS, IN_CHIYODA, AT_T1]).for_order("T-0001", CHIYODA, ["seal_registration"])
        is AT_T1
    )
    assert (
        ActiveStops.of([SEALS, IN_CHIYODA]).for_order("T-0001", CHIYODA, ["seal_registration"]) is IN_CHIYODA
    )


def test_the_refusal_carries_the_reason_in_both_languages() -> None:
    refusal = IN_CHIYODA.refusal()
    assert isinstance(refusal, IssuanceStopped)
    assert (refusal.code, refusal.status, refusal.message) == ("issuance_stopped", 403, REASON.en)
    assert refusal.details == {"message_ja": REASON.ja}
    assert refusal.stop_id == 3


LONG = "停" * (MAX_REASON + 1)


@pytest.mark.parametrize(
    ("ja", "en", "message"),
    [
        ("", "fault", "in Japanese must be 1 to 160 characters, not 0"),
        ("   ", "fault", "in Japanese must be 1 to 160"),
        ("障害", "", "in English must be 1 to 160 characters, not 0"),
        (LONG, "fault", "not 161"),
        ("障害", "x" * 161, "in English must be 1 to 160 characters, not 161"),
        ("障害のため\n停止", "fault", "one line of plain text"),
        ("障害", "a\tb", "one line of plain text"),
        ("障害\u202e", "fault", "one line of plain text"),  # a bidirectional override
        ("障害\u2028停止", "fault", "one line of plain text"),  # a line separator
        ("障害", "<b>fault</b>", "no < or >"),
        ("障害", "fault\x00", "one line of plain text"),
    ],
)
def test_a_reason_is_one_line_of_plain_text_in_both_languages(ja: str, en: str, message: str) -> None:
    with pytest.raises(CenterError, match=message) as refused:
        StopReason.of(ja, en)
    assert refused.value.code == "bad_stop"


def test_a_reason_of_the_longest_length_is_taken_without_the_spaces_around_it() -> None:
    words = "停" * MAX_REASON
    assert StopReason.of(f" {words}\u3000", "x" * MAX_REASON + "\r\n") == StopReason(words, "x" * MAX_REASON)


@pytest.mark.parametrize(
    ("scope", "target", "code", "message"),
    [
        (Scope.ALL, CHIYODA, "bad_stop", "names no target"),
        (Scope.MUNICIPALITY, None, "bad_stop", "a stop of one municipality names it"),
        (Scope.MUNICIPALITY, "131017", "bad_stop", "is not a municipality code"),  # its check digit
        (Scope.MUNICIPALITY, "13101", "bad_stop", "is not a municipality code"),
        (Scope.CERTIFICATE_TYPE, "passport", "bad_stop", "is not one of resident_record"),
        (Scope.CERTIFICATE_TYPE, None, "bad_stop", "a stop of one certificate type names it"),
        (Scope.TERMINAL, "t-0001", "bad_terminal_id", "terminal ids"),
        (Scope.TERMINAL, "T" * 33, "bad_terminal_id", "terminal ids"),
    ],
)
def test_a_stop_names_what_it_stops(
    center: CenterConfig, scope: Scope, target: str | None, code: str, message: str
) -> None:
    with pytest.raises(CenterError, match=message) as refused:
        on(center, lambda db: set_stop(db, KEY, scope, target, REASON, "運用 田中", NOW))
    assert refused.value.code == code
    assert on(center, lambda db: listed(db, lifted_too=True)) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_OPERATOR + 1), "田中\n花子", "ops\x1b[31m"])
def test_an_operator_is_named_in_plain_text(center: CenterConfig, name: str) -> None:
    with pytest.raises(CenterError) as refused:
        on(center, lambda db: set_stop(db, KEY, Scope.ALL, None, REASON, name, NOW))
    assert refused.value.code == "bad_stop"


# -- the store, on SQLite and PostgreSQL ----------------------------------------------------------

KEY = bytes(range(32))  # the audit chain's key


@pytest.fixture
def center(tmp_path: Path, database_url: str) -> CenterConfig:
    """A center directory (``init``: its keys, its migrated database) with one enrolled terminal
    and Chiyoda connected."""
    config = initialise(tmp_path / "center", database_url, "single")
    config.migrated_engine().dispose()
    config.enroll_terminal("T-0001", "テスト店", tmp_path / "T-0001", now=NOW)
    config.municipalities[CHIYODA] = {"url": "https://127.0.0.1:1"}
    config.save()
    return config


def on(center: CenterConfig, work: Callable[[Database], Awaitable[T]]) -> T:
    """``work`` on the center's database, as a center process reaches it (its own event loop and
    connections, closed after)."""

    async def run() -> T:
        database = Database(center.database_url, pool_size=2)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())


async def listed(database: Database, *, lifted_too: bool = False) -> list[IssuanceStop]:
    async with database.connection() as connection:
        return await stops(connection, lifted_too=lifted_too)


async def active(database: Database) -> ActiveStops:
    async with database.connection() as connection:
        return await in_force(connection)


def audit_lines(
    config: CenterConfig,
) -> list[tuple[str, str, str | None, str | None, str | None, str | None]]:
    engine = config.migrated_engine()
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    audit_log.c.event,
                    audit_log.c.outcome,
                    audit_log.c.reason,
                    audit_log.c.terminal_id,
                    audit_log.c.actor,
                    audit_log.c.detail,
                ).order_by(audit_log.c.seq)
            ).all()
            assert verify_chain(connection, config.audit_chain_key).intact
    finally:
        engine.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_stops_are_set_in_force_together_lifted_and_kept(center: CenterConfig) -> None:
    key = center.audit_chain_key

    async def work(database: Database) -> tuple[ActiveStops, ActiveStops, list[IssuanceStop], IssuanceStop]:
        first = await set_stop(database, key, Scope.MUNICIPALITY, CHIYODA, REASON, "運用 田中", NOW)
        second = await set_stop(database, key, Scope.TERMINAL, "T-0001", REASON, "ops-sato", NOW)
        third = await set_stop(database, key, Scope.CERTIFICATE_TYPE, "tax", REASON, "ops-sato", NOW)
        both = await active(database)
        lifted = await lift_stop(database, key, second.stop_id, "運用 鈴木", NOW + dt.timedelta(minutes=30))
        after = await active(database)
        assert [first.stop_id, second.stop_id, third.stop_id] == sorted(
            {first.stop_id, second.stop_id, third.stop_id}
        )
        return both, after, await listed(database, lifted_too=True), lifted

    both, after, history, lifted = on(center, work)
    assert [s.describe() for s in both.stops] == [
        "terminal T-0001",
        "municipality 131016",
        "certificate type tax",
    ]
    assert [s.describe() for s in after.stops] == ["municipality 131016", "certificate type tax"]
    assert lifted.lifted_by == "運用 鈴木" and lifted.lifted_at == NOW + dt.timedelta(minutes=30)
    assert [(s.stopped_by, s.in_force) for s in history] == [
        ("運用 田中", True),
        ("ops-sato", False),
        ("ops-sato", True),
    ]
    assert history[0].reason == REASON and history[0].stopped_at == NOW
    assert audit_lines(center) == [
        (
            "issuance_stop",
            "set",
            "municipality",
            None,
            "運用 田中",
            f"stop {history[0].stop_id}: municipality 131016",
        ),
        (
            "issuance_stop",
            "set",
            "terminal",
            "T-0001",
            "ops-sato",
            f"stop {history[1].stop_id}: terminal T-0001",
        ),
        (
            "issuance_stop",
            "set",
            "certificate_type",
            None,
            "ops-sato",
            f"stop {history[2].stop_id}: certificate type tax",
        ),
        (
            "issuance_stop",
            "lifted",
            "terminal",
            "T-0001",
            "運用 鈴木",
            f"stop {history[1].stop_id}: terminal T-0001",
        ),
    ]


def test_a_stop_is_lifted_once(center: CenterConfig) -> None:
    key = center.audit_chain_key

    async def work(database: Database) -> None:
        stopped = await set_stop(database, key, Scope.ALL, None, REASON, "ops-sato", NOW)
        await lift_stop(database, key, stopped.stop_id, "ops-sato", NOW)
        with pytest.raises(CenterError, match="was lifted by ops-sato at 2026-12-10T01:00:00") as twice:
            await lift_stop(database, key, stopped.stop_id, "運用 鈴木", NOW + dt.timedelta(minutes=1))
        assert (twice.value.code, twice.value.status) == ("stop_already_lifted", 409)
        with pytest.raises(CenterError, match="no stop 999") as unknown:
            await lift_stop(database, key, 999, "ops-sato", NOW)
        assert (unknown.value.code, unknown.value.status) == ("unknown_stop", 404)
        [kept] = await listed(database, lifted_too=True)
        assert kept.lifted_by == "ops-sato" and kept.lifted_at == NOW

    on(center, work)
    assert [line[:2] for line in audit_lines(center)] == [
        ("issuance_stop", "set"),
        ("issuance_stop", "lifted"),
    ]


def test_the_history_is_the_newest_lifted_stops_and_a_municipality_s_own(center: CenterConfig) -> None:
    """What the console's Incidents page reads: the lifted stops, newest first, at most so many;
    for municipal staff only those of everything and of their municipality."""
    key = center.audit_chain_key
    scopes = [
        (Scope.ALL, None),
        (Scope.MUNICIPALITY, CHIYODA),
        (Scope.MUNICIPALITY, CHUO),
        (Scope.TERMINAL, "T-0001"),
        (Scope.CERTIFICATE_TYPE, "tax"),
        (Scope.ALL, None),
    ]

    async def work(database: Database) -> tuple[list[int], list[list[int]], IssuanceStop | None]:
        ids = []
        for scope, target in scopes:
            ids.append((await set_stop(database, key, scope, target, REASON, "ops-sato", NOW)).stop_id)
        for stop_id in ids[:-1]:  # the last one stays in force
            await lift_stop(database, key, stop_id, "運用 鈴木", NOW)
        async with database.connection() as connection:
            seen = [
                [stop.stop_id for stop in await lifted(connection, most=10)],
                [stop.stop_id for stop in await lifted(connection, most=2)],
                [stop.stop_id for stop in await lifted(connection, most=10, municipality=CHIYODA)],
                [stop.stop_id for stop in await lifted(connection, most=10, municipality="011002")],
            ]
            assert await stop_of(connection, 999) is None
            return ids, seen, await stop_of(connection, ids[1])

    ids, seen, one = on(center, work)
    assert seen == [ids[4::-1], [ids[4], ids[3]], [ids[1], ids[0]], [ids[0]]]
    assert one is not None and (one.scope, one.target, one.lifted_by) == (
        Scope.MUNICIPALITY,
        CHIYODA,
        "運用 鈴木",
    )


def test_a_terminal_stop_names_an_enrolled_terminal(center: CenterConfig) -> None:
    with pytest.raises(CenterError, match="no terminal T-0404") as refused:
        on(
            center,
            lambda db: set_stop(db, center.audit_chain_key, Scope.TERMINAL, "T-0404", REASON, "ops", NOW),
        )
    assert refused.value.code == "unknown_terminal"
    assert audit_lines(center) == []  # nothing written


def test_the_database_keeps_a_stop_whole(center: CenterConfig) -> None:
    """The table's own constraints, for a writer that is not this module."""
    engine = center.migrated_engine()
    row = {"reason_ja": "停止", "reason_en": "stopped", "stopped_by": "ops", "stopped_at": NOW}
    try:
        for bad in (
            {"scope": "everything", "target": None},
            {"scope": "all", "target": CHIYODA},
            {"scope": "municipality", "target": None},
            {"scope": "all", "target": None, "lifted_by": "ops"},  # lifted by someone, at no time
        ):
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
                connection.execute(issuance_stops.insert().values(**row, **bad))
    finally:
        engine.dispose()


# -- the command line ------------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["center", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


REASONS = ["--reason-ja", " 障害のため停止しています ", "--reason-en", "Stopped for a fault"]


def test_stop_list_and_resume_from_the_command_line(
    center: CenterConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--dir", str(center.directory)]
    code, out, _ = cli(capsys, "stop", "--municipality", CHIYODA, *REASONS, "--by", "運用 田中", *where)
    assert code == 0 and out.startswith("stop 1 in force: municipality 131016, by 運用 田中 at 2")
    assert out.rstrip().endswith("+09:00; every center process refuses from its next request")
    assert cli(capsys, "stop", "--all", *REASONS, "--by", "ops-sato", *where)[1].startswith(
        "stop 2 in force: everything, by ops-sato"
    )
    code, out, _ = cli(capsys, "stop", "--certificate-type", "tax", *REASONS, "--by", "ops-sato", *where)
    assert out.startswith("stop 3 in force: certificate type tax")
    code, out, _ = cli(capsys, "stop", "--terminal", "T-0001", *REASONS, "--by", "ops-sato", *where)
    assert out.startswith("stop 4 in force: terminal T-0001")

    code, out, _ = cli(capsys, "resume", "2", "--by", "運用 鈴木", *where)
    assert (code, out) == (0, "stop 2 lifted (everything), by 運用 鈴木\n")
    code, out, _ = cli(capsys, "stops", *where)
    lines = out.splitlines()
    assert code == 0 and [line.split("\t")[1] for line in lines[::3]] == [
        "municipality 131016",
        "certificate type tax",
        "terminal T-0001",
    ]
    assert lines[0].startswith("1\tmunicipality 131016\tby 運用 田中 at ") and lines[0].endswith("\tin force")
    assert lines[1:3] == ["\tja: 障害のため停止しています", "\ten: Stopped for a fault"]
    code, out, _ = cli(capsys, "stops", "--all", *where)
    history = out.splitlines()[::3]
    assert [line.split("\t")[0] for line in history] == ["1", "2", "3", "4"]
    assert "\tlifted by 運用 鈴木 at " in history[1]

    assert [line[1:5] for line in audit_lines(center)] == [
        ("set", "municipality", None, "運用 田中"),
        ("set", "all", None, "ops-sato"),
        ("set", "certificate_type", None, "ops-sato"),
        ("set", "terminal", "T-0001", "ops-sato"),
        ("lifted", "all", None, "運用 鈴木"),
    ]
    code, out, _ = cli(capsys, "audit-verify", *where)
    assert code == 0 and out.startswith("audit log intact: 5 entries")


def test_nothing_in_force_is_said(center: CenterConfig, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "stops", "--dir", str(center.directory))[:2] == (0, "no stop in force\n")
    assert cli(capsys, "stops", "--all", "--dir", str(center.directory))[:2] == (0, "no stop was ever set\n")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["stop", "--municipality", CHUO, *REASONS], "municipality 131024 is not connected to this center"),
        (["stop", "--municipality", "131017", *REASONS], "'131017' is not a municipality code"),
        (["stop", "--terminal", "T-0404", *REASONS], "no terminal T-0404 is enrolled"),
        (["stop", "--all", "--reason-ja", "停止", "--reason-en", "<script>"], "no < or >"),
        (["stop", "--all", "--reason-ja", "停" * 161, "--reason-en", "x"], "1 to 160 characters, not 161"),
        (["stop", "--all", "--reason-ja", "停止", "--reason-en", " "], "in English must be 1 to 160"),
        (["resume", "7"], "there is no stop 7"),
    ],
)
def test_a_bad_command_is_one_line_and_changes_nothing(
    center: CenterConfig, capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    code, out, err = cli(capsys, *args, "--by", "ops-sato", "--dir", str(center.directory))
    assert (code, out) == (1, "")
    assert err.startswith("koufu: ") and error in err and err.count("\n") == 1
    assert audit_lines(center) == []


def test_resuming_a_lifted_stop_says_who_lifted_it(
    center: CenterConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--dir", str(center.directory)]
    assert cli(capsys, "stop", "--all", *REASONS, "--by", "ops-sato", *where)[0] == 0
    assert cli(capsys, "resume", "1", "--by", "ops-sato", *where)[0] == 0
    code, _, err = cli(capsys, "resume", "1", "--by", "運用 鈴木", *where)
    assert code == 1 and "stop 1 was lifted by ops-sato at " in err


@pytest.mark.parametrize(
    "args",
    [
        ["stop", "--all", "--reason-ja", "停止", "--by", "ops"],  # no English reason
        ["stop", "--all", "--reason-en", "stopped", "--by", "ops"],  # no Japanese reason
        ["stop", "--all", "--reason-ja", "停止", "--reason-en", "stopped"],  # nobody
        ["stop", "--reason-ja", "停止", "--reason-en", "stopped", "--by", "ops"],  # nothing stopped
        ["stop", "--all", "--terminal", "T-0001", "--reason-ja", "停止", "--reason-en", "x", "--by", "o"],
        ["stop", "--certificate-type", "passport", "--reason-ja", "停止", "--reason-en", "x", "--by", "o"],
        ["resume", "one", "--by", "ops"],
        ["resume", "1"],
    ],
)
def test_a_command_missing_its_parts_is_refused_by_the_parser(
    center: CenterConfig, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["center", *args, "--dir", str(center.directory)])
    assert exited.value.code == 2
    capsys.readouterr()
    assert audit_lines(center) == []
