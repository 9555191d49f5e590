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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from center.calendar import JST, validate_municipality_code
from center.municipal import schema
from center.municipal import synthetic_data as data

TAX_YEARS = 3  # assessments are written for the newest three tax years
NEW_TAX_YEAR_MONTH = 6  # a tax year is assessed, and its certificates issued, from June
CARDS_SINCE = dt.date(2016, 1, 4)  # the first My Number Cards
ADULT_AGE = 20  # ordinary persons are at least this old (no municipality sets a higher minimum)
MINOR_AGE = 15  # the minors reported are younger than this
SEAL_AGE = 15  # 印鑑登録 from 15
FOREIGN_HOUSEHOLDS = 0.04  # foreign households are smaller: about 3 % of residents

_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # Qn, from the left
_FOREIGN_AGES = {"留学": (20, 29), "技能実習": (20, 35), "特定技能": (20, 40), "特別永住者": (40, 90)}
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_ORDINALS = ("長", "二", "三", "四", "五", "六")
_SPACE = "　"  # between family and given name, as records print them
_DAY = dt.timedelta(days=1)


def my_number_check_digit(base: str) -> int:
    """The check digit (検査用数字) of a My Number's first 11 digits, by the formula of 総務省令第八十五号
    第五条: with Pn the n-th digit counted from the right and Qn = n + 1 (n ≤ 6) or n − 5 (n ≥ 7),
    11 − (Σ Pn × Qn mod 11), or 0 when the remainder is 0 or 1."""
    if len(base) != 11 or not base.isascii() or not base.isdigit():
        raise ValueError(f"a My Number's base is 11 digits, got {base!r}")
    remainder = sum(int(digit) * weight for digit, weight in zip(base, _MY_NUMBER_WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(number: str) -> bool:
    """Twelve ASCII digits whose last is the check digit of the others."""
    return (len(number) == 12 and number.isascii() and number.isdigit()
            and my_number_check_digit(number[:11]) == int(number[11]))


def latest_tax_year(today: dt.date) -> int:
    """The newest tax year (年度) assessed on ``today``: this year's from June, else last year's."""
    return today.year if today.month >= NEW_TAX_YEAR_MONTH else today.year - 1


@dataclass(frozen=True)
class Person:
    """A generated resident, by reference only (read the rest from the records)."""

    resident_id: int
    household_id: int
    certificate_serial: int | None  # of the linked user-authentication certificate


@dataclass(frozen=True)
class Population:
    """What :func:`generate` wrote, and the persons a test or a demo can pick.

    ``ordinary``: adults (20 and over) living here, with a card linked before today, a seal, filed
    assessments as residents on 1 January for every year of ``tax_years``, an entry in a current
    family register here with no filing pending, no block, and no household or register member
    whose state refuses a household copy or a 附票 (move-out filed, block, pending characters).
    Every other tuple holds persons who are ordinary but for the property named, and a person is
    in at most one. The persons of a case were chosen (a few per case, at least one from 50
    households) in households and registers that hold no other chosen case; ``no_card``,
    ``foreign`` and ``domicile_elsewhere`` also list everyone else who is so.
    """

    residents: int
    households: int
    registers: int
    tax_years: tuple[int, ...]  # newest first
    ordinary: tuple[Person, ...]
    minors: tuple[Person, ...]  # under 15, with a card (no seal or tax needed)
    deceased: tuple[Person, ...]  # status 'deceased' (removed from the register), card link kept
    moved_out: tuple[Person, ...]  # status 'moved_out', card link kept
    moving_out: tuple[Person, ...]  # status 'moving_out': a move-out filed
    moving_out_household: tuple[Person, ...]  # ordinary, but a household member filed a move-out
    protected: tuple[Person, ...]  # an open-ended protection measure (支援措置)
    issuance_stopped: tuple[Person, ...]  # an issuance stop (交付停止) ending in the future
    stop_lifted: tuple[Person, ...]  # an issuance stop that ended in the past: ordinary again
    no_seal: tuple[Person, ...]
    not_resident_january_1: tuple[Person, ...]  # moved in after 1 January of the newest tax year
    tax_not_filed: tuple[Person, ...]  # the newest tax year not filed
    register_pending: tuple[Person, ...]  # their register has a filing not yet entered
    register_closed: tuple[Person, ...]  # their resident record points at a closed register (除籍)
    pending_characters: tuple[Person, ...]  # a name awaiting 外字 work
    moved_in_today: tuple[Person, ...]  # the household moved to a new address today
    linked_today: tuple[Person, ...]  # the card was linked today: usable from tomorrow
    no_card: tuple[Person, ...]  # no card linked (about 1 - cards of the adults)
    foreign: tuple[Person, ...]  # foreign adults with a card (no register, seal or tax needed)
    domicile_elsewhere: tuple[Person, ...]  # 本籍 in another prefecture (no register here)

    def special_cases(self) -> dict[str, tuple[Person, ...]]:
        """Every tuple of persons but ``ordinary``, by field name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in ("ordinary", "tax_years") and isinstance(getattr(self, f.name), tuple)}


def generate(connection: sa.Connection, *, municipality: str, name: str, prefecture: str, households: int,
             seed: int, today: dt.date, first_serial: int, cards: float = 0.8) -> Population:
    """Write a synthetic municipality of ``households`` households into the record stores on
    ``connection`` (in the caller's transaction) and say who is who.

    ``today`` is the day the town is as of (nothing has happened after it); card serials are
    consecutive from ``first_serial``; ``cards`` is the share of residents with a linked card.
    Ids continue after those already in the tables; on PostgreSQL the id sequences are advanced.
    """
    validate_municipality_code(municipality)
    if households < 1:
        raise ValueError("at least one household")
    if first_serial < 1:
        raise ValueError("certificate serials are positive")
    if not 0.0 <= cards <= 1.0:
        raise ValueError("cards is a share from 0 to 1")
    town = _Town(random.Random(seed), today, name, prefecture, cards, _next_ids(connection),
                 _existing_my_numbers(connection))
    per_case = max(1, min(5, households // 250))
    town.build(households, per_case)
    cases = _Cases(town)
    cases.choose(per_case)
    _write(connection, town, first_serial)
    return cases.population(first_serial)


# -- the town's records while they are built ---------------------------------------------------------


@dataclass(eq=False)
class _Foreign:
    nationality: str
    card_number: str  # 在留カード等の番号
    status: str  # 在留資格
    until: dt.date | None  # 在留期間の満了の日 (none for permanent residents)
    alias: str | None  # 通称


@dataclass(eq=False)
class _Household:
    id: int
    address: str
    members: list[_Resident] = field(default_factory=list)


@dataclass(eq=False)
class _Resident:
    id: int
    household: _Household
    family: data.Name
    given: data.Name
    sex: str
    birth: dt.date
    relationship: str  # 続柄 to the head of household
    moved_in: dt.date
    became: dt.date
    previous_address: str | None
    history: list[tuple[str, dt.date]]  # every address and the day it was set, the current last
    my_number: str
    domicile: str | None = None
    domicile_head: str | None = None
    foreign: _Foreign | None = None
    status: str = "resident"
    status_on: dt.date | None = None
    pending_characters: bool = False
    entry: _Entry | None = None  # the current entry in a register here
    linked_on: dt.date | None = None  # the day (in Japan) the card was linked; None: no card
    sealed_on: dt.date | None = None
    impression: str = ""
    tax_unfiled: bool = False  # the newest tax year not filed
    row_not_resident: bool = False  # an assessment row for the newest year marked not resident
    blocks: list[tuple[str, dt.datetime, dt.datetime | None]] = field(default_factory=list)


@dataclass(eq=False)
class _Register:
    id: int
    domicile: str
    head_name: str
    compiled_on: dt.date
    entries: list[_Entry] = field(default_factory=list)
    status: str = "current"
    pending_since: dt.date | None = None


@dataclass(eq=False)
class _Kin:
    """A person as a family register knows them, resident here or not."""

    family: data.Name
    given: data.Name
    sex: str
    birth: dt.date
    father: str | None = None
    mother: str | None = None
    resident: _Resident | None = None
    removed_on: dt.date | None = None  # left the register (by marriage) or died
    died: bool = False

    @property
    def full(self) -> str:
        return f"{self.family[0]}{_SPACE}{self.given[0]}"


@dataclass(eq=False)
class _Entry:
    register: _Register
    kin: _Kin
    relationship: str  # 続柄 in the register
    joined: dt.date
    events: list[dict[str, str]]
    away: list[tuple[str, dt.date]]  # addresses of a member who is not resident here


@dataclass(frozen=True)
class _Arrival:
    """Moving in: the day, the day of becoming a resident of this municipality (earlier after a
    move within it), and the addresses before, oldest first."""

    moved_in: dt.date
    became: dt.date
    before: tuple[tuple[str, dt.date], ...]


@dataclass
class _Ids:
    household: int
    resident: int
    register: int
    block: int


def _next_ids(connection: sa.Connection) -> _Ids:
    def after(table: sa.Table) -> int:
        last = connection.execute(sa.select(sa.func.max(table.c.id))).scalar_one()
        return int(last or 0) + 1

    return _Ids(after(schema.households), after(schema.residents), after(schema.family_registers),
                after(schema.issuance_blocks))


def _existing_my_numbers(connection: sa.Connection) -> set[str]:
    column = schema.residents.c.my_number
    return set(connection.execute(sa.select(column).where(column.is_not(None))).scalars())


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: dt.date, years: int) -> dt.date:
    return _years_before(day, -years)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _full_width(number: int) -> str:
    return str(number).translate(_FULL_WIDTH)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), JST)


class _Town:
    """Builds the households, residents and registers of one municipality."""

    def __init__(self, rng: random.Random, today: dt.date, name: str, prefecture: str, cards: float,
                 ids: _Ids, my_numbers: set[str]) -> None:
        self.rng = rng
        self.today = today
        self.name = name
        self.prefecture = prefecture
        self.cards = cards
        self.ids = ids
        self.my_numbers = my_numbers
        self.card_numbers: set[str] = set()
        self.addresses: set[str] = set()
        self.noon = _at(today, 12)
        self.latest = latest_tax_year(today)
        self.tax_years = tuple(self.latest - back for back in range(TAX_YEARS))
        # residents since before this day were here on 1 January of every tax year, with a margin
        self.settled_by = dt.date(self.tax_years[-1], 1, 1) - dt.timedelta(days=365)
        self.towns = rng.sample(data.TOWNS, rng.randint(8, 14))
        self.places = [place for place in data.PLACES if place != (prefecture, name)]
        self.far_places = [place for place in data.PLACES if place[0] != prefecture]
        self.households: list[_Household] = []
        self.residents: list[_Resident] = []
        self.registers: list[_Register] = []

    # -- chance, dates, names, places --------------------------------------------------------------

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def between(self, first: dt.date, last: dt.date) -> dt.date:
        """A day from ``first`` to ``last``; ``first`` when the range is empty."""
        return first + dt.timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def born(self, age: int) -> dt.date:
        """A birth date for someone ``age`` today."""
        latest = min(_years_before(self.today, age), self.today - _DAY)
        return self.between(_years_before(self.today, age + 1) + _DAY, latest)

    def family_name(self, other_than: data.Name | None = None) -> data.Name:
        while True:
            chosen = self.rng.choice(data.FAMILY_NAMES)
            if chosen != other_than:
                return chosen

    def given_name(self, sex: str, birth: dt.date) -> data.Name:
        era = sum(birth.year >= start for start in data.ERA_STARTS)
        return self.rng.choice((data.MALE_NAMES if sex == "male" else data.FEMALE_NAMES)[era])

    def parents_of(self, family: data.Name, birth: dt.date) -> tuple[str, str]:
        """Names for the father and mother fields of someone's register entry."""
        father = self.given_name("male", _years_before(birth, 30))
        mother = self.given_name("female", _years_before(birth, 28))
        return f"{family[0]}{_SPACE}{father[0]}", f"{family[0]}{_SPACE}{mother[0]}"

    def sex(self) -> str:
        return self.rng.choice(("male", "female"))

    def street(self, prefecture: str, municipality: str, town: str) -> str:
        return (f"{prefecture}{municipality}{town}{_full_width(self.rng.randint(1, 5))}丁目"
                f"{_full_width(self.rng.randint(1, 30))}番{_full_width(self.rng.randint(1, 25))}号")

    def address(self, unique: bool = True) -> str:
        """An address in this municipality, sometimes with a building and room."""
        while True:
            town = self.rng.choice(self.towns)
            text = self.street(self.prefecture, self.name, town)
            if self.chance(0.35):
                building = self.rng.choice(data.APARTMENT_NAMES)
                room = self.rng.randint(1, 9) * 100 + self.rng.randint(1, 8)
                text += f"{_SPACE}{town}{building}{_full_width(room)}号"
            if not unique or text not in self.addresses:
                self.addresses.add(text)
                return text

    def elsewhere(self) -> str:
        prefecture, municipality = self.rng.choice(self.places)
        return self.street(prefecture, municipality, self.rng.choice(data.TOWNS))

    def place_of_birth(self) -> str:
        return "".join(self.rng.choice(self.places)) if self.chance(0.6) else f"{self.prefecture}{self.name}"

    def domicile_here(self) -> str:
        chome, banchi = _full_width(self.rng.randint(1, 5)), _full_width(self.rng.randint(1, 40))
        return f"{self.prefecture}{self.name}{self.rng.choice(self.towns)}{chome}丁目{banchi}番地"

    def domicile_far(self) -> str:
        prefecture, municipality = self.rng.choice(self.far_places)
        banchi = _full_width(self.rng.randint(1, 900))
        return f"{prefecture}{municipality}{self.rng.choice(data.TOWNS)}{banchi}番地"

    def my_number(self) -> str:
        while True:
            base = str(self.rng.randint(10**10, 10**11 - 1))
            number = base + str(my_number_check_digit(base))
            if number not in self.my_numbers:
                self.my_numbers.add(number)
                return number

    def residence_card_number(self) -> str:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        while True:
            number = ("".join(self.rng.choices(letters, k=2)) + f"{self.rng.randint(0, 10**8 - 1):08d}"
                      + "".join(self.rng.choices(letters, k=2)))
            if number not in self.card_numbers:
                self.card_numbers.add(number)
                return number

    # -- moving in ---------------------------------------------------------------------------------

    def arrival(self, first: dt.date, last: dt.date) -> _Arrival:
        """Moving in on a day from ``first`` to ``last``, from elsewhere or (30 %) from another
        address in this municipality."""
        last = min(last, self.today - _DAY)
        moved_in = self.between(min(first, last), last)
        previous_from = moved_in - dt.timedelta(days=self.rng.randint(200, 6000))
        within = self.chance(0.3)
        before = [(self.address(unique=False) if within else self.elsewhere(), previous_from)]
        if self.chance(0.4):
            earlier = previous_from - dt.timedelta(days=self.rng.randint(300, 5000))
            before.insert(0, (self.elsewhere(), earlier))
        return _Arrival(moved_in, previous_from if within else moved_in, tuple(before))

    def household_arrival(self, first: dt.date) -> _Arrival:
        """Most households have been here for years; about one in six came in the last two."""
        recent = max(first, _years_before(self.today, 2))
        if first >= recent or self.chance(0.15):
            return self.arrival(recent, self.today - _DAY)
        return self.arrival(first, recent)

    def settle(self, household: _Household, kin: _Kin, arrival: _Arrival, relationship: str) -> _Resident:
        """``kin`` becomes a member of ``household``: born there, or arrived with ``arrival``."""
        if kin.birth >= arrival.moved_in:
            moved_in, became, previous, history = kin.birth, kin.birth, None, [(household.address, kin.birth)]
        else:
            lines: list[tuple[str, dt.date]] = []
            for place, since in arrival.before:
                lines = [(place, kin.birth)] if since <= kin.birth else [*lines, (place, since)]
            moved_in, became, previous = arrival.moved_in, max(kin.birth, arrival.became), lines[-1][0]
            history = [*lines, (household.address, moved_in)]
        resident = _Resident(self.ids.resident, household, kin.family, kin.given, kin.sex, kin.birth,
                             relationship, moved_in, became, previous, history, self.my_number())
        self.ids.resident += 1
        kin.resident = resident
        household.members.append(resident)
        self.residents.append(resident)
        return resident

    # -- family registers --------------------------------------------------------------------------

    def birth_order(self, sex: str) -> str:
        ordinal = self.rng.choices(_ORDINALS[:3], weights=(60, 28, 12))[0]
        return ordinal + ("男" if sex == "male" else "女")

    def register(self, head: _Kin, compiled_on: dt.date, *, spouse: _Kin | None = None,
                 children: Sequence[_Kin] = (), far: bool = False, head_event: dict[str, str] | None = None
                 ) -> None:
        """A register with ``head`` (筆頭者) first, then the spouse and the children by birth; or,
        with ``far``, only the domicile elsewhere on the resident records."""
        if far:
            domicile = self.domicile_far()
            for kin in (head, spouse, *children):
                if kin is not None and kin.resident is not None:
                    kin.resident.domicile, kin.resident.domicile_head = domicile, head.full
            return
        register = _Register(self.ids.register, self.domicile_here(), head.full, compiled_on)
        self.ids.register += 1
        self.registers.append(register)
        head_events = [self.born_event(head)]
        if spouse is not None:
            head_events.append({"kind": "marriage", "date": compiled_on.isoformat(),
                                "detail": f"{spouse.full}と婚姻"})
        if head_event is not None:
            head_events.append(head_event)
        self.enter(register, head, self.birth_order(head.sex), compiled_on, head_events)
        if spouse is not None:
            self.enter(register, spouse, "妻" if spouse.sex == "female" else "夫", compiled_on,
                       [self.born_event(spouse), {"kind": "marriage", "date": compiled_on.isoformat(),
                                                  "detail": f"{head.full}と婚姻届出により入籍"}])
        counts = {"male": 0, "female": 0}
        for child in sorted(children, key=lambda kin: kin.birth):
            counts[child.sex] += 1
            label = _ORDINALS[counts[child.sex] - 1] + ("男" if child.sex == "male" else "女")
            events = [self.born_event(child)]
            joined = max(child.birth, compiled_on)
            if joined > child.birth:
                events.append({"kind": "entry", "date": joined.isoformat(), "detail": "親の氏を称する入籍"})
            self.enter(register, child, label, joined, events)

    def born_event(self, kin: _Kin) -> dict[str, str]:
        return {"kind": "birth", "date": kin.birth.isoformat(), "detail": f"{self.place_of_birth()}で出生"}

    def enter(self, register: _Register, kin: _Kin, relationship: str, joined: dt.date,
              events: list[dict[str, str]]) -> None:
        if kin.removed_on is not None:
            kind, detail = ("death", "死亡") if kin.died else ("marriage", "婚姻により除籍")
            events.append({"kind": kind, "date": kin.removed_on.isoformat(), "detail": detail})
        away: list[tuple[str, dt.date]] = []
        if kin.resident is None:
            end = kin.removed_on or self.today
            away.append((self.elsewhere(), joined))
            if (end - joined).days > 60 and self.chance(0.5):
                away.append((self.elsewhere(), self.between(joined + _DAY, end - _DAY)))
        entry = _Entry(register, kin, relationship, joined, sorted(events, key=lambda e: e["date"]), away)
        register.entries.append(entry)
        if kin.resident is not None and kin.removed_on is None:
            kin.resident.entry = entry
            kin.resident.domicile, kin.resident.domicile_head = register.domicile, register.head_name

    def children(self, family: data.Name, father: str, mother: str, mother_birth: dt.date,
                 married: dt.date, count: int) -> list[_Kin]:
        """Up to ``count`` children born after ``married``, while the mother is 43 or younger."""
        births: list[dt.date] = []
        day = married + dt.timedelta(days=self.rng.randint(300, 900))
        while len(births) < count and day < self.today and _age(mother_birth, day) <= 43:
            births.append(day)
            day += dt.timedelta(days=self.rng.randint(450, 1800))
        kids = []
        for birth in births:
            sex = self.sex()
            kids.append(_Kin(family, self.given_name(sex, birth), sex, birth, father, mother))
        return kids

    def leave_home(self, kids: Iterable[_Kin]) -> list[_Kin]:
        """Grown children: some married (除籍), some live elsewhere; the others are returned."""
        home = []
        for kid in kids:
            fate = self.rng.random() if _age(kid.birth, self.today) >= 24 else 1.0
            if fate < 0.35:
                kid.removed_on = self.between(_years_after(kid.birth, 24), self.today - _DAY)
            elif fate >= 0.6:
                home.append(kid)
        return home

    # -- households --------------------------------------------------------------------------------

    def build(self, count: int, per_case: int) -> None:
        """``count`` households. Some are planned so that every special case has candidates: per
        case, families settled here for years with a register here; foreign households; settled
        families whose register is elsewhere."""
        plans = [*["stable"] * (len(_CASES) * per_case), *["foreign", "far"] * per_case][:count]
        planned = dict(zip(self.rng.sample(range(count), len(plans)), plans, strict=True))
        kinds: dict[str, Callable[[_Household], None]] = {
            "single": self.single, "family": self.family, "single_parent": self.single_parent,
            "three_generations": self.three_generations, "extended": self.extended, "shared": self.shared}
        for index in range(count):
            household = _Household(self.ids.household, self.address())
            self.ids.household += 1
            self.households.append(household)
            plan = planned.get(index)
            if plan in ("stable", "far"):
                self.family(household, stable=True, far=plan == "far")
            elif plan == "foreign" or self.chance(FOREIGN_HOUSEHOLDS):
                self.foreign(household)
            else:
                kind = self.rng.choices(list(kinds), weights=(36, 45, 6, 6, 4, 3))[0]
                kinds[kind](household)
            household.members.sort(key=lambda member: member.relationship != "世帯主")
        for resident in self.residents:
            if self.chance(self.cards):
                self.give_card(resident)
            if self.chance(0.3 if resident.foreign else 0.75):
                self.give_seal(resident)

    def single(self, household: _Household, relationship: str = "世帯主", young: bool = False) -> None:
        low, high = ((18, 40) if young else
                     self.rng.choices(((18, 24), (25, 39), (40, 64), (65, 95)), weights=(12, 30, 28, 30))[0])
        sex = self.sex()
        birth = self.born(self.rng.randint(low, high))
        kin = _Kin(self.family_name(), self.given_name(sex, birth), sex, birth)
        kin.father, kin.mother = self.parents_of(kin.family, birth)
        self.settle(household, kin, self.household_arrival(_years_after(birth, 18)), relationship)
        self.single_register(kin)

    def single_register(self, kin: _Kin) -> None:
        """A person living alone is in the parents' register (young), a widow(er)'s, or their own."""
        far, age = self.chance(0.15), _age(kin.birth, self.today)
        if age < 35 or (age < 45 and self.chance(0.5)):
            married = kin.birth - dt.timedelta(days=self.rng.randint(300, 3000))
            father = _Kin(kin.family, self.given_name("male", kin.birth), "male",
                          _years_before(married, self.rng.randint(24, 34)))
            mother = _Kin(kin.family, self.given_name("female", kin.birth), "female",
                          _years_before(married, self.rng.randint(22, 32)))
            father.father, father.mother = self.parents_of(kin.family, father.birth)
            mother.father, mother.mother = self.parents_of(self.family_name(kin.family), mother.birth)
            siblings = self.children(kin.family, father.full, mother.full, mother.birth, married, 3)
            siblings = [k for k in siblings if abs((k.birth - kin.birth).days) > 300][:2]
            self.leave_home(siblings)
            kin.father, kin.mother = father.full, mother.full
            self.register(father, married, spouse=mother, children=[*siblings, kin], far=far)
        elif age >= 60 and self.chance(0.5):
            married = _years_after(kin.birth, self.rng.randint(23, 32))
            spouse_sex = "female" if kin.sex == "male" else "male"
            spouse_birth = kin.birth + dt.timedelta(days=self.rng.randint(-2000, 2000))
            spouse = _Kin(kin.family, self.given_name(spouse_sex, spouse_birth), spouse_sex, spouse_birth,
                          died=True)
            spouse.father, spouse.mother = self.parents_of(self.family_name(kin.family), spouse_birth)
            husband, wife = (kin, spouse) if kin.sex == "male" else (spouse, kin)
            kids = self.children(kin.family, husband.full, wife.full, wife.birth, married, 3)
            widowed = max([_years_before(self.today, 20), *(kid.birth + 365 * _DAY for kid in kids)])
            spouse.removed_on = self.between(min(widowed, self.today - _DAY), self.today - _DAY)
            self.leave_home(kids)  # all of them: the widow(er) lives alone
            self.register(husband, married, spouse=wife, children=kids, far=far)
        else:
            on = self.between(_years_after(kin.birth, 20), self.today - dt.timedelta(days=30))
            kind, why = self.rng.choice((("separation", "分籍"), ("divorce", "離婚")))
            event = {"kind": kind, "date": on.isoformat(), "detail": f"{why}により新戸籍編製"}
            self.register(kin, on, far=far, head_event=event)

    def couple(self, married: dt.date, husband_name: bool = False) -> tuple[_Kin, _Kin, _Kin]:
        """A husband and wife married on ``married``; the third is the one who heads the register
        (the husband, or in a few couples the wife whose name they took)."""
        wife_birth = self.between(_years_before(married, 36), _years_before(married, 22))
        husband_birth = min(wife_birth - dt.timedelta(days=self.rng.randint(-700, 2200)),
                            _years_before(married, 20))
        husband_family, wife_family = self.family_name(), self.family_name()
        while wife_family == husband_family:
            wife_family = self.family_name()
        wife_name = not husband_name and self.chance(0.04)
        family = wife_family if wife_name else husband_family
        husband = _Kin(family, self.given_name("male", husband_birth), "male", husband_birth)
        wife = _Kin(family, self.given_name("female", wife_birth), "female", wife_birth)
        husband.father, husband.mother = self.parents_of(husband_family, husband_birth)
        wife.father, wife.mother = self.parents_of(wife_family, wife_birth)
        return husband, wife, (wife if wife_name else husband)

    def family(self, household: _Household, stable: bool = False, married: dt.date | None = None,
               husband_name: bool = False, at_home: int = 3, far: bool | None = None) -> None:
        """A married couple and the children living with them. ``stable``: moved in long ago, at
        least one child under 14 (the special cases are chosen there). ``far``: the register is
        in another prefecture (by default for some non-stable families)."""
        if married is None:
            married = (self.between(_years_before(self.today, 14), self.settled_by - dt.timedelta(days=60))
                       if stable else self.today - dt.timedelta(days=self.rng.randint(200, 50 * 365)))
        husband, wife, head = self.couple(married, husband_name)
        count = self.rng.choices((0, 1, 2, 3), weights=(20, 30, 35, 15))[0]
        kids = self.children(head.family, husband.full, wife.full, wife.birth, married, max(count, stable))
        home = (kids if stable else self.leave_home(kids))[-at_home:] if at_home else []
        if stable:
            arrival = self.arrival(married + _DAY, self.settled_by)
        else:
            came = _years_after(husband.birth, 20) if self.chance(0.3) else married  # he, or they
            arrival = self.household_arrival(came)
        first, second = (husband, wife) if self.chance(0.9) else (wife, husband)
        self.settle(household, first, arrival, "世帯主")
        joining = arrival if arrival.moved_in >= married else self.arrival(married, married)
        self.settle(household, second, joining, "妻" if second.sex == "female" else "夫")
        for kid in home:
            self.settle(household, kid, arrival, "子")
        spouse = wife if head is husband else husband
        if far is None:
            far = not stable and self.chance(0.15)
        self.register(head, married, spouse=spouse, children=kids, far=far)

    def single_parent(self, household: _Household) -> None:
        sex = "female" if self.chance(0.8) else "male"
        birth = self.born(self.rng.randint(28, 55))
        parent = _Kin(self.family_name(), self.given_name(sex, birth), sex, birth)
        parent.father, parent.mother = self.parents_of(parent.family, birth)
        ex_sex = "male" if sex == "female" else "female"
        ex = f"{self.family_name(parent.family)[0]}{_SPACE}{self.given_name(ex_sex, birth)[0]}"
        father, mother = (ex, parent.full) if sex == "female" else (parent.full, ex)
        mother_birth = birth if sex == "female" else birth + dt.timedelta(days=self.rng.randint(-1500, 700))
        married = _years_after(birth, self.rng.randint(22, 32))
        kids = (self.children(parent.family, father, mother, mother_birth, married, self.rng.randint(1, 3))
                or self.children(parent.family, father, mother, _years_before(self.today, 30),
                                 _years_before(self.today, 5), 1))
        yesterday = self.today - _DAY
        divorced = self.between(min(kids[-1].birth + 30 * _DAY, yesterday), yesterday)
        arrival = self.household_arrival(divorced if self.chance(0.6) else _years_after(birth, 20))
        self.settle(household, parent, arrival, "世帯主")
        for kid in kids:
            self.settle(household, kid, arrival, "子")
        event = {"kind": "divorce", "date": divorced.isoformat(), "detail": f"{ex}と協議離婚"}
        self.register(parent, divorced, children=kids, far=self.chance(0.15), head_event=event)

    def three_generations(self, household: _Household) -> None:
        """A family and the husband's widowed mother or father (母・父)."""
        married = self.today - dt.timedelta(days=self.rng.randint(3 * 365, 30 * 365))
        self.family(household, married=married, husband_name=True, at_home=2)
        head = next(m for m in household.members if m.relationship == "世帯主")
        son = head if head.sex == "male" else next(m for m in household.members if m.relationship == "夫")
        sex = "female" if self.chance(0.75) else "male"
        birth = _years_before(son.birth, self.rng.randint(22, 38))
        if _age(birth, self.today) > 100:
            birth = _years_before(son.birth, 22)
            if _age(birth, self.today) > 100:
                return
        parent = _Kin(son.family, self.given_name(sex, birth), sex, birth)
        parent.father, parent.mother = self.parents_of(self.family_name(son.family), birth)
        arrival = (self.household_arrival(son.moved_in) if self.chance(0.5) or len(son.history) < 2 else
                   _Arrival(son.moved_in, son.became, tuple(son.history[:-1])))
        self.settle(household, parent, arrival, "母" if sex == "female" else "父")
        partner_sex = "male" if sex == "female" else "female"
        partner_birth = min(birth + dt.timedelta(days=self.rng.randint(-1500, 1500)),
                            _years_before(son.birth, 20))
        partner = _Kin(son.family, self.given_name(partner_sex, partner_birth), partner_sex, partner_birth,
                       died=True, removed_on=self.between(son.birth + dt.timedelta(days=20 * 365),
                                                          self.today - _DAY))
        partner.father, partner.mother = self.parents_of(self.family_name(son.family), partner_birth)
        husband, wife = (partner, parent) if sex == "female" else (parent, partner)
        son_kin = _Kin(son.family, son.given, "male", son.birth, husband.full, wife.full,
                       removed_on=married)
        parents_married = max(son.birth - dt.timedelta(days=self.rng.randint(300, 2000)),
                              _years_after(husband.birth, 20), _years_after(wife.birth, 20))
        siblings = self.children(son.family, husband.full, wife.full, wife.birth, parents_married, 2)
        siblings = [k for k in siblings if abs((k.birth - son.birth).days) > 300]
        self.leave_home(siblings)
        self.register(husband, parents_married, spouse=wife, children=[son_kin, *siblings],
                      far=self.chance(0.3))

    def extended(self, household: _Household) -> None:
        """An older couple, their married son, his wife (子の妻) and their children (孫)."""
        married = self.today - dt.timedelta(days=self.rng.randint(30 * 365, 50 * 365))
        husband, wife, head = self.couple(married, husband_name=True)
        kids = self.children(head.family, husband.full, wife.full, wife.birth, married, 3)
        sons = [k for k in kids if k.sex == "male" and _age(k.birth, self.today) >= 26]
        if not sons:
            self.family(household, married=married)
            return
        assert head is husband
        son = sons[0]
        son_married = self.between(_years_after(son.birth, 25), self.today - dt.timedelta(days=400))
        son.removed_on = son_married
        self.leave_home([k for k in kids if k is not son])  # the others live elsewhere (six at most here)
        arrival = self.household_arrival(married)
        self.settle(household, husband, arrival, "世帯主")
        self.settle(household, wife, arrival, "妻")
        self.register(husband, married, spouse=wife, children=kids, far=self.chance(0.15))
        son_here = _Kin(son.family, son.given, "male", son.birth, son.father, son.mother)
        _, daughter, _ = self.couple(son_married)
        daughter.family = son.family
        grandchildren = self.children(son.family, son_here.full, daughter.full, daughter.birth, son_married,
                                      2)
        self.settle(household, son_here, arrival, "子")
        joining = arrival if arrival.moved_in >= son_married else self.arrival(son_married, son_married)
        self.settle(household, daughter, joining, "子の妻")
        for kid in grandchildren:
            self.settle(household, kid, arrival, "孫")
        self.register(son_here, son_married, spouse=daughter, children=grandchildren, far=self.chance(0.15))

    def shared(self, household: _Household) -> None:
        self.single(household, young=True)
        self.single(household, "同居人", young=True)

    def foreign(self, household: _Household) -> None:
        nationality = self.rng.choices(data.NATIONALITIES, weights=data.NATIONALITY_WEIGHTS)[0]
        status = self.rng.choices(nationality.statuses, weights=range(len(nationality.statuses), 0, -1))[0]
        low, high = _FOREIGN_AGES.get(status, (25, 65))
        sex = "male" if self.chance(0.6) else "female"
        birth = self.born(self.rng.randint(low, high))
        family = self.rng.choice(nationality.family_names)
        members = [(sex, birth, "世帯主")]
        if status not in data.SINGLE_ONLY and self.chance(0.5):
            spouse_birth = birth + dt.timedelta(days=self.rng.randint(-1500, 1500))
            members.append(("female", spouse_birth, "妻") if sex == "male" else ("male", spouse_birth, "夫"))
            youngest = max(member[1] for member in members)
            for _ in range(self.rng.randint(0, 2)):
                child = self.between(_years_after(youngest, 22), self.today - _DAY)
                if child < self.today - _DAY:
                    members.append((self.sex(), child, "子"))
        born_here = status == "特別永住者"
        arrival = self.household_arrival(birth if born_here else _years_after(birth, 18))
        alias_family = self.rng.choice(nationality.alias_families) if nationality.alias_families else None
        for index, (member_sex, member_birth, relationship) in enumerate(members):
            names = nationality.male_names if member_sex == "male" else nationality.female_names
            kin = _Kin(family, self.rng.choice(names), member_sex, member_birth)
            resident = self.settle(household, kin, arrival, relationship)
            own = status if index == 0 else ("家族滞在" if status in data.WORKING else
                                             status if status in data.PERMANENT else "定住者")
            alias = None
            if alias_family is not None and self.chance(0.5):
                alias = f"{alias_family}{_SPACE}{self.given_name(member_sex, member_birth)[0]}"
            until = None if own in data.PERMANENT else self.between(
                self.today + dt.timedelta(days=60), self.today + dt.timedelta(days=3 * 365))
            resident.foreign = _Foreign(nationality.name, self.residence_card_number(), own, until, alias)

    # -- cards and seals ---------------------------------------------------------------------------

    def give_card(self, resident: _Resident) -> None:
        last = (resident.status_on or self.today) - _DAY
        first = max(CARDS_SINCE, resident.became, resident.birth)
        resident.linked_on = self.between(first, last) if first <= last else None

    def give_seal(self, resident: _Resident) -> None:
        last = (resident.status_on or self.today) - _DAY
        first = max(_years_after(resident.birth, SEAL_AGE), resident.became)
        if first > last:
            return
        resident.sealed_on = self.between(first, last)
        if resident.foreign is not None:
            alias = resident.foreign.alias
            resident.impression = alias.split(_SPACE)[0] if alias else resident.family[1]
        elif self.chance(0.7):
            resident.impression = resident.family[0]
        else:
            resident.impression = resident.family[0] + resident.given[0]

    # -- what the records say ----------------------------------------------------------------------

    def tax_rows(self, resident: _Resident) -> list[tuple[int, bool, bool]]:
        """(tax year, resident on 1 January, filed) of each assessment row the person has."""
        rows = []
        for year in self.tax_years:
            january_1 = dt.date(year, 1, 1)
            gone = resident.status in ("moved_out", "deceased") and resident.status_on is not None \
                and resident.status_on <= january_1
            if _age(resident.birth, january_1) < 18 or gone:
                continue
            if resident.became <= january_1:
                rows.append((year, True, not (resident.tax_unfiled and year == self.latest)))
            elif resident.row_not_resident and year == self.latest:
                rows.append((year, False, False))
        return rows

    def blocked(self, resident: _Resident) -> bool:
        """A block in force today (the cases' blocks start at least a day before, end a day apart)."""
        return bool(resident.blocks) and any(start <= self.noon and (end is None or end > self.noon)
                                             for _, start, end in resident.blocks)

    def failures(self, resident: _Resident) -> set[str]:
        """Why ``resident`` is not ordinary (see :class:`Population`); empty when ordinary."""
        failed = set()
        if resident.foreign is not None:
            failed.add("foreign")
        if resident.status != "resident":
            failed.add("status")
        if self.blocked(resident):
            failed.add("block")
        if _age(resident.birth, self.today) < ADULT_AGE:
            failed.add("age")
        if resident.pending_characters:
            failed.add("pending")
        if resident.moved_in >= self.today:
            failed.add("moved_in")
        if resident.linked_on is None:
            failed.add("card")
        elif resident.linked_on >= self.today:
            failed.add("card_usable")
        if resident.sealed_on is None:
            failed.add("seal")
        rows = self.tax_rows(resident)
        if len(rows) < TAX_YEARS or not all(here for _, here, _ in rows):
            failed.add("tax_resident")
        if not all(filed for _, _, filed in rows):
            failed.add("tax_filed")
        entry = resident.entry
        if (entry is None or entry.kin.removed_on is not None or entry.register.status != "current"
                or entry.register.pending_since is not None
                or any(self.blocked(e.kin.resident) for e in entry.register.entries
                       if e.kin.resident is not None and e.kin.resident is not resident)):
            failed.add("register")
        if any(other.status == "moving_out" or other.pending_characters or self.blocked(other)
               for other in resident.household.members if other is not resident):
            failed.add("household")
        return failed


# -- the special cases -------------------------------------------------------------------------------

# each case: what its persons may fail to be ordinary (see _Town.failures); all the rest holds
_CASES: dict[str, frozenset[str]] = {
    "minors": frozenset({"age", "seal", "tax_resident", "tax_filed"}),
    "moving_out": frozenset({"status", "household"}),
    "moving_out_household": frozenset({"household"}),
    "register_pending": frozenset({"register"}),
    "register_closed": frozenset({"register"}),
    "moved_in_today": frozenset({"moved_in"}),
    "deceased": frozenset({"status", "register"}),
    "moved_out": frozenset({"status"}),
    "protected": frozenset({"block"}),
    "issuance_stopped": frozenset({"block"}),
    "stop_lifted": frozenset(),
    "no_seal": frozenset({"seal"}),
    "not_resident_january_1": frozenset({"tax_resident", "tax_filed"}),
    "tax_not_filed": frozenset({"tax_filed"}),
    "pending_characters": frozenset({"pending"}),
    "linked_today": frozenset({"card_usable"}),
    "no_card": frozenset({"card"}),
    "foreign": frozenset({"foreign", "register", "seal", "tax_resident", "tax_filed"}),
    "domicile_elsewhere": frozenset({"register"}),
}
_FORCED = frozenset({"card", "card_usable", "seal"})  # given to a chosen person who lacks them


class _Cases:
    """Chooses the persons of each special case and gives them their property."""

    def __init__(self, town: _Town) -> None:
        self.town = town
        self.rng = town.rng
        self.today = town.today
        self.used: set[_Household] = set()
        self.chosen: dict[str, list[_Resident]] = {name: [] for name in _CASES}
        # a case changes only its own households (registers do not span them), which are then
        # used: the failures of the others stay as they were before any case
        self.failures = {resident: town.failures(resident) for resident in town.residents}

    def candidates(self, allowed: frozenset[str] = _FORCED) -> list[_Resident]:
        """Residents of unused households who are ordinary but for ``allowed`` (and a card or seal)."""
        allowed |= _FORCED
        return [r for r in self.town.residents
                if r.household not in self.used and self.failures[r] <= allowed]

    def end(self, person: _Resident, status: str, first: dt.date) -> None:
        """``person`` moved out, filed a move-out or died on a day from ``first`` (after moving
        in) to yesterday; card and seal date from before."""
        first = max(first, person.moved_in + _DAY)
        person.status, person.status_on = status, self.town.between(first, self.today - _DAY)
        if person.linked_on is not None and person.linked_on >= person.status_on:
            self.town.give_card(person)
        if person.sealed_on is not None and person.sealed_on >= person.status_on:
            self.town.give_seal(person)

    def take(self, case: str, people: Sequence[_Resident], count: int) -> list[_Resident]:
        """``count`` of ``people`` (in distinct households) for ``case``, with card and seal."""
        taken: list[_Resident] = []
        for person in self.rng.sample(list(people), len(people)):
            if len(taken) == count:
                break
            if person.household in self.used:
                continue
            self.used.add(person.household)
            if person.linked_on is None:
                self.town.give_card(person)
            if person.sealed_on is None:
                self.town.give_seal(person)
            taken.append(person)
        self.chosen[case].extend(taken)
        return taken

    def choose(self, per_case: int) -> None:
        town, today = self.town, self.today
        minors = [r for r in self.candidates(_CASES["minors"]) if _age(r.birth, today) < MINOR_AGE]
        self.take("minors", minors, per_case)  # (too young for a seal: none is given)
        self.choose_moving_out(per_case)
        for case in ("register_pending", "register_closed"):
            self.choose_registers(case, per_case)
        for person in self.take("moved_in_today", [r for r in self.candidates() if all(
                m.status == "resident" for m in r.household.members)], per_case):
            household, old = person.household, person.household.address
            household.address = town.address()
            for member in household.members:
                member.previous_address, member.moved_in = old, today
                member.history.append((household.address, today))
            self.chosen["moved_in_today"].extend(m for m in household.members if m is not person)
        recently = max(dt.date(town.latest, 1, 2), today - dt.timedelta(days=365))
        for person in self.take("deceased", self.non_heads(), per_case):
            self.end(person, "deceased", recently)
            assert person.entry is not None and person.status_on is not None
            person.entry.kin.removed_on, person.entry.kin.died = person.status_on, True
            death = {"kind": "death", "date": person.status_on.isoformat(), "detail": "死亡"}
            person.entry.events.append(death)
            if all(e.kin.removed_on is not None for e in person.entry.register.entries):
                person.entry.register.status = "closed"
        for person in self.take("moved_out", self.non_heads(), per_case):
            self.end(person, "moved_out", recently)
            assert person.status_on is not None
            person.history.append((town.elsewhere(), person.status_on))
        for case, kind, start, end in (
                ("protected", "protection_measure", (30, 2000), None),
                ("issuance_stopped", "issuance_stop", (1, 60), (30, 365)),
                ("stop_lifted", "issuance_stop", (90, 720), (-60, -1))):
            for person in self.take(case, self.candidates(), per_case):
                starts = _at(today - dt.timedelta(days=self.rng.randint(*start)), 9)
                ends = None if end is None else _at(today + dt.timedelta(days=self.rng.randint(*end)), 17)
                person.blocks.append((kind, starts, ends))
        for person in self.take("no_seal", self.candidates(), per_case):
            person.sealed_on, person.impression = None, ""
        movers = self.candidates()
        alone = [r for r in movers if len(r.household.members) == 1]  # a whole household, preferably
        for index, person in enumerate(self.take("not_resident_january_1",
                                                 alone if len(alone) >= per_case else movers, per_case)):
            self.moved_in_this_year(person, row=index % 2 == 1)
        for person in self.take("tax_not_filed", self.candidates(), per_case):
            person.tax_unfiled = True
        for person in self.take("pending_characters", self.candidates(), per_case):
            person.pending_characters = True
        for person in self.take("linked_today", self.candidates(), per_case):
            person.linked_on = today
        for person in self.take("no_card", self.candidates(), per_case):
            person.linked_on = None
        self.take("foreign", [r for r in self.candidates(_CASES["foreign"]) if r.foreign is not None],
                  per_case)
        self.take("domicile_elsewhere", [r for r in self.candidates(_CASES["domicile_elsewhere"])
                                         if r.entry is None and r.foreign is None], per_case)

    def non_heads(self) -> list[_Resident]:
        return [r for r in self.candidates() if r.relationship != "世帯主" or len(r.household.members) == 1]

    def choose_moving_out(self, count: int) -> None:
        """A member files a move-out; another, ordinary, stays (a household copy is refused them)."""
        candidates = self.candidates()
        by_household: dict[_Household, list[_Resident]] = {}
        for resident in candidates:
            by_household.setdefault(resident.household, []).append(resident)
        pairs = [members[:2] for members in by_household.values() if len(members) >= 2]
        for mover, stayer in self.rng.sample(pairs, min(count, len(pairs))):
            self.used.add(mover.household)
            for person in (mover, stayer):
                if person.linked_on is None:
                    self.town.give_card(person)
                if person.sealed_on is None:
                    self.town.give_seal(person)
            self.end(mover, "moving_out", self.today - dt.timedelta(days=14))
            self.chosen["moving_out"].append(mover)
            self.chosen["moving_out_household"].append(stayer)

    def choose_registers(self, case: str, count: int) -> None:
        """Registers with an ordinary resident member, in households no case has used."""
        registers = []
        for register in self.town.registers:
            people = [e.kin.resident for e in register.entries
                      if e.kin.resident is not None and e.kin.removed_on is None]
            if (register.status == "current" and register.pending_since is None and people
                    and not any(p.household in self.used for p in people)
                    and any(self.failures[p] <= _FORCED for p in people)):
                registers.append((register, people))
        for register, people in self.rng.sample(registers, min(count, len(registers))):
            if any(p.household in self.used for p in people):
                continue  # two registers of one household: the first chosen wins
            self.used.update(p.household for p in people)
            for person in people:
                if self.failures[person] <= _FORCED:
                    if person.linked_on is None:
                        self.town.give_card(person)
                    if person.sealed_on is None:
                        self.town.give_seal(person)
            if case == "register_pending":
                register.pending_since = self.town.between(self.today - dt.timedelta(days=6), self.today)
            else:
                register.status = "closed"
                closed = self.town.between(self.today - dt.timedelta(days=365), self.today - _DAY)
                register.entries[0].events.append({"kind": "transfer", "date": closed.isoformat(),
                                                   "detail": f"{self.town.domicile_far()}に転籍"})
            self.chosen[case].extend(people)

    def moved_in_this_year(self, person: _Resident, row: bool) -> None:
        """Moved here from elsewhere after 1 January of the newest tax year (card and seal after)."""
        town = self.town
        arrived = town.between(dt.date(town.latest, 1, 2), self.today - dt.timedelta(days=2))
        before = town.between(max(person.birth, arrived - dt.timedelta(days=3000)), arrived - _DAY)
        person.previous_address = town.elsewhere()
        person.history = [(person.previous_address, before), (person.household.address, arrived)]
        person.moved_in = person.became = arrived
        person.row_not_resident = row
        town.give_card(person)
        town.give_seal(person)

    def population(self, first_serial: int) -> Population:
        town = self.town
        serials: dict[_Resident, int] = {}
        for resident in town.residents:
            if resident.linked_on is not None:
                serials[resident] = first_serial + len(serials)

        def person(resident: _Resident) -> Person:
            return Person(resident.id, resident.household.id, serials.get(resident))

        def report(people: Iterable[_Resident], allowed: Iterable[str],
                   also: Callable[[_Resident], bool] = lambda _: True) -> tuple[Person, ...]:
            return tuple(person(r) for r in sorted(set(people), key=lambda r: r.id)
                         if town.failures(r) <= set(allowed) and also(r))

        chosen = {r for people in self.chosen.values() for r in people}
        unchosen = [r for r in town.residents if r not in chosen]
        case = {name: report(self.chosen[name], allowed) for name, allowed in _CASES.items()
                if name not in ("no_card", "foreign", "domicile_elsewhere")}
        return Population(
            residents=len(town.residents), households=len(town.households), registers=len(town.registers),
            tax_years=town.tax_years,
            ordinary=report(unchosen, ()),
            minors=case["minors"], deceased=case["deceased"], moved_out=case["moved_out"],
            moving_out=case["moving_out"], moving_out_household=case["moving_out_household"],
            protected=case["protected"], issuance_stopped=case["issuance_stopped"],
            stop_lifted=case["stop_lifted"], no_seal=case["no_seal"],
            not_resident_january_1=case["not_resident_january_1"], tax_not_filed=case["tax_not_filed"],
            register_pending=case["register_pending"], register_closed=case["register_closed"],
            pending_characters=case["pending_characters"], moved_in_today=case["moved_in_today"],
            linked_today=case["linked_today"],
            # these three hold the persons chosen and everyone else who is so
            no_card=report([*unchosen, *self.chosen["no_card"]], {"card"}, lambda r: r.linked_on is None),
            foreign=report([*unchosen, *self.chosen["foreign"]], _CASES["foreign"],
                           lambda r: r.foreign is not None),
            domicile_elsewhere=report([*unchosen, *self.chosen["domicile_elsewhere"]], {"register"},
                                      lambda r: r.entry is None and r.foreign is None))


# -- writing -------------------------------------------------------------------------------------------


def _write(connection: sa.Connection, town: _Town, first_serial: int) -> None:
    rng = town.rng
    rows: dict[sa.Table, list[dict[str, Any]]] = {table: [] for table in (
        schema.households, schema.family_registers, schema.residents, schema.register_members,
        schema.register_addresses, schema.card_links, schema.seal_registrations, schema.tax_assessments,
        schema.issuance_blocks)}
    for household in town.households:
        rows[schema.households].append({"id": household.id, "address": household.address,
                                        "address_kana": None})
    for register in town.registers:
        rows[schema.family_registers].append({
            "id": register.id, "domicile": register.domicile, "head_name": register.head_name,
            "status": register.status, "compiled_on": register.compiled_on,
            "filing_pending_since": register.pending_since})
        for position, entry in enumerate(register.entries, start=1):
            kin = entry.kin
            rows[schema.register_members].append({
                "register_id": register.id, "position": position,
                "resident_id": kin.resident.id if kin.resident is not None else None,
                "family_name": kin.family[0],
                "given_name": kin.given[0], "birth_date": kin.birth, "sex": kin.sex, "father": kin.father,
                "mother": kin.mother, "relationship": entry.relationship,
                "events": json.dumps(sorted(entry.events, key=lambda e: e["date"]), ensure_ascii=False),
                "removed": kin.removed_on is not None})
            for seq, (address, since, until) in enumerate(_attachment(entry), start=1):
                rows[schema.register_addresses].append({
                    "register_id": register.id, "position": position, "seq": seq, "address": address,
                    "from_date": since, "to_date": until})
    serial = first_serial
    block_id = town.ids.block
    for resident in town.residents:
        foreign = resident.foreign
        rows[schema.residents].append({
            "id": resident.id, "household_id": resident.household.id, "family_name": resident.family[0],
            "given_name": resident.given[0], "family_name_kana": resident.family[1],
            "given_name_kana": resident.given[1], "birth_date": resident.birth, "sex": resident.sex,
            "relationship": resident.relationship, "became_resident_on": resident.became,
            "moved_in_on": resident.moved_in, "previous_address": resident.previous_address,
            "domicile": resident.domicile, "domicile_head": resident.domicile_head,
            "my_number": resident.my_number, "status": resident.status, "status_on": resident.status_on,
            "foreign_resident": foreign is not None, "alias": foreign.alias if foreign else None,
            "nationality": foreign.nationality if foreign else None,
            "residence_card_number": foreign.card_number if foreign else None,
            "residence_status": foreign.status if foreign else None,
            "residence_period_until": foreign.until if foreign else None,
            "pending_characters": resident.pending_characters,
            "register_id": resident.entry.register.id if resident.entry is not None else None})
        if resident.linked_on is not None:
            at = (_at(resident.linked_on, 8, 30) if resident.linked_on == town.today
                  else _at(resident.linked_on, rng.randint(9, 16), rng.randint(0, 59)))
            rows[schema.card_links].append({"certificate_serial": serial, "resident_id": resident.id,
                                            "linked_at": at})
            serial += 1
        if resident.sealed_on is not None:
            rows[schema.seal_registrations].append({
                "resident_id": resident.id, "registration_number": f"{resident.id:08d}",
                "impression": resident.impression, "registered_on": resident.sealed_on})
        income = _Income(rng, resident)
        for year, here, filed in town.tax_rows(resident):
            rows[schema.tax_assessments].append(income.assessment(year, here and filed, town.latest))
        for kind, starts, ends in resident.blocks:
            rows[schema.issuance_blocks].append({"id": block_id, "resident_id": resident.id, "kind": kind,
                                                 "starts_at": starts, "ends_at": ends})
            block_id += 1
    for table, table_rows in rows.items():
        if table_rows:
            connection.execute(table.insert(), table_rows)
    if connection.dialect.name == "postgresql":
        for table in (schema.households, schema.residents, schema.family_registers, schema.issuance_blocks):
            if rows[table]:
                connection.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                           f"(SELECT max(id) FROM {table.name}))"))


def _attachment(entry: _Entry) -> list[tuple[str, dt.date, dt.date | None]]:
    """The member's lines of the 附票: the addresses since joining the register (at most three),
    each ending when the next begins; the last ends on leaving the register or death."""
    kin = entry.kin
    history = kin.resident.history if kin.resident is not None else entry.away
    end = kin.removed_on
    if end is not None:
        history = [line for line in history if line[1] < end] or history[:1]
    start = max((i for i, (_, since) in enumerate(history) if since <= entry.joined), default=0)
    kept = history[start:][-3:]
    return [(address, since, kept[i + 1][1] if i + 1 < len(kept) else end)
            for i, (address, since) in enumerate(kept)]


class _Income:
    """One person's income, steady from year to year, and the tax on it (個人住民税)."""

    def __init__(self, rng: random.Random, resident: _Resident) -> None:
        self.rng = rng
        self.resident = resident
        draw = rng.random()
        if draw < 0.12:
            self.base = 0
        elif draw < 0.3:
            self.base = rng.randint(50, 150) * 10_000  # part-time
        else:
            self.base = rng.randint(250, 900) * 10_000
        self.pension = rng.randint(120, 300) * 10_000  # public pension, from 65

    def assessment(self, year: int, filed_here: bool, latest: int) -> dict[str, Any]:
        resident = self.resident
        row: dict[str, Any] = {"resident_id": resident.id, "tax_year": year}
        age = _age(resident.birth, dt.date(year - 1, 12, 31))
        if not filed_here:
            row.update(resident_on_january_1=resident.became <= dt.date(year, 1, 1), filed=False,
                       total_income=0, deductions=0, taxable_income=0, municipal_tax=0, prefectural_tax=0,
                       paid=0, outstanding=0)
            return row
        gross = self.base * self.rng.randint(95, 105) // 100 // 1000 * 1000
        if age >= 65:  # 公的年金等控除: 1.1 million yen up to 3.3 million
            total = max(0, self.pension - 1_100_000) + (_salary_income(gross) if age < 70 else 0)
            insurance = self.pension // 10
        elif age < 22:
            gross = gross // 6 // 1000 * 1000
            total, insurance = _salary_income(gross), 0
        else:
            total, insurance = _salary_income(gross), gross * 15 // 100
        total = total // 1000 * 1000
        deductions = (430_000 + insurance) // 1000 * 1000
        taxable = max(0, total - deductions) // 1000 * 1000
        municipal = prefectural = 0
        if total > 450_000:  # 非課税限度額 (one person)
            flat_municipal, flat_prefectural = (3_500, 1_500) if year <= 2023 else (3_000, 1_000)
            municipal = taxable * 6 // 100 // 100 * 100 + flat_municipal
            prefectural = taxable * 4 // 100 // 100 * 100 + flat_prefectural
        due = municipal + prefectural
        if year == latest and self.rng.random() < 0.4:  # the year's instalments: some still to come
            paid = due * self.rng.randint(0, 3) // 4 // 100 * 100
        elif self.rng.random() < 0.03:  # arrears (滞納)
            paid = due // 2 // 100 * 100
        else:
            paid = due
        row.update(resident_on_january_1=True, filed=True, total_income=total, deductions=deductions,
                   taxable_income=taxable, municipal_tax=municipal, prefectural_tax=prefectural, paid=paid,
                   outstanding=due - paid)
        return row


def _salary_income(gross: int) -> int:
    """給与所得: the salary less the employment income deduction (給与所得控除, from 2020)."""
    if gross < 551_000:
        return 0
    if gross <= 1_625_000:
        return gross - 550_000
    if gross <= 1_800_000:
        deduction = gross * 40 // 100 - 100_000
    elif gross <= 3_600_000:
        deduction = gross * 30 // 100 + 80_000
    elif gross <= 6_600_000:
        deduction = gross * 20 // 100 + 440_000
    elif gross <= 8_500_000:
        deduction = gross * 10 // 100 + 1_100_000
    else:
        deduction = 1_950_000
    return gross - deduction
