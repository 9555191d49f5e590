"""Tax years (年度) and assessments (課税・所得): which rows a resident has, and the income and the
individual inhabitant tax (個人住民税) written in them."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from devtools.synthetic.records import Resident, age_on

TAX_YEARS = 3  # assessments are written for the newest three tax years
NEW_TAX_YEAR_MONTH = 6  # a tax year is assessed, and its certificates issued, from June


def latest_tax_year(today: dt.date) -> int:
    """The newest tax year (年度) assessed on ``today``: this year's from June, else last year's."""
    return today.year if today.month >= NEW_TAX_YEAR_MONTH else today.year - 1


def tax_rows(resident: Resident, tax_years: tuple[int, ...]) -> list[tuple[int, bool, bool]]:
    """(tax year, resident on 1 January, filed) of each assessment row the person has in
    ``tax_years`` (newest first)."""
    latest = tax_years[0]
    rows = []
    for year in tax_years:
        january_1 = dt.date(year, 1, 1)
        gone = (
            resident.status in ("moved_out", "deceased")
            and resident.status_on is not None
            and resident.status_on <= january_1
        )
        if age_on(resident.birth, january_1) < 18 or gone:
            continue
        if resident.became <= january_1:
            rows.append((year, True, not (resident.tax_unfiled and year == latest)))
        elif resident.row_not_resident and year == latest:
            rows.append((year, False, False))
    return rows


class Income:
    """One person's income, steady from year to year, and the tax on it (個人住民税)."""

    def __init__(self, rng: random.Random, resident: Resident) -> None:
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
        age = age_on(resident.birth, dt.date(year - 1, 12, 31))
        if not filed_here:
            row.update(
                resident_on_january_1=resident.became <= dt.date(year, 1, 1),
                filed=False,
                total_income=0,
                deductions=0,
                taxable_income=0,
                municipal_tax=0,
                prefectural_tax=0,
                paid=0,
                outstanding=0,
            )
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
        row.update(
            resident_on_january_1=True,
            filed=True,
            total_income=total,
            deductions=deductions,
            taxable_income=taxable,
            municipal_tax=municipal,
            prefectural_tax=prefectural,
            paid=paid,
            outstanding=due - paid,
        )
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
