"""The random draws of one town (chance, dates, names, places, numbers), all from its own
``random.Random``: the base the register and household builders stand on."""

from __future__ import annotations

import datetime as dt
import random

from devtools.synthetic import data
from devtools.synthetic.my_number import my_number_check_digit
from devtools.synthetic.records import DAY, SPACE, full_width, years_before


class Draws:
    """Chance, dates, names and places in and around one municipality, and unique numbers."""

    def __init__(
        self, rng: random.Random, today: dt.date, name: str, prefecture: str, my_numbers: set[str]
    ) -> None:
        self.rng = rng
        self.today = today
        self.name = name
        self.prefecture = prefecture
        self.my_numbers = my_numbers
        self.card_numbers: set[str] = set()
        self.addresses: set[str] = set()
        self.towns = rng.sample(data.TOWNS, rng.randint(8, 14))
        self.places = [place for place in data.PLACES if place != (prefecture, name)]
        self.far_places = [place for place in data.PLACES if place[0] != prefecture]
        self.far_domicile: tuple[str, str] | None = None  # every 本籍 elsewhere there, when set

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def between(self, first: dt.date, last: dt.date) -> dt.date:
        """A day from ``first`` to ``last``; ``first`` when the range is empty."""
        return first + dt.timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def born(self, age: int) -> dt.date:
        """A birth date for someone ``age`` today."""
        latest = min(years_before(self.today, age), self.today - DAY)
        return self.between(years_before(self.today, age + 1) + DAY, latest)

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
        father = self.given_name("male", years_before(birth, 30))
        mother = self.given_name("female", years_before(birth, 28))
        return f"{family[0]}{SPACE}{father[0]}", f"{family[0]}{SPACE}{mother[0]}"

    def sex(self) -> str:
        return self.rng.choice(("male", "female"))

    def street(self, prefecture: str, municipality: str, town: str) -> str:
        return (
            f"{prefecture}{municipality}{town}{full_width(self.rng.randint(1, 5))}丁目"
            f"{full_width(self.rng.randint(1, 30))}番{full_width(self.rng.randint(1, 25))}号"
        )

    def address(self, unique: bool = True) -> str:
        """An address in this municipality, sometimes with a building and room."""
        while True:
            town = self.rng.choice(self.towns)
            text = self.street(self.prefecture, self.name, town)
            if self.chance(0.35):
                building = self.rng.choice(data.APARTMENT_NAMES)
                room = self.rng.randint(1, 9) * 100 + self.rng.randint(1, 8)
                text += f"{SPACE}{town}{building}{full_width(room)}号"
            if not unique or text not in self.addresses:
                self.addresses.add(text)
                return text

    def elsewhere(self) -> str:
        prefecture, municipality = self.rng.choice(self.places)
        return self.street(prefecture, municipality, self.rng.choice(data.TOWNS))

    def place_of_birth(self) -> str:
        return "".join(self.rng.choice(self.places)) if self.chance(0.6) else f"{self.prefecture}{self.name}"

    def domicile_here(self) -> str:
        chome, banchi = full_width(self.rng.randint(1, 5)), full_width(self.rng.randint(1, 40))
        return f"{self.prefecture}{self.name}{self.rng.choice(self.towns)}{chome}丁目{banchi}番地"

    def domicile_far(self) -> str:
        """A 本籍 in another prefecture (in ``far_domicile`` when set: the same draws either way)."""
        prefecture, municipality = self.rng.choice(self.far_places)
        if self.far_domicile is not None:
            prefecture, municipality = self.far_domicile
        banchi = full_width(self.rng.randint(1, 900))
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
            number = (
                "".join(self.rng.choices(letters, k=2))
                + f"{self.rng.randint(0, 10**8 - 1):08d}"
                + "".join(self.rng.choices(letters, k=2))
            )
            if number not in self.card_numbers:
                self.card_numbers.add(number)
                return number
