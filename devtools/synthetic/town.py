"""Households (世帯) and their residents: who lives together, how they came, their registers
(see :mod:`.registers`), cards and seals."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from devtools.synthetic import data
from devtools.synthetic.records import (
    DAY,
    SPACE,
    Arrival,
    Foreign,
    Household,
    Ids,
    Kin,
    Resident,
    age_on,
    jst_time,
    years_after,
    years_before,
)
from devtools.synthetic.registers import Registers
from devtools.synthetic.tax import TAX_YEARS, latest_tax_year

CARDS_SINCE = dt.date(2016, 1, 4)  # the first My Number Cards
SEAL_AGE = 15  # 印鑑登録 from 15
FOREIGN_HOUSEHOLDS = 0.04  # foreign households are smaller: about 3 % of residents
_FOREIGN_AGES = {"留学": (20, 29), "技能実習": (20, 35), "特定技能": (20, 40), "特別永住者": (40, 90)}


class Town(Registers):
    """Builds the households, residents and registers of one municipality."""

    def __init__(
        self,
        rng: random.Random,
        today: dt.date,
        name: str,
        prefecture: str,
        cards: float,
        ids: Ids,
        my_numbers: set[str],
    ) -> None:
        super().__init__(rng, today, name, prefecture, my_numbers, ids)
        self.cards = cards
        self.noon = jst_time(today, 12)
        self.latest = latest_tax_year(today)
        self.tax_years = tuple(self.latest - back for back in range(TAX_YEARS))
        # residents since before this day were here on 1 January of every tax year, with a margin
        self.settled_by = dt.date(self.tax_years[-1], 1, 1) - dt.timedelta(days=365)
        self.households: list[Household] = []
        self.residents: list[Resident] = []

    # -- moving in ---------------------------------------------------------------------------------

    def arrival(self, first: dt.date, last: dt.date) -> Arrival:
        """Moving in on a day from ``first`` to ``last``, from elsewhere or (30 %) from another
        address in this municipality."""
        last = min(last, self.today - DAY)
        moved_in = self.between(min(first, last), last)
        previous_from = moved_in - dt.timedelta(days=self.rng.randint(200, 6000))
        within = self.chance(0.3)
        before = [(self.address(unique=False) if within else self.elsewhere(), previous_from)]
        if self.chance(0.4):
            earlier = previous_from - dt.timedelta(days=self.rng.randint(300, 5000))
            before.insert(0, (self.elsewhere(), earlier))
        return Arrival(moved_in, previous_from if within else moved_in, tuple(before))

    def household_arrival(self, first: dt.date) -> Arrival:
        """Most households have been here for years; about one in six came in the last two."""
        recent = max(first, years_before(self.today, 2))
        if first >= recent or self.chance(0.15):
            return self.arrival(recent, self.today - DAY)
        return self.arrival(first, recent)

    def settle(self, household: Household, kin: Kin, arrival: Arrival, relationship: str) -> Resident:
        """``kin`` becomes a member of ``household``: born there, or arrived with ``arrival``."""
        if kin.birth >= arrival.moved_in:
            moved_in, became, previous, history = kin.birth, kin.birth, None, [(household.address, kin.birth)]
        else:
            lines: list[tuple[str, dt.date]] = []
            for place, since in arrival.before:
                lines = [(place, kin.birth)] if since <= kin.birth else [*lines, (place, since)]
            moved_in, became, previous = arrival.moved_in, max(kin.birth, arrival.became), lines[-1][0]
            history = [*lines, (household.address, moved_in)]
        resident = Resident(
            self.ids.resident,
            household,
            kin.family,
            kin.given,
            kin.sex,
            kin.birth,
            relationship,
            moved_in,
            became,
            previous,
            history,
            self.my_number(),
        )
        self.ids.resident += 1
        kin.resident = resident
        household.members.append(resident)
        self.residents.append(resident)
        return resident

    # -- households --------------------------------------------------------------------------------

    def build(self, count: int, per_case: int, cases: int) -> None:
        """``count`` households. Some are planned so that each of the ``cases`` special cases has
        candidates: per case, families settled here for years with a register here; foreign
        households; settled families whose register is elsewhere."""
        plans = [*["stable"] * (cases * per_case), *["foreign", "far"] * per_case][:count]
        planned = dict(zip(self.rng.sample(range(count), len(plans)), plans, strict=True))
        kinds: dict[str, Callable[[Household], None]] = {
            "single": self.single,
            "family": self.family,
            "single_parent": self.single_parent,
            "three_generations": self.three_generations,
            "extended": self.extended,
            "shared": self.shared,
        }
        for index in range(count):
            household = Household(self.ids.household, self.address())
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

    def single(self, household: Household, relationship: str = "世帯主", young: bool = False) -> None:
        low, high = (
            (18, 40)
            if young
            else self.rng.choices(((18, 24), (25, 39), (40, 64), (65, 95)), weights=(12, 30, 28, 30))[0]
        )
        sex = self.sex()
        birth = self.born(self.rng.randint(low, high))
        kin = Kin(self.family_name(), self.given_name(sex, birth), sex, birth)
        kin.father, kin.mother = self.parents_of(kin.family, birth)
        self.settle(household, kin, self.household_arrival(years_after(birth, 18)), relationship)
        self.single_register(kin)

    def family(
        self,
        household: Household,
        stable: bool = False,
        married: dt.date | None = None,
        husband_name: bool = False,
        at_home: int = 3,
        far: bool | None = None,
    ) -> None:
        """A married couple and the children living with them. ``stable``: moved in long ago, at
        least one child under 14 (the special cases are chosen there). ``far``: the register is
        in another prefecture (by default for some non-stable families)."""
        if married is None:
            married = (
                self.between(years_before(self.today, 14), self.settled_by - dt.timedelta(days=60))
                if stable
                else self.today - dt.timedelta(days=self.rng.randint(200, 50 * 365))
            )
        husband, wife, head = self.couple(married, husband_name)
        count = self.rng.choices((0, 1, 2, 3), weights=(20, 30, 35, 15))[0]
        kids = self.children(head.family, husband.full, wife.full, wife.birth, married, max(count, stable))
        home = (kids if stable else self.leave_home(kids))[-at_home:] if at_home else []
        if stable:
            arrival = self.arrival(married + DAY, self.settled_by)
        else:
            came = years_after(husband.birth, 20) if self.chance(0.3) else married  # he, or they
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

    def single_parent(self, household: Household) -> None:
        sex = "female" if self.chance(0.8) else "male"
        birth = self.born(self.rng.randint(28, 55))
        parent = Kin(self.family_name(), self.given_name(sex, birth), sex, birth)
        parent.father, parent.mother = self.parents_of(parent.family, birth)
        ex_sex = "male" if sex == "female" else "female"
        ex = f"{self.family_name(parent.family)[0]}{SPACE}{self.given_name(ex_sex, birth)[0]}"
        father, mother = (ex, parent.full) if sex == "female" else (parent.full, ex)
        mother_birth = birth if sex == "female" else birth + dt.timedelta(days=self.rng.randint(-1500, 700))
        married = years_after(birth, self.rng.randint(22, 32))
        kids = self.children(
            parent.family, father, mother, mother_birth, married, self.rng.randint(1, 3)
        ) or self.children(
            parent.family, father, mother, years_before(self.today, 30), years_before(self.today, 5), 1
        )
        yesterday = self.today - DAY
        divorced = self.between(min(kids[-1].birth + 30 * DAY, yesterday), yesterday)
        arrival = self.household_arrival(divorced if self.chance(0.6) else years_after(birth, 20))
        self.settle(household, parent, arrival, "世帯主")
        for kid in kids:
            self.settle(household, kid, arrival, "子")
        event = {"kind": "divorce", "date": divorced.isoformat(), "detail": f"{ex}と協議離婚"}
        self.register(parent, divorced, children=kids, far=self.chance(0.15), head_event=event)

    def three_generations(self, household: Household) -> None:
        """A family and the husband's widowed mother or father (母・父)."""
        married = self.today - dt.timedelta(days=self.rng.randint(3 * 365, 30 * 365))
        self.family(household, married=married, husband_name=True, at_home=2)
        head = next(m for m in household.members if m.relationship == "世帯主")
        son = head if head.sex == "male" else next(m for m in household.members if m.relationship == "夫")
        sex = "female" if self.chance(0.75) else "male"
        birth = years_before(son.birth, self.rng.randint(22, 38))
        if age_on(birth, self.today) > 100:
            birth = years_before(son.birth, 22)
            if age_on(birth, self.today) > 100:
                return
        parent = Kin(son.family, self.given_name(sex, birth), sex, birth)
        parent.father, parent.mother = self.parents_of(self.family_name(son.family), birth)
        arrival = (
            self.household_arrival(son.moved_in)
            if self.chance(0.5) or len(son.history) < 2
            else Arrival(son.moved_in, son.became, tuple(son.history[:-1]))
        )
        self.settle(household, parent, arrival, "母" if sex == "female" else "父")
        partner_sex = "male" if sex == "female" else "female"
        partner_birth = min(
            birth + dt.timedelta(days=self.rng.randint(-1500, 1500)), years_before(son.birth, 20)
        )
        partner = Kin(
            son.family,
            self.given_name(partner_sex, partner_birth),
            partner_sex,
            partner_birth,
            died=True,
            removed_on=self.between(son.birth + dt.timedelta(days=20 * 365), self.today - DAY),
        )
        partner.father, partner.mother = self.parents_of(self.family_name(son.family), partner_birth)
        husband, wife = (partner, parent) if sex == "female" else (parent, partner)
        son_kin = Kin(son.family, son.given, "male", son.birth, husband.full, wife.full, removed_on=married)
        parents_married = max(
            son.birth - dt.timedelta(days=self.rng.randint(300, 2000)),
            years_after(husband.birth, 20),
            years_after(wife.birth, 20),
        )
        siblings = self.children(son.family, husband.full, wife.full, wife.birth, parents_married, 2)
        siblings = [k for k in siblings if abs((k.birth - son.birth).days) > 300]
        self.leave_home(siblings)
        self.register(
            husband, parents_married, spouse=wife, children=[son_kin, *siblings], far=self.chance(0.3)
        )

    def extended(self, household: Household) -> None:
        """An older couple, their married son, his wife (子の妻) and their children (孫)."""
        married = self.today - dt.timedelta(days=self.rng.randint(30 * 365, 50 * 365))
        husband, wife, head = self.couple(married, husband_name=True)
        kids = self.children(head.family, husband.full, wife.full, wife.birth, married, 3)
        sons = [k for k in kids if k.sex == "male" and age_on(k.birth, self.today) >= 26]
        if not sons:
            self.family(household, married=married)
            return
        assert head is husband
        son = sons[0]
        son_married = self.between(years_after(son.birth, 25), self.today - dt.timedelta(days=400))
        son.removed_on = son_married
        self.leave_home([k for k in kids if k is not son])  # the others live elsewhere (six at most here)
        arrival = self.household_arrival(married)
        self.settle(household, husband, arrival, "世帯主")
        self.settle(household, wife, arrival, "妻")
        self.register(husband, married, spouse=wife, children=kids, far=self.chance(0.15))
        son_here = Kin(son.family, son.given, "male", son.birth, son.father, son.mother)
        _, daughter, _ = self.couple(son_married)
        daughter.family = son.family
        grandchildren = self.children(
            son.family, son_here.full, daughter.full, daughter.birth, son_married, 2
        )
        self.settle(household, son_here, arrival, "子")
        joining = arrival if arrival.moved_in >= son_married else self.arrival(son_married, son_married)
        self.settle(household, daughter, joining, "子の妻")
        for kid in grandchildren:
            self.settle(household, kid, arrival, "孫")
        self.register(son_here, son_married, spouse=daughter, children=grandchildren, far=self.chance(0.15))

    def shared(self, household: Household) -> None:
        self.single(household, young=True)
        self.single(household, "同居人", young=True)

    def foreign(self, household: Household) -> None:
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
                child = self.between(years_after(youngest, 22), self.today - DAY)
                if child < self.today - DAY:
                    members.append((self.sex(), child, "子"))
        born_here = status == "特別永住者"
        arrival = self.household_arrival(birth if born_here else years_after(birth, 18))
        alias_family = self.rng.choice(nationality.alias_families) if nationality.alias_families else None
        for index, (member_sex, member_birth, relationship) in enumerate(members):
            names = nationality.male_names if member_sex == "male" else nationality.female_names
            kin = Kin(family, self.rng.choice(names), member_sex, member_birth)
            resident = self.settle(household, kin, arrival, relationship)
            own = (
                status
                if index == 0
                else (
                    "家族滞在" if status in data.WORKING else status if status in data.PERMANENT else "定住者"
                )
            )
            alias = None
            if alias_family is not None and self.chance(0.5):
                alias = f"{alias_family}{SPACE}{self.given_name(member_sex, member_birth)[0]}"
            until = (
                None
                if own in data.PERMANENT
                else self.between(self.today + dt.timedelta(days=60), self.today + dt.timedelta(days=3 * 365))
            )
            resident.foreign = Foreign(nationality.name, self.residence_card_number(), own, until, alias)

    # -- cards and seals ---------------------------------------------------------------------------

    def give_card(self, resident: Resident) -> None:
        last = (resident.status_on or self.today) - DAY
        first = max(CARDS_SINCE, resident.became, resident.birth)
        resident.linked_on = self.between(first, last) if first <= last else None

    def give_seal(self, resident: Resident) -> None:
        last = (resident.status_on or self.today) - DAY
        first = max(years_after(resident.birth, SEAL_AGE), resident.became)
        if first > last:
            return
        resident.sealed_on = self.between(first, last)
        if resident.foreign is not None:
            alias = resident.foreign.alias
            resident.impression = alias.split(SPACE)[0] if alias else resident.family[1]
        elif self.chance(0.7):
            resident.impression = resident.family[0]
        else:
            resident.impression = resident.family[0] + resident.given[0]
