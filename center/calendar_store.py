"""The calendar in force, kept in the database so every center process sees an operator's change
(a suspension, a maintenance window) within :data:`REFRESH` seconds, without a restart.

The command line replaces it whole (``koufu center calendar load``, :func:`store_calendar`). The
operators' console changes it one entry at a time from what it read (:func:`read_stored`): its
save (:func:`replace_calendar`) names the version it changed, and is refused with
:class:`CalendarChanged` if the calendar is another by then, so two people editing at once never
overwrite each other unseen. Each such save is one transaction with its audit line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa

from center.audit import AuditEntry, AuditWriter, Change
from center.calendar import Decision, Open, ServiceCalendar
from center.errors import CenterError, Conflict
from center.store.driver import Database, Sql
from center.store.tables import service_calendar
from documents import CertificateType

REFRESH = dt.timedelta(seconds=5)
AUDIT_EVENT = "calendar_change"


def _document(calendar: ServiceCalendar) -> str:
    """The calendar as it is stored: its data, keys sorted, one text for one calendar."""
    return json.dumps(calendar.to_dict(), ensure_ascii=False, sort_keys=True)


def store_calendar(connection: sa.Connection, calendar: ServiceCalendar, now: dt.datetime) -> None:
    document = _document(calendar)
    updated = connection.execute(
        service_calendar.update().where(service_calendar.c.id == 1).values(document=document, updated_at=now)
    ).rowcount
    if not updated:
        connection.execute(service_calendar.insert().values(id=1, document=document, updated_at=now))


def load_calendar(connection: sa.Connection) -> ServiceCalendar:
    """The stored calendar (the command line's reading)."""
    return _in_force(
        connection.execute(
            sa.select(service_calendar.c.document).where(service_calendar.c.id == 1)
        ).scalar_one_or_none()
    )


@dataclass(frozen=True)
class StoredCalendar:
    """The calendar in force as it was read, and its version: a change made from this reading
    names the version, and is refused if the calendar is another by then."""

    calendar: ServiceCalendar
    document: str | None  # as stored; None: never stored (the national rules are in force)
    updated_at: dt.datetime | None

    @property
    def version(self) -> str:
        """The first 16 hex digits of the stored text's SHA-256 (any change changes it)."""
        return hashlib.sha256((self.document or "").encode()).hexdigest()[:16]


def read_stored(connection: sa.Connection) -> StoredCalendar:
    """The stored calendar with its version (the console's reading)."""
    row = connection.execute(
        sa.select(service_calendar.c.document, service_calendar.c.updated_at).where(
            service_calendar.c.id == 1
        )
    ).one_or_none()
    if row is None:
        return StoredCalendar(_in_force(None), None, None)
    updated_at = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=dt.UTC)
    return StoredCalendar(_in_force(row.document), row.document, updated_at)


class CalendarChanged(Conflict):
    """The calendar is not the version a change was made from: someone saved another meanwhile."""

    code = "calendar_changed"


# the version read is still the one stored, or nothing was stored and still is not
_REPLACE = Sql(
    "UPDATE service_calendar SET document = :document, updated_at = :now WHERE id = 1 AND document = :before"
)
_FIRST = Sql(
    "INSERT INTO service_calendar (id, document, updated_at) VALUES (1, :document, :now) "
    "ON CONFLICT (id) DO NOTHING"
)


async def replace_calendar(
    writer: AuditWriter,
    read: StoredCalendar,
    calendar: ServiceCalendar,
    *,
    actor: str,
    reason: str,
    detail: str,
    now: dt.datetime,
) -> None:
    """Store ``calendar`` in place of ``read``, with its audit line (``calendar_change``,
    ``reason``: the part changed, ``detail``: what was changed), in one transaction. If the
    stored calendar is no longer ``read``, nothing is stored, the refusal is audited and
    :class:`CalendarChanged` raised. Every center process applies it within :data:`REFRESH`."""
    changed = CalendarChanged(
        CalendarChanged.code, "the calendar was changed since it was read; nothing was saved"
    )
    params = {"document": _document(calendar), "now": now, "before": read.document}
    entry = AuditEntry(AUDIT_EVENT, "accepted", reason, actor=actor, detail=detail)

    def refused(error: CenterError) -> AuditEntry:
        return AuditEntry(AUDIT_EVENT, "refused", error.code, actor=actor, detail=detail)

    await writer.record(
        entry,
        now,
        change=Change(_FIRST if read.document is None else _REPLACE, params, refusal=changed),
        refused=refused,
    )


def _in_force(document: str | None) -> ServiceCalendar:
    """The calendar a stored document says, or the national default when none was stored."""
    return ServiceCalendar.default() if document is None else ServiceCalendar.from_dict(json.loads(document))


_STORED = Sql("SELECT document FROM service_calendar WHERE id = 1")


class CalendarCache:
    """The calendar in force for one center process (on its event loop), and its decisions.

    The stored calendar is re-read at most every :data:`REFRESH`. A decision is remembered for as
    long as the calendar says it holds (until the next opening or closing it names, at most
    :data:`DECISION_HORIZON`), so a busy center does not work out the same answer per request.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = asyncio.Lock()
        self._calendar: ServiceCalendar | None = None
        self._read_at: dt.datetime | None = None
        self._decisions: dict[str | None, _Remembered[Decision]] = {}
        self._offers: dict[str, _Remembered[dict[CertificateType, Decision]]] = {}

    async def get(self, now: dt.datetime) -> ServiceCalendar:
        if self._stale(now):
            async with self._lock:
                if self._stale(now):
                    async with self.database.connection() as connection:
                        row = await connection.one(_STORED)
                    calendar = _in_force(None if row is None else row["document"])
                    self._calendar, self._read_at = calendar, now
                    self._decisions, self._offers = {}, {}
        assert self._calendar is not None
        return self._calendar

    def _stale(self, now: dt.datetime) -> bool:
        return (
            self._calendar is None
            or self._read_at is None
            or not dt.timedelta(0) <= now - self._read_at <= REFRESH
        )

    async def check(self, now: dt.datetime, municipality: str | None = None) -> Decision:
        """``ServiceCalendar.check(now, municipality)`` of the calendar in force."""
        calendar = await self.get(now)
        remembered = self._decisions.get(municipality)
        if remembered is not None and remembered.holds_at(now):
            return remembered.value
        decision = calendar.check(now, municipality)
        self._decisions[municipality] = _Remembered.of(decision, now, _edge(decision))
        return decision

    async def open_types(self, now: dt.datetime, municipality: str) -> dict[CertificateType, Decision]:
        """Every certificate type's decision for ``municipality`` (what a kiosk offers)."""
        calendar = await self.get(now)
        remembered = self._offers.get(municipality)
        if remembered is not None and remembered.holds_at(now):
            return remembered.value
        offers = calendar.open_types(now, municipality, list(CertificateType))
        edges = [_edge(decision) for decision in offers.values()]
        until = None if None in edges else min(edge for edge in edges if edge is not None)
        self._offers[municipality] = _Remembered.of(offers, now, until)
        return offers


DECISION_HORIZON = dt.timedelta(seconds=60)
V = TypeVar("V")


def _edge(decision: Decision) -> dt.datetime | None:
    return decision.closes_at if isinstance(decision, Open) else decision.reopens_at


@dataclass(frozen=True)
class _Remembered(Generic[V]):
    value: V
    since: dt.datetime
    until: dt.datetime

    @classmethod
    def of(cls, value: V, now: dt.datetime, edge: dt.datetime | None) -> _Remembered[V]:
        horizon = now + DECISION_HORIZON
        return cls(value, now, horizon if edge is None else min(edge, horizon))

    def holds_at(self, now: dt.datetime) -> bool:
        return self.since <= now < self.until
