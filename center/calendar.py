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
known). The module imports no web framework and no database. The data format is described in
``docs/calendar.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

# JST and CertificateType are the domain's (documents.basics); the aliases keep them importable from
# here for center/municipal/synthetic/records.py (JST) and printing/render/specimens.py
# (CertificateType) until those import them from documents.
from documents import JST as JST
from documents import CertificateType as CertificateType

DATA_FORMAT = 1
DEFAULT_DATA = "calendar_data.json"
HORIZON_DAYS = 366  # a reopening further away than this is reported as unknown
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


class CalendarDataError(ValueError):
    """Calendar data that does not follow the format of ``docs/calendar.md``."""


class ReasonCode(StrEnum):
    """Why the service is closed, most significant first (``check`` reports the first that applies)."""

    SUSPENDED = "suspended"
    YEAR_END_CLOSURE = "year_end_closure"
    MAINTENANCE = "maintenance"
    MUNICIPALITY_STOP = "municipality_stop"
    OUTSIDE_SERVICE_HOURS = "outside_service_hours"
    CERTIFICATE_HOURS = "certificate_hours"


def validate_municipality_code(code: str) -> str:
    """Return ``code`` if it is a 全国地方公共団体コード: 5 digits and the mod-11 check digit (検査数字)."""
    if not isinstance(code, str) or not re.fullmatch(r"\d{6}", code):
        raise ValueError(f"a municipality code is 6 digits, got {code!r}")
    weighted = sum(int(digit) * weight for digit, weight in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    if (11 - weighted % 11) % 10 != int(code[5]):
        raise ValueError(f"municipality code {code!r} has a wrong check digit")
    return code


def to_jst(instant: datetime) -> datetime:
    """``instant`` in Japan Standard Time; a naive datetime is refused (ValueError)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"a time-zone-aware datetime is required, got {instant!r}")
    return instant.astimezone(JST)


END_OF_DAY = time.max  # "24:00" in the data: open until midnight


def _hhmm(value: time) -> str:
    return "24:00" if value == END_OF_DAY else f"{value.hour}:{value.minute:02d}"


# -- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """Words for a resident at the kiosk, in Japanese and English."""

    ja: str
    en: str


@dataclass(frozen=True)
class DailyHours:
    """Hours within one local day, ``[opens, closes)`` in whole minutes; no span over midnight."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        for value in (self.opens, self.closes):
            if value == END_OF_DAY and value is self.closes:
                continue
            if value.tzinfo is not None or value.second or value.microsecond:
                raise ValueError(f"hours are naive local times in whole minutes, got {value!r}")
        if not self.opens < self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")

    def contains(self, local: time) -> bool:
        return self.opens <= local < self.closes

    def describe(self) -> Message:
        opens, closes = _hhmm(self.opens), _hhmm(self.closes)
        return Message(f"{opens}〜{closes}", f"{opens}–{closes}")


@dataclass(frozen=True, order=True)
class MonthDay:
    """A day of every year (``12-29``)."""

    month: int
    day: int

    def __post_init__(self) -> None:
        date(2000, self.month, self.day)  # in a leap year, so 02-29 is valid; ValueError otherwise


@dataclass(frozen=True)
class YearEndClosure:
    """年末年始: closed every year from ``first`` to ``last`` inclusive, across New Year."""

    first: MonthDay
    last: MonthDay

    def covers(self, day: date) -> bool:
        key = MonthDay(day.month, day.day)
        if self.first <= self.last:
            return self.first <= key <= self.last
        return key >= self.first or key <= self.last

    def message(self) -> Message:
        first, last = self.first, self.last
        return Message(
            f"年末年始（{first.month}月{first.day}日〜{last.month}月{last.day}日）はサービスを停止しています",
            f"The service is closed over the New Year holidays ({first.day} {_MONTHS_EN[first.month - 1]}"
            f" – {last.day} {_MONTHS_EN[last.month - 1]})",
        )


@dataclass(frozen=True)
class Window:
    """An interval ``[start, end)`` of absolute time, kept in JST."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", to_jst(self.start))
        object.__setattr__(self, "end", to_jst(self.end))
        if not self.start < self.end:
            raise ValueError(f"a window must start ({self.start}) before it ends ({self.end})")

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(frozen=True)
class MaintenanceWindow:
    """計画停止: an announced stop of the whole service; ``message`` replaces the default words."""

    window: Window
    message: Message | None = None


@dataclass(frozen=True)
class MunicipalityStop:
    """A municipality's own stop (e.g. a system migration), for every type or only some."""

    municipality: str
    window: Window
    certificate_types: frozenset[CertificateType] = frozenset()  # empty: every type
    message: Message | None = None

    def __post_init__(self) -> None:
        validate_municipality_code(self.municipality)
        object.__setattr__(self, "certificate_types", frozenset(map(CertificateType, self.certificate_types)))

    def concerns(self, municipality: str | None, kind: CertificateType | None) -> bool:
        """Whether the stop applies to a question about ``municipality`` and ``kind``."""
        if municipality != self.municipality:
            return False
        return not self.certificate_types or kind in self.certificate_types


@dataclass(frozen=True)
class WeeklyHours:
    """Hours on some days of the week (0 = Monday … 6 = Sunday)."""

    days: frozenset[int]
    hours: DailyHours

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError(f"days must be a non-empty set of weekdays 0-6, got {sorted(self.days)}")

    def describe(self) -> Message:
        """「平日 9:00〜17:00」 / "weekdays 9:00–17:00"."""
        ja, en = _DAY_SETS.get(self.days) or (
            "・".join(_WEEKDAYS_JA[day] for day in sorted(self.days)) + "曜",
            ", ".join(_WEEKDAYS_EN[day][:3] for day in sorted(self.days)),
        )
        hours = self.hours.describe()
        return Message(f"{ja} {hours.ja}", f"{en} {hours.en}")


_DAY_SETS = {frozenset(range(5)): ("平日", "weekdays"), frozenset({5, 6}): ("土日", "weekends"),
             frozenset(range(7)): ("毎日", "every day")}


@dataclass(frozen=True)
class CertificateHours:
    """When a municipality issues one type, e.g. 戸籍証明書 on weekdays 9:00–17:00 only.

    Open when a period matches and the date is not a closed date (public holidays, 祝日, are
    listed as closed dates); always within the national hours too.
    """

    municipality: str
    certificate_type: CertificateType
    periods: tuple[WeeklyHours, ...]
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        validate_municipality_code(self.municipality)
        object.__setattr__(self, "certificate_type", CertificateType(self.certificate_type))
        if not self.periods:
            raise ValueError("certificate hours need at least one period")

    def contains(self, local: datetime) -> bool:
        if local.date() in self.closed_dates:
            return False
        return any(local.weekday() in p.days and p.hours.contains(local.time()) for p in self.periods)

    def message(self) -> Message:
        periods = [period.describe() for period in self.periods]
        return Message(f"この証明書の交付時間外です（{'、'.join(p.ja for p in periods)}）",
                       f"This certificate is issued only {', '.join(p.en for p in periods)}")


@dataclass(frozen=True)
class Suspension:
    """運用停止: an operator stops the whole service, a municipality, a type, or a type in one place.

    ``until`` ``None`` means until further notice; a ``None`` scope means every municipality or type.
    """

    id: str
    since: datetime
    until: datetime | None = None
    municipality: str | None = None
    certificate_type: CertificateType | None = None
    message: Message | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a suspension needs an id")
        object.__setattr__(self, "since", to_jst(self.since))
        if self.until is not None:
            object.__setattr__(self, "until", to_jst(self.until))
            if not self.since < self.until:
                raise ValueError(f"suspension {self.id!r} must begin before it ends")
        if self.municipality is not None:
            validate_municipality_code(self.municipality)
        if self.certificate_type is not None:
            object.__setattr__(self, "certificate_type", CertificateType(self.certificate_type))

    def concerns(self, municipality: str | None, kind: CertificateType | None) -> bool:
        return self.municipality in (None, municipality) and self.certificate_type in (None, kind)

    def active(self, instant: datetime) -> bool:
        return self.since <= instant and (self.until is None or instant < self.until)


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
_MAINTENANCE = Message("システムメンテナンスのため、サービスを停止しています",
                       "The service is stopped for system maintenance")
_MUNICIPALITY_STOP = Message("この市区町村の証明書は、現在交付を停止しています",
                             "Certificates of this municipality are not issued at the moment")


@dataclass(frozen=True)
class _Closure:
    reason: ReasonCode
    message: Message
    final: bool = False  # a suspension until further notice: no reopening to look for


def _closed(closure: _Closure, reopens_at: datetime | None) -> Closed:
    ja, en = closure.message.ja.rstrip("。 "), closure.message.en.rstrip(". ")
    if reopens_at is not None:
        at, day = _hhmm(reopens_at.time()), reopens_at.weekday()
        ja += f"。{reopens_at.month}月{reopens_at.day}日（{_WEEKDAYS_JA[day]}）{at}から利用できます"
        en += f"; available again from {at} on {_WEEKDAYS_EN[day]} {reopens_at.day} " \
              f"{_MONTHS_EN[reopens_at.month - 1]}"
    return Closed(closure.reason, ja, en, reopens_at)


# -- the calendar -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCalendar:
    """Every rule of the service calendar; immutable (an operator's change makes a new one)."""

    hours: DailyHours
    year_end: YearEndClosure | None  # None: no year-end closure (test and special deployments)
    maintenance: tuple[MaintenanceWindow, ...] = ()
    municipality_stops: tuple[MunicipalityStop, ...] = ()
    certificate_hours: tuple[CertificateHours, ...] = ()
    suspensions: tuple[Suspension, ...] = ()

    def __post_init__(self) -> None:
        keys = [(rule.municipality, rule.certificate_type) for rule in self.certificate_hours]
        if len(keys) != len(set(keys)):
            raise ValueError("certificate hours are given twice for the same municipality and type")
        ids = [suspension.id for suspension in self.suspensions]
        if len(ids) != len(set(ids)):
            raise ValueError("suspension ids must be unique")

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
        from center.calendar_format import calendar_from_dict

        return calendar_from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The data format of ``docs/calendar.md`` (JSON-compatible); ``from_dict`` inverts it."""
        from center.calendar_format import calendar_to_dict

        return calendar_to_dict(self)

    def with_suspension(self, suspension: Suspension) -> ServiceCalendar:
        return dataclasses.replace(self, suspensions=(*self.suspensions, suspension))

    def without_suspension(self, suspension_id: str) -> ServiceCalendar:
        kept = tuple(s for s in self.suspensions if s.id != suspension_id)
        if len(kept) == len(self.suspensions):
            raise KeyError(suspension_id)
        return dataclasses.replace(self, suspensions=kept)

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
