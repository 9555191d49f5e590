"""Dates as a certificate prints them: the Japanese era calendar (和暦) with full-width digits.

The municipality already prints its dates this way in the content; the family register's events
carry ISO dates, which the layout turns into the same form, by the same rule
(:mod:`documents.wareki`).
"""

from __future__ import annotations

import datetime as dt

from documents.wareki import full_width, wareki

__all__ = ["full_width", "wareki", "wareki_of", "yen"]


def wareki_of(iso: str) -> str:
    """An ISO date (``1987-12-06``) as printed; anything else is printed as it is."""
    try:
        return wareki(dt.date.fromisoformat(iso))
    except ValueError:
        return iso


def yen(amount: int) -> str:
    """``1,730,000`` (a tax table's figures; the unit is in the column's heading)."""
    return f"{amount:,}"
