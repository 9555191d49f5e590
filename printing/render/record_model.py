"""The issuance record as the record's page reads it (交付履歴のモデル): frozen rows and records, read
strictly from an opened ``koufu-issuance-record/1`` content (§D.2 of the format) by
:meth:`MunicipalRecord.of`. Every field the page prints present, of its type and within its bounds,
else :class:`~printing.render.errors.UnfitRecord` naming the field (never its value); fields the page
does not print are not read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from documents.basics import JST, plain_line
from printing.render.errors import UnfitRecord

MAX_ISSUANCES = 5000  # rows of one municipality's record
MAX_NUMBERS = 1000  # issue numbers of one row
_MUNICIPALITY = re.compile(r"[0-9]{6}")
_TYPE = re.compile(r"[a-z_]{1,64}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Issuance:
    """One row of a record: the copies of one certificate type of one order (交付)."""

    issued_at: dt.datetime  # in JST
    store: str
    terminal_id: str
    certificate_type: str  # a :class:`documents.basics.CertificateType` value (or a newer type's code)
    copies: int
    issue_numbers: tuple[str, ...]  # 交付番号, one a copy
    voided: frozenset[str]  # those of the issue numbers that were voided (廃棄)


@dataclass(frozen=True)
class MunicipalRecord:
    """One municipality's record (市区町村ごとの交付履歴): its rows newest first."""

    municipality: str  # the 6-digit code
    name: str
    name_en: str
    since: dt.date  # the period, days in JST
    until: dt.date
    issuances: tuple[Issuance, ...]

    @classmethod
    def of(cls, content: Mapping[str, Any]) -> MunicipalRecord:
        """The record of an opened ``koufu-issuance-record/1`` content (§D.2); the rows sorted newest
        first (stable). :class:`UnfitRecord` naming the first field that is not as it must be."""
        if not isinstance(content, Mapping):
            raise UnfitRecord("the record is not a map")
        code = _text(content, "municipality", 6)
        if not _MUNICIPALITY.fullmatch(code):
            raise UnfitRecord("municipality is not a 6-digit code")
        rows = content.get("issuances")
        if not isinstance(rows, list) or len(rows) > MAX_ISSUANCES:
            raise UnfitRecord(f"issuances is not a list of at most {MAX_ISSUANCES}")
        issuances = [_issuance(row, f"issuances[{index}]") for index, row in enumerate(rows)]
        issuances.sort(key=lambda issuance: issuance.issued_at, reverse=True)
        return cls(
            municipality=code,
            name=_text(content, "name", 100),
            name_en=_text(content, "name_en", 100, empty=True),
            since=_day(content, "since"),
            until=_day(content, "until"),
            issuances=tuple(issuances),
        )


def _issuance(row: object, where: str) -> Issuance:
    if not isinstance(row, Mapping):
        raise UnfitRecord(f"{where} is not a map")
    kind = _text(row, "certificate_type", 64, where=where)
    if not _TYPE.fullmatch(kind):
        raise UnfitRecord(f"{where}.certificate_type is not a type's code")
    copies = row.get("copies")
    if type(copies) is not int or not 1 <= copies <= MAX_NUMBERS:
        raise UnfitRecord(f"{where}.copies is not a number of copies")
    numbers = _texts(row, "issue_numbers", where)
    voided = _texts(row, "voided", where)
    if not numbers:
        raise UnfitRecord(f"{where}.issue_numbers is empty")
    if not set(voided) <= set(numbers):
        raise UnfitRecord(f"{where}.voided names a copy not among its issue numbers")
    return Issuance(
        issued_at=_moment(row, "issued_at", where),
        store=_text(row, "store", 200, where=where),
        terminal_id=_text(row, "terminal_id", 64, where=where),
        certificate_type=kind,
        copies=copies,
        issue_numbers=tuple(numbers),
        voided=frozenset(voided),
    )


def _text(content: Mapping[str, Any], key: str, longest: int, *, where: str = "", empty: bool = False) -> str:
    name = f"{where}.{key}" if where else key
    if key not in content:
        raise UnfitRecord(f"{name} is missing")
    value = content[key]
    if not isinstance(value, str) or (not value and not empty):
        raise UnfitRecord(f"{name} is not a text")
    return plain_text(value, longest, name)


def plain_text(value: object, longest: int, name: str) -> str:
    if not isinstance(value, str) or len(value) > longest or not plain_line(value):
        raise UnfitRecord(f"{name} is not one line of plain text of at most {longest} characters")
    return value


def _texts(row: Mapping[str, Any], key: str, where: str) -> list[str]:
    values = row.get(key)
    if not isinstance(values, list) or len(values) > MAX_NUMBERS:
        raise UnfitRecord(f"{where}.{key} is not a list of at most {MAX_NUMBERS}")
    return [plain_text(value, 64, f"{where}.{key}[{index}]") for index, value in enumerate(values)]


def _moment(row: Mapping[str, Any], key: str, where: str) -> dt.datetime:
    value = row.get(key)
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise UnfitRecord(f"{where}.{key} is not an ISO date and time with its offset")
    return moment.astimezone(JST)


def _day(content: Mapping[str, Any], key: str) -> dt.date:
    """A day of the period: an ISO date, or an ISO date and time with its offset (its day in JST)."""
    value = content.get(key)
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    else:
        try:
            return _moment(content, key, "record").date()
        except UnfitRecord:
            pass
    raise UnfitRecord(f"{key} is not an ISO date, or date and time with its offset")
