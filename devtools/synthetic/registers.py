"""Family registers (戸籍): the head (筆頭者) first, then the spouse and the children (長男, 長女,
二男…), with their events and members who left; and the lines of each member's 附票."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence

from devtools.synthetic import data
from devtools.synthetic.draws import Draws
from devtools.synthetic.records import (
    DAY,
    Entry,
    Ids,
    Kin,
    Register,
    age_on,
    years_after,
    years_before,
)

_ORDINALS = ("長", "二", "三", "四", "五", "六")


class Registers(Draws):
    """Builds the registers of one municipality: heads, spouses, children and parents, resident
    here or not, and their events."""

    def __init__(
        self, rng: random.Random, today: dt.date, name: str, prefecture: str, my_numbers: set[str], ids: Ids
    ) -> None:
        super().__init__(rng, today, name, prefecture, my_numbers)
        self.ids = ids
        self.registers: list[Register] = []

    def birth_order(self, sex: str) -> str:
        ordinal = self.rng.choices(_ORDINALS[:3], weights=(60, 28, 12))[0]
        return ordinal + ("男" if sex == "male" else "女")

    def register(
        self,
        head: Kin,
        compiled_on: dt.date,
        *,
        spouse: Kin | None = None,
        children: Sequence[Kin] = (),
        far: bool = False,
        head_event: dict[str, str] | None = None,
    ) -> None:
        """A register with ``head`` (筆頭者) first, then the spouse and the children by birth; or,
        with ``far``, only the domicile elsewhere on the resident records."""
        if far:
            domicile = self.domicile_far()
            for kin in (head, spouse, *children):
                if kin is not None and kin.resident is not None:
                    kin.resident.domicile, kin.resident.domicile_head = domicile, head.full
            return
        register = Register(self.ids.register, self.domicile_here(), head.full, compiled_on)
        self.ids.register += 1
        self.registers.append(register)
        head_events = [self.born_event(head)]
        if spouse is not None:
            head_events.append(
                {"kind": "marriage", "date": compiled_on.isoformat(), "detail": f"{spouse.full}と婚姻"}
            )
        if head_event is not None:
            head_events.append(head_event)
        self.enter(register, head, self.birth_order(head.sex), compiled_on, head_events)
        if spouse is not None:
            self.enter(
                register,
                spouse,
                "妻" if spouse.sex == "female" else "夫",
                compiled_on,
                [
                    self.born_event(spouse),
                    {
                        "kind": "marriage",
                        "date": compiled_on.isoformat(),
                        "detail": f"{head.full}と婚姻届出により入籍",
                    },
                ],
            )
        counts = {"male": 0, "female": 0}
        for child in sorted(children, key=lambda kin: kin.birth):
            counts[child.sex] += 1
            label = _ORDINALS[counts[child.sex] - 1] + ("男" if child.sex == "male" else "女")
            events = [self.born_event(child)]
            joined = max(child.birth, compiled_on)
            if joined > child.birth:
                events.append({"kind": "entry", "date": joined.isoformat(), "detail": "親の氏を称する入籍"})
            self.enter(register, child, label, joined, events)

    def born_event(self, kin: Kin) -> dict[str, str]:
        return {"kind": "birth", "date": kin.birth.isoformat(), "detail": f"{self.place_of_birth()}で出生"}

    def enter(
        self, register: Register, kin: Kin, relationship: str, joined: dt.date, events: list[dict[str, str]]
    ) -> None:
        if kin.removed_on is not None:
            kind, detail = ("death", "死亡") if kin.died else ("marriage", "婚姻により除籍")
            events.append({"kind": kind, "date": kin.removed_on.isoformat(), "detail": detail})
        away: list[tuple[str, dt.date]] = []
        if kin.resident is None:
            end = kin.removed_on or self.today
            away.append((self.elsewhere(), joined))
            if (end - joined).days > 60 and self.chance(0.5):
                away.append((self.elsewhere(), self.between(joined + DAY, end - DAY)))
        entry = Entry(register, kin, relationship, joined, sorted(events, key=lambda e: e["date"]), away)
        register.entries.append(entry)
        if kin.resident is not None and kin.removed_on is None:
            kin.resident.entry = entry
            kin.resident.domicile, kin.resident.domicile_head = register.domicile, register.head_name

    def children(
        self, family: data.Name, father: str, mother: str, mother_birth: dt.date, married: dt.date, count: int
    ) -> list[Kin]:
        """Up to ``count`` children born after ``married``, while the mother is 43 or younger."""
        births: list[dt.date] = []
        day = married + dt.timedelta(days=self.rng.randint(300, 900))
        while len(births) < count and day < self.today and age_on(mother_birth, day) <= 43:
            births.append(day)
            day += dt.timedelta(days=self.rng.randint(450, 1800))
        kids = []
        for birth in births:
            sex = self.sex()
            kids.append(Kin(family, self.given_name(sex, birth), sex, birth, father, mother))
        return kids

    def leave_home(self, kids: Iterable[Kin]) -> list[Kin]:
        """Grown children: some married (除籍), some live elsewhere; the others are returned."""
        home = []
        for kid in kids:
            fate = self.rng.random() if age_on(kid.birth, self.today) >= 24 else 1.0
            if fate < 0.35:
                kid.removed_on = self.between(years_after(kid.birth, 24), self.today - DAY)
            elif fate >= 0.6:
                home.append(kid)
        return home

    def single_register(self, kin: Kin) -> None:
        """A person living alone is in the parents' register (young), a widow(er)'s, or their own."""
        far, age = self.chance(0.15), age_on(kin.birth, self.today)
        if age < 35 or (age < 45 and self.chance(0.5)):
            married = kin.birth - dt.timedelta(days=self.rng.randint(300, 3000))
            father = Kin(
                kin.family,
                self.given_name("male", kin.birth),
                "male",
                years_before(married, self.rng.randint(24, 34)),
            )
            mother = Kin(
                kin.family,
                self.given_name("female", kin.birth),
                "female",
                years_before(married, self.rng.randint(22, 32)),
            )
            father.father, father.mother = self.parents_of(kin.family, father.birth)
            mother.father, mother.mother = self.parents_of(self.family_name(kin.family), mother.birth)
            siblings = self.children(kin.family, father.full, mother.full, mother.birth, married, 3)
            siblings = [k for k in siblings if abs((k.birth - kin.birth).days) > 300][:2]
            self.leave_home(siblings)
            kin.father, kin.mother = father.full, mother.full
            self.register(father, married, spouse=mother, children=[*siblings, kin], far=far)
        elif age >= 60 and self.chance(0.5):
            married = years_after(kin.birth, self.rng.randint(23, 32))
            spouse_sex = "female" if kin.sex == "male" else "male"
            spouse_birth = kin.birth + dt.timedelta(days=self.rng.randint(-2000, 2000))
            spouse = Kin(
                kin.family, self.given_name(spouse_sex, spouse_birth), spouse_sex, spouse_birth, died=True
            )
            spouse.father, spouse.mother = self.parents_of(self.family_name(kin.family), spouse_birth)
            husband, wife = (kin, spouse) if kin.sex == "male" else (spouse, kin)
            kids = self.children(kin.family, husband.full, wife.full, wife.birth, married, 3)
            widowed = max([years_before(self.today, 20), *(kid.birth + 365 * DAY for kid in kids)])
            spouse.removed_on = self.between(min(widowed, self.today - DAY), self.today - DAY)
            self.leave_home(kids)  # all of them: the widow(er) lives alone
            self.register(husband, married, spouse=wife, children=kids, far=far)
        else:
            on = self.between(years_after(kin.birth, 20), self.today - dt.timedelta(days=30))
            kind, why = self.rng.choice((("separation", "分籍"), ("divorce", "離婚")))
            event = {"kind": kind, "date": on.isoformat(), "detail": f"{why}により新戸籍編製"}
            self.register(kin, on, far=far, head_event=event)

    def couple(self, married: dt.date, husband_name: bool = False) -> tuple[Kin, Kin, Kin]:
        """A husband and wife married on ``married``; the third is the one who heads the register
        (the husband, or in a few couples the wife whose name they took)."""
        wife_birth = self.between(years_before(married, 36), years_before(married, 22))
        husband_birth = min(
            wife_birth - dt.timedelta(days=self.rng.randint(-700, 2200)), years_before(married, 20)
        )
        husband_family, wife_family = self.family_name(), self.family_name()
        while wife_family == husband_family:
            wife_family = self.family_name()
        wife_name = not husband_name and self.chance(0.04)
        family = wife_family if wife_name else husband_family
        husband = Kin(family, self.given_name("male", husband_birth), "male", husband_birth)
        wife = Kin(family, self.given_name("female", wife_birth), "female", wife_birth)
        husband.father, husband.mother = self.parents_of(husband_family, husband_birth)
        wife.father, wife.mother = self.parents_of(wife_family, wife_birth)
        return husband, wife, (wife if wife_name else husband)


def attachment(entry: Entry) -> list[tuple[str, dt.date, dt.date | None]]:
    """The member's lines of the 附票: the addresses since joining the register (at most three),
    each ending when the next begins; the last ends on leaving the register or death."""
    kin = entry.kin
    history = kin.resident.history if kin.resident is not None else entry.away
    end = kin.removed_on
    if end is not None:
        history = [line for line in history if line[1] < end] or history[:1]
    start = max((i for i, (_, since) in enumerate(history) if since <= entry.joined), default=0)
    kept = history[start:][-3:]
    return [
        (address, since, kept[i + 1][1] if i + 1 < len(kept) else end)
        for i, (address, since) in enumerate(kept)
    ]
