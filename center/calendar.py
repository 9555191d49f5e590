"""The service calendar (サービス提供時間): may a certificate be issued at this instant?

Everything comes from data (``calendar_data.json`` for the national rules, plus what operators
add), never from code:

- the national service hours, 6:30–23:00 every day (サービス提供時間), and the year-end closure,
  29 December – 3 January (年末年始);
- announced national maintenance windows (計画停止);
- a municipality's own stop windows, e.g. a system migration (市区町村の停止);
- per-municipality hours of a certificate type, e.g. family-register certificates (戸籍証明書) on
  weekdays 9:00–17:00 only, with explicit closed dates (public holidays are not modelled: the data
  lists them);
- suspensions (運用停止) of the whole service, a municipality or a type, until further notice.

All local rules are read in Japan Standard Time, UTC+9 all year: Asia/Tokyo has had no daylight
saving time since 1951, so a fixed offset is exact and needs no time-zone database. Intervals are
half-open: a window ``[start, end)`` is closed at ``start`` and open again at ``end``; hours
``[opens, closes)`` are open at 6:30:00 and closed at 23:00:00.

``check`` answers :class:`Open` (with the next closing instant) or :class:`Closed` (a stable
reason code, words a kiosk can show in Japanese and English, and the reopening instant when it is
known). The rules are values of ``center/calendar_rules.py``; ``center/calendar_format.py`` reads
and writes them in the data format of ``docs/calendar.md``. The module imports no web framework and
no database.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from center.calendar_format import rules_from_dict, rules_to_dict
from center.calendar_rules import (
    CalendarRules,
    CertificateHours,
    Message,
    reopening,
    to_jst,
    validate_municipality_code,
)
from documents import JST, CertificateType

__all__ = [
    "DEFAULT_DATA",
    "HORIZON_DAYS",
    "Closed",
    "Decision",
    "Open",
    "ReasonCode",
    "ServiceCalendar",
]

DEFAULT_DATA = "calendar_data.json"
HORIZON_DAYS = 366  # a reopening further away than this is reported as unknown


class ReasonCode(StrEnum):
    """Why the service is closed, most significant first (``check`` reports the first that applies)."""

    SUSPENDED = "suspended"
    YEAR_END_CLOSURE = "year_end_closure"
    MAINTENANCE = "maintenance"
    MUNICIPALITY_STOP = "municipality_stop"
    OUTSIDE_SERVICE_HOURS = "outside_service_hours"
    CERTIFICATE_HOURS = "certificate_hours"


# -- decisions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Open:
    """Certificates can be issued now; ``closes_at`` is the next closing instant (JST) if known."""

    closes_at: datetime | None
    is_open: ClassVar[bool] = True


@dataclass(frozen=True)
class Closed:
    """Nothing can be issued now: a stable reason, words for the resident, and the reopening (JST)."""

    reason_code: ReasonCode
    message_ja: str
    message_en: str
    reopens_at: datetime | None  # None: not known (until further notice, or beyond the horizon)
    is_open: ClassVar[bool] = False


Decision = Open | Closed

_SUSPENDED = Message("現在、証明書の交付を停止しています", "Certificate issuance is suspended")
_MAINTENANCE = Message(
    "システムメンテナンスのため、サービスを停止しています", "The service is stopped for system maintenance"
)
_MUNICIPALITY_STOP = Message(
    "この市区町村の証明書は、現在交付を停止しています",
    "Certificates of this municipality are not issued at the moment",
)


@dataclass(frozen=True)
class _Closure:
    reason: ReasonCode
    message: Message
    final: bool = False  # a suspension until further notice: no reopening to look for


def _closed(closure: _Closure, reopens_at: datetime | None) -> Closed:
    ja, en = closure.message.ja.rstrip("。 "), closure.message.en.rstrip(". ")
    if reopens_at is not None:
        words = reopening(reopens_at)
        ja, en = ja + words.ja, en + words.en
    return Closed(closure.reason, ja, en, reopens_at)


# -- the calendar -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCalendar(CalendarRules):
    """The service calendar: every rule (:class:`CalendarRules`) and the decisions they make."""

    @classmethod
    def default(cls) -> ServiceCalendar:
        """The national rules shipped in ``center/calendar_data.json``."""
        return _default()

    @classmethod
    def load(cls, path: Path) -> ServiceCalendar:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceCalendar:
        """Read the data format of ``docs/calendar.md``; any mistake raises CalendarDataError."""
        return rules_from_dict(data, cls)

    def to_dict(self) -> dict[str, Any]:
        """The data format of ``docs/calendar.md`` (JSON-compatible); ``from_dict`` inverts it."""
        return rules_to_dict(self)

    def check(
        self, now: datetime, municipality: str | None = None, certificate_type: str | None = None
    ) -> Decision:
        """May a certificate be issued at ``now`` (time-zone-aware; naive raises ValueError)?

        ``municipality`` (6-digit code) and ``certificate_type`` narrow the question: without
        them only the rules of the whole service apply.
        """
        local = to_jst(now)
        if municipality is not None:
            validate_municipality_code(municipality)
        kind = None if certificate_type is None else CertificateType(certificate_type)
        closure = self._closure(local, municipality, kind)
        if closure is None:
            return Open(closes_at=self._next_change(local, municipality, kind, to_open=False))
        if closure.final:
            return _closed(closure, None)
        return _closed(closure, self._next_change(local, municipality, kind, to_open=True))

    def open_types(
        self, now: datetime, municipality: str | None, types: Iterable[str]
    ) -> dict[CertificateType, Decision]:
        """The decision for each certificate type of ``types`` (e.g. to grey out menu entries)."""
        return {CertificateType(kind): self.check(now, municipality, kind) for kind in types}

    def _closure(
        self, local: datetime, municipality: str | None, kind: CertificateType | None
    ) -> _Closure | None:
        """The most significant reason to be closed at ``local``; ``None`` when open."""
        for held in self.suspensions:
            if held.concerns(municipality, kind) and held.active(local):
                return _Closure(ReasonCode.SUSPENDED, held.message or _SUSPENDED, final=held.until is None)
        if self.year_end is not None and self.year_end.covers(local.date()):
            return _Closure(ReasonCode.YEAR_END_CLOSURE, self.year_end.message())
        for maintenance in self.maintenance:
            if maintenance.window.contains(local):
                return _Closure(ReasonCode.MAINTENANCE, maintenance.message or _MAINTENANCE)
        for stop in self.municipality_stops:
            if stop.window.contains(local) and stop.concerns(municipality, kind):
                return _Closure(ReasonCode.MUNICIPALITY_STOP, stop.message or _MUNICIPALITY_STOP)
        if not self.hours.contains(local.time()):
            hours = self.hours.describe()
            message = Message(f"サービス提供時間外です（{hours.ja}）", f"Outside service hours ({hours.en})")
            return _Closure(ReasonCode.OUTSIDE_SERVICE_HOURS, message)
        rule = self._certificate_hours(municipality, kind)
        if rule is not None and not rule.contains(local):
            return _Closure(ReasonCode.CERTIFICATE_HOURS, rule.message())
        return None

    def _certificate_hours(
        self, municipality: str | None, kind: CertificateType | None
    ) -> CertificateHours | None:
        key = (municipality, kind)
        return next((r for r in self.certificate_hours if (r.municipality, r.certificate_type) == key), None)

    def _next_change(
        self, local: datetime, municipality: str | None, kind: CertificateType | None, *, to_open: bool
    ) -> datetime | None:
        """The first instant after ``local`` that is open (``to_open``) or closed, within the horizon."""
        for instant in self._edges_after(local, municipality, kind):
            closure = self._closure(instant, municipality, kind)
            if (closure is None) == to_open:
                return instant
            if to_open and closure is not None and closure.final:
                return None
        return None

    def _edges_after(
        self, local: datetime, municipality: str | None, kind: CertificateType | None
    ) -> Iterator[datetime]:
        """In order, every instant after ``local`` at which the decision may change, up to the horizon.

        The decision is constant between these edges: midnights (rules by date), the daily opening
        and closing times, and the ends of every window and suspension that concerns the question.
        """
        windows = [m.window for m in self.maintenance]
        windows += [s.window for s in self.municipality_stops if s.concerns(municipality, kind)]
        absolute = {edge for window in windows for edge in (window.start, window.end)}
        for s in self.suspensions:
            if s.concerns(municipality, kind):
                absolute |= {s.since} if s.until is None else {s.since, s.until}
        pending = sorted(edge for edge in absolute if edge > local)
        # Midnight is where date rules change; while hours never reach midnight it adds no answer,
        # but it keeps the set of edges complete by construction.
        daily = {time(0), self.hours.opens, self.hours.closes}
        if rule := self._certificate_hours(municipality, kind):
            daily |= {t for period in rule.periods for t in (period.hours.opens, period.hours.closes)}
        for offset in range(HORIZON_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            next_midnight = datetime.combine(day + timedelta(days=1), time(0), JST)
            edges = {datetime.combine(day, t, JST) for t in daily}
            while pending and pending[0] < next_midnight:
                edges.add(pending.pop(0))
            yield from sorted(edge for edge in edges if edge > local)


@functools.cache
def _default() -> ServiceCalendar:
    text = resources.files(__package__ or "center").joinpath(DEFAULT_DATA).read_text(encoding="utf-8")
    return ServiceCalendar.from_dict(json.loads(text))
