"""The calendar's forms (カレンダーの入力欄): for each part of the calendar, the fields a person fills
in, and the entry of the data format (docs/calendar.md) that they make.

The fields take values in a person's terms — a moment as ``YYYY-MM-DD HH:MM`` in Japan time,
hours as ``HH:MM``, a municipality's 6-digit code, certificate types and days as checkboxes — and
this module only turns them into the data format's values (the +09:00 offset added, hours padded),
refusing what is not even of that shape. Whether the entry is allowed is for the data format to
say (:mod:`center.calendar_edits` reads the changed calendar back with it); :func:`field_of` puts
its error next to the field it names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from center.calendar_edits import Section
from center.calendar_format import WEEKDAYS
from documents import CertificateType
from documents.basics import RESIDENT_WORDS_MAX, plain_line

Words = tuple[str, str]  # Japanese, English
Values = dict[str, Any]  # a form's values as typed: text, or a list of the boxes ticked
Errors = dict[str, Words]  # a field's name → what is wrong with it; "" for the form as a whole

PERIODS = 3  # rows for the periods of a certificate type's hours (blank rows are left out)
WORDS_LENGTH = RESIDENT_WORDS_MAX  # characters of a message for residents, in each language
IDENT = re.compile(r"[A-Za-z0-9._-]{1,40}")  # a suspension's id: no one's name in the audit log


class Kind(StrEnum):
    TEXT = "text"  # a short code (a suspension's id)
    MOMENT = "moment"  # YYYY-MM-DD HH:MM, Japan time
    CLOCK = "clock"  # HH:MM; 24:00 is midnight at the end of the day
    MONTH_DAY = "month_day"  # MM-DD
    MUNICIPALITY = "municipality"  # 6 digits
    TYPE = "type"  # one certificate type
    TYPES = "types"  # certificate types; none ticked: every type
    DAYS = "days"  # days of the week
    DATES = "dates"  # dates, one a line
    WORDS = "words"  # the residents' words in one language; both languages or neither
    FLAG = "flag"  # a checkbox


@dataclass(frozen=True)
class Field:
    name: str  # the form field's name (its element's id is ``f-<name>``)
    label: Words
    kind: Kind
    hint: Words | None = None
    required: bool = False
    group: Words | None = None  # fields of one group are shown together under its legend


TYPE_WORDS: dict[CertificateType, Words] = {
    CertificateType.RESIDENT_RECORD: ("住民票の写し", "Resident record"),
    CertificateType.RESIDENT_RECORD_ENTRIES: ("住民票記載事項証明書", "Resident record entries"),
    CertificateType.SEAL_REGISTRATION: ("印鑑登録証明書", "Seal registration"),
    CertificateType.TAX: ("各種税証明書", "Tax certificates"),
    CertificateType.FAMILY_REGISTER: ("戸籍証明書", "Family register"),
    CertificateType.FAMILY_REGISTER_ATTACHMENT: ("戸籍の附票の写し", "Family register attachment"),
}
DAY_WORDS: dict[str, Words] = dict(
    zip(
        WEEKDAYS,
        (
            ("月", "Mon"),
            ("火", "Tue"),
            ("水", "Wed"),
            ("木", "Thu"),
            ("金", "Fri"),
            ("土", "Sat"),
            ("日", "Sun"),
        ),
        strict=True,
    )
)

_MOMENT_HINT = ("例: 2026-12-20 01:00（日本時間）", "e.g. 2026-12-20 01:00 (Japan time)")
_CLOCK_HINT = ("例: 06:30（24:00は深夜0時まで）", "e.g. 06:30 (24:00: until midnight)")
_WORDS_HINT = (
    f"任意。入れると、端末は自らの文言の代わりにこの文言を住民に表示します（日本語と英語の両方、"
    f"1行で{WORDS_LENGTH}文字まで、< と > は使えません）",
    f"Optional. If given, the kiosk shows residents these words instead of its own (both languages,"
    f" one line of up to {WORDS_LENGTH} characters, no < or >)",
)
_MUNICIPALITY = Field(
    "municipality", ("市区町村コード", "Municipality code"), Kind.MUNICIPALITY, required=True
)
_MESSAGES = (
    Field(
        "message_ja", ("住民向けの文言（日本語）", "Words for residents (Japanese)"), Kind.WORDS, _WORDS_HINT
    ),
    Field("message_en", ("住民向けの文言（英語）", "Words for residents (English)"), Kind.WORDS, _WORDS_HINT),
)


def _period(row: int) -> tuple[Field, ...]:
    group = (f"交付時間 {row}", f"Hours {row}")
    return (
        Field(f"days-{row}", ("曜日", "Days"), Kind.DAYS, group=group, required=row == 1),
        Field(f"opens-{row}", ("開始", "Opens"), Kind.CLOCK, _CLOCK_HINT, group=group, required=row == 1),
        Field(f"closes-{row}", ("終了", "Closes"), Kind.CLOCK, _CLOCK_HINT, group=group, required=row == 1),
    )


FORMS: dict[Section, tuple[Field, ...]] = {
    Section.HOURS: (
        Field("opens", ("提供開始", "Service opens"), Kind.CLOCK, _CLOCK_HINT, required=True),
        Field("closes", ("提供終了", "Service closes"), Kind.CLOCK, _CLOCK_HINT, required=True),
        Field(
            "year_end",
            ("年末年始は停止する", "Closed over the New Year"),
            Kind.FLAG,
            group=("年末年始", "New Year closure"),
        ),
        Field(
            "first",
            ("最初の日", "First day"),
            Kind.MONTH_DAY,
            ("例: 12-29", "e.g. 12-29"),
            group=("年末年始", "New Year closure"),
        ),
        Field(
            "last",
            ("最後の日", "Last day"),
            Kind.MONTH_DAY,
            ("例: 01-03", "e.g. 01-03"),
            group=("年末年始", "New Year closure"),
        ),
    ),
    Section.MAINTENANCE: (
        Field("start", ("開始", "Start"), Kind.MOMENT, _MOMENT_HINT, required=True),
        Field("end", ("終了", "End"), Kind.MOMENT, _MOMENT_HINT, required=True),
        *_MESSAGES,
    ),
    Section.MUNICIPALITY_STOPS: (
        _MUNICIPALITY,
        Field("start", ("開始", "Start"), Kind.MOMENT, _MOMENT_HINT, required=True),
        Field("end", ("終了", "End"), Kind.MOMENT, _MOMENT_HINT, required=True),
        Field(
            "certificate_types",
            ("止める証明書", "Certificates stopped"),
            Kind.TYPES,
            ("どれも選ばなければ、すべての証明書", "None ticked: every certificate"),
        ),
        *_MESSAGES,
    ),
    Section.CERTIFICATE_HOURS: (
        _MUNICIPALITY,
        Field("certificate_type", ("証明書", "Certificate"), Kind.TYPE, required=True),
        *(field for row in range(1, PERIODS + 1) for field in _period(row)),
        Field(
            "closed_dates",
            ("交付しない日", "Closed dates"),
            Kind.DATES,
            ("1行に1日、例: 2026-12-28（祝日など）", "One a line, e.g. 2026-12-28 (public holidays)"),
        ),
    ),
    Section.SUSPENSIONS: (
        Field(
            "id",
            ("識別子", "Identifier"),
            Kind.TEXT,
            ("英数字と . _ -、40文字まで", "Letters, digits, . _ -; up to 40"),
            required=True,
        ),
        Field("since", ("開始", "Since"), Kind.MOMENT, _MOMENT_HINT, required=True),
        Field(
            "until",
            ("終了", "Until"),
            Kind.MOMENT,
            ("空欄: 解除まで。" + _MOMENT_HINT[0], "Empty: until lifted. " + _MOMENT_HINT[1]),
        ),
        Field(
            "municipality",
            ("市区町村コード", "Municipality code"),
            Kind.MUNICIPALITY,
            ("空欄: 全国", "Empty: everywhere"),
        ),
        Field(
            "certificate_type",
            ("証明書", "Certificate"),
            Kind.TYPE,
            ("選ばなければ、すべての証明書", "None chosen: every certificate"),
        ),
        *_MESSAGES,
    ),
}


def grouped(fields: Sequence[Field]) -> list[tuple[Words | None, list[Field]]]:
    """The fields in order, those of one group together (a fieldset with its legend)."""
    groups: list[tuple[Words | None, list[Field]]] = []
    for field in fields:
        if groups and field.group is not None and groups[-1][0] == field.group:
            groups[-1][1].append(field)
        else:
            groups.append((field.group, [field]))
    return groups


_MISSING: Words = ("入力してください", "This is required")
_BOTH: Words = ("日本語と英語の両方を入れるか、両方とも空欄にしてください", "Give both languages, or neither")


def values_of(section: Section, form: Any) -> Values:
    """The section's fields from a submitted form (Starlette's ``FormData``, or a mapping of
    lists), as typed; nothing else of the form."""
    values: Values = {}
    for field in FORMS[section]:
        if field.kind in (Kind.TYPES, Kind.DAYS):
            values[field.name] = [str(value) for value in _all(form, field.name)]
        else:
            values[field.name] = str(_one(form, field.name)).strip()
    return values


def _all(form: Any, name: str) -> list[Any]:
    return list(form.getlist(name)) if hasattr(form, "getlist") else list(form.get(name) or [])


def _one(form: Any, name: str) -> Any:
    found = form.get(name)
    if isinstance(found, list):
        found = found[0] if found else ""
    return "" if found is None else found


def blank(section: Section) -> Values:
    values: Values = {
        field.name: [] if field.kind in (Kind.TYPES, Kind.DAYS) else "" for field in FORMS[section]
    }
    if section is Section.HOURS:
        values["year_end"] = "on"
    return values


# -- the data format's entry from the fields --------------------------------------------------


@dataclass(frozen=True)
class Made:
    """What a form made: the data format's entry (None when a field is not even of its shape),
    the fields' errors, and which row of the form each of the entry's periods came from."""

    item: dict[str, Any] | None
    errors: Errors
    rows: tuple[int, ...] = ()


def item_of(section: Section, values: Values) -> Made:
    errors: Errors = {}

    def read(name: str, parse: Callable[[str], Any], *, required: bool = False) -> Any:
        text = values.get(name, "")
        if text == "" or text == []:
            if required:
                errors[name] = _MISSING
            return None
        try:
            return parse(text)
        except _Shape as wrong:
            errors[name] = wrong.words
            return None

    if section is Section.HOURS:
        item = _hours(values, read)
        return Made(None if errors else item, errors)
    if section is Section.CERTIFICATE_HOURS:
        item, rows = _certificate_hours(values, read, errors)
        return Made(None if errors else item, errors, rows)
    item = {}
    for field in FORMS[section]:
        if field.kind is Kind.WORDS:
            continue
        value = read(field.name, _PARSERS[field.kind], required=field.required)
        if value is not None:
            item[field.name] = value
    if section is Section.MUNICIPALITY_STOPS:
        item["certificate_types"] = list(values.get("certificate_types") or [])
    message = _message(values, errors)
    if message is not None:
        item["message"] = message
    return Made(None if errors else item, errors)


class _Shape(ValueError):
    def __init__(self, words: Words) -> None:
        super().__init__(words[1])
        self.words = words


def parse_moment(text: str) -> str:
    """A moment as typed (``2026-12-20 01:00``, Japan time) as the data format writes it."""
    found = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?", text)
    if not found:
        raise _Shape(("「2026-12-20 01:00」の形で入れてください", "Enter it as 2026-12-20 01:00"))
    return f"{found.group(1)}T{found.group(2)}{found.group(3) or ':00'}+09:00"


def _clock(text: str) -> str:
    found = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not found:
        raise _Shape(("「06:30」の形で入れてください", "Enter it as 06:30"))
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def _month_day(text: str) -> str:
    found = re.fullmatch(r"(\d{1,2})-(\d{1,2})", text)
    if not found:
        raise _Shape(("「12-29」の形で入れてください", "Enter it as 12-29"))
    return f"{int(found.group(1)):02d}-{int(found.group(2)):02d}"


def _municipality(text: str) -> str:
    if not re.fullmatch(r"\d{6}", text):
        raise _Shape(("6桁の市区町村コードを入れてください", "Enter the 6-digit municipality code"))
    return text


def _ident(text: str) -> str:
    if not IDENT.fullmatch(text):
        raise _Shape(("英数字と . _ - だけ、40文字までです", "Letters, digits, . _ - only; up to 40"))
    return text


def _dates(text: str) -> list[str]:
    return [day for day in re.split(r"[\s,、]+", text) if day]


def _as_is(value: Any) -> Any:
    return value


_PARSERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT: _ident,
    Kind.MOMENT: parse_moment,
    Kind.CLOCK: _clock,
    Kind.MONTH_DAY: _month_day,
    Kind.MUNICIPALITY: _municipality,
    Kind.TYPE: _as_is,
    Kind.TYPES: _as_is,
    Kind.DAYS: _as_is,
    Kind.DATES: _dates,
}


_PLAIN = (
    "1行の文で書いてください（改行、制御文字、< と > は使えません）",
    "One line of plain text (no line breaks, control characters, < or >)",
)


def _message(values: Values, errors: Errors) -> dict[str, str] | None:
    ja, en = values.get("message_ja", ""), values.get("message_en", "")
    for name, text in (("message_ja", ja), ("message_en", en)):
        if len(text) > WORDS_LENGTH:
            errors[name] = (f"{WORDS_LENGTH}文字までです", f"Up to {WORDS_LENGTH} characters")
        elif not plain_line(text):
            errors[name] = _PLAIN
    if bool(ja) != bool(en):
        errors["message_en" if ja else "message_ja"] = _BOTH
    return {"ja": ja, "en": en} if ja and en else None


Reader = Callable[..., Any]


def _hours(values: Values, read: Reader) -> dict[str, Any]:
    hours = {"opens": read("opens", _clock, required=True), "closes": read("closes", _clock, required=True)}
    closure = None
    if values.get("year_end"):
        closure = {
            "first": read("first", _month_day, required=True),
            "last": read("last", _month_day, required=True),
        }
    return {"service_hours": hours, "year_end_closure": closure}


def _certificate_hours(
    values: Values, read: Reader, errors: Errors
) -> tuple[dict[str, Any], tuple[int, ...]]:
    item: dict[str, Any] = {
        "municipality": read("municipality", _municipality, required=True),
        "certificate_type": read("certificate_type", _as_is, required=True),
        "periods": [],
        "closed_dates": read("closed_dates", _dates) or [],
    }
    rows = []
    for row in range(1, PERIODS + 1):
        days, opens, closes = (values.get(f"{part}-{row}") for part in ("days", "opens", "closes"))
        if row > 1 and not days and not opens and not closes:
            continue  # a row left blank
        if not days:
            errors[f"days-{row}"] = ("曜日を選んでください", "Tick at least one day")
        period = {
            "days": list(days or []),
            "opens": read(f"opens-{row}", _clock, required=True),
            "closes": read(f"closes-{row}", _clock, required=True),
        }
        item["periods"].append(period)
        rows.append(row)
    return item, tuple(rows)


# -- the fields from the data format's entry ---------------------------------------------------


def values_from(section: Section, data: Mapping[str, Any]) -> Values:
    """The form's fields showing an entry of the calendar's data (``to_dict()``), to edit it;
    for the national hours, the whole data."""
    values = blank(section)
    if section is Section.HOURS:
        hours, closure = data["service_hours"], data["year_end_closure"]
        values.update(opens=hours["opens"], closes=hours["closes"])
        values.update(
            year_end="on" if closure else "",
            first=closure["first"] if closure else "12-29",
            last=closure["last"] if closure else "01-03",
        )
        return values
    for field in FORMS[section]:
        value = data.get(field.name)
        if field.kind is Kind.MOMENT and value:
            values[field.name] = _shown_moment(value)
        elif field.kind in (Kind.TYPES, Kind.DAYS):
            values[field.name] = list(value or [])
        elif field.kind is Kind.DATES:
            values[field.name] = "\n".join(value or [])
        elif value is not None and field.kind is not Kind.WORDS:
            values[field.name] = str(value)
    message = data.get("message")
    if message:
        values.update(message_ja=message["ja"], message_en=message["en"])
    for row, period in enumerate(data.get("periods") or [], start=1):
        values.update(
            {
                f"days-{row}": list(period["days"]),
                f"opens-{row}": period["opens"],
                f"closes-{row}": period["closes"],
            }
        )
    return values


def _shown_moment(value: str) -> str:
    """``2026-12-20T01:00:00+09:00`` (the data writes instants in Japan time) as typed."""
    shown = value.replace("T", " ").removesuffix("+09:00")
    return shown.removesuffix(":00") if len(shown) == 19 else shown


# -- where the data format's error goes -----------------------------------------------------------


def field_of(section: Section, where: str, place: str, rows: Sequence[int] = ()) -> str:
    """The field a data format error at ``where`` is about, for a change of the entry at ``place``
    (``calendar.maintenance[2]``); ``""`` when it is about the form as a whole or elsewhere."""
    if section is Section.HOURS:
        for prefix in ("calendar.service_hours.", "calendar.year_end_closure."):
            if where.startswith(prefix):
                return where.removeprefix(prefix)
        return ""
    if not where.startswith(place + "."):
        return ""
    rest = where.removeprefix(place + ".")
    if rest.startswith("message."):
        return "message_" + rest.removeprefix("message.")
    found = re.fullmatch(r"periods\[(\d+)\]\.(days|opens|closes)", rest)
    if found:
        index = int(found.group(1))
        row = rows[index] if index < len(rows) else index + 1
        return f"{found.group(2)}-{row}"
    name = re.sub(r"\[\d+\]$", "", rest)
    if name == "periods":
        return "days-1"
    return name if any(field.name == name for field in FORMS[section]) else ""
