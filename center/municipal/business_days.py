"""A municipal office's business days (開庁日): when a usage registration (利用登録申請) made at a
terminal becomes usable without a decision of the staff.

A business day is a day in Japan that is not a Saturday or Sunday, not a public holiday (国民の
祝日, its substitute holidays and the days between two holidays, from the ``holidays`` package)
and not in the year-end closure of municipal offices, 29 December - 3 January (年末年始の休日).

An application is approved by the rule at the **start of the Nth business day after the day it
was made** (Japan midnight, 00:00 JST): the application day itself never counts, whether it was a
business day or not. Midnight rather than the office's opening time: the certificates are then
available from the first hour of the service (6:30) that day, and the settings need not know the
office's hours.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays

from documents import JST

DEFAULT_DAYS = 5  # 「利用登録後、約5開庁日後から」: what most municipalities announce
YEAR_END_CLOSURE = ((12, 29), (1, 3))  # 年末年始: 29 December to 3 January, both included


@functools.lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def in_year_end_closure(day: dt.date) -> bool:
    (first_month, first_day), (last_month, last_day) = YEAR_END_CLOSURE
    key = (day.month, day.day)
    return key >= (first_month, first_day) or key <= (last_month, last_day)


def is_public_holiday(day: dt.date) -> bool:
    """国民の祝日 (振替休日 and 国民の休日 included)."""
    return day in _public_holidays(day.year)


def is_business_day(day: dt.date) -> bool:
    """The municipal office is open that day (開庁日)."""
    return day.weekday() < 5 and not is_public_holiday(day) and not in_year_end_closure(day)


def business_day_after(day: dt.date, days: int) -> dt.date:
    """The ``days``-th business day after ``day`` (``day`` itself not counted)."""
    if days < 1:
        raise ValueError("count at least one business day")
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        counted += is_business_day(day)
    return day


def business_days_between(first: dt.date, last: dt.date) -> int:
    """The business days after ``first`` up to ``last`` included."""
    count, day = 0, first
    while day < last:
        day += dt.timedelta(days=1)
        count += is_business_day(day)
    return count


def approval_instant(applied_at: dt.datetime, days: int = DEFAULT_DAYS) -> dt.datetime:
    """When an application made at ``applied_at`` is approved by the rule: 00:00 in Japan of the
    ``days``-th business day after the Japanese day of ``applied_at`` (aware, UTC)."""
    if applied_at.tzinfo is None:
        raise ValueError("an instant must be aware")
    day = business_day_after(applied_at.astimezone(JST).date(), days)
    return dt.datetime.combine(day, dt.time(0, 0), JST).astimezone(dt.UTC)
