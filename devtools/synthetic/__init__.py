"""Synthetic municipalities (架空の市区町村) for demos, tests and load: households, residents, cards,
seals, tax assessments and family registers that look real and belong to nobody.

:func:`generate` fills the record stores of :mod:`center.municipal.schema` inside the caller's
transaction, deterministically from a seed (``random.Random(seed)``; the global generator is never
used). It writes neither ``settings`` nor the issuance tables (``issuance_history``,
``issue_sequences``, ``center_nonces``).

What a town holds:

- households (世帯) of one to six: singles, couples with or without children, single parents,
  three generations, a married child's family living with the parents, unrelated cohabitants
  (同居人); addresses such as ``東京都千代田区栄町２丁目３番４号　栄町ハイツ２０１号`` (full-width digits);
- Japanese names in kanji with katakana readings, given names by sex and by era of birth;
- foreign residents (about 3 %): names in the alphabet as registered with katakana readings, an
  optional alias (通称), nationality, residence card number, status and period (在留資格・在留期間);
- family registers (戸籍) for most Japanese residents (the others have their domicile, 本籍, in
  another prefecture): the head (筆頭者) first, then the spouse and the children (長男, 長女, 二男…),
  members who left by marriage or died (除籍), events, and the address history of each member
  (戸籍の附票, at most three lines; a line ends the day the next begins; a living member's last
  line is open);
- My Numbers (個人番号) with the legal check digit, cards linked in the past (usable), seals
  (印鑑登録), and three tax years of assessments (課税・所得) with amounts computed from income.

Then a few persons per special case (at least one each from 50 households) are chosen and given
exactly that property, all else ordinary: see :class:`Population`. Which persons are reported
is decided from the records as finally written, by the rules of the real service.

The package, from the bottom: :mod:`.data` (names, towns, places, nationalities), :mod:`.my_number`,
:mod:`.records` (the records while they are built), :mod:`.draws` (the town's random draws),
:mod:`.registers` (戸籍 and 附票), :mod:`.town` (households and residents, cards and seals),
:mod:`.tax` (tax years and assessments), :mod:`.population` (who is ordinary, and who is who),
:mod:`.cases` (choosing the special cases), :mod:`.rows` (writing the records) and :mod:`.domicile`
(the registers of another municipality where the town's ``domicile_elsewhere`` have their 本籍).
Only the names below are its interface.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from center.calendar_rules import validate_municipality_code
from devtools.synthetic.cases import CASES, MINOR_AGE, Cases
from devtools.synthetic.domicile import DomicileEntry, DomicileRegisters, generate_domicile
from devtools.synthetic.my_number import is_valid_my_number, my_number_check_digit
from devtools.synthetic.population import ADULT_AGE, Person, Population
from devtools.synthetic.rows import existing_my_numbers, next_ids, write_rows
from devtools.synthetic.tax import NEW_TAX_YEAR_MONTH, TAX_YEARS, latest_tax_year
from devtools.synthetic.town import CARDS_SINCE, FOREIGN_HOUSEHOLDS, SEAL_AGE, Town

__all__ = [
    "ADULT_AGE",
    "CARDS_SINCE",
    "FOREIGN_HOUSEHOLDS",
    "MINOR_AGE",
    "NEW_TAX_YEAR_MONTH",
    "SEAL_AGE",
    "TAX_YEARS",
    "DomicileEntry",
    "DomicileRegisters",
    "Person",
    "Population",
    "generate",
    "generate_domicile",
    "is_valid_my_number",
    "latest_tax_year",
    "my_number_check_digit",
]


def generate(
    connection: sa.Connection,
    *,
    municipality: str,
    name: str,
    prefecture: str,
    households: int,
    seed: int,
    today: dt.date,
    first_serial: int,
    cards: float = 0.8,
    far_domicile: tuple[str, str] | None = None,
) -> Population:
    """Write a synthetic municipality of ``households`` households into the record stores on
    ``connection`` (in the caller's transaction) and say who is who.

    ``today`` is the day the town is as of (nothing has happened after it); card serials are
    consecutive from ``first_serial``; ``cards`` is the share of residents with a linked card.
    ``far_domicile`` (prefecture, municipality in another prefecture): every 本籍 elsewhere is
    there, so :func:`generate_domicile` can build that municipality's registers for them; the
    town is otherwise the same as without it.
    Ids continue after those already in the tables; on PostgreSQL the id sequences are advanced.
    """
    validate_municipality_code(municipality)
    if households < 1:
        raise ValueError("at least one household")
    if first_serial < 1:
        raise ValueError("certificate serials are positive")
    if not 0.0 <= cards <= 1.0:
        raise ValueError("cards is a share from 0 to 1")
    if far_domicile is not None and far_domicile[0] == prefecture:
        raise ValueError("far_domicile is a municipality in another prefecture")
    town = Town(
        random.Random(seed),
        today,
        name,
        prefecture,
        cards,
        next_ids(connection),
        existing_my_numbers(connection),
    )
    town.far_domicile = far_domicile
    per_case = max(1, min(5, households // 250))
    town.build(households, per_case, len(CASES))
    cases = Cases(town)
    cases.choose(per_case)
    write_rows(connection, town, first_serial)
    return cases.population(first_serial)
