"""Dates as Japanese certificates print them: the era calendar (和暦) with full-width digits,
``令和８年１１月２３日``. One rule for the municipality, which writes them into the content, and the
renderer, which prints the family register's event dates."""

from __future__ import annotations

import datetime as dt

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_ERAS = (  # (first day, name): 元号
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1868, 10, 23), "明治"),
)


def full_width(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def wareki(day: dt.date) -> str:
    """``令和８年１１月２３日`` (the first year of an era is 元年)."""
    for first, era in _ERAS:
        if day >= first:
            year = day.year - first.year + 1
            year_text = "元" if year == 1 else full_width(str(year))
            return f"{era}{year_text}年{full_width(str(day.month))}月{full_width(str(day.day))}日"
    return full_width(f"{day.year}年{day.month}月{day.day}日")
