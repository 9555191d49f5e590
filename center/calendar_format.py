"""The service calendar's data format (docs/calendar.md): JSON-compatible dicts in and out.

Every mistake in the data raises :class:`CalendarDataError` naming its place
(``calendar.suspensions[2].until: …``), so an operator's file is refused whole, never half-read.
The place is the field that is wrong; a rule between two fields names the later one (an end
before its start: the end; opening after closing: the closing time), a rule over the whole entry
names the entry, and an entry repeated (the same municipality and type, the same suspension id)
names the repeat's field. The console shows each error next to the field it names.
The rules read are those of ``center/calendar_rules.py``; ``ServiceCalendar.from_dict`` and
``to_dict`` (``center/calendar.py``) are the way in and out.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
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
    validate_municipality_code,
)
from documents import CertificateType
from documents.basics import RESIDENT_WORDS_MAX, plain_line

DATA_FORMAT = 1
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Rules = TypeVar("Rules", bound=CalendarRules)
T = TypeVar("T")


class CalendarDataError(ValueError):
    """Calendar data that does not follow the format of ``docs/calendar.md``: ``where`` the
    mistake is (``calendar.maintenance[0].end``) and what is wrong (``problem``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@contextlib.contextmanager
def _at(where: str) -> Iterator[None]:
    """Report a ValueError or TypeError raised in the block as a CalendarDataError at ``where``."""
    try:
        yield
    except CalendarDataError:
        raise
    except (ValueError, TypeError) as error:
        raise CalendarDataError(where, str(error)) from None


def _fields(data: object, where: str, required: str, optional: str = "") -> Mapping[str, Any]:
    """``data`` as an object with the ``required`` keys, perhaps the ``optional`` ones, no others."""
    if not isinstance(data, Mapping):
        raise CalendarDataError(where, f"expected an object, got {data!r}")
    if unknown := sorted(set(data) - set(required.split()) - set(optional.split())):
        raise CalendarDataError(where, f"unknown key(s) {unknown}")
    if missing := sorted(set(required.split()) - set(data)):
        raise CalendarDataError(where, f"missing key(s) {missing}")
    return data


def _items(data: Mapping[str, Any], key: str, where: str) -> Iterator[tuple[str, Any]]:
    """The elements of the list ``data[key]`` (missing or null: empty), each with its path."""
    with _at(f"{where}.{key}"):
        return ((f"{where}.{key}[{index}]", item) for index, item in enumerate(_list(data.get(key))))


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _words(value: object) -> str:
    """Words for residents in one language: what a kiosk's screen shows in a few lines, as plain
    text (``documents.basics``: one line, no control characters, no markup)."""
    text = _text(value)
    if len(text) > RESIDENT_WORDS_MAX:
        raise ValueError(f"words for residents are at most {RESIDENT_WORDS_MAX} characters, not {len(text)}")
    if not plain_line(text):
        raise ValueError("words for residents are one line of plain text (no control characters, no < or >)")
    if text != text.strip():
        raise ValueError("words for residents neither begin nor end with spaces")
    return text


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


def _read(raw: Mapping[str, Any], key: str, where: str, read: Callable[[Any], T]) -> T:
    """``read(raw[key])`` (a missing optional key: ``None``), a mistake reported at ``where.key``."""
    with _at(f"{where}.{key}"):
        return read(raw.get(key))


def _optional(read: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """``read``, where null (or a missing key) means "none"."""
    return lambda value: None if value is None else read(value)


def _municipality(value: object) -> str:
    return validate_municipality_code(_text(value))


def _days(value: object) -> frozenset[int]:
    days = _list(value)
    if not all(day in WEEKDAYS for day in days):
        raise ValueError(f"days are {', '.join(WEEKDAYS)}; got {value!r}")
    return frozenset(WEEKDAYS.index(day) for day in days)


def _message(data: Mapping[str, Any], where: str) -> Message | None:
    if data.get("message") is None:
        return None
    raw = _fields(data["message"], f"{where}.message", "ja en")
    return Message(_read(raw, "ja", f"{where}.message", _words), _read(raw, "en", f"{where}.message", _words))


def _window(raw: Mapping[str, Any], where: str) -> Window:
    start, end = _read(raw, "start", where, _instant), _read(raw, "end", where, _instant)
    with _at(f"{where}.end"):  # an end not after its start: the end is what is wrong
        return Window(start, end)


def _maintenance(where: str, item: object) -> MaintenanceWindow:
    raw = _fields(item, where, "start end", "message")
    return MaintenanceWindow(_window(raw, where), _message(raw, where))


def _municipality_stop(where: str, item: object) -> MunicipalityStop:
    raw = _fields(item, where, "municipality start end", "certificate_types message")
    municipality = _read(raw, "municipality", where, _municipality)
    types = _read(
        raw, "certificate_types", where, lambda kinds: frozenset(map(CertificateType, _list(kinds)))
    )
    window, message = _window(raw, where), _message(raw, where)
    with _at(where):
        return MunicipalityStop(municipality, window, types, message)


def _weekly_hours(where: str, item: object) -> WeeklyHours:
    raw = _fields(item, where, "days opens closes")
    days = _read(raw, "days", where, _days)
    opens, closes = _read(raw, "opens", where, _clock), _read(raw, "closes", where, _clock)
    with _at(f"{where}.closes"):  # opening not before closing: the closing time is what is wrong
        hours = DailyHours(opens, closes)
    with _at(f"{where}.days"):
        return WeeklyHours(days, hours)


def _certificate_hours(where: str, item: object) -> CertificateHours:
    raw = _fields(item, where, "municipality certificate_type periods", "closed_dates")
    municipality = _read(raw, "municipality", where, _municipality)
    kind = _read(raw, "certificate_type", where, CertificateType)
    periods = tuple(_weekly_hours(at, period) for at, period in _items(raw, "periods", where))
    closed = set()
    for at, day in _items(raw, "closed_dates", where):
        with _at(at):
            closed.add(date.fromisoformat(_text(day)))
    with _at(f"{where}.periods"):  # what is left to refuse here: no period at all
        return CertificateHours(municipality, kind, periods, frozenset(closed))


def _suspension(where: str, item: object) -> Suspension:
    raw = _fields(item, where, "id since", "until municipality certificate_type message")
    ident, since = _read(raw, "id", where, _text), _read(raw, "since", where, _instant)
    until = _read(raw, "until", where, _optional(_instant))
    municipality = _read(raw, "municipality", where, _optional(_municipality))
    kind = _read(raw, "certificate_type", where, _optional(CertificateType))
    message = _message(raw, where)
    with _at(f"{where}.until"):  # an end not after its beginning: the end is what is wrong
        return Suspension(ident, since, until, municipality, kind, message)


def _once(keys: Sequence[Hashable], where: str, field: str, problem: str) -> None:
    """Refuse the first entry of the list at ``where`` whose key (``keys``, one per entry) an
    earlier entry has, at its ``field``."""
    first: dict[Hashable, int] = {}
    for index, key in enumerate(keys):
        if key in first:
            raise CalendarDataError(f"{where}[{index}].{field}", f"{problem} (first at [{first[key]}])")
        first[key] = index


def rules_from_dict(data: Mapping[str, Any], kind: type[Rules]) -> Rules:
    """The rules ``data`` gives, as a ``kind`` (``CalendarRules`` or a calendar built on them)."""
    top = _fields(
        data,
        "calendar",
        "format service_hours year_end_closure",
        "maintenance municipality_stops certificate_hours suspensions",
    )
    if top["format"] != DATA_FORMAT:
        raise CalendarDataError("calendar.format", f"{top['format']!r} is not format {DATA_FORMAT}")
    hours = _fields(top["service_hours"], "calendar.service_hours", "opens closes")
    opens = _read(hours, "opens", "calendar.service_hours", _clock)
    closes = _read(hours, "closes", "calendar.service_hours", _clock)
    with _at("calendar.service_hours.closes"):
        daily = DailyHours(opens, closes)
    closure = None
    if top["year_end_closure"] is not None:
        year_end = _fields(top["year_end_closure"], "calendar.year_end_closure", "first last")
        closure = YearEndClosure(
            _read(year_end, "first", "calendar.year_end_closure", _month_day),
            _read(year_end, "last", "calendar.year_end_closure", _month_day),
        )
    maintenance = tuple(_maintenance(*item) for item in _items(top, "maintenance", "calendar"))
    stops = tuple(_municipality_stop(*item) for item in _items(top, "municipality_stops", "calendar"))
    rules = tuple(_certificate_hours(*item) for item in _items(top, "certificate_hours", "calendar"))
    suspensions = tuple(_suspension(*item) for item in _items(top, "suspensions", "calendar"))
    _once(
        [(rule.municipality, rule.certificate_type) for rule in rules],
        "calendar.certificate_hours",
        "certificate_type",
        "certificate hours are given twice for the same municipality and type",
    )
    _once([s.id for s in suspensions], "calendar.suspensions", "id", "suspension ids must be unique")
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
