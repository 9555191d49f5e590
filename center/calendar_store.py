"""The calendar in force, kept in the database so every center process sees an operator's change
(a suspension, a maintenance window) within :data:`REFRESH` seconds, without a restart."""

from __future__ import annotations

import datetime as dt
import json
import threading

import sqlalchemy as sa

from center.calendar import ServiceCalendar
from center.store.tables import service_calendar

REFRESH = dt.timedelta(seconds=5)


def store_calendar(connection: sa.Connection, calendar: ServiceCalendar, now: dt.datetime) -> None:
    document = json.dumps(calendar.to_dict(), ensure_ascii=False, sort_keys=True)
    updated = connection.execute(service_calendar.update().where(service_calendar.c.id == 1)
                                 .values(document=document, updated_at=now)).rowcount
    if not updated:
        connection.execute(service_calendar.insert().values(id=1, document=document, updated_at=now))


def load_calendar(connection: sa.Connection) -> ServiceCalendar:
    """The stored calendar, or the national default when none was stored."""
    document = connection.execute(
        sa.select(service_calendar.c.document).where(service_calendar.c.id == 1)).scalar_one_or_none()
    return ServiceCalendar.default() if document is None else ServiceCalendar.from_dict(json.loads(document))


class CalendarCache:
    """Re-reads the calendar at most every :data:`REFRESH`; thread-safe."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._calendar: ServiceCalendar | None = None
        self._read_at: dt.datetime | None = None

    def get(self, now: dt.datetime) -> ServiceCalendar:
        with self._lock:
            if self._calendar is None or self._read_at is None or now - self._read_at > REFRESH:
                with self.engine.connect() as connection:
                    self._calendar = load_calendar(connection)
                self._read_at = now
            return self._calendar
