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

Filtering, counting and paging happen in the database (:class:`FleetFilter`, :meth:`Fleet.page`):
one statement whose filters are switched on and off by parameters, each condition written in SQL
to hold exactly when :func:`derive` says it does, and pages by terminal id (keyset: the next page
starts after the last id shown, an index walk however deep). The 55,000 terminals' latest states
are one row each, so a filter reads at most that many rows; ``last_seen`` is deliberately not
indexed (each heartbeat rewrites it: an index would cost every heartbeat to serve an occasional
console page).

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
PAGE_SIZE = 100  # terminals on a page of the console
EVERY = 1_000_000  # "no limit" (more than the nation's terminals)
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
    municipality: str | None  # of its store, if it was given at enrolment
    chain: str | None  # the store's chain, likewise
    enrolment: str  # active, suspended or revoked (center.terminals)
    status: Status
    conditions: frozenset[Condition]
    last_seen: dt.datetime | None
    since: dt.datetime | None  # in its reported state, unbroken, since
    state: Heartbeat | None  # what its last heartbeat said (None: never seen)


@dataclass(frozen=True)
class FleetFilter:
    """Which terminals to list: all of these that are given hold (``having``: any of them)."""

    offline_for: dt.timedelta | None = None  # silent (or never seen) for longer than this
    having: frozenset[Condition] = frozenset()
    status: Status | None = None
    municipality: str | None = None  # of its store
    chain: str | None = None
    revoked: bool = False  # the revoked terminals too


@dataclass(frozen=True)
class FleetPage:
    """One page of the fleet, by terminal id: ``after`` the id to ask from for the next page
    (``None``: this was the last), ``total`` the terminals the filter matches on every page."""

    terminals: list[TerminalView]
    total: int
    after: str | None


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
_FAULTS = ", ".join(f"'{printer}'" for printer in sorted(PRINTER_FAULTS))
_WARNINGS = ", ".join(f"'{printer}'" for printer in sorted(PRINTER_WARNINGS))
_SILENT = "(s.last_seen IS NULL OR s.last_seen < :offline_since)"
# each condition as SQL, true exactly when derive() says it holds (a terminal never seen: offline only)
_CONDITION_SQL = {
    Condition.OFFLINE: _SILENT,
    Condition.ALARM: "s.alarm IS NOT NULL",
    Condition.PRINTER_FAULT: f"s.printer IN ({_FAULTS})",
    Condition.PRINTER_WARNING: f"s.printer IN ({_WARNINGS})",
    Condition.CONTROLLER_DOWN: "s.controller = 'down'",
    Condition.NO_CARD_READER: "s.card_reader = FALSE",
    Condition.CHANGE_OWED: "s.change_owed > 0",
}
# one statement for every filter: a filter not asked for is switched off by its parameter, so the
# text never changes (one prepared statement on PostgreSQL) and nothing typed reaches the SQL
_ANY_CONDITION = " OR ".join(f"(:c_{condition.value} AND {sql})" for condition, sql in _CONDITION_SQL.items())
_WHERE = f"""
WHERE (:everyone OR t.status <> 'revoked')
    AND (CAST(:terminal_id AS VARCHAR(32)) IS NULL OR t.id = :terminal_id)
    AND (CAST(:municipality AS VARCHAR(6)) IS NULL OR t.municipality = :municipality)
    AND (CAST(:chain AS VARCHAR(32)) IS NULL OR t.chain = :chain)
    AND (NOT :silent OR s.last_seen IS NULL OR s.last_seen < :silent_since)
    AND (NOT :status_never_seen OR s.last_seen IS NULL)
    AND (NOT :status_offline OR s.last_seen < :offline_since)
    AND (NOT :status_online OR s.last_seen >= :offline_since)
    AND (NOT :conditional OR {_ANY_CONDITION})
"""
_FROM = "FROM terminals t LEFT JOIN terminal_states s ON s.terminal_id = t.id"
_TERMINALS = Sql(f"""
SELECT t.id AS terminal_id, t.store, t.municipality, t.chain, t.status AS enrolment, s.since, s.last_seen,
    {_REPORTED}
{_FROM} {_WHERE} AND t.id > :after
ORDER BY t.id LIMIT :limit
""")
_COUNT = Sql(f"SELECT count(*) AS counted {_FROM} {_WHERE}")
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
        query = FleetFilter(status=status, having=frozenset(having), revoked=revoked)
        return await self._read(query, None, after="", limit=None)

    async def page(self, query: FleetFilter, *, after: str = "", size: int = PAGE_SIZE) -> FleetPage:
        """The terminals ``query`` matches with ids after ``after``, at most ``size`` of them;
        filtered, counted and paged in the database (an index walk by id)."""
        now = self.clock()
        views = await self._read(query, None, after=after, limit=size + 1, now=now)
        async with self.database.connection() as connection:
            row = await connection.one(_COUNT, self._params(query, None, now))
        total = 0 if row is None else int(row["counted"])
        more = len(views) > size
        return FleetPage(views[:size], total, views[size - 1].terminal_id if more else None)

    async def terminal(self, terminal_id: str) -> TerminalView | None:
        """One terminal (``None``: not enrolled)."""
        found = await self._read(FleetFilter(revoked=True), terminal_id, after="", limit=None)
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

    def _params(self, query: FleetFilter, terminal_id: str | None, now: dt.datetime) -> dict[str, object]:
        return {
            "everyone": query.revoked,
            "terminal_id": terminal_id,
            "municipality": query.municipality,
            "chain": query.chain,
            "silent": query.offline_for is not None,
            "silent_since": now - (query.offline_for or dt.timedelta()),
            "offline_since": now - self.offline_after,
            **{f"status_{status.value}": query.status is status for status in Status},
            "conditional": bool(query.having),
            **{f"c_{condition.value}": condition in query.having for condition in Condition},
        }

    async def _read(
        self,
        query: FleetFilter,
        terminal_id: str | None,
        *,
        after: str,
        limit: int | None,
        now: dt.datetime | None = None,
    ) -> list[TerminalView]:
        now = self.clock() if now is None else now
        params = {**self._params(query, terminal_id, now), "after": after, "limit": limit or EVERY}
        async with self.database.connection() as connection:
            rows = await connection.all(_TERMINALS, params)
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
                    municipality=row["municipality"],
                    chain=row["chain"],
                    enrolment=row["enrolment"],
                    status=status,
                    conditions=conditions,
                    last_seen=last_seen,
                    since=stored_time(row["since"]) if seen else None,
                    state=state,
                )
            )
        return views
