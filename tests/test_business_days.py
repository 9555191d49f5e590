"""A municipality's business days (開庁日) and when a usage registration is approved by the rule:
fixed dates across Golden Week, the year-end closure, a Friday and the Japan-time day boundary, and
a property over any instant."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from center.municipal.business_days import (
    DEFAULT_DAYS,
    approval_instant,
    business_day_after,
    business_days_between,
    is_business_day,
)
from documents import JST


def _jst(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST)


def _midnight(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=JST).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (dt.date(2025, 3, 10), True),  # a Monday
        (dt.date(2025, 3, 8), False),  # Saturday
        (dt.date(2025, 3, 9), False),  # Sunday
        (dt.date(2025, 3, 20), False),  # 春分の日
        (dt.date(2025, 4, 29), False),  # 昭和の日
        (dt.date(2025, 5, 6), False),  # 振替休日 (5 May on a Monday, 3 May on a Saturday)
        (dt.date(2025, 5, 7), True),
        (dt.date(2025, 11, 24), False),  # 振替休日 of 勤労感謝の日
        (dt.date(2025, 12, 26), True),
        (dt.date(2025, 12, 29), False),  # 年末年始, a Monday
        (dt.date(2025, 12, 31), False),
        (dt.date(2026, 1, 2), False),  # a Friday in the closure
        (dt.date(2026, 1, 5), True),
        (dt.date(2026, 1, 12), False),  # 成人の日
        (dt.date(2026, 9, 22), False),  # 国民の休日, between 敬老の日 and 秋分の日
    ],
)
def test_business_days_of_a_municipal_office(day: dt.date, open_: bool) -> None:
    assert is_business_day(day) is open_


@pytest.mark.parametrize(
    ("applied", "approved"),
    [
        # Monday: Tue, Wed, Thu, Fri, and the next Monday is the fifth
        (_jst(2025, 3, 10), _midnight(2025, 3, 17)),
        # Friday: the weekend does not count
        (_jst(2025, 3, 7, 16, 45), _midnight(2025, 3, 14)),
        # before Golden Week: 30 Apr, 1 May, 2 May, then 3-6 May closed, 7 and 8 May
        (_jst(2025, 4, 28), _midnight(2025, 5, 8)),
        # during it: 7, 8, 9, 12, 13 May
        (_jst(2025, 5, 4), _midnight(2025, 5, 13)),
        # the Friday before the closure: 5-9 January
        (_jst(2025, 12, 26), _midnight(2026, 1, 9)),
        # inside the closure, on New Year's Eve
        (_jst(2025, 12, 31, 23, 59), _midnight(2026, 1, 9)),
        # across 成人の日: 8, 9, 13, 14, 15 January
        (_jst(2026, 1, 7), _midnight(2026, 1, 15)),
        # across 春分の日 (Thursday 20 March 2025): 19 March is a Wednesday
        (_jst(2025, 3, 19), _midnight(2025, 3, 27)),
    ],
)
def test_an_application_is_approved_at_the_start_of_the_fifth_business_day_after_it(
    applied: dt.datetime, approved: dt.datetime
) -> None:
    assert approval_instant(applied) == approved
    assert approval_instant(applied.astimezone(dt.UTC)) == approved
    assert approval_instant(applied).tzinfo is dt.UTC


def test_the_day_is_the_day_in_japan() -> None:
    thursday_night = dt.datetime(2025, 3, 6, 14, 0, tzinfo=dt.UTC)  # 23:00 on Thursday in Japan
    friday_early = dt.datetime(2025, 3, 6, 16, 0, tzinfo=dt.UTC)  # 01:00 on Friday in Japan
    assert approval_instant(thursday_night) == _midnight(2025, 3, 13)
    assert approval_instant(friday_early) == _midnight(2025, 3, 14)


def test_the_number_of_days_is_the_municipality_s() -> None:
    assert DEFAULT_DAYS == 5
    assert approval_instant(_jst(2025, 3, 7), 1) == _midnight(2025, 3, 10)
    assert approval_instant(_jst(2025, 12, 27), 1) == _midnight(2026, 1, 5)
    assert approval_instant(_jst(2025, 3, 7), 10) == _midnight(2025, 3, 24)  # 春分の日 skipped


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        business_day_after(dt.date(2025, 3, 10), 0)
    with pytest.raises(ValueError, match="aware"):
        approval_instant(dt.datetime(2025, 3, 10, 10, 0))


@settings(max_examples=300, deadline=None)
@given(
    applied=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2060, 12, 31), timezones=st.just(dt.UTC)
    ),
    days=st.integers(min_value=1, max_value=30),
)
def test_the_approval_day_is_a_business_day_exactly_n_business_days_later(
    applied: dt.datetime, days: int
) -> None:
    approved = approval_instant(applied, days)
    local = approved.astimezone(JST)
    assert local.time() == dt.time(0, 0)
    applied_day = applied.astimezone(JST).date()
    assert is_business_day(local.date())
    assert business_days_between(applied_day, local.date()) == days
    assert business_days_between(applied_day, local.date() - dt.timedelta(days=1)) == days - 1
    # counted another way: every day in between, one by one
    span = (local.date() - applied_day).days
    counted = sum(is_business_day(applied_day + dt.timedelta(days=i)) for i in range(1, span + 1))
    assert counted == days
