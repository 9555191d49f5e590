"""Heartbeats kept together (group commit): on PostgreSQL, the heartbeats one center process
receives at the same time are authenticated and kept in one statement.

A heartbeat whose signature verified with the key the process remembers for its terminal (see
:class:`center.terminals.Authenticator`) is a :class:`Beat`; :meth:`HeartbeatBatches.keep` puts it
in the next batch and returns once that batch committed. One task of the process's event loop
writes the batches: whatever arrived while it wrote goes into the next one, so a lone heartbeat
waits for nothing and, under load, one statement (one round trip, one commit) serves many.

The statement does for each heartbeat what the one-by-one path does (the terminal's status read
and its key compared, the nonce recorded, then :func:`center.heartbeats.record`), with the same
rows as a result: each terminal's latest state written over, a history row when its state changed
or it was silent, with ``previous_seen``, the history trimmed to :data:`~center.heartbeats.
HISTORY_ROWS` rows. Each heartbeat gets its own :class:`Verdict`, read as the one-by-one path reads
its row: kept, a replay, a terminal not active, or a key that changed (then the caller decides on
the full path; nothing was written for it).

A batch holds at most one heartbeat per terminal (a terminal's second waits for the next batch,
in order), so each terminal's row is written once per statement, in the order its heartbeats
came. A batch that fails is tried again heartbeat by heartbeat (the statement wrote nothing, so
nothing is kept twice); a heartbeat that fails alone gets :class:`HeartbeatNotKept`, a 503 its
terminal answers by sending the next one. A waiter that goes away does not withdraw its
heartbeat. Closed while a statement is under way (the process stopping), its heartbeats are
answered ``heartbeat_not_kept`` too, whether or not the database had committed it: a heartbeat is
no decision, and kept once at most.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field

from center.errors import DependencyUnavailable
from center.heartbeats import COLUMNS, HISTORY_ROWS, REPORTED, SILENCE, Heartbeat
from center.store.driver import Database, Sql

log = logging.getLogger(__name__)

MAX_BATCH = 256  # heartbeats per statement


class HeartbeatNotKept(DependencyUnavailable):
    """The database did not keep a heartbeat (503 ``heartbeat_not_kept``), or the process closed
    before it knew (then it is kept once at most); the terminal's next heartbeat is as good."""


def _not_kept() -> HeartbeatNotKept:
    return HeartbeatNotKept("heartbeat_not_kept", "the heartbeat could not be kept now; send the next one")


@dataclass(frozen=True)
class Beat:
    """A heartbeat whose signature verified with ``public_key`` (DER), the key the process
    remembers for ``terminal_id``, received at ``received`` (the center's clock)."""

    terminal_id: str
    public_key: bytes
    nonce: str
    heartbeat: Heartbeat
    received: dt.datetime


@dataclass(frozen=True)
class Verdict:
    """What the database made of one heartbeat, as the one-by-one path reads its terminal's row:
    ``status`` (``None``: not enrolled), whether the key is still the one that verified the
    signature, whether the nonce was recorded now (``False`` with an active terminal and the same
    key: a replay), whether a history row was added."""

    status: str | None
    same_key: bool
    recorded: bool
    history_added: bool


_TYPES = {
    "terminal_id": "text",
    "public_key": "bytea",
    "nonce": "text",
    "received": "timestamptz",
    "build": "text",
    "config_hash": "text",
    "printer": "text",
    "card_reader": "boolean",
    "controller": "text",
    "alarm": "text",
    "change_owed": "integer",
    "last_session_at": "timestamptz",
}
_ARRAYS = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _TYPES.items())
_LIST = ", ".join(COLUMNS)
_SET = ", ".join(f"{name} = excluded.{name}" for name in REPORTED)

# One statement for a batch, each sub-statement seeing the tables as they were before it: so the
# trim keeps HISTORY_ROWS - 1 of the rows already there (``:older_kept``) beside the one added,
# which is what the one-by-one path keeps after adding it. Rows are written in the terminals'
# order, so two processes' batches take their row locks in the same order.
_KEEP_BATCH = Sql(f"""
WITH beat AS (
    SELECT * FROM unnest({_ARRAYS}) AS b({", ".join(_TYPES)})
), terminal AS (
    SELECT b.terminal_id, t.status, t.public_key = b.public_key AS same_key
    FROM beat b JOIN terminals t ON t.id = b.terminal_id
), recorded AS (
    INSERT INTO request_nonces (terminal_id, nonce, seen_at)
    SELECT b.terminal_id, b.nonce, b.received FROM beat b JOIN terminal t USING (terminal_id)
    WHERE t.status = 'active' AND t.same_key
    ORDER BY b.terminal_id
    ON CONFLICT DO NOTHING
    RETURNING terminal_id
), previous AS (
    SELECT terminal_id, last_seen FROM terminal_states WHERE terminal_id IN (SELECT terminal_id FROM beat)
), latest AS (
    INSERT INTO terminal_states AS s (terminal_id, since, last_seen, {_LIST})
    SELECT b.terminal_id, b.received, b.received, {", ".join(f"b.{n}" for n in COLUMNS)}
    FROM beat b JOIN recorded USING (terminal_id)
    ORDER BY b.terminal_id
    ON CONFLICT (terminal_id) DO UPDATE SET
        since = CASE
            WHEN ({", ".join(f"s.{n}" for n in REPORTED)})
                 IS NOT DISTINCT FROM ({", ".join(f"excluded.{n}" for n in REPORTED)})
                 AND s.last_seen >= excluded.last_seen - CAST(:silence AS interval)
            THEN s.since ELSE excluded.since END,
        last_seen = excluded.last_seen, {_SET},
        last_session_at = COALESCE(excluded.last_session_at, s.last_session_at)
    RETURNING terminal_id, since, last_session_at
), added AS (
    INSERT INTO terminal_history (terminal_id, since, previous_seen, {_LIST})
    SELECT l.terminal_id, l.since, p.last_seen, {", ".join(f"b.{n}" for n in REPORTED)}, l.last_session_at
    FROM latest l JOIN beat b USING (terminal_id) LEFT JOIN previous p USING (terminal_id)
    WHERE l.since = b.received
    ORDER BY l.terminal_id
    RETURNING terminal_id
), trimmed AS (
    DELETE FROM terminal_history h USING added a
    WHERE h.terminal_id = a.terminal_id AND h.id <= (
        SELECT id FROM terminal_history WHERE terminal_id = a.terminal_id
        ORDER BY id DESC LIMIT 1 OFFSET :older_kept
    )
)
SELECT b.terminal_id, t.status, COALESCE(t.same_key, false) AS same_key,
       r.terminal_id IS NOT NULL AS recorded, a.terminal_id IS NOT NULL AS history_added
FROM beat b
LEFT JOIN terminal t USING (terminal_id)
LEFT JOIN recorded r USING (terminal_id)
LEFT JOIN added a USING (terminal_id)
""")


@dataclass
class _Waiting:
    beat: Beat
    done: asyncio.Future[Verdict] = field(repr=False)


class HeartbeatBatches:
    """One process's heartbeats, kept in batches on PostgreSQL (see the module's description)."""

    def __init__(self, database: Database, *, max_batch: int = MAX_BATCH, rows: int = HISTORY_ROWS) -> None:
        if database.dialect != "postgresql":
            raise ValueError("heartbeats are kept in batches on PostgreSQL only")
        if rows < 1:
            raise ValueError("a terminal's history keeps at least one row")
        self.database = database
        self.max_batch = max_batch
        self.rows = rows
        self.statements = 0  # batches written, each one statement (for tests and the curious)
        self._waiting: collections.deque[_Waiting] = collections.deque()
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def keep(self, beat: Beat) -> Verdict:
        """``beat``'s verdict, once its batch committed; :class:`HeartbeatNotKept` if the
        database did not keep it."""
        waiting = _Waiting(beat, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        self._writer().set()
        return await asyncio.shield(waiting.done)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done.done():
                waiting.done.set_exception(_not_kept())

    def _writer(self) -> asyncio.Event:
        if self._arrived is None:
            self._arrived = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(self._arrived), name="heartbeats")
        return self._arrived

    async def _run(self, arrived: asyncio.Event) -> None:
        while True:
            if not self._waiting:
                arrived.clear()
                await arrived.wait()
            batch = self._next_batch()
            verdicts: dict[str, Verdict] = {}
            try:
                verdicts = await self._write([waiting.beat for waiting in batch])
            except Exception as error:
                log.warning("heartbeat batch of %d failed (%s)", len(batch), type(error).__name__)
                if len(batch) > 1:
                    verdicts = await self._one_by_one(batch)
            finally:  # also when closed meanwhile: no waiter is left waiting
                for waiting in batch:
                    verdict = verdicts.get(waiting.beat.terminal_id)
                    if waiting.done.done():
                        continue
                    if verdict is None:
                        waiting.done.set_exception(_not_kept())
                    else:
                        waiting.done.set_result(verdict)

    def _next_batch(self) -> list[_Waiting]:
        """The heartbeats waiting, at most one per terminal (the others stay first in line, in
        their order) and :attr:`max_batch` in all."""
        batch: dict[str, _Waiting] = {}
        later: list[_Waiting] = []
        while self._waiting and len(batch) < self.max_batch:
            waiting = self._waiting.popleft()
            if waiting.beat.terminal_id in batch:
                later.append(waiting)
            else:
                batch[waiting.beat.terminal_id] = waiting
        self._waiting.extendleft(reversed(later))
        return list(batch.values())

    async def _one_by_one(self, batch: list[_Waiting]) -> dict[str, Verdict]:
        """A failed batch again, each heartbeat alone: one that the database refuses fails only
        itself."""
        verdicts: dict[str, Verdict] = {}
        for waiting in batch:
            try:
                verdicts.update(await self._write([waiting.beat]))
            except Exception as error:
                log.warning("heartbeat of %s not kept (%s)", waiting.beat.terminal_id, type(error).__name__)
        return verdicts

    async def _write(self, beats: list[Beat]) -> dict[str, Verdict]:
        beats = sorted(beats, key=lambda beat: beat.terminal_id)
        params: dict[str, object] = {
            "terminal_id": [beat.terminal_id for beat in beats],
            "public_key": [beat.public_key for beat in beats],
            "nonce": [beat.nonce for beat in beats],
            "received": [beat.received for beat in beats],
            **{name: [getattr(beat.heartbeat, name) for beat in beats] for name in COLUMNS},
            "silence": SILENCE,
            "older_kept": self.rows - 1,
        }
        async with self.database.connection() as connection:
            rows = await connection.all(_KEEP_BATCH, params)
        self.statements += 1
        return {
            row["terminal_id"]: Verdict(row["status"], row["same_key"], row["recorded"], row["history_added"])
            for row in rows
        }
