"""Changes to the service calendar one entry at a time (カレンダーの変更), as the operators' console
makes them: add, replace or remove one maintenance window, municipal stop, certificate type's
hours or suspension, or set the national hours and the year-end closure.

A change is made on the calendar's data (the format of docs/calendar.md): the entry, as the format
writes it, goes into the calendar's ``to_dict()`` and the whole is read back with
``ServiceCalendar.from_dict``. So a change is checked by the format's own rules and nothing else;
a mistake is the format's :class:`~center.calendar_format.CalendarDataError`, whose place
(``calendar.maintenance[2].end``) names the changed entry's field. Each change says which
municipalities it concerns (for who may make it) and describes itself in a short line for the
audit log: times, codes and types, never an entry's own words.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from center.calendar import ServiceCalendar
from center.calendar_rules import (
    CertificateHours,
    MaintenanceWindow,
    MunicipalityStop,
    Suspension,
    Window,
)
from center.errors import NotFound
from documents import JST

DETAIL_LENGTH = 120  # the audit log's detail column


class Section(StrEnum):
    """A part of the calendar that a change is about; its value is the data format's key."""

    HOURS = "service_hours"  # the national hours, with the year-end closure: one entry, no list
    MAINTENANCE = "maintenance"
    MUNICIPALITY_STOPS = "municipality_stops"
    CERTIFICATE_HOURS = "certificate_hours"
    SUSPENSIONS = "suspensions"

    @property
    def listed(self) -> bool:
        """Whether the section is a list of entries (everything but the national hours)."""
        return self is not Section.HOURS


class EntryUnknown(NotFound):
    """The entry a change names is not in the calendar (removed meanwhile, or never there)."""


@dataclass(frozen=True)
class CalendarEdit:
    """One change: in ``section``, the entry at ``index`` replaced by ``item`` (``index`` None: a
    new entry; ``item`` None: the entry removed). For the national hours, ``item`` is
    ``{"service_hours": …, "year_end_closure": …}`` and ``index`` is None."""

    section: Section
    index: int | None
    item: Mapping[str, Any] | None

    def __post_init__(self) -> None:
        if self.section.listed and self.index is None and self.item is None:
            raise ValueError("a change adds, replaces or removes an entry")
        if not self.section.listed and (self.index is not None or self.item is None):
            raise ValueError("the national hours are set, never added or removed")

    @property
    def verb(self) -> str:
        if not self.section.listed:
            return "set"
        return "added" if self.index is None else "removed" if self.item is None else "replaced"

    def place(self, calendar: ServiceCalendar) -> str:
        """Where the changed entry is in the data after the change: the prefix of a format error
        about it (the national hours: ``calendar.service_hours``; their year-end closure is
        ``calendar.year_end_closure``)."""
        if not self.section.listed:
            return f"calendar.{self.section.value}"
        index = len(_entries(calendar, self.section)) if self.index is None else self.index
        return f"calendar.{self.section.value}[{index}]"

    def before(self, calendar: ServiceCalendar) -> object | None:
        """The entry the change replaces or removes (the national hours: the calendar itself)."""
        if not self.section.listed:
            return calendar
        if self.index is None:
            return None
        entries = _entries(calendar, self.section)
        if not 0 <= self.index < len(entries):
            raise EntryUnknown("entry_unknown", f"the calendar has no {self.section.value}[{self.index}]")
        return entries[self.index]

    def after(self, changed: ServiceCalendar) -> object | None:
        """The changed entry in the calendar after the change (None once removed)."""
        if not self.section.listed:
            return changed
        if self.item is None:
            return None
        entries = _entries(changed, self.section)
        return entries[len(entries) - 1 if self.index is None else self.index]

    def apply(self, calendar: ServiceCalendar) -> ServiceCalendar:
        """The calendar with this change, read back by the data format (CalendarDataError)."""
        self.before(calendar)  # the entry must be there
        data = calendar.to_dict()
        if not self.section.listed:
            assert self.item is not None
            data["service_hours"] = copy.deepcopy(self.item.get("service_hours"))
            data["year_end_closure"] = copy.deepcopy(self.item.get("year_end_closure"))
        else:
            entries = list(data[self.section.value])
            if self.item is None:
                assert self.index is not None
                del entries[self.index]
            elif self.index is None:
                entries.append(copy.deepcopy(dict(self.item)))
            else:
                entries[self.index] = copy.deepcopy(dict(self.item))
            data[self.section.value] = entries
        return ServiceCalendar.from_dict(data)

    def municipalities(self, calendar: ServiceCalendar, changed: ServiceCalendar) -> frozenset[str | None]:
        """The municipalities the change concerns: the entry's before and after (None: the whole
        service, as the national hours, a maintenance window or a suspension everywhere)."""
        return frozenset(
            _municipality(entry)
            for entry in (self.before(calendar), self.after(changed))
            if entry is not None
        )

    def describe(self, calendar: ServiceCalendar, changed: ServiceCalendar) -> str:
        """One line for the audit log (at most its column's length): what was changed and how,
        e.g. ``maintenance[2] added: 2026-12-20 01:00–05:00 JST``."""
        entry = self.after(changed) if self.item is not None else self.before(calendar)
        line = f"{self.place(calendar).removeprefix('calendar.')} {self.verb}: {summary(entry)}"
        return line if len(line) <= DETAIL_LENGTH else line[: DETAIL_LENGTH - 1] + "…"


def _entries(calendar: ServiceCalendar, section: Section) -> tuple[object, ...]:
    entries: tuple[object, ...] = getattr(calendar, _ATTRIBUTES[section])
    return entries


_ATTRIBUTES = {
    Section.MAINTENANCE: "maintenance",
    Section.MUNICIPALITY_STOPS: "municipality_stops",
    Section.CERTIFICATE_HOURS: "certificate_hours",
    Section.SUSPENSIONS: "suspensions",
}


def _municipality(entry: object) -> str | None:
    return entry.municipality if isinstance(entry, MunicipalityStop | CertificateHours | Suspension) else None


def summary(entry: object) -> str:
    """An entry in a few words, without its own message (which may say anything)."""
    if isinstance(entry, MaintenanceWindow):
        return _window(entry.window) + _worded(entry.message)
    if isinstance(entry, MunicipalityStop):
        kinds = ", ".join(sorted(entry.certificate_types)) or "all types"
        return f"{entry.municipality} {_window(entry.window)}, {kinds}{_worded(entry.message)}"
    if isinstance(entry, CertificateHours):
        periods = ", ".join(period.describe().en for period in entry.periods)
        closed = f", {len(entry.closed_dates)} closed dates" if entry.closed_dates else ""
        return f"{entry.municipality} {entry.certificate_type.value}: {periods}{closed}"
    if isinstance(entry, Suspension):
        until = _moment(entry.until) if entry.until else "until lifted"
        scope = f"{entry.municipality or 'everywhere'}, {entry.certificate_type or 'all types'}"
        return f"{entry.id} {_moment(entry.since)} – {until}, {scope}{_worded(entry.message)}"
    if isinstance(entry, ServiceCalendar):
        year_end = entry.year_end
        closure = (
            "no year-end closure"
            if year_end is None
            else f"year end {year_end.first.month:02d}-{year_end.first.day:02d}"
            f"–{year_end.last.month:02d}-{year_end.last.day:02d}"
        )
        return f"{entry.hours.describe().en}, {closure}"
    raise TypeError(f"not a calendar entry: {entry!r}")


def _moment(instant: dt.datetime) -> str:
    return f"{instant.astimezone(JST):%Y-%m-%d %H:%M}"


def _window(window: Window) -> str:
    start, end = window.start.astimezone(JST), window.end.astimezone(JST)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{until} JST"


def _worded(message: object) -> str:
    return " (own words)" if message is not None else ""
