"""Heartbeats kept in batches (center/heartbeat_batch.py) on a real PostgreSQL: the same rows as the
one-by-one path for the same heartbeats, each heartbeat its own verdict (kept, a replay, a
terminal not active, a key changed or a terminal unknown: nothing written), a replay refused
across two processes, and a batch that fails failing its heartbeats with a typed error, never
a hang, and never the others' heartbeats."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

from center import heartbeats, terminals
from center.errors import TerminalAuthError, TerminalForbidden
from center.heartbeat_batch import Beat, HeartbeatBatches, HeartbeatNotKept, Verdict
from center.heartbeats import Heartbeat
from center.store.driver import Database
from center.store.engine import make_engine, migrate
from center.store.tables import request_nonces, terminal_history, terminal_states
from center.store.tables import terminals as terminals_table
from center.terminals import TerminalCA
from support.heartbeat_reports import READY

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2026, 12, 9, 3, 0, tzinfo=dt.UTC)
BEAT = dt.timedelta(seconds=30)
T = TypeVar("T")


@pytest.fixture
def engine(postgres_url: str, tmp_path: Path) -> sa.Engine:
    engine = make_engine(postgres_url)
    migrate(engine)
    ca = TerminalCA.load_or_create(tmp_path / "terminal-ca", now=NOW)
    with engine.begin() as connection:
        for number in range(1, 6):
            terminals.enroll(connection, ca, f"T-{number:04d}", f"店舗 {number}", NOW)
    return engine


def key_of(engine: sa.Engine, terminal_id: str) -> bytes:
    with engine.connect() as connection:
        return bytes(
            connection.execute(
                sa.select(terminals_table.c.public_key).where(terminals_table.c.id == terminal_id)
            ).scalar_one()
        )


def beat(engine: sa.Engine, terminal_id: str, heartbeat: Heartbeat, at: dt.datetime, nonce: str = "") -> Beat:
    return Beat(terminal_id, key_of(engine, terminal_id), nonce or secrets.token_urlsafe(16), heartbeat, at)


def with_batches(url: str, work: Callable[[HeartbeatBatches], Awaitable[T]], **options: int) -> T:
    async def run() -> T:
        database = Database(url)
        batches = HeartbeatBatches(database, **options)
        try:
            return await work(batches)
        finally:
            await batches.close()
            await database.close()

    return asyncio.run(run())


def kept_together(url: str, beats: list[Beat], **options: int) -> tuple[list[Verdict], int]:
    """``beats`` handed to one process's batches at once: their verdicts, and how many statements
    kept them."""

    async def work(batches: HeartbeatBatches) -> tuple[list[Verdict], int]:
        verdicts = await asyncio.gather(*(batches.keep(b) for b in beats))
        return list(verdicts), batches.statements

    return with_batches(url, work, **options)


def one_by_one(url: str, beats: list[tuple[str, Heartbeat, dt.datetime]], rows: int) -> list[bool]:
    async def run() -> list[bool]:
        database = Database(url)
        try:
            added = []
            for terminal_id, heartbeat, at in beats:
                async with database.connection() as connection:
                    added.append(await heartbeats.record(connection, terminal_id, heartbeat, at, rows=rows))
            return added
        finally:
            await database.close()

    return asyncio.run(run())


def rows_of(engine: sa.Engine, table: sa.Table, terminal_id: str) -> list[dict[str, object]]:
    """A terminal's rows, without what names them (its id, the rows' ids), oldest first."""
    with engine.connect() as connection:
        order = table.c.id if "id" in table.c else table.c.terminal_id
        found = connection.execute(sa.select(table).where(table.c.terminal_id == terminal_id).order_by(order))
        return [{k: v for k, v in row._mapping.items() if k not in ("id", "terminal_id")} for row in found]


def nonces(engine: sa.Engine, terminal_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count())
                .select_from(request_nonces)
                .where(request_nonces.c.terminal_id == terminal_id)
            ).scalar_one()
        )


def test_batches_write_the_rows_the_one_by_one_path_writes(engine: sa.Engine, postgres_url: str) -> None:
    paper_low = dataclasses.replace(READY, printer="paper_low")
    session = dataclasses.replace(READY, last_session_at=NOW + 2 * BEAT)
    # changes, a last session (kept, no change), a restarted kiosk (no session), a silence, and
    # more changes than the history keeps (3 rows here), so it is trimmed as rows are added
    sequence = [READY, READY, paper_low, session, READY, paper_low, paper_low, READY, paper_low, READY]
    times = [NOW + i * BEAT for i in range(len(sequence))]
    times[6] += 5 * BEAT  # a silence of more than 90 s before the seventh
    times[7:] = [t + 5 * BEAT for t in times[7:]]
    added = one_by_one(
        postgres_url, [("T-0001", b, at) for b, at in zip(sequence, times, strict=True)], rows=3
    )

    # T-0002 and T-0003 the same, handed over at once: each batch holds one heartbeat of each
    beats = [
        beat(engine, t, b, at) for b, at in zip(sequence, times, strict=True) for t in ("T-0002", "T-0003")
    ]
    verdicts, statements = kept_together(postgres_url, beats, rows=3)

    assert statements == len(sequence)  # a terminal's heartbeats in order, one per batch
    assert [v.history_added for v in verdicts[::2]] == added == [v.history_added for v in verdicts[1::2]]
    assert all(v == Verdict("active", True, True, v.history_added) for v in verdicts)
    for terminal_id in ("T-0002", "T-0003"):
        assert rows_of(engine, terminal_states, terminal_id) == rows_of(engine, terminal_states, "T-0001")
        assert rows_of(engine, terminal_history, terminal_id) == rows_of(engine, terminal_history, "T-0001")
        assert nonces(engine, terminal_id) == len(sequence)
    assert len(rows_of(engine, terminal_history, "T-0001")) == 3


def test_heartbeats_arriving_together_are_one_statement(engine: sa.Engine, postgres_url: str) -> None:
    beats = [beat(engine, f"T-{n:04d}", READY, NOW) for n in range(1, 6)]
    verdicts, statements = kept_together(postgres_url, beats)
    assert statements == 1
    assert [v.recorded and v.history_added for v in verdicts] == [True] * 5


def test_a_replay_is_refused_even_by_another_process(engine: sa.Engine, postgres_url: str) -> None:
    first = beat(engine, "T-0001", READY, NOW)
    again = dataclasses.replace(
        first, heartbeat=dataclasses.replace(READY, printer="jam"), received=NOW + BEAT
    )

    async def two_processes() -> list[Verdict]:
        databases = [Database(postgres_url), Database(postgres_url)]
        processes = [HeartbeatBatches(database) for database in databases]
        try:
            together = await asyncio.gather(*(process.keep(first) for process in processes))
            later = [await process.keep(again) for process in processes]
            return [*together, *later]
        finally:
            for process, database in zip(processes, databases, strict=True):
                await process.close()
                await database.close()

    verdicts = asyncio.run(two_processes())
    assert sorted(v.recorded for v in verdicts[:2]) == [False, True]
    assert [v.recorded for v in verdicts[2:]] == [False, False]
    refused = next(v for v in verdicts if not v.recorded)
    with pytest.raises(TerminalAuthError) as replayed:
        terminals.decided(refused.status, refused.same_key, refused.recorded)
    assert replayed.value.code == "replayed_request"
    [state] = rows_of(engine, terminal_states, "T-0001")
    assert (state["printer"], state["last_seen"]) == ("ready", NOW)  # the replay changed nothing
    assert len(rows_of(engine, terminal_history, "T-0001")) == 1
    assert nonces(engine, "T-0001") == 1


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_a_terminal_not_active_is_refused_on_its_next_heartbeat(
    engine: sa.Engine, postgres_url: str, status: str
) -> None:
    kept_together(postgres_url, [beat(engine, "T-0001", READY, NOW)])
    with engine.begin() as connection:
        connection.execute(
            terminals_table.update().where(terminals_table.c.id == "T-0001").values(status=status)
        )
    [verdict], _ = kept_together(
        postgres_url, [beat(engine, "T-0001", dataclasses.replace(READY, printer="jam"), NOW + BEAT)]
    )
    assert verdict == Verdict(status, True, False, False)
    with pytest.raises(TerminalForbidden) as refused:
        terminals.decided(verdict.status, verdict.same_key, verdict.recorded)
    assert refused.value.code == f"terminal_{status}"
    [state] = rows_of(engine, terminal_states, "T-0001")
    assert (state["printer"], state["last_seen"]) == ("ready", NOW)
    assert nonces(engine, "T-0001") == 1


def test_a_changed_key_or_an_unknown_terminal_writes_nothing_and_leaves_the_decision_to_the_full_path(
    engine: sa.Engine, postgres_url: str
) -> None:
    other_key = dataclasses.replace(beat(engine, "T-0001", READY, NOW), public_key=key_of(engine, "T-0002"))
    unknown = dataclasses.replace(beat(engine, "T-0001", READY, NOW), terminal_id="T-9999")
    good = beat(engine, "T-0003", READY, NOW)
    verdicts, statements = kept_together(postgres_url, [other_key, unknown, good])
    assert statements == 1
    assert verdicts == [
        Verdict("active", False, False, False),
        Verdict(None, False, False, False),
        Verdict("active", True, True, True),
    ]
    assert [terminals.decided(v.status, v.same_key, v.recorded) for v in verdicts] == [False, False, True]
    assert rows_of(engine, terminal_states, "T-0001") == []
    assert nonces(engine, "T-0001") == 0


def test_a_heartbeat_the_database_refuses_fails_alone_with_a_typed_error(
    engine: sa.Engine, postgres_url: str
) -> None:
    nonsense = beat(engine, "T-0001", dataclasses.replace(READY, printer="on_fire"), NOW)
    good = [beat(engine, f"T-{n:04d}", READY, NOW) for n in (2, 3)]

    async def work(batches: HeartbeatBatches) -> list[Verdict | BaseException]:
        return await asyncio.gather(*(batches.keep(b) for b in [nonsense, *good]), return_exceptions=True)

    refused, *kept = with_batches(postgres_url, work)
    assert isinstance(refused, HeartbeatNotKept)
    assert (refused.status, refused.code) == (503, "heartbeat_not_kept")
    assert all(isinstance(v, Verdict) and v.recorded for v in kept)
    assert (rows_of(engine, terminal_states, "T-0001"), nonces(engine, "T-0001")) == ([], 0)
    assert len(rows_of(engine, terminal_states, "T-0002")) == 1


def test_a_database_out_of_reach_fails_the_waiting_heartbeats_not_hangs_them(
    engine: sa.Engine, postgres_url: str
) -> None:
    beats = [beat(engine, f"T-{n:04d}", READY, NOW) for n in (1, 2)]
    unreachable = sa.make_url(postgres_url).set(port=1)

    async def run() -> list[Verdict | BaseException]:
        database = Database(unreachable.render_as_string(hide_password=False), wait=0.5)
        batches = HeartbeatBatches(database)
        try:
            return await asyncio.gather(*(batches.keep(b) for b in beats), return_exceptions=True)
        finally:
            await batches.close()
            await database.close()

    answers = asyncio.run(run())
    assert [type(answer) for answer in answers] == [HeartbeatNotKept, HeartbeatNotKept]
    assert nonces(engine, "T-0001") == 0


def test_batches_are_for_postgresql_only(tmp_path: Path) -> None:
    async def make() -> None:
        database = Database(f"sqlite:///{tmp_path / 'center.sqlite3'}")
        try:
            with pytest.raises(ValueError):
                HeartbeatBatches(database)
        finally:
            await database.close()

    asyncio.run(make())


def test_closing_leaves_no_heartbeat_waiting(engine: sa.Engine, postgres_url: str) -> None:
    async def run() -> Verdict | BaseException:
        database = Database(postgres_url)
        batches = HeartbeatBatches(database)
        try:
            waiting = asyncio.ensure_future(batches.keep(beat(engine, "T-0001", READY, NOW)))
            await asyncio.sleep(0)  # the writer has it, its statement under way
            await batches.close()
            [answer] = await asyncio.wait_for(asyncio.gather(waiting, return_exceptions=True), timeout=60)
            return answer
        finally:
            await database.close()

    answer = asyncio.run(run())
    # answered either way: kept, or not known to be (the statement cut short may have committed:
    # the heartbeat is then kept once, and the terminal's next one is as good)
    assert isinstance(answer, HeartbeatNotKept) or (isinstance(answer, Verdict) and answer.recorded)
    assert nonces(engine, "T-0001") <= 1
