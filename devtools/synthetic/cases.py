"""The special cases: a few persons per case, chosen in households and registers that hold no
other, and given exactly that property (see :class:`.Population`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from devtools.synthetic.population import Person, Population, failures
from devtools.synthetic.records import DAY, Household, Resident, age_on, jst_time
from devtools.synthetic.town import Town

MINOR_AGE = 15  # the minors reported are younger than this

# each case: what its persons may fail to be ordinary (see population.failures); all the rest holds
CASES: dict[str, frozenset[str]] = {
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
FORCED = frozenset({"card", "card_usable", "seal"})  # given to a chosen person who lacks them


class Cases:
    """Chooses the persons of each special case and gives them their property."""

    def __init__(self, town: Town) -> None:
        self.town = town
        self.rng = town.rng
        self.today = town.today
        self.used: set[Household] = set()
        self.chosen: dict[str, list[Resident]] = {name: [] for name in CASES}
        # a case changes only its own households (registers do not span them), which are then
        # used: the failures of the others stay as they were before any case
        self.failures = {resident: failures(town, resident) for resident in town.residents}

    def candidates(self, allowed: frozenset[str] = FORCED) -> list[Resident]:
        """Residents of unused households who are ordinary but for ``allowed`` (and a card or seal)."""
        allowed |= FORCED
        return [
            r for r in self.town.residents if r.household not in self.used and self.failures[r] <= allowed
        ]

    def end(self, person: Resident, status: str, first: dt.date) -> None:
        """``person`` moved out, filed a move-out or died on a day from ``first`` (after moving
        in) to yesterday; card and seal date from before."""
        first = max(first, person.moved_in + DAY)
        person.status, person.status_on = status, self.town.between(first, self.today - DAY)
        if person.linked_on is not None and person.linked_on >= person.status_on:
            self.town.give_card(person)
        if person.sealed_on is not None and person.sealed_on >= person.status_on:
            self.town.give_seal(person)

    def take(self, case: str, people: Sequence[Resident], count: int) -> list[Resident]:
        """``count`` of ``people`` (in distinct households) for ``case``, with card and seal."""
        taken: list[Resident] = []
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
        minors = [r for r in self.candidates(CASES["minors"]) if age_on(r.birth, today) < MINOR_AGE]
        self.take("minors", minors, per_case)  # (too young for a seal: none is given)
        self.choose_moving_out(per_case)
        for case in ("register_pending", "register_closed"):
            self.choose_registers(case, per_case)
        for person in self.take(
            "moved_in_today",
            [r for r in self.candidates() if all(m.status == "resident" for m in r.household.members)],
            per_case,
        ):
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
            ("stop_lifted", "issuance_stop", (90, 720), (-60, -1)),
        ):
            for person in self.take(case, self.candidates(), per_case):
                starts = jst_time(today - dt.timedelta(days=self.rng.randint(*start)), 9)
                ends = (
                    None if end is None else jst_time(today + dt.timedelta(days=self.rng.randint(*end)), 17)
                )
                person.blocks.append((kind, starts, ends))
        for person in self.take("no_seal", self.candidates(), per_case):
            person.sealed_on, person.impression = None, ""
        movers = self.candidates()
        alone = [r for r in movers if len(r.household.members) == 1]  # a whole household, preferably
        for index, person in enumerate(
            self.take("not_resident_january_1", alone if len(alone) >= per_case else movers, per_case)
        ):
            self.moved_in_this_year(person, row=index % 2 == 1)
        for person in self.take("tax_not_filed", self.candidates(), per_case):
            person.tax_unfiled = True
        for person in self.take("pending_characters", self.candidates(), per_case):
            person.pending_characters = True
        for person in self.take("linked_today", self.candidates(), per_case):
            person.linked_on = today
        for person in self.take("no_card", self.candidates(), per_case):
            person.linked_on = None
        self.take(
            "foreign", [r for r in self.candidates(CASES["foreign"]) if r.foreign is not None], per_case
        )
        self.take(
            "domicile_elsewhere",
            [
                r
                for r in self.candidates(CASES["domicile_elsewhere"])
                if r.entry is None and r.foreign is None
            ],
            per_case,
        )

    def non_heads(self) -> list[Resident]:
        return [r for r in self.candidates() if r.relationship != "世帯主" or len(r.household.members) == 1]

    def choose_moving_out(self, count: int) -> None:
        """A member files a move-out; another, ordinary, stays (a household copy is refused them)."""
        candidates = self.candidates()
        by_household: dict[Household, list[Resident]] = {}
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
            people = [
                e.kin.resident
                for e in register.entries
                if e.kin.resident is not None and e.kin.removed_on is None
            ]
            if (
                register.status == "current"
                and register.pending_since is None
                and people
                and not any(p.household in self.used for p in people)
                and any(self.failures[p] <= FORCED for p in people)
            ):
                registers.append((register, people))
        for register, people in self.rng.sample(registers, min(count, len(registers))):
            if any(p.household in self.used for p in people):
                continue  # two registers of one household: the first chosen wins
            self.used.update(p.household for p in people)
            for person in people:
                if self.failures[person] <= FORCED:
                    if person.linked_on is None:
                        self.town.give_card(person)
                    if person.sealed_on is None:
                        self.town.give_seal(person)
            if case == "register_pending":
                register.pending_since = self.town.between(self.today - dt.timedelta(days=6), self.today)
            else:
                register.status = "closed"
                closed = self.town.between(self.today - dt.timedelta(days=365), self.today - DAY)
                register.entries[0].events.append(
                    {
                        "kind": "transfer",
                        "date": closed.isoformat(),
                        "detail": f"{self.town.domicile_far()}に転籍",
                    }
                )
            self.chosen[case].extend(people)

    def moved_in_this_year(self, person: Resident, row: bool) -> None:
        """Moved here from elsewhere after 1 January of the newest tax year (card and seal after)."""
        town = self.town
        arrived = town.between(dt.date(town.latest, 1, 2), self.today - dt.timedelta(days=2))
        before = town.between(max(person.birth, arrived - dt.timedelta(days=3000)), arrived - DAY)
        person.previous_address = town.elsewhere()
        person.history = [(person.previous_address, before), (person.household.address, arrived)]
        person.moved_in = person.became = arrived
        person.row_not_resident = row
        town.give_card(person)
        town.give_seal(person)

    def population(self, first_serial: int) -> Population:
        town = self.town
        serials: dict[Resident, int] = {}
        for resident in town.residents:
            if resident.linked_on is not None:
                serials[resident] = first_serial + len(serials)

        def person(resident: Resident) -> Person:
            return Person(resident.id, resident.household.id, serials.get(resident))

        def report(
            people: Iterable[Resident],
            allowed: Iterable[str],
            also: Callable[[Resident], bool] = lambda _: True,
        ) -> tuple[Person, ...]:
            return tuple(
                person(r)
                for r in sorted(set(people), key=lambda r: r.id)
                if failures(town, r) <= set(allowed) and also(r)
            )

        chosen = {r for people in self.chosen.values() for r in people}
        unchosen = [r for r in town.residents if r not in chosen]
        case = {
            name: report(self.chosen[name], allowed)
            for name, allowed in CASES.items()
            if name not in ("no_card", "foreign", "domicile_elsewhere")
        }
        return Population(
            residents=len(town.residents),
            households=len(town.households),
            registers=len(town.registers),
            tax_years=town.tax_years,
            ordinary=report(unchosen, ()),
            minors=case["minors"],
            deceased=case["deceased"],
            moved_out=case["moved_out"],
            moving_out=case["moving_out"],
            moving_out_household=case["moving_out_household"],
            protected=case["protected"],
            issuance_stopped=case["issuance_stopped"],
            stop_lifted=case["stop_lifted"],
            no_seal=case["no_seal"],
            not_resident_january_1=case["not_resident_january_1"],
            tax_not_filed=case["tax_not_filed"],
            register_pending=case["register_pending"],
            register_closed=case["register_closed"],
            pending_characters=case["pending_characters"],
            moved_in_today=case["moved_in_today"],
            linked_today=case["linked_today"],
            # these three hold the persons chosen and everyone else who is so
            no_card=report([*unchosen, *self.chosen["no_card"]], {"card"}, lambda r: r.linked_on is None),
            foreign=report(
                [*unchosen, *self.chosen["foreign"]], CASES["foreign"], lambda r: r.foreign is not None
            ),
            domicile_elsewhere=report(
                [*unchosen, *self.chosen["domicile_elsewhere"]],
                {"register"},
                lambda r: r.entry is None and r.foreign is None,
            ),
        )
