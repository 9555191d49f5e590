"""The service calendar's rules as values (サービス提供時間の規則): service hours, the year-end
closure, maintenance windows, a municipality's stops, a certificate type's hours and suspensions,
each checked when made, with the words a kiosk shows for it in Japanese and English.

:class:`CalendarRules` holds every rule of one calendar; ``center.calendar.ServiceCalendar`` decides
with them and ``center.calendar_format`` reads and writes them as data. Local rules are read in Japan
Standard Time (``documents.JST``). No decisions, no data format and no database here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Self

from documents import JST, CertificateType

END_OF_DAY = time.max  # "24:00" in the data: open until midnight
_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


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


def _hhmm(value: time) -> str:
    return "24:00" if value == END_OF_DAY else f"{value.hour}:{value.minute:02d}"


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


_DAY_SETS = {
    frozenset(range(5)): ("平日", "weekdays"),
    frozenset({5, 6}): ("土日", "weekends"),
    frozenset(range(7)): ("毎日", "every day"),
}


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
        return Message(
            f"この証明書の交付時間外です（{'、'.join(p.ja for p in periods)}）",
            f"This certificate is issued only {', '.join(p.en for p in periods)}",
        )


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


def reopening(instant: datetime) -> Message:
    """The words added to a closure's message when it ends at ``instant`` (JST): 「。5月14日（水）
    6:30から利用できます」, "; available again from 6:30 on Wednesday 14 May"."""
    at, day = _hhmm(instant.time()), instant.weekday()
    return Message(
        f"。{instant.month}月{instant.day}日（{_WEEKDAYS_JA[day]}）{at}から利用できます",
        f"; available again from {at} on {_WEEKDAYS_EN[day]} {instant.day} {_MONTHS_EN[instant.month - 1]}",
    )


@dataclass(frozen=True)
class CalendarRules:
    """Every rule of one service calendar; immutable (an operator's change makes a new one)."""

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

    def with_suspension(self, suspension: Suspension) -> Self:
        return dataclasses.replace(self, suspensions=(*self.suspensions, suspension))

    def without_suspension(self, suspension_id: str) -> Self:
        kept = tuple(s for s in self.suspensions if s.id != suspension_id)
        if len(kept) == len(self.suspensions):
            raise KeyError(suspension_id)
        return dataclasses.replace(self, suspensions=kept)
