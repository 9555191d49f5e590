"""The issue number (交付番号): unique per copy, printed on every page.

As in the real service it is built from the issuing date, the municipality, the terminal, the
printer, a sequence and the page. The text form of a copy is

    20261123/131016/T-0001/01/000042
    date     municipality (地方公共団体コード) / terminal / printer / sequence (per municipality per day)

and each printed page adds its page number: ``20261123/131016/T-0001/01/000042/01``. Fields are
separated by ``/`` because terminal ids contain ``-``. Parsing is strict: exact widths, ASCII digits,
nothing around.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from documents.basics import JST
from documents.errors import BadIssueNumber

_MUNICIPALITY = re.compile(r"[0-9]{6}")
_TERMINAL = re.compile(r"[A-Z0-9-]{1,32}")
_COPY = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})/([0-9]{6})/([A-Z0-9-]{1,32})/([0-9]{2})/([0-9]{6})")
_PAGE = re.compile(_COPY.pattern + r"/([0-9]{2})")


def tokyo_day(moment: dt.datetime) -> dt.date:
    """The calendar day in Japan of an aware moment: the day an issue number carries."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(JST).date()


def is_municipality_code(value: object) -> bool:
    """Six ASCII digits (地方公共団体コード; the check digit is not verified here)."""
    return isinstance(value, str) and _MUNICIPALITY.fullmatch(value) is not None


def is_terminal_id(value: object) -> bool:
    """1-32 of ``A-Z``, ``0-9`` and ``-`` (the center's terminal ids)."""
    return isinstance(value, str) and _TERMINAL.fullmatch(value) is not None


def _is_int_in(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


@dataclass(frozen=True)
class IssueNumber:
    """交付番号 of one copy: ``day`` (issuing day in Asia/Tokyo), ``municipality`` (6 digits),
    ``terminal_id``, ``printer`` (1..99) and ``sequence`` (1..999999, per municipality per day)."""

    day: dt.date
    municipality: str
    terminal_id: str
    printer: int
    sequence: int

    def __post_init__(self) -> None:
        if type(self.day) is not dt.date:
            raise BadIssueNumber("the day must be a date (not a datetime)")
        if not is_municipality_code(self.municipality):
            raise BadIssueNumber("the municipality code must be 6 digits")
        if not is_terminal_id(self.terminal_id):
            raise BadIssueNumber("the terminal id must be 1-32 of A-Z, 0-9 and '-'")
        if not _is_int_in(self.printer, 1, 99):
            raise BadIssueNumber("the printer must be 1..99")
        if not _is_int_in(self.sequence, 1, 999_999):
            raise BadIssueNumber("the sequence must be 1..999999")

    @property
    def text(self) -> str:
        """The copy's text form, ``20261123/131016/T-0001/01/000042``."""
        day = self.day
        return (
            f"{day.year:04d}{day.month:02d}{day.day:02d}/{self.municipality}/{self.terminal_id}"
            f"/{self.printer:02d}/{self.sequence:06d}"
        )

    def __str__(self) -> str:
        return self.text

    def page(self, n: int, of: int) -> str:
        """The text printed on page ``n`` of ``of`` (both 1..99, ``n <= of``): ``…/000042/01``."""
        if not _is_int_in(of, 1, 99) or not _is_int_in(n, 1, of):
            raise BadIssueNumber("pages are numbered 1..99 within the copy's page count")
        return f"{self.text}/{n:02d}"

    @classmethod
    def parse(cls, text: str) -> IssueNumber:
        """The copy form, exactly; :class:`BadIssueNumber` otherwise."""
        match = _COPY.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise BadIssueNumber("not an issue number (YYYYMMDD/MMMMMM/TERMINAL/PP/SSSSSS)")
        return cls._from_groups(match.groups())

    @classmethod
    def parse_page(cls, text: str) -> tuple[IssueNumber, int]:
        """A page's printed form: the copy's issue number and the page number (1..99)."""
        match = _PAGE.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise BadIssueNumber("not a page issue number (YYYYMMDD/MMMMMM/TERMINAL/PP/SSSSSS/NN)")
        *copy, page = match.groups()
        if int(page) < 1:
            raise BadIssueNumber("pages are numbered from 01")
        return cls._from_groups(tuple(copy)), int(page)

    @classmethod
    def _from_groups(cls, groups: tuple[str, ...]) -> IssueNumber:
        year, month, day, municipality, terminal_id, printer, sequence = groups
        try:
            date = dt.date(int(year), int(month), int(day))
        except ValueError:
            raise BadIssueNumber("the issue number's date does not exist") from None
        return cls(date, municipality, terminal_id, int(printer), int(sequence))
