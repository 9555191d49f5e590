"""The content of each certificate: what the copy states, as structured data (the renderer of
the kiosk lays it out on paper; see ``documents`` for how it is signed and sealed).

Every content has the same frame: ``title``, ``municipality`` (code, name, prefecture, mayor),
``certified_on`` (in the Japanese calendar, as printed), ``certification`` (the wording by which
the mayor certifies the copy) and ``body``, whose shape depends on the certificate. Only what the
options ask for is printed: no head of household, relationship, domicile or My Number unless
chosen (and, for My Number, allowed); never the resident record code, removed persons or history
(the real rules). Dates are printed in the Japanese era calendar with full-width digits.

The number of pages is that of :func:`printing.page_content.page_contents`, the split into pages
the renderer draws from (and the unit each page's code will sign): it is decided there, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from center.municipal.eligibility import Eligible
from center.municipal.records import Resident
from center.municipal.requests import (
    AttachmentOptions,
    RegisterOptions,
    RegisterScope,
    ResidentRecordOptions,
    TaxOptions,
)
from center.municipal.settings import MunicipalSettings, TaxKind
from documents import CertificateType
from documents.wareki import wareki
from printing.page_content import page_contents

TITLES = {
    CertificateType.RESIDENT_RECORD: "住民票の写し",
    CertificateType.RESIDENT_RECORD_ENTRIES: "住民票記載事項証明書",
    CertificateType.SEAL_REGISTRATION: "印鑑登録証明書",
    CertificateType.FAMILY_REGISTER_ATTACHMENT: "戸籍の附票の写し",
}
TAX_TITLES = {
    TaxKind.INCOME: "所得証明書",
    TaxKind.TAXATION: "課税証明書",
    TaxKind.COMBINED: "所得・課税証明書",
    TaxKind.PAYMENT: "納税証明書",
}
REGISTER_TITLES = {RegisterScope.FULL: "戸籍全部事項証明書", RegisterScope.INDIVIDUAL: "戸籍個人事項証明書"}
SEAL_WORDING = "この写しは、登録されている印影と相違ないことを証明する。"
TAX_WORDING = "上記のとおり相違ないことを証明する。"


def wareki_year(year: int) -> str:
    """A tax year (年度) in the era calendar: 令和８年度. A year in which the era changed takes the
    new era's name (April 2019 - March 2020 is 令和元年度)."""
    return wareki(dt.date(year, 12, 31)).split("年")[0] + "年度"


def _sex(sex: str) -> str:
    return "男" if sex == "male" else "女"


def content(eligible: Eligible, settings: MunicipalSettings, today: dt.date) -> tuple[dict[str, Any], int]:
    """The copy's content and its number of pages."""
    kind = eligible.item.certificate_type
    options = eligible.item.options
    if kind in (CertificateType.RESIDENT_RECORD, CertificateType.RESIDENT_RECORD_ENTRIES):
        assert isinstance(options, ResidentRecordOptions)
        title, wording, body = _resident_record(eligible, options)
    elif kind is CertificateType.SEAL_REGISTRATION:
        title, wording, body = TITLES[kind], SEAL_WORDING, _seal(eligible)
    elif kind is CertificateType.TAX:
        assert isinstance(options, TaxOptions)
        title, wording, body = TAX_TITLES[options.kind], TAX_WORDING, _tax(eligible, options)
    elif kind is CertificateType.FAMILY_REGISTER:
        assert isinstance(options, RegisterOptions)
        title, wording, body = _register(eligible, options)
    else:
        assert isinstance(options, AttachmentOptions)
        title, wording = TITLES[kind], "この写しは、戸籍の附票の原本と相違ないことを証明する。"
        body = _attachment(eligible, options)
    frame = {
        "title": title,
        "municipality": {
            "code": settings.municipality,
            "name": settings.name,
            "prefecture": settings.prefecture,
            "mayor": settings.mayor,
        },
        "certified_on": wareki(today),
        "certification": wording,
        "body": body,
    }
    return frame, len(page_contents(kind.value, frame))


def printed_items(eligible: Eligible) -> dict[str, Any]:
    """What the copy carries, for the issuance history (交付履歴: 記載事項): the options, no data."""
    options = eligible.item.options
    items: dict[str, Any] = {"certificate_type": eligible.item.certificate_type.value}
    if isinstance(options, ResidentRecordOptions):
        items.update(
            scope="household" if options.members is None else "members",
            persons=len(eligible.subjects),
            head_and_relationship=options.head_and_relationship,
            domicile=options.domicile,
            my_number=options.my_number,
        )
    elif isinstance(options, TaxOptions):
        items.update(kind=options.kind.value, tax_year=options.tax_year)
    elif isinstance(options, RegisterOptions):
        items.update(scope=options.scope.value)
    elif isinstance(options, AttachmentOptions):
        items.update(domicile=options.domicile)
    return items


def _person(resident: Resident, options: ResidentRecordOptions) -> dict[str, Any]:
    person: dict[str, Any] = {
        "name": resident.name,
        "name_kana": resident.name_kana,
        "birth_date": wareki(resident.birth_date),
        "sex": _sex(resident.sex),
        "became_resident_on": wareki(resident.became_resident_on),
        "moved_in_on": wareki(resident.moved_in_on),
        "previous_address": resident.previous_address,
    }
    if options.head_and_relationship:
        person["relationship"] = resident.relationship
    if options.domicile and not resident.foreign_resident:
        person["domicile"] = resident.domicile
        person["domicile_head"] = resident.domicile_head
    if options.my_number:
        person["my_number"] = resident.my_number
    if resident.foreign_resident:
        person["foreign_resident"] = {
            "nationality": resident.nationality,
            "alias": resident.alias,
            "residence_card_number": resident.residence_card_number,
            "residence_status": resident.residence_status,
            "residence_period_until": None
            if resident.residence_period_until is None
            else wareki(resident.residence_period_until),
        }
    return person


def _resident_record(eligible: Eligible, options: ResidentRecordOptions) -> tuple[str, str, dict[str, Any]]:
    household = eligible.household
    assert household is not None
    on_register = [member for member in household.members if member.status in ("resident", "moving_out")]
    whole = len(eligible.subjects) == len(on_register)
    if eligible.item.certificate_type is CertificateType.RESIDENT_RECORD_ENTRIES:
        wording = "上記の事項は、住民票に記載されていることを証明する。"
        title = TITLES[CertificateType.RESIDENT_RECORD_ENTRIES]
    else:
        wording = (
            "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"
            if whole
            else "この写しは、世帯の一部の住民票の原本と相違ないことを証明する。"
        )
        title = TITLES[CertificateType.RESIDENT_RECORD]
    body: dict[str, Any] = {
        "address": household.address,
        "scope": "household" if whole else "members",
        "persons": [_person(subject, options) for subject in eligible.subjects],
    }
    if options.head_and_relationship and household.head is not None:
        body["head"] = household.head.name
    return title, wording, body


def _seal(eligible: Eligible) -> dict[str, Any]:
    holder, seal = eligible.resident, eligible.seal
    assert seal is not None
    return {
        "name": holder.name,
        "name_kana": holder.name_kana,
        "birth_date": wareki(holder.birth_date),
        "sex": _sex(holder.sex),
        "registration_number": seal.registration_number,
        "impression": seal.impression,
        "registered_on": wareki(seal.registered_on),
    }


def _tax(eligible: Eligible, options: TaxOptions) -> dict[str, Any]:
    holder, tax = eligible.resident, eligible.tax
    assert tax is not None
    body: dict[str, Any] = {
        "tax_year": wareki_year(tax.tax_year),
        "income_year": wareki(dt.date(tax.tax_year - 1, 12, 31)).split("年")[0] + "年分",
        "name": holder.name,
        "name_kana": holder.name_kana,
        "birth_date": wareki(holder.birth_date),
    }
    if options.kind in (TaxKind.INCOME, TaxKind.COMBINED):
        body.update(total_income=tax.total_income, deductions=tax.deductions)
    if options.kind in (TaxKind.TAXATION, TaxKind.COMBINED):
        body.update(
            taxable_income=tax.taxable_income,
            municipal_tax=tax.municipal_tax,
            prefectural_tax=tax.prefectural_tax,
        )
    if options.kind is TaxKind.PAYMENT:
        body.update(
            assessed=tax.municipal_tax + tax.prefectural_tax, paid=tax.paid, outstanding=tax.outstanding
        )
    return body


def _register(eligible: Eligible, options: RegisterOptions) -> tuple[str, str, dict[str, Any]]:
    register = eligible.register
    assert register is not None
    if options.scope is RegisterScope.FULL:
        members = register.members
        wording = "これは、戸籍に記録されている事項の全部を証明した書面である。"
    else:
        assert eligible.entry is not None
        members = (eligible.entry,)  # the holder's own entry
        wording = "これは、戸籍中の一部の者について記録されている事項を証明した書面である。"
    body = {
        "domicile": register.domicile,
        "head_name": register.head_name,
        "compiled_on": wareki(register.compiled_on),
        "members": [
            {
                "name": f"{m.family_name}　{m.given_name}",
                "birth_date": wareki(m.birth_date),
                "sex": _sex(m.sex),
                "father": m.father,
                "mother": m.mother,
                "relationship": m.relationship,
                "removed": m.removed,
                "events": [dict(event) for event in m.events],
            }
            for m in members
        ],
    }
    return REGISTER_TITLES[options.scope], wording, body


def _attachment(eligible: Eligible, options: AttachmentOptions) -> dict[str, Any]:
    register = eligible.register
    assert register is not None
    body: dict[str, Any] = {
        "members": [
            {
                "name": f"{m.family_name}　{m.given_name}",
                "removed": m.removed,
                "addresses": [
                    {"address": address, "from": wareki(start), "to": None if end is None else wareki(end)}
                    for address, start, end in m.addresses
                ],
            }
            for m in register.members
        ]
    }
    if options.domicile:
        body.update(domicile=register.domicile, head_name=register.head_name)
    return body
