"""The service calendar's data format (docs/calendar.md): JSON-compatible dicts in and out.

Every mistake in the data raises :class:`CalendarDataError` naming its place
(``calendar.suspensions[2].until: …``), so an operator's file is refused whole, never half-read.
The rules read are those of ``center/calendar_rules.py``; ``ServiceCalendar.from_dict`` and
``to_dict`` (``center/calendar.py``) are the way in and out.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from typing import Any, TypeVar

from center.calendar_rules import (
    END_OF_DAY,
    CalendarRules,
    CertificateHours,
    DailyHours,
    MaintenanceWindow,
    Message,
    MonthDay,
    MunicipalityStop,
    Suspension,
    WeeklyHours,
    Window,
    YearEndClosure,
)
from documents import CertificateType

DATA_FORMAT = 1
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Rules = TypeVar("Rules", bound=CalendarRules)


class CalendarDataError(ValueError):
    """Calendar data that does not follow the format of ``docs/calendar.md``."""


@contextlib.contextmanager
def _at(where: str) -> Iterator[None]:
    """Report a ValueError or TypeError raised in the block as a CalendarDataError at ``where``."""
    try:
        yield
    except CalendarDataError:
        raise
    except (ValueError, TypeError) as error:
        raise CalendarDataError(f"{where}: {error}") from None


def _fields(data: object, where: str, required: str, optional: str = "") -> Mapping[str, Any]:
    """``data`` as an object with the ``required`` keys, perhaps the ``optional`` ones, no others."""
    if not isinstance(data, Mapping):
        raise CalendarDataError(f"{where}: expected an object, got {data!r}")
    if unknown := sorted(set(data) - set(required.split()) - set(optional.split())):
        raise CalendarDataError(f"{where}: unknown key(s) {unknown}")
    if missing := sorted(set(required.split()) - set(data)):
        raise CalendarDataError(f"{where}: missing key(s) {missing}")
    return data


def _items(data: Mapping[str, Any], key: str, where: str) -> Iterator[tuple[str, Any]]:
    """The elements of the list ``data[key]`` (missing or null: empty), each with its path."""
    with _at(f"{where}.{key}"):
        return ((f"{where}.{key}[{index}]", item) for index, item in enumerate(_list(data.get(key))))


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _clock(value: object) -> time:
    if value == "24:00":
        return END_OF_DAY
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", _text(value)):
        raise ValueError(f"expected a time as HH:MM (00:00-23:59), got {value!r}")
    return time.fromisoformat(_text(value))


def _instant(value: object) -> datetime:
    instant = datetime.fromisoformat(_text(value))
    if instant.tzinfo is None:
        raise ValueError(f"an ISO 8601 time with its UTC offset is required, got {value!r}")
    return instant


def _month_day(value: object) -> MonthDay:
    if not re.fullmatch(r"\d{2}-\d{2}", _text(value)):
        raise ValueError(f"expected MM-DD, got {value!r}")
    return MonthDay(int(_text(value)[:2]), int(_text(value)[3:]))


def _list(value: object) -> list[Any]:
    """A JSON list; ``None`` (a missing key or null) is the empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return value


def _message(data: Mapping[str, Any], where: str) -> Message | None:
    if data.get("message") is None:
        return None
    raw = _fields(data["message"], f"{where}.message", "ja en")
    return Message(_text(raw["ja"]), _text(raw["en"]))


def _maintenance(where: str, item: object) -> MaintenanceWindow:
    raw = _fields(item, where, "start end", "message")
    with _at(where):
        return MaintenanceWindow(Window(_instant(raw["start"]), _instant(raw["end"])), _message(raw, where))


def _municipality_stop(where: str, item: object) -> MunicipalityStop:
    raw = _fields(item, where, "municipality start end", "certificate_types message")
    with _at(where):
        types = frozenset(map(CertificateType, _list(raw.get("certificate_types"))))
        window = Window(_instant(raw["start"]), _instant(raw["end"]))
        return MunicipalityStop(_text(raw["municipality"]), window, types, _message(raw, where))


def _weekly_hours(where: str, item: object) -> WeeklyHours:
    raw = _fields(item, where, "days opens closes")
    with _at(where):
        if not all(day in WEEKDAYS for day in _list(raw["days"])):
            raise ValueError(f"days are {', '.join(WEEKDAYS)}; got {raw['days']!r}")
        days = frozenset(WEEKDAYS.index(day) for day in raw["days"])
        return WeeklyHours(days, DailyHours(_clock(raw["opens"]), _clock(raw["closes"])))


def _certificate_hours(where: str, item: object) -> CertificateHours:
    raw = _fields(item, where, "municipality certificate_type periods", "closed_dates")
    periods = tuple(_weekly_hours(at, period) for at, period in _items(raw, "periods", where))
    with _at(where):
        closed = frozenset(date.fromisoformat(_text(day)) for day in _list(raw.get("closed_dates")))
        kind = CertificateType(raw["certificate_type"])
        return CertificateHours(_text(raw["municipality"]), kind, periods, closed)


def _suspension(where: str, item: object) -> Suspension:
    raw = _fields(item, where, "id since", "until municipality certificate_type message")
    with _at(where):
        until, municipality, kind = (raw.get(key) for key in ("until", "municipality", "certificate_type"))
        return Suspension(
            _text(raw["id"]),
            _instant(raw["since"]),
            None if until is None else _instant(until),
            None if municipality is None else _text(municipality),
            None if kind is None else CertificateType(kind),
            _message(raw, where),
        )


def rules_from_dict(data: Mapping[str, Any], kind: type[Rules]) -> Rules:
    """The rules ``data`` gives, as a ``kind`` (``CalendarRules`` or a calendar built on them)."""
    top = _fields(
        data,
        "calendar",
        "format service_hours year_end_closure",
        "maintenance municipality_stops certificate_hours suspensions",
    )
    if top["format"] != DATA_FORMAT:
        raise CalendarDataError(f"calendar.format: {top['format']!r} is not format {DATA_FORMAT}")
    hours = _fields(top["service_hours"], "calendar.service_hours", "opens closes")
    year_end = (
        None
        if top["year_end_closure"] is None
        else _fields(top["year_end_closure"], "calendar.year_end_closure", "first last")
    )
    with _at("calendar.service_hours"):
        daily = DailyHours(_clock(hours["opens"]), _clock(hours["closes"]))
    with _at("calendar.year_end_closure"):
        closure = (
            None
            if year_end is None
            else YearEndClosure(_month_day(year_end["first"]), _month_day(year_end["last"]))
        )
    maintenance = tuple(_maintenance(*item) for item in _items(top, "maintenance", "calendar"))
    stops = tuple(_municipality_stop(*item) for item in _items(top, "municipality_stops", "calendar"))
    rules = tuple(_certificate_hours(*item) for item in _items(top, "certificate_hours", "calendar"))
    suspensions = tuple(_suspension(*item) for item in _items(top, "suspensions", "calendar"))
    with _at("calendar"):
        return kind(daily, closure, maintenance, stops, rules, suspensions)


def _message_dict(message: Message | None) -> dict[str, Any]:
    return {} if message is None else {"message": {"ja": message.ja, "en": message.en}}


def _hours_dict(hours: DailyHours) -> dict[str, str]:
    return {"opens": _hhmm_data(hours.opens), "closes": _hhmm_data(hours.closes)}


def _hhmm_data(value: time) -> str:
    return "24:00" if value == END_OF_DAY else value.strftime("%H:%M")


def rules_to_dict(calendar: CalendarRules) -> dict[str, Any]:
    """The data format of ``docs/calendar.md`` (JSON-compatible); :func:`rules_from_dict` inverts it."""
    year_end = calendar.year_end
    return {
        "format": DATA_FORMAT,
        "service_hours": _hours_dict(calendar.hours),
        "year_end_closure": None
        if year_end is None
        else {
            "first": f"{year_end.first.month:02d}-{year_end.first.day:02d}",
            "last": f"{year_end.last.month:02d}-{year_end.last.day:02d}",
        },
        "maintenance": [
            {"start": m.window.start.isoformat(), "end": m.window.end.isoformat(), **_message_dict(m.message)}
            for m in calendar.maintenance
        ],
        "municipality_stops": [
            {
                "municipality": s.municipality,
                "start": s.window.start.isoformat(),
                "end": s.window.end.isoformat(),
                "certificate_types": sorted(s.certificate_types),
                **_message_dict(s.message),
            }
            for s in calendar.municipality_stops
        ],
        "certificate_hours": [
            {
                "municipality": r.municipality,
                "certificate_type": r.certificate_type.value,
                "periods": [
                    {"days": [WEEKDAYS[day] for day in sorted(p.days)], **_hours_dict(p.hours)}
                    for p in r.periods
                ],
                "closed_dates": sorted(day.isoformat() for day in r.closed_dates),
            }
            for r in calendar.certificate_hours
        ],
        "suspensions": [
            {
                "id": s.id,
                "since": s.since.isoformat(),
                "until": s.until and s.until.isoformat(),
                "municipality": s.municipality,
                "certificate_type": s.certificate_type and s.certificate_type.value,
                **_message_dict(s.message),
            }
            for s in calendar.suspensions
        ],
    }
