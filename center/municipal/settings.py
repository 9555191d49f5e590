"""What a municipality offers at convenience stores, as data: the certificates, their fees, hours
and limits, and its rules (minimum age, My Number on resident records, tax years).

One JSON document per municipality (the ``settings`` table), read strictly: an unknown key, a
wrong type or an impossible value is refused with a message naming it, so a typing error in a
municipality's configuration never becomes a silently different service.

Example::

    {"municipality": "131016", "name": "千代田区", "name_en": "Chiyoda City", "prefecture": "東京都",
     "mayor": "千代田区長　山田　太郎", "minimum_age": 15, "max_copies": 10,
     "certificates": {
        "resident_record": {"fee": 200, "my_number": true},
        "seal_registration": {"fee": 200},
        "tax": {"fee": 300, "kinds": ["income", "taxation", "combined"], "years": 3},
        "family_register": {"fee": 450, "hours": {"weekdays_only": true, "opens": "09:00",
                                                  "closes": "17:00"}}},
     "domicile_registration": {"business_days": 5}}

``domicile_registration`` (optional, default 5): after how many business days (開庁日) a usage
registration of residents of other municipalities whose 本籍 is here (利用登録申請) is approved
by the rule, unless the staff decided sooner (:mod:`center.municipal.business_days`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from center.calendar_rules import validate_municipality_code
from center.municipal.business_days import DEFAULT_DAYS
from center.municipal.strict import StrictObject
from documents import JST, CertificateType

MAX_REGISTRATION_DAYS = 30  # business days: a longer wait is a typing error
MAX_FEE = 10_000  # yen: no certificate costs more; a larger figure is a typing error
NEW_TAX_YEAR_MONTH = 6  # a tax year's certificates are issued from June (課税決定の後)


class SettingsError(ValueError):
    """A municipality's settings document is not valid; the message names the place."""


class TaxKind(StrEnum):
    """税証明書の種類."""

    INCOME = "income"  # 所得証明書
    TAXATION = "taxation"  # 課税証明書
    COMBINED = "combined"  # 所得・課税証明書
    PAYMENT = "payment"  # 納税証明書


@dataclass(frozen=True)
class Hours:
    """When one certificate is issued, within the service's own hours (e.g. 戸籍 only on weekdays
    9:00-17:00): Japan time."""

    opens: dt.time
    closes: dt.time
    weekdays_only: bool

    def allows(self, at: dt.datetime) -> bool:
        local = at.astimezone(JST)
        if self.weekdays_only and local.weekday() >= 5:
            return False
        return self.opens <= local.time() < self.closes


@dataclass(frozen=True)
class Offer:
    """One certificate as this municipality offers it."""

    certificate_type: CertificateType
    fee: int  # yen per copy
    max_copies: int
    hours: Hours | None = None
    my_number: bool = False  # resident record: My Number may be printed when asked for
    tax_kinds: tuple[TaxKind, ...] = ()
    tax_years: int = 0  # how many tax years back, the newest issued included


@dataclass(frozen=True)
class MunicipalSettings:
    municipality: str
    name: str
    name_en: str
    prefecture: str
    mayor: str  # as it signs certificates: 「千代田区長　山田　太郎」
    minimum_age: int  # residents younger than this cannot use the service (many set 15)
    max_copies: int  # per order, all certificates together
    offers: Mapping[CertificateType, Offer] = field(default_factory=dict)
    registration_days: int = DEFAULT_DAYS  # 利用登録: approved by the rule after this many 開庁日

    def offer(self, certificate_type: CertificateType) -> Offer | None:
        return self.offers.get(certificate_type)

    def tax_years_offered(self, today: dt.date) -> tuple[int, ...]:
        """The tax years (年度) whose certificates can be issued today, newest first: the year's
        own from June (when it is assessed), else the year before's."""
        offer = self.offers.get(CertificateType.TAX)
        if offer is None:
            return ()
        newest = today.year if today.month >= NEW_TAX_YEAR_MONTH else today.year - 1
        return tuple(newest - back for back in range(offer.tax_years))

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> MunicipalSettings:
        fields = _Fields(document, "settings")
        code = fields.text("municipality")
        try:
            validate_municipality_code(code)
        except ValueError as error:
            raise SettingsError(f"settings.municipality: {error}") from None
        offers: dict[CertificateType, Offer] = {}
        certificates = fields.mapping("certificates")
        for key, value in certificates.items():
            try:
                kind = CertificateType(key)
            except ValueError:
                raise SettingsError(f"settings.certificates: unknown certificate {key!r}") from None
            offers[kind] = _offer(kind, _Fields(value, f"settings.certificates.{key}"))
        registration_days = DEFAULT_DAYS
        if fields.has("domicile_registration"):
            registration = _Fields(fields.mapping("domicile_registration"), "settings.domicile_registration")
            registration_days = registration.integer("business_days", 1, MAX_REGISTRATION_DAYS)
            registration.done()
        settings = cls(
            municipality=code,
            name=fields.text("name"),
            name_en=fields.text("name_en"),
            prefecture=fields.text("prefecture"),
            mayor=fields.text("mayor"),
            minimum_age=fields.integer("minimum_age", 0, 20),
            max_copies=fields.integer("max_copies", 1, 50),
            offers=offers,
            registration_days=registration_days,
        )
        fields.done()
        return settings

    @classmethod
    def loads(cls, text: str) -> MunicipalSettings:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise SettingsError(f"settings: not JSON ({error})") from None
        return cls.from_json(document)

    def to_json(self) -> dict[str, Any]:
        return {
            "municipality": self.municipality,
            "name": self.name,
            "name_en": self.name_en,
            "prefecture": self.prefecture,
            "mayor": self.mayor,
            "minimum_age": self.minimum_age,
            "max_copies": self.max_copies,
            "certificates": {kind.value: _offer_json(offer) for kind, offer in self.offers.items()},
            "domicile_registration": {"business_days": self.registration_days},
        }


def _offer(kind: CertificateType, fields: _Fields) -> Offer:
    fee = fields.integer("fee", 0, MAX_FEE)
    max_copies = fields.integer("max_copies", 1, 50, default=10)
    hours = None
    if fields.has("hours"):
        spec = _Fields(fields.mapping("hours"), f"{fields.where}.hours")
        hours = Hours(spec.time("opens"), spec.time("closes"), spec.boolean("weekdays_only", default=False))
        spec.done()
        if hours.opens >= hours.closes:
            raise SettingsError(f"{fields.where}.hours: opens must be before closes")
    my_number = False
    if kind is CertificateType.RESIDENT_RECORD:
        my_number = fields.boolean("my_number", default=False)
    tax_kinds: tuple[TaxKind, ...] = ()
    tax_years = 0
    if kind is CertificateType.TAX:
        names = fields.list_of_text("kinds")
        try:
            tax_kinds = tuple(TaxKind(name) for name in names)
        except ValueError:
            raise SettingsError(f"{fields.where}.kinds: each of {[k.value for k in TaxKind]}") from None
        if not tax_kinds or len(set(tax_kinds)) != len(tax_kinds):
            raise SettingsError(f"{fields.where}.kinds: at least one, each once")
        tax_years = fields.integer("years", 1, 5)
    fields.done()
    return Offer(kind, fee, max_copies, hours, my_number, tax_kinds, tax_years)


def _offer_json(offer: Offer) -> dict[str, Any]:
    document: dict[str, Any] = {"fee": offer.fee, "max_copies": offer.max_copies}
    if offer.hours is not None:
        document["hours"] = {
            "opens": offer.hours.opens.strftime("%H:%M"),
            "closes": offer.hours.closes.strftime("%H:%M"),
            "weekdays_only": offer.hours.weekdays_only,
        }
    if offer.certificate_type is CertificateType.RESIDENT_RECORD:
        document["my_number"] = offer.my_number
    if offer.certificate_type is CertificateType.TAX:
        document["kinds"] = [kind.value for kind in offer.tax_kinds]
        document["years"] = offer.tax_years
    return document


class _Fields(StrictObject):
    def __init__(self, document: Any, where: str) -> None:
        super().__init__(document, where, SettingsError)

    def time(self, key: str) -> dt.time:
        value = self.text(key)
        try:
            return dt.datetime.strptime(value, "%H:%M").time()
        except ValueError:
            raise self.fail(key, "must be HH:MM") from None


def typical(municipality: str, name: str, name_en: str, prefecture: str, mayor: str) -> MunicipalSettings:
    """What many municipalities offer: every certificate, family registers on weekdays 9-17,
    three tax years, no My Number at the store, from age 15, common fees."""
    weekdays = Hours(dt.time(9, 0), dt.time(17, 0), weekdays_only=True)
    offers = [
        Offer(CertificateType.RESIDENT_RECORD, 200, 10),
        Offer(CertificateType.RESIDENT_RECORD_ENTRIES, 200, 10),
        Offer(CertificateType.SEAL_REGISTRATION, 200, 10),
        Offer(
            CertificateType.TAX,
            300,
            10,
            tax_kinds=(TaxKind.INCOME, TaxKind.TAXATION, TaxKind.COMBINED, TaxKind.PAYMENT),
            tax_years=3,
        ),
        Offer(CertificateType.FAMILY_REGISTER, 450, 10, hours=weekdays),
        Offer(CertificateType.FAMILY_REGISTER_ATTACHMENT, 300, 10, hours=weekdays),
    ]
    return MunicipalSettings(
        municipality,
        name,
        name_en,
        prefecture,
        mayor,
        minimum_age=15,
        max_copies=10,
        offers={offer.certificate_type: offer for offer in offers},
    )
