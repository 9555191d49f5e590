"""The service calendar (サービス提供時間): every rule, every boundary, and properties of any calendar."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from center.calendar import HORIZON_DAYS, Closed, Decision, Open, ReasonCode, ServiceCalendar
from center.calendar_format import CalendarDataError
from center.calendar_rules import (
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
from documents import JST, CertificateType
from documents.basics import RESIDENT_WORDS_MAX

CHIYODA, SAPPORO, OSAKA = "131016", "011002", "271004"  # 千代田区, 札幌市, 大阪市
MICROSECOND = timedelta(microseconds=1)
NATIONAL = ServiceCalendar.default()
DOCS = Path(__file__).resolve().parents[1] / "docs" / "calendar.md"


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=JST)


def closed(decision: Decision) -> Closed:
    assert isinstance(decision, Closed), decision
    return decision


def why(decision: Decision) -> tuple[ReasonCode, datetime | None]:
    """The reason and the reopening of a decision that must be Closed."""
    return closed(decision).reason_code, closed(decision).reopens_at


def opened(decision: Decision) -> Open:
    assert isinstance(decision, Open), decision
    return decision


# An example with one rule of each kind (the same one as in docs/calendar.md).
EXAMPLE: dict[str, Any] = {
    "format": 1,
    "service_hours": {"opens": "06:30", "closes": "23:00"},
    "year_end_closure": {"first": "12-29", "last": "01-03"},
    "maintenance": [
        {"start": "2025-05-10T22:00:00+09:00", "end": "2025-05-11T08:00:00+09:00"},
        {
            "start": "2025-06-01T01:00:00+09:00",
            "end": "2025-06-01T03:00:00+09:00",
            "message": {"ja": "設備点検のため停止しています", "en": "Stopped for an equipment check"},
        },
    ],
    "municipality_stops": [
        {
            "municipality": CHIYODA,
            "start": "2025-07-12T00:00:00+09:00",
            "end": "2025-07-14T12:00:00+09:00",
            "certificate_types": [],
            "message": {"ja": "システム移行のため停止しています", "en": "Stopped for a system migration"},
        },
        {
            "municipality": SAPPORO,
            "start": "2025-06-02T00:00:00+09:00",
            "end": "2025-06-03T00:00:00+09:00",
            "certificate_types": ["tax"],
        },
    ],
    "certificate_hours": [
        {
            "municipality": CHIYODA,
            "certificate_type": "family_register",
            "periods": [{"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "09:00", "closes": "17:00"}],
            "closed_dates": ["2025-05-05", "2025-05-06"],
        },
    ],
    "suspensions": [
        {
            "id": "osaka-2025-08",
            "since": "2025-08-01T10:00:00+09:00",
            "until": "2025-08-01T15:00:00+09:00",
            "municipality": OSAKA,
            "certificate_type": None,
        },
    ],
}
CALENDAR = ServiceCalendar.from_dict(EXAMPLE)


# -- national hours 6:30–23:00 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        (time(0, 0), False),
        (time(6, 29, 59), False),
        (time(6, 29, 59, 999999), False),
        (time(6, 30), True),
        (time(12, 0), True),
        (time(22, 59, 59), True),
        (time(22, 59, 59, 999999), True),
        (time(23, 0), False),
        (time(23, 59, 59, 999999), False),
    ],
)
def test_service_hours_boundaries(at: time, is_open: bool) -> None:
    now = datetime.combine(date(2025, 5, 14), at, JST)  # a Wednesday
    decision = NATIONAL.check(now)
    assert decision.is_open is is_open
    if not is_open:
        assert closed(decision).reason_code == ReasonCode.OUTSIDE_SERVICE_HOURS


def test_before_opening_reopens_the_same_day_and_after_closing_the_next() -> None:
    assert closed(NATIONAL.check(jst(2025, 5, 14, 6, 29, 59))).reopens_at == jst(2025, 5, 14, 6, 30)
    assert closed(NATIONAL.check(jst(2025, 5, 14, 23))).reopens_at == jst(2025, 5, 15, 6, 30)
    assert closed(NATIONAL.check(jst(2025, 5, 14, 0))).reopens_at == jst(2025, 5, 14, 6, 30)
    assert opened(NATIONAL.check(jst(2025, 5, 14, 6, 30))).closes_at == jst(2025, 5, 14, 23)


def test_outside_hours_words_for_the_kiosk() -> None:
    decision = closed(NATIONAL.check(jst(2025, 5, 14, 23, 30)))
    assert decision.message_ja == "サービス提供時間外です（6:30〜23:00）。5月15日（木）6:30から利用できます"
    assert decision.message_en == (
        "Outside service hours (6:30–23:00); available again from 6:30 on Thursday 15 May"
    )


# -- year-end closure 29 December – 3 January -------------------------------------------------


def test_december_28_closes_at_23_and_reopens_on_january_4() -> None:
    assert opened(NATIONAL.check(jst(2024, 12, 28, 22, 59, 59))).closes_at == jst(2024, 12, 28, 23)
    decision = closed(NATIONAL.check(jst(2024, 12, 28, 23)))
    assert decision.reason_code == ReasonCode.OUTSIDE_SERVICE_HOURS
    assert decision.reopens_at == jst(2025, 1, 4, 6, 30)
    assert "1月4日（土）6:30から利用できます" in decision.message_ja


@pytest.mark.parametrize(
    "now",
    [
        jst(2024, 12, 29, 0),
        jst(2024, 12, 29, 12),
        jst(2024, 12, 31, 23, 59, 59),
        jst(2025, 1, 1, 10),
        jst(2025, 1, 3, 6, 30),
        jst(2025, 1, 3, 22, 59, 59),
        jst(2025, 1, 3, 23, 59, 59, 999999),
    ],
)
def test_year_end_closure_covers_december_29_to_january_3(now: datetime) -> None:
    decision = closed(NATIONAL.check(now))
    assert decision.reason_code == ReasonCode.YEAR_END_CLOSURE
    assert decision.reopens_at == jst(2025, 1, 4, 6, 30)
    assert decision.message_ja.startswith("年末年始（12月29日〜1月3日）はサービスを停止しています。")


def test_january_4_opens_at_6_30() -> None:
    opening = jst(2025, 1, 4, 6, 30)
    assert why(NATIONAL.check(jst(2025, 1, 4, 0))) == (ReasonCode.OUTSIDE_SERVICE_HOURS, opening)
    assert NATIONAL.check(jst(2025, 1, 4, 6, 30)).is_open


def test_year_end_closure_across_a_leap_year() -> None:
    assert closed(NATIONAL.check(jst(2027, 12, 28, 23))).reopens_at == jst(2028, 1, 4, 6, 30)
    assert NATIONAL.check(jst(2028, 2, 29, 12)).is_open


# -- maintenance windows (計画停止) -------------------------------------------------------------


def test_maintenance_window_is_half_open() -> None:
    assert opened(CALENDAR.check(jst(2025, 5, 10, 21, 59, 59))).closes_at == jst(2025, 5, 10, 22)
    decision = closed(CALENDAR.check(jst(2025, 5, 10, 22)))
    assert why(decision) == (ReasonCode.MAINTENANCE, jst(2025, 5, 11, 8))
    assert decision.message_ja.startswith("システムメンテナンスのため")
    assert CALENDAR.check(jst(2025, 5, 11, 8)).is_open


def test_maintenance_outranks_outside_hours_and_ends_before_the_opening() -> None:
    at_night = closed(CALENDAR.check(jst(2025, 5, 11, 2)))
    assert (at_night.reason_code, at_night.reopens_at) == (ReasonCode.MAINTENANCE, jst(2025, 5, 11, 8))
    early = closed(CALENDAR.check(jst(2025, 6, 1, 2)))  # window 1:00–3:00, opening 6:30
    assert (early.reason_code, early.reopens_at) == (ReasonCode.MAINTENANCE, jst(2025, 6, 1, 6, 30))
    assert early.message_en == "Stopped for an equipment check; available again from 6:30 on Sunday 1 June"


def test_maintenance_stops_every_municipality_and_type() -> None:
    for kind in CertificateType:
        decision = closed(CALENDAR.check(jst(2025, 5, 10, 22, 30), SAPPORO, kind))
        assert decision.reason_code == ReasonCode.MAINTENANCE


# -- municipality stops -----------------------------------------------------------------------


def test_municipality_stop_concerns_only_that_municipality() -> None:
    now = jst(2025, 7, 13, 12)
    decision = closed(CALENDAR.check(now, CHIYODA, "resident_record"))
    assert decision.reason_code == ReasonCode.MUNICIPALITY_STOP
    assert decision.reopens_at == jst(2025, 7, 14, 12)
    assert decision.message_ja.startswith("システム移行のため停止しています。")
    assert closed(CALENDAR.check(now, CHIYODA)).reason_code == ReasonCode.MUNICIPALITY_STOP
    assert CALENDAR.check(now, SAPPORO, "resident_record").is_open
    assert CALENDAR.check(now).is_open  # the national service runs


def test_municipality_stop_of_some_types_only() -> None:
    now = jst(2025, 6, 2, 10)
    decision = closed(CALENDAR.check(now, SAPPORO, "tax"))
    assert why(decision) == (ReasonCode.MUNICIPALITY_STOP, jst(2025, 6, 3, 6, 30))
    assert decision.message_ja.startswith("この市区町村の証明書は、現在交付を停止しています")
    assert CALENDAR.check(now, SAPPORO, "resident_record").is_open
    assert CALENDAR.check(now, SAPPORO).is_open  # other types remain
    assert CALENDAR.check(now, CHIYODA, "tax").is_open


# -- certificate hours (e.g. 戸籍証明書 on weekdays 9:00–17:00) ----------------------------------


@pytest.mark.parametrize(
    ("now", "reopens_at"),
    [
        (jst(2025, 5, 14, 8, 59, 59), jst(2025, 5, 14, 9)),  # Wednesday morning
        (jst(2025, 5, 14, 17), jst(2025, 5, 15, 9)),
        (jst(2025, 5, 16, 17), jst(2025, 5, 19, 9)),  # Friday evening → Monday
        (jst(2025, 5, 17, 12), jst(2025, 5, 19, 9)),  # Saturday
        (jst(2025, 5, 5, 12), jst(2025, 5, 7, 9)),  # closed dates 5 and 6 May (祝日, 振替休日)
    ],
)
def test_family_register_hours(now: datetime, reopens_at: datetime) -> None:
    decision = closed(CALENDAR.check(now, CHIYODA, "family_register"))
    assert (decision.reason_code, decision.reopens_at) == (ReasonCode.CERTIFICATE_HOURS, reopens_at)
    assert decision.message_ja.startswith("この証明書の交付時間外です（平日 9:00〜17:00）。")
    assert decision.message_en.startswith("This certificate is issued only weekdays 9:00–17:00;")


def test_family_register_open_on_weekdays_in_office_hours_only_where_the_rule_is() -> None:
    morning = opened(CALENDAR.check(jst(2025, 5, 14, 9), CHIYODA, "family_register"))
    assert morning.closes_at == jst(2025, 5, 14, 17)
    assert CALENDAR.check(jst(2025, 5, 14, 16, 59, 59), CHIYODA, "family_register").is_open
    assert CALENDAR.check(jst(2025, 5, 17, 12), CHIYODA, "resident_record").is_open  # other types
    assert CALENDAR.check(jst(2025, 5, 17, 12), SAPPORO, "family_register").is_open  # other places
    assert CALENDAR.check(jst(2025, 5, 17, 12), CHIYODA).is_open  # the municipality as a whole


def test_national_hours_bound_certificate_hours() -> None:
    rule = CertificateHours(
        CHIYODA, CertificateType.TAX, (WeeklyHours(frozenset(range(7)), DailyHours(time(5), time(23, 59))),)
    )
    calendar = ServiceCalendar(NATIONAL.hours, NATIONAL.year_end, certificate_hours=(rule,))
    outside = ReasonCode.OUTSIDE_SERVICE_HOURS
    assert why(calendar.check(jst(2025, 5, 14, 6), CHIYODA, "tax")) == (outside, jst(2025, 5, 14, 6, 30))
    assert why(calendar.check(jst(2025, 5, 14, 23, 30), CHIYODA, "tax")) == (outside, jst(2025, 5, 15, 6, 30))


def test_outside_national_hours_reports_national_hours_but_reopens_with_the_certificate() -> None:
    decision = CALENDAR.check(jst(2025, 5, 14, 23, 30), CHIYODA, "family_register")
    assert why(decision) == (ReasonCode.OUTSIDE_SERVICE_HOURS, jst(2025, 5, 15, 9))


def test_open_types_for_a_menu() -> None:
    decisions = CALENDAR.open_types(jst(2025, 5, 17, 12), CHIYODA, [t.value for t in CertificateType])
    assert set(decisions) == set(CertificateType)
    assert [kind for kind, decision in decisions.items() if not decision.is_open] == ["family_register"]
    assert closed(decisions[CertificateType.FAMILY_REGISTER]).reason_code == ReasonCode.CERTIFICATE_HOURS


# -- suspensions (運用停止) ---------------------------------------------------------------------


def test_whole_service_suspended_until_further_notice() -> None:
    calendar = NATIONAL.with_suspension(Suspension("incident-1", jst(2025, 5, 14, 10)))
    for municipality, kind in [(None, None), (CHIYODA, "resident_record"), (SAPPORO, "tax")]:
        decision = closed(calendar.check(jst(2025, 5, 14, 10), municipality, kind))
        assert (decision.reason_code, decision.reopens_at) == (ReasonCode.SUSPENDED, None)
        assert decision.message_ja == "現在、証明書の交付を停止しています"
    assert why(calendar.check(jst(2026, 1, 1, 12))) == (ReasonCode.SUSPENDED, None)  # outranks the year end
    assert opened(calendar.check(jst(2025, 5, 14, 9))).closes_at == jst(2025, 5, 14, 10)  # scheduled ahead
    assert calendar.without_suspension("incident-1").check(jst(2025, 5, 14, 10)).is_open


def test_suspension_of_one_municipality_or_one_type() -> None:
    koseki = Suspension("koseki", jst(2025, 5, 1), certificate_type=CertificateType.FAMILY_REGISTER)
    calendar = NATIONAL.with_suspension(Suspension("sapporo", jst(2025, 5, 1), municipality=SAPPORO))
    calendar = calendar.with_suspension(koseki)
    now = jst(2025, 5, 14, 12)
    assert closed(calendar.check(now, SAPPORO, "resident_record")).reason_code == ReasonCode.SUSPENDED
    assert closed(calendar.check(now, SAPPORO)).reason_code == ReasonCode.SUSPENDED
    assert closed(calendar.check(now, CHIYODA, "family_register")).reason_code == ReasonCode.SUSPENDED
    assert calendar.check(now, CHIYODA, "resident_record").is_open
    assert calendar.check(now).is_open


def test_suspension_with_an_end_reopens() -> None:
    during = closed(CALENDAR.check(jst(2025, 8, 1, 12), OSAKA, "tax"))
    assert (during.reason_code, during.reopens_at) == (ReasonCode.SUSPENDED, jst(2025, 8, 1, 15))
    assert CALENDAR.check(jst(2025, 8, 1, 15), OSAKA, "tax").is_open
    assert CALENDAR.check(jst(2025, 8, 1, 12), CHIYODA, "tax").is_open


def test_suspension_operations_keep_ids_unique() -> None:
    calendar = NATIONAL.with_suspension(Suspension("a", jst(2025, 1, 1)))
    with pytest.raises(ValueError, match="unique"):
        calendar.with_suspension(Suspension("a", jst(2025, 2, 1)))
    with pytest.raises(KeyError):
        calendar.without_suspension("b")


# -- time zones and inputs --------------------------------------------------------------------


def test_utc_input_is_read_in_tokyo_time() -> None:
    assert NATIONAL.check(datetime(2025, 5, 13, 21, 30, tzinfo=UTC)).is_open  # 14 May 6:30 JST
    decision = closed(NATIONAL.check(datetime(2025, 5, 13, 21, 29, 59, tzinfo=UTC)))
    assert decision.reopens_at == datetime(2025, 5, 13, 21, 30, tzinfo=UTC)
    assert decision.reopens_at is not None and decision.reopens_at.utcoffset() == timedelta(hours=9)
    assert NATIONAL.check(datetime(2025, 5, 14, 13, 59, 59, tzinfo=UTC)).is_open  # 22:59:59 JST
    assert not NATIONAL.check(datetime(2025, 5, 14, 14, tzinfo=UTC)).is_open  # 23:00 JST


def test_no_daylight_saving_time_anywhere_in_the_year() -> None:
    new_york = ZoneInfo("America/New_York")
    for offset in range(365):
        day = date(2025, 1, 5) + timedelta(days=offset)
        if NATIONAL.year_end.covers(day):
            continue
        opening = datetime.combine(day, time(6, 30), JST)
        before = closed(NATIONAL.check((opening - MICROSECOND).astimezone(new_york)))
        assert before.reopens_at is not None
        assert before.reopens_at.astimezone(UTC).time() == time(21, 30)  # every day of the year
        assert NATIONAL.check(opening.astimezone(new_york)).is_open
    assert NATIONAL.check(datetime(2025, 3, 9, 17, 30, tzinfo=new_york)).is_open  # US DST day, 6:30 JST


def test_asia_tokyo_zone_and_fixed_offset_agree() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    for now in [datetime(2025, 7, 1, 6, 29, 59, tzinfo=tokyo), datetime(2025, 7, 1, 6, 30, tzinfo=tokyo)]:
        assert NATIONAL.check(now) == NATIONAL.check(now.replace(tzinfo=JST))


def test_naive_datetimes_and_bad_questions_are_refused() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        NATIONAL.check(datetime(2025, 5, 14, 12))
    with pytest.raises(ValueError, match="check digit"):
        NATIONAL.check(jst(2025, 5, 14, 12), "131017")
    with pytest.raises(ValueError, match="6 digits"):
        NATIONAL.check(jst(2025, 5, 14, 12), "13101")
    with pytest.raises(ValueError, match="certificate"):
        NATIONAL.check(jst(2025, 5, 14, 12), CHIYODA, "certificate_of_everything")


@pytest.mark.parametrize("code", [CHIYODA, SAPPORO, OSAKA, "472018", "401005"])
def test_real_municipality_codes_pass_the_check_digit(code: str) -> None:
    assert validate_municipality_code(code) == code
    wrong = code[:5] + str((int(code[5]) + 1) % 10)
    with pytest.raises(ValueError):
        validate_municipality_code(wrong)


# -- the data ---------------------------------------------------------------------------------


def test_default_data_is_the_national_rule() -> None:
    assert NATIONAL.hours == DailyHours(time(6, 30), time(23))
    assert NATIONAL.year_end == YearEndClosure(MonthDay(12, 29), MonthDay(1, 3))
    assert not NATIONAL.suspensions and not NATIONAL.municipality_stops and not NATIONAL.certificate_hours


def test_round_trip_of_the_example() -> None:
    assert CALENDAR.to_dict() == EXAMPLE
    assert ServiceCalendar.from_dict(json.loads(json.dumps(CALENDAR.to_dict()))) == CALENDAR
    assert ServiceCalendar.from_dict(NATIONAL.to_dict()) == NATIONAL


def test_load_reads_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(EXAMPLE, ensure_ascii=False), encoding="utf-8")
    assert ServiceCalendar.load(path) == CALENDAR


def test_the_example_in_the_docs_is_valid_and_the_same() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, f"no JSON example in {DOCS}"
    assert ServiceCalendar.from_dict(json.loads(blocks[0])) == CALENDAR


def _edited(path: str, value: Any) -> dict[str, Any]:
    """EXAMPLE with ``value`` at ``path`` (``a.0.b``); a last part ``+`` appends, ``...`` deletes."""
    data = copy.deepcopy(EXAMPLE)
    *parents, last = path.split(".")
    target: Any = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if last == "+":
        target.append(copy.deepcopy(value))
    elif value is ...:
        del target[last]
    else:
        target[int(last) if isinstance(target, list) else last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        ("format", 2, r"calendar\.format"),
        ("colour", "blue", r"calendar: unknown key\(s\) \['colour'\]"),
        ("service_hours", ..., r"missing key\(s\) \['service_hours'\]"),
        ("service_hours.opens", "6:30", r"calendar\.service_hours\.opens: expected a time as HH:MM"),
        ("service_hours.closes", "24:01", r"calendar\.service_hours\.closes: expected a time"),
        ("service_hours.closes", "06:00", r"calendar\.service_hours\.closes: .* must be before"),
        ("year_end_closure.first", "02-30", r"calendar\.year_end_closure\.first: day is out of range"),
        (
            "maintenance.0.start",
            "2025-05-10T22:00:00",
            r"maintenance\[0\]\.start: an ISO 8601 time with its UTC",
        ),
        ("maintenance.0.end", "2025-05-10T21:00:00+09:00", r"maintenance\[0\]\.end: a window must start"),
        ("maintenance.1.message", {"ja": "停止"}, r"maintenance\[1\]\.message: missing key\(s\) \['en'\]"),
        (
            "municipality_stops.0.municipality",
            "131017",
            r"municipality_stops\[0\]\.municipality: .*check digit",
        ),
        (
            "municipality_stops.1.certificate_types",
            ["passport"],
            r"municipality_stops\[1\]\.certificate_types: 'passport'",
        ),
        ("certificate_hours.0.periods.0.days", ["monday"], r"periods\[0\]\.days: days are mon"),
        (
            "certificate_hours.0.periods",
            [],
            r"certificate_hours\[0\]\.periods: certificate hours need at least one",
        ),
        (
            "certificate_hours.0.closed_dates",
            ["5 May"],
            r"certificate_hours\[0\]\.closed_dates\[0\]: Invalid isoformat",
        ),
        (
            "certificate_hours.+",
            EXAMPLE["certificate_hours"][0],
            r"certificate_hours\[1\]\.certificate_type: .*given twice",
        ),
        ("suspensions.0.until", "2025-08-01T09:00:00+09:00", r"suspensions\[0\]\.until: .*must begin before"),
        ("suspensions.0.id", "", r"suspensions\[0\]\.id: expected a non-empty string"),
        ("suspensions.0.since", 1754010000, r"suspensions\[0\]\.since: expected a non-empty string"),
        ("suspensions.+", EXAMPLE["suspensions"][0], r"suspensions\[1\]\.id: .*unique"),
        ("suspensions", {}, r"calendar\.suspensions: expected a list"),
    ],
)
def test_bad_data_is_refused_with_its_place(path: str, value: Any, error: str) -> None:
    with pytest.raises(CalendarDataError, match=error):
        ServiceCalendar.from_dict(_edited(path, value))


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        ("maintenance.0.end", "2025-05-10T21:00:00+09:00", "calendar.maintenance[0].end"),
        ("maintenance.1.message.ja", "", "calendar.maintenance[1].message.ja"),
        ("municipality_stops.0.start", "2025-07-15T00:00:00+09:00", "calendar.municipality_stops[0].end"),
        ("certificate_hours.0.periods.0.closes", "08:00", "calendar.certificate_hours[0].periods[0].closes"),
        ("certificate_hours.0.periods.0.days", [], "calendar.certificate_hours[0].periods[0].days"),
        ("certificate_hours.0.closed_dates.+", "2025-02-30", "calendar.certificate_hours[0].closed_dates[2]"),
        ("suspensions.0.municipality", "13101", "calendar.suspensions[0].municipality"),
        ("service_hours.opens", "23:30", "calendar.service_hours.closes"),
        ("year_end_closure.last", "1-3", "calendar.year_end_closure.last"),
    ],
)
def test_a_mistake_names_the_field_it_is_in(path: str, value: Any, where: str) -> None:
    """The place and the problem apart (``where``, ``problem``): the console shows each error next
    to its field. A rule between two fields names the later one."""
    with pytest.raises(CalendarDataError) as refused:
        ServiceCalendar.from_dict(_edited(path, value))
    assert refused.value.where == where
    assert str(refused.value) == f"{where}: {refused.value.problem}" and refused.value.problem


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ("停" * (RESIDENT_WORDS_MAX + 1), f"at most {RESIDENT_WORDS_MAX} characters, not 161"),
        ("点検中です。\n明朝再開します", "one line of plain text"),
        ("<b>点検中</b>", "one line of plain text"),
        ("点検中\u202eです", "one line of plain text"),  # a bidirectional override
        ("点検中\u2028です", "one line of plain text"),  # a line separator
        (" 点検中", "neither begin nor end with spaces"),
        ("", "expected a non-empty string"),
    ],
)
@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("maintenance.1.message.ja", "calendar.maintenance[1].message.ja"),
        ("municipality_stops.0.message.en", "calendar.municipality_stops[0].message.en"),
        ("suspensions.0.message", "calendar.suspensions[0].message.ja"),
    ],
)
def test_words_for_residents_are_one_line_of_plain_text_of_at_most_160_characters(
    words: str, problem: str, path: str, where: str
) -> None:
    """What a kiosk's screen shows in a few lines, never markup: an operator's words are refused
    at the field they are in, as every mistake is."""
    value: Any = {"ja": words, "en": "Stopped"} if path.endswith(".message") else words
    with pytest.raises(CalendarDataError) as refused:
        ServiceCalendar.from_dict(_edited(path, value))
    assert refused.value.where == where and problem in refused.value.problem


def test_words_for_residents_of_160_characters_are_read_and_written_back() -> None:
    longest = {"ja": "停" * RESIDENT_WORDS_MAX, "en": "Stopped for a check (all day) & more: " + "x" * 122}
    calendar = ServiceCalendar.from_dict(_edited("maintenance.1.message", longest))
    assert calendar.maintenance[1].message == Message(**longest)
    assert ServiceCalendar.from_dict(calendar.to_dict()) == calendar


# -- properties of any calendar ---------------------------------------------------------------

START, END = datetime(2024, 12, 1), datetime(2026, 2, 1)
MUNICIPALITIES = [CHIYODA, SAPPORO, OSAKA]
ZONES = [JST, UTC, timezone(timedelta(hours=-5)), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")]


def minutes(low: int = 0, high: int = 24 * 60 - 1) -> st.SearchStrategy[time]:
    return st.integers(low, high).map(lambda m: time(m // 60, m % 60))


@st.composite
def daily_hours(draw: st.DrawFn) -> DailyHours:
    opens = draw(minutes(0, 22 * 60))
    closes = draw(minutes(opens.hour * 60 + opens.minute + 1))
    return DailyHours(opens, closes)


instants = st.datetimes(START, END, timezones=st.sampled_from(ZONES))


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start = draw(instants).astimezone(UTC)  # adding a timedelta to a DST zone's time adds wall-clock time
    return Window(start, start + draw(st.timedeltas(timedelta(minutes=1), timedelta(days=12))))


messages = st.none() | st.just(Message("停止中です。", "Stopped."))
types = st.sampled_from(list(CertificateType))


@st.composite
def suspensions(draw: st.DrawFn) -> Suspension:
    since = draw(instants).astimezone(UTC)
    length = draw(st.none() | st.timedeltas(timedelta(minutes=1), timedelta(days=10)))
    return Suspension(
        draw(st.text("abc", min_size=1, max_size=3)),
        since,
        None if length is None else since + length,
        draw(st.none() | st.sampled_from(MUNICIPALITIES)),
        draw(st.none() | types),
        draw(messages),
    )


@st.composite
def year_end_closures(draw: st.DrawFn) -> YearEndClosure:
    first = draw(st.dates(date(2025, 1, 1), date(2025, 12, 31)))
    last = first + timedelta(days=draw(st.integers(0, 14)))
    return YearEndClosure(MonthDay(first.month, first.day), MonthDay(last.month, last.day))


@st.composite
def calendars(draw: st.DrawFn) -> ServiceCalendar:
    hour_rules = st.lists(
        st.builds(
            CertificateHours,
            st.sampled_from(MUNICIPALITIES),
            types,
            st.lists(
                st.builds(WeeklyHours, st.frozensets(st.integers(0, 6), min_size=1), daily_hours()),
                min_size=1,
                max_size=2,
            ).map(tuple),
            st.frozensets(st.dates(START.date(), END.date()), max_size=3),
        ),
        max_size=3,
        unique_by=lambda rule: (rule.municipality, rule.certificate_type),
    )
    return ServiceCalendar(
        hours=draw(st.just(NATIONAL.hours) | daily_hours()),
        year_end=draw(st.just(NATIONAL.year_end) | year_end_closures()),
        maintenance=tuple(draw(st.lists(st.builds(MaintenanceWindow, windows(), messages), max_size=3))),
        municipality_stops=tuple(
            draw(
                st.lists(
                    st.builds(
                        MunicipalityStop,
                        st.sampled_from(MUNICIPALITIES),
                        windows(),
                        st.frozensets(types, max_size=2),
                        messages,
                    ),
                    max_size=3,
                )
            )
        ),
        certificate_hours=tuple(draw(hour_rules)),
        suspensions=tuple(draw(st.lists(suspensions(), max_size=2, unique_by=lambda s: s.id))),
    )


@st.composite
def moments(draw: st.DrawFn, calendar: ServiceCalendar) -> datetime:
    """Any instant, or one next to an edge of the calendar's rules (where mistakes hide)."""
    edges = [m.window.start for m in calendar.maintenance] + [m.window.end for m in calendar.maintenance]
    edges += [s.window.end for s in calendar.municipality_stops] + [s.since for s in calendar.suspensions]
    day = draw(st.dates(START.date(), END.date()))
    edges += [datetime.combine(day, t, JST) for t in (calendar.hours.opens, calendar.hours.closes, time(0))]
    edges += [
        datetime.combine(day, period.hours.opens, JST)
        for rule in calendar.certificate_hours
        for period in rule.periods
    ]
    near_edge = st.sampled_from(edges).flatmap(
        lambda edge: st.sampled_from([edge - MICROSECOND, edge, edge + MICROSECOND])
    )
    zone = draw(st.sampled_from(ZONES))
    return draw(instants | near_edge).astimezone(zone)


questions = st.tuples(st.none() | st.sampled_from(MUNICIPALITIES), st.none() | types)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(st.data(), calendars(), questions)
def test_the_decision_is_the_same_for_the_same_instant_in_any_zone(
    data: st.DataObject, calendar: ServiceCalendar, question: tuple[str | None, CertificateType | None]
) -> None:
    now = data.draw(moments(calendar))
    decision = calendar.check(now, *question)
    assert calendar.check(now, *question) == decision
    for zone in (UTC, JST, ZoneInfo("America/New_York")):
        assert calendar.check(now.astimezone(zone), *question) == decision


@PROPERTY_SETTINGS
@given(st.data(), calendars(), questions, st.floats(0, 1, exclude_max=True))
def test_reopening_is_the_first_open_instant_and_closing_the_first_closed_one(
    data: st.DataObject,
    calendar: ServiceCalendar,
    question: tuple[str | None, CertificateType | None],
    fraction: float,
) -> None:
    now = data.draw(moments(calendar))
    decision = calendar.check(now, *question)
    change = decision.closes_at if isinstance(decision, Open) else decision.reopens_at
    if change is None:
        # Not known: suspended until further notice, or nothing changes within the horizon.
        later = now.astimezone(UTC) + timedelta(days=HORIZON_DAYS) * fraction
        assert calendar.check(later, *question).is_open is decision.is_open
        return
    assert change > now and change.utcoffset() == timedelta(hours=9)
    assert calendar.check(change, *question).is_open is not decision.is_open
    between = now.astimezone(UTC) + MICROSECOND * int((change - now) / MICROSECOND * fraction)
    assert now <= between < change
    assert calendar.check(between, *question).is_open is decision.is_open
    assert calendar.check(change - MICROSECOND, *question).is_open is decision.is_open


@PROPERTY_SETTINGS
@given(calendars())
def test_any_calendar_survives_the_round_trip_through_json(calendar: ServiceCalendar) -> None:
    data = json.loads(json.dumps(calendar.to_dict(), ensure_ascii=False))
    assert ServiceCalendar.from_dict(data) == calendar
    assert ServiceCalendar.from_dict(data).to_dict() == data


def test_open_all_day_without_year_end_closure_round_trips() -> None:
    data = {
        "format": 1,
        "service_hours": {"opens": "00:00", "closes": "24:00"},
        "year_end_closure": None,
        "maintenance": [],
        "municipality_stops": [],
        "certificate_hours": [],
        "suspensions": [],
    }
    calendar = ServiceCalendar.from_dict(data)
    assert calendar.to_dict()["service_hours"] == {"opens": "00:00", "closes": "24:00"}
    assert calendar.to_dict()["year_end_closure"] is None
    for instant in ("2026-12-31T23:59:59+09:00", "2027-01-01T00:00:00+09:00", "2026-12-29T12:00:00+09:00"):
        assert calendar.check(datetime.fromisoformat(instant)).is_open
