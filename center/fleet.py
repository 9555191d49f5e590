"""The fleet (端末の稼働状況) as the operators' console reads it: every enrolled terminal with the
state its last heartbeat reported (:mod:`center.heartbeats`), what that means now, and one
terminal's history.

What a terminal's state means is derived here, in one place (:func:`derive`), from its last
heartbeat and the center's clock (the service's, injected: tests give their own):

- its :class:`Status`: ``online``; ``offline`` when its last heartbeat is older than
  ``offline_after`` (:data:`OFFLINE_AFTER` unless the console says otherwise); ``never_seen`` when
  it has sent none;
- its :class:`Condition` s, the things an operator acts on: ``offline`` (also for a terminal never
  seen), ``alarm`` (the door or tamper alarm latched), ``printer_fault`` (it cannot print:
  paper out, a jam, offline, another error), ``printer_warning`` (paper or toner low),
  ``controller_down`` (the peripheral controller does not answer: no coins), ``no_card_reader``,
  ``change_owed`` (the hoppers owe a resident change: the store's staff must pay it). The
  devices' conditions are as last reported, also while the terminal is offline.

Reads only, on the request path's drivers (``store/driver.py``), so the console can run in a
center process, on SQLite or PostgreSQL. Nothing here is about a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from center.heartbeats import COLUMNS, SILENCE, Heartbeat
from center.store.driver import Database, Row, Sql, stored_time

OFFLINE_AFTER = dt.timedelta(minutes=3)  # six heartbeats missed
HISTORY_LIMIT = 100
PRINTER_FAULTS = frozenset({"paper_out", "jam", "offline", "error"})
PRINTER_WARNINGS = frozenset({"paper_low", "toner_low"})


class Status(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    NEVER_SEEN = "never_seen"


class Condition(StrEnum):
    """Something about a terminal an operator acts on."""

    OFFLINE = "offline"
    ALARM = "alarm"
    PRINTER_FAULT = "printer_fault"
    PRINTER_WARNING = "printer_warning"
    CONTROLLER_DOWN = "controller_down"
    NO_CARD_READER = "no_card_reader"
    CHANGE_OWED = "change_owed"


@dataclass(frozen=True)
class TerminalView:
    """One terminal as the console lists it."""

    terminal_id: str
    store: str
    enrolment: str  # active, suspended or revoked (center.terminals)
    status: Status
    conditions: frozenset[Condition]
    last_seen: dt.datetime | None
    since: dt.datetime | None  # in its reported state, unbroken, since
    state: Heartbeat | None  # what its last heartbeat said (None: never seen)


@dataclass(frozen=True)
class HistoryEntry:
    """A state a terminal entered (or was in when it came back after a silence)."""

    since: dt.datetime
    silent_for: dt.timedelta | None  # the silence before it, when longer than heartbeats.SILENCE
    state: Heartbeat


def derive(
    state: Heartbeat | None, last_seen: dt.datetime | None, now: dt.datetime, offline_after: dt.timedelta
) -> tuple[Status, frozenset[Condition]]:
    """What a terminal's last heartbeat means ``now``."""
    if state is None or last_seen is None:
        return Status.NEVER_SEEN, frozenset({Condition.OFFLINE})
    status = Status.OFFLINE if now - last_seen > offline_after else Status.ONLINE
    conditions = {
        Condition.OFFLINE: status is Status.OFFLINE,
        Condition.ALARM: state.alarm is not None,
        Condition.PRINTER_FAULT: state.printer in PRINTER_FAULTS,
        Condition.PRINTER_WARNING: state.printer in PRINTER_WARNINGS,
        Condition.CONTROLLER_DOWN: state.controller == "down",
        Condition.NO_CARD_READER: not state.card_reader,
        Condition.CHANGE_OWED: state.change_owed > 0,
    }
    return status, frozenset(condition for condition, holds in conditions.items() if holds)


_REPORTED = ", ".join(f"s.{name}" for name in COLUMNS)
_TERMINALS = Sql(f"""
SELECT t.id AS terminal_id, t.store, t.status AS enrolment, s.since, s.last_seen, {_REPORTED}
FROM terminals t LEFT JOIN terminal_states s ON s.terminal_id = t.id
WHERE (:everyone OR t.status <> 'revoked')
    AND (CAST(:terminal_id AS VARCHAR(32)) IS NULL OR t.id = :terminal_id)
ORDER BY t.id
""")
_HISTORY = Sql(f"""
SELECT s.since, s.previous_seen, {_REPORTED} FROM terminal_history s
WHERE s.terminal_id = :terminal_id ORDER BY s.id DESC LIMIT :limit
""")


def _heartbeat(row: Row) -> Heartbeat:
    session = row["last_session_at"]
    return Heartbeat(
        build=row["build"],
        config_hash=row["config_hash"],
        printer=row["printer"],
        card_reader=bool(row["card_reader"]),
        controller=row["controller"],
        alarm=row["alarm"],
        change_owed=int(row["change_owed"]),
        last_session_at=None if session is None else stored_time(session),
    )


class Fleet:
    """The console's questions about the terminals, answered at the center's ``clock``."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], dt.datetime],
        offline_after: dt.timedelta = OFFLINE_AFTER,
    ) -> None:
        self.database = database
        self.clock = clock
        self.offline_after = offline_after

    async def terminals(
        self,
        *,
        status: Status | None = None,
        having: Collection[Condition] = (),
        revoked: bool = False,
    ) -> list[TerminalView]:
        """The enrolled terminals by id (the revoked ones only if ``revoked``), those in ``status``
        and with any of the conditions ``having`` when given."""
        listed = await self._read(None, revoked=revoked)
        return [
            view
            for view in listed
            if (status is None or view.status is status) and (not having or view.conditions & set(having))
        ]

    async def terminal(self, terminal_id: str) -> TerminalView | None:
        """One terminal (``None``: not enrolled)."""
        found = await self._read(terminal_id, revoked=True)
        return found[0] if found else None

    async def history(self, terminal_id: str, *, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
        """The states ``terminal_id`` was in, newest first (at most ``limit``)."""
        async with self.database.connection() as connection:
            rows = await connection.all(_HISTORY, {"terminal_id": terminal_id, "limit": limit})
        entries = []
        for row in rows:
            since = stored_time(row["since"])
            previous = None if row["previous_seen"] is None else stored_time(row["previous_seen"])
            gap = None if previous is None else since - previous
            silent = gap if gap is not None and gap > SILENCE else None
            entries.append(HistoryEntry(since, silent, _heartbeat(row)))
        return entries

    async def _read(self, terminal_id: str | None, *, revoked: bool) -> list[TerminalView]:
        now = self.clock()
        async with self.database.connection() as connection:
            rows = await connection.all(_TERMINALS, {"everyone": revoked, "terminal_id": terminal_id})
        views = []
        for row in rows:
            seen = row["last_seen"] is not None
            state = _heartbeat(row) if seen else None
            last_seen = stored_time(row["last_seen"]) if seen else None
            status, conditions = derive(state, last_seen, now, self.offline_after)
            views.append(
                TerminalView(
                    terminal_id=row["terminal_id"],
                    store=row["store"],
                    enrolment=row["enrolment"],
                    status=status,
                    conditions=conditions,
                    last_seen=last_seen,
                    since=stored_time(row["since"]) if seen else None,
                    state=state,
                )
            )
        return views
