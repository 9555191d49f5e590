"""What the center keeps of terminals' heartbeats, and what the console reads of it, on a real
database (SQLite and PostgreSQL), each heartbeat received at a time the test chooses: the latest
state written over, a history row only for a change or a return after a silence, the history
bounded by rows and by age, and the fleet's status and conditions at the test's clock. (The
endpoint, signed over TLS, is tested in test_heartbeats_api.py.)"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from center import heartbeats, terminals
from center.fleet import Condition, Fleet, FleetFilter, Status, derive
from center.heartbeats import Heartbeat
from center.store.driver import Database
from center.store.engine import make_engine, migrate
from center.store.tables import terminal_history, terminal_states
from center.terminal_status import Action, change_status
from center.terminals import TerminalCA
from support.heartbeat_reports import READY

NOW = dt.datetime(2026, 12, 9, 3, 0, tzinfo=dt.UTC)
BEAT = dt.timedelta(seconds=30)
T = TypeVar("T")


@pytest.fixture
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    engine = make_engine(database_url)
    migrate(engine)
    ca = TerminalCA.load_or_create(tmp_path_factory.mktemp("terminal-ca"), now=NOW)
    with engine.begin() as connection:
        for number in range(1, 5):
            terminals.enroll(connection, ca, f"T-{number:04d}", f"店舗 {number}", NOW)
    return engine


def on_database(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(url)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())


def receive(
    url: str, *beats: tuple[str, Heartbeat, dt.datetime], rows: int = heartbeats.HISTORY_ROWS
) -> list[bool]:
    """Each heartbeat kept as the center keeps it; whether each added a history row."""

    async def work(database: Database) -> list[bool]:
        added = []
        for terminal_id, beat, at in beats:
            async with database.connection() as connection:
                added.append(await heartbeats.record(connection, terminal_id, beat, at, rows=rows))
        return added

    return on_database(url, work)


def history(engine: sa.Engine, terminal_id: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(terminal_history).where(terminal_history.c.terminal_id == terminal_id).order_by("id")
        )
        return [dict(row._mapping) for row in rows]


def latest(engine: sa.Engine, terminal_id: str) -> dict[str, object]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(terminal_states).where(terminal_states.c.terminal_id == terminal_id)
        )
        [row] = [dict(row._mapping) for row in rows]
        return row


def utc(value: object) -> dt.datetime:
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_the_latest_state_is_one_row_written_over_and_only_changes_are_history(
    engine: sa.Engine, database_url: str
) -> None:
    paper_out = dataclasses.replace(READY, printer="paper_out")
    beats = [READY, READY, READY, paper_out, paper_out, READY]
    added = receive(database_url, *(("T-0001", beat, NOW + i * BEAT) for i, beat in enumerate(beats)))
    assert added == [True, False, False, True, False, True]
    row = latest(engine, "T-0001")
    assert (utc(row["last_seen"]), utc(row["since"]), row["printer"]) == (
        NOW + 5 * BEAT,
        NOW + 5 * BEAT,
        "ready",
    )
    rows = history(engine, "T-0001")
    assert [(utc(r["since"]), r["printer"]) for r in rows] == [
        (NOW, "ready"),
        (NOW + 3 * BEAT, "paper_out"),
        (NOW + 5 * BEAT, "ready"),
    ]
    assert rows[0]["previous_seen"] is None
    assert utc(rows[1]["previous_seen"]) == NOW + 2 * BEAT  # the last heartbeat of the state before
    assert history(engine, "T-0002") == []  # another terminal's are its own


@pytest.mark.parametrize(
    "change",
    [
        {"build": "0.2.0"},
        {"config_hash": "cd" * 32},
        {"printer": "toner_low"},
        {"card_reader": False},
        {"controller": "down"},
        {"alarm": "tamper"},
        {"change_owed": 40},
    ],
)
def test_every_reported_device_is_part_of_the_state(
    engine: sa.Engine, database_url: str, change: dict[str, object]
) -> None:
    changed = dataclasses.replace(READY, **change)  # type: ignore[arg-type]
    assert receive(database_url, ("T-0001", READY, NOW), ("T-0001", changed, NOW + BEAT)) == [True, True]
    [(name, value)] = change.items()
    assert latest(engine, "T-0001")[name] == value
    assert history(engine, "T-0001")[-1][name] == value


def test_the_last_session_is_kept_but_is_no_change_and_a_restarted_kiosk_does_not_forget_it(
    engine: sa.Engine, database_url: str
) -> None:
    session = NOW.replace(minute=0) - dt.timedelta(minutes=5)
    used = dataclasses.replace(READY, last_session_at=session)
    added = receive(
        database_url,
        ("T-0001", READY, NOW),
        ("T-0001", used, NOW + BEAT),  # a resident came: no history row for that
        ("T-0001", READY, NOW + 2 * BEAT),  # the kiosk restarted: it knows of no session
        ("T-0001", dataclasses.replace(READY, printer="jam"), NOW + 3 * BEAT),
    )
    assert added == [True, False, False, True]
    assert utc(latest(engine, "T-0001")["last_session_at"]) == session
    assert utc(history(engine, "T-0001")[-1]["last_session_at"]) == session


def test_a_terminal_back_after_a_silence_opens_a_history_row(engine: sa.Engine, database_url: str) -> None:
    back = NOW + BEAT + heartbeats.SILENCE + dt.timedelta(seconds=1)
    added = receive(
        database_url,
        ("T-0001", READY, NOW),
        ("T-0001", READY, NOW + BEAT),
        ("T-0001", READY, NOW + BEAT + heartbeats.SILENCE),  # late, but not silent for long
        ("T-0001", READY, back + heartbeats.SILENCE),
    )
    assert added == [True, False, False, True]
    gap = history(engine, "T-0001")[-1]
    assert utc(gap["previous_seen"]) == NOW + BEAT + heartbeats.SILENCE
    assert utc(latest(engine, "T-0001")["since"]) == back + heartbeats.SILENCE


def test_the_history_is_bounded_per_terminal_as_rows_are_added(engine: sa.Engine, database_url: str) -> None:
    flapping = [dataclasses.replace(READY, change_owed=i) for i in range(12)]
    receive(database_url, *(("T-0001", beat, NOW + i * BEAT) for i, beat in enumerate(flapping)), rows=5)
    receive(database_url, ("T-0002", READY, NOW), rows=5)
    assert [r["change_owed"] for r in history(engine, "T-0001")] == [7, 8, 9, 10, 11]
    assert len(history(engine, "T-0002")) == 1


def test_the_history_is_bounded_by_age_by_the_housekeeping(engine: sa.Engine, database_url: str) -> None:
    old = NOW - heartbeats.HISTORY_KEPT - dt.timedelta(minutes=1)
    receive(
        database_url,
        ("T-0001", READY, old),
        ("T-0001", dataclasses.replace(READY, printer="jam"), NOW - dt.timedelta(days=1)),
        ("T-0002", READY, old),
    )

    async def prune(database: Database) -> int:
        async with database.connection() as connection:
            return await heartbeats.prune(connection, NOW)

    assert on_database(database_url, prune) == 2
    assert [r["printer"] for r in history(engine, "T-0001")] == ["jam"]
    assert history(engine, "T-0002") == []
    assert latest(engine, "T-0002")["printer"] == "ready"  # the latest state is never pruned


def test_the_database_refuses_a_state_outside_the_protocol(engine: sa.Engine, database_url: str) -> None:
    with pytest.raises(Exception, match=r"(?i)check"):  # a bug upstream must not write nonsense
        receive(database_url, ("T-0001", dataclasses.replace(READY, printer="on_fire"), NOW))


# -- the fleet, as the console reads it ----------------------------------------------------------


def fleet_at(url: str, now: dt.datetime, question: Callable[[Fleet], Awaitable[T]]) -> T:
    return on_database(url, lambda database: question(Fleet(database, clock=lambda: now)))


def test_the_fleet_lists_status_and_conditions_at_the_centers_clock(
    engine: sa.Engine, database_url: str
) -> None:
    receive(
        database_url,
        ("T-0001", READY, NOW),
        ("T-0002", dataclasses.replace(READY, alarm="door+tamper", printer="paper_low"), NOW),
        ("T-0003", dataclasses.replace(READY, printer="jam", change_owed=30, controller="down"), NOW),
    )
    listed = fleet_at(database_url, NOW + dt.timedelta(minutes=1), lambda fleet: fleet.terminals())
    assert [(v.terminal_id, v.status, sorted(v.conditions)) for v in listed] == [
        ("T-0001", Status.ONLINE, []),
        ("T-0002", Status.ONLINE, [Condition.ALARM, Condition.PRINTER_WARNING]),
        (
            "T-0003",
            Status.ONLINE,
            [Condition.CHANGE_OWED, Condition.CONTROLLER_DOWN, Condition.PRINTER_FAULT],
        ),
        ("T-0004", Status.NEVER_SEEN, [Condition.OFFLINE]),
    ]
    assert (
        listed[1].store == "店舗 2" and listed[1].state is not None and listed[1].state.alarm == "door+tamper"
    )

    later = NOW + dt.timedelta(minutes=3, seconds=1)  # nothing heard for more than three minutes
    offline = fleet_at(database_url, later, lambda fleet: fleet.terminals(status=Status.OFFLINE))
    assert [v.terminal_id for v in offline] == ["T-0001", "T-0002", "T-0003"]
    faults = fleet_at(
        database_url, NOW, lambda fleet: fleet.terminals(having={Condition.ALARM, Condition.PRINTER_FAULT})
    )
    assert [v.terminal_id for v in faults] == ["T-0002", "T-0003"]
    patient = on_database(
        database_url,
        lambda database: Fleet(
            database, clock=lambda: later, offline_after=dt.timedelta(minutes=10)
        ).terminals(status=Status.ONLINE),
    )
    assert [v.terminal_id for v in patient] == ["T-0001", "T-0002", "T-0003"]


def test_revoked_terminals_are_listed_only_when_asked(engine: sa.Engine, database_url: str) -> None:
    for terminal_id, action in (("T-0004", Action.REVOKE), ("T-0003", Action.SUSPEND)):
        on_database(
            database_url,
            lambda database: change_status(database, b"k" * 32, terminal_id, action, "cli:test", NOW),  # noqa: B023
        )
    ids = fleet_at(database_url, NOW, lambda fleet: fleet.terminals())
    assert [(v.terminal_id, v.enrolment) for v in ids][-1] == ("T-0003", "suspended")
    everyone = fleet_at(database_url, NOW, lambda fleet: fleet.terminals(revoked=True))
    assert everyone[-1].terminal_id == "T-0004"
    one = fleet_at(database_url, NOW, lambda fleet: fleet.terminal("T-0004"))
    assert one is not None and one.enrolment == "revoked"
    assert fleet_at(database_url, NOW, lambda fleet: fleet.terminal("T-9999")) is None


def test_one_terminals_history_newest_first_with_its_silences(engine: sa.Engine, database_url: str) -> None:
    away = dt.timedelta(minutes=20)
    receive(
        database_url,
        ("T-0001", READY, NOW),
        ("T-0001", dataclasses.replace(READY, printer="paper_out"), NOW + BEAT),
        ("T-0001", dataclasses.replace(READY, printer="paper_out"), NOW + 2 * BEAT),
        ("T-0001", READY, NOW + 2 * BEAT + away),
    )
    entries = fleet_at(database_url, NOW, lambda fleet: fleet.history("T-0001"))
    assert [(e.since, e.state.printer, e.silent_for) for e in entries] == [
        (NOW + 2 * BEAT + away, "ready", away),
        (NOW + BEAT, "paper_out", None),
        (NOW, "ready", None),
    ]
    assert len(fleet_at(database_url, NOW, lambda fleet: fleet.history("T-0001", limit=2))) == 2
    assert fleet_at(database_url, NOW, lambda fleet: fleet.history("T-0002")) == []


def test_the_derivation_at_the_edges() -> None:
    minute = dt.timedelta(minutes=1)
    assert derive(READY, NOW, NOW + 3 * minute, 3 * minute) == (Status.ONLINE, frozenset())
    assert (
        derive(READY, NOW, NOW + 3 * minute + dt.timedelta(microseconds=1), 3 * minute)[0] is Status.OFFLINE
    )
    assert derive(READY, NOW + minute, NOW, 3 * minute)[0] is Status.ONLINE  # another process's clock ahead
    assert derive(None, None, NOW, minute) == (Status.NEVER_SEEN, frozenset({Condition.OFFLINE}))
    no_reader = dataclasses.replace(READY, card_reader=False, printer="offline")
    assert derive(no_reader, NOW, NOW, minute)[1] == {Condition.NO_CARD_READER, Condition.PRINTER_FAULT}


def test_the_fleet_is_filtered_counted_and_paged_in_the_database(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    ca = TerminalCA.load_or_create(tmp_path, now=NOW)
    with engine.begin() as connection:  # T-0001..T-0004 know no municipality nor chain
        for number in range(5, 12):
            town, chain = ("131016", "familymart") if number % 2 else ("271004", "lawson")
            terminals.enroll(connection, ca, f"T-{number:04d}", "店", NOW, municipality=town, chain=chain)
    receive(
        database_url,
        ("T-0005", dataclasses.replace(READY, alarm="door"), NOW),
        ("T-0006", dataclasses.replace(READY, printer="paper_out"), NOW),
        ("T-0007", READY, NOW - dt.timedelta(minutes=30)),
        ("T-0008", READY, NOW),
    )

    def ids(query: FleetFilter, **paging: Any) -> tuple[list[str], int, str | None]:
        found = fleet_at(database_url, NOW, lambda fleet: fleet.page(query, **paging))
        return [view.terminal_id for view in found.terminals], found.total, found.after

    assert ids(FleetFilter(municipality="131016")) == (["T-0005", "T-0007", "T-0009", "T-0011"], 4, None)
    assert ids(FleetFilter(chain="lawson", having=frozenset({Condition.PRINTER_FAULT}))) == (
        ["T-0006"],
        1,
        None,
    )
    assert ids(FleetFilter(having=frozenset({Condition.ALARM, Condition.PRINTER_FAULT}))) == (
        ["T-0005", "T-0006"],
        2,
        None,
    )
    # silent for more than 10 minutes: the one last heard 30 minutes ago and those never seen
    silent = ids(FleetFilter(offline_for=dt.timedelta(minutes=10)))
    assert silent[0] == ["T-0001", "T-0002", "T-0003", "T-0004", "T-0007", "T-0009", "T-0010", "T-0011"]
    # pages by id: the cursor is the last id shown, the total the same on every page
    first = ids(FleetFilter(), size=5)
    assert first == (["T-0001", "T-0002", "T-0003", "T-0004", "T-0005"], 11, "T-0005")
    second = ids(FleetFilter(), after="T-0005", size=5)
    assert second == (["T-0006", "T-0007", "T-0008", "T-0009", "T-0010"], 11, "T-0010")
    assert ids(FleetFilter(), after="T-0010", size=5) == (["T-0011"], 11, None)
    # the SQL says what derive() says, for every condition and status, on every terminal
    every = fleet_at(database_url, NOW, lambda fleet: fleet.terminals())
    for condition in Condition:
        having = ids(FleetFilter(having=frozenset({condition})))[0]
        assert having == [view.terminal_id for view in every if condition in view.conditions], condition
    for status in Status:
        assert ids(FleetFilter(status=status))[0] == [v.terminal_id for v in every if v.status is status]
