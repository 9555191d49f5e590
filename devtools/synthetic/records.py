"""The town's records while they are built (世帯, 住民, 戸籍 and its entries), and the date and
text helpers the builders share. Nothing here draws a random number."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from devtools.synthetic import data
from documents import JST

SPACE = "　"  # between family and given name, as records print them
DAY = dt.timedelta(days=1)
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(eq=False)
class Foreign:
    """What the record of a foreign resident (外国人住民) adds."""

    nationality: str
    card_number: str  # 在留カード等の番号
    status: str  # 在留資格
    until: dt.date | None  # 在留期間の満了の日 (none for permanent residents)
    alias: str | None  # 通称


@dataclass(eq=False)
class Household:
    """A household (世帯); the head (世帯主) is the first member once built."""

    id: int
    address: str
    members: list[Resident] = field(default_factory=list)


@dataclass(eq=False)
class Resident:
    """A resident (住民) as the resident record (住民票) will say."""

    id: int
    household: Household
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
    foreign: Foreign | None = None
    status: str = "resident"
    status_on: dt.date | None = None
    pending_characters: bool = False
    entry: Entry | None = None  # the current entry in a register here
    linked_on: dt.date | None = None  # the day (in Japan) the card was linked; None: no card
    sealed_on: dt.date | None = None
    impression: str = ""
    tax_unfiled: bool = False  # the newest tax year not filed
    row_not_resident: bool = False  # an assessment row for the newest year marked not resident
    blocks: list[tuple[str, dt.datetime, dt.datetime | None]] = field(default_factory=list)


@dataclass(eq=False)
class Register:
    """A family register (戸籍) here, its entries in order."""

    id: int
    domicile: str
    head_name: str
    compiled_on: dt.date
    entries: list[Entry] = field(default_factory=list)
    status: str = "current"
    pending_since: dt.date | None = None


@dataclass(eq=False)
class Kin:
    """A person as a family register knows them, resident here or not."""

    family: data.Name
    given: data.Name
    sex: str
    birth: dt.date
    father: str | None = None
    mother: str | None = None
    resident: Resident | None = None
    removed_on: dt.date | None = None  # left the register (by marriage) or died
    died: bool = False

    @property
    def full(self) -> str:
        """Family and given name as the records print them."""
        return f"{self.family[0]}{SPACE}{self.given[0]}"


@dataclass(eq=False)
class Entry:
    """A person's entry in a register, with its events and, for a member not living here, the
    addresses for the 附票."""

    register: Register
    kin: Kin
    relationship: str  # 続柄 in the register
    joined: dt.date
    events: list[dict[str, str]]
    away: list[tuple[str, dt.date]]  # addresses of a member who is not resident here


@dataclass(frozen=True)
class Arrival:
    """Moving in: the day, the day of becoming a resident of this municipality (earlier after a
    move within it), and the addresses before, oldest first."""

    moved_in: dt.date
    became: dt.date
    before: tuple[tuple[str, dt.date], ...]


@dataclass
class Ids:
    """The next id of each table (after those already in it)."""

    household: int
    resident: int
    register: int
    block: int


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (28 February for 29 February)."""
    return years_before(day, -years)


def age_on(birth: dt.date, on: dt.date) -> int:
    """Age in whole years on ``on`` (満年齢)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def full_width(number: int) -> str:
    """``number`` in full-width digits, as addresses print them (全角)."""
    return str(number).translate(_FULL_WIDTH)


def jst_time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """That time of ``day`` in Japan."""
    return dt.datetime.combine(day, dt.time(hour, minute), JST)
