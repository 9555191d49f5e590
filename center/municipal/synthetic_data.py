"""The old name of :mod:`center.municipal.synthetic.data` (the sample data of the synthetic
towns), kept while ``tests/test_municipal_synthetic.py`` imports it: import the new one."""

from __future__ import annotations

from center.municipal.synthetic.data import (
    APARTMENT_NAMES,
    ERA_STARTS,
    FAMILY_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
    NATIONALITIES,
    NATIONALITY_WEIGHTS,
    PERMANENT,
    PLACES,
    SINGLE_ONLY,
    TOWNS,
    WORKING,
    Name,
    Nationality,
)

__all__ = [
    "APARTMENT_NAMES",
    "ERA_STARTS",
    "FAMILY_NAMES",
    "FEMALE_NAMES",
    "MALE_NAMES",
    "NATIONALITIES",
    "NATIONALITY_WEIGHTS",
    "PERMANENT",
    "PLACES",
    "SINGLE_ONLY",
    "TOWNS",
    "WORKING",
    "Name",
    "Nationality",
]
