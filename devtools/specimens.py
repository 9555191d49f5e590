"""Specimen copies (見本) of every certificate, issued by a synthetic town through the real
municipal issuer: for the renderer's golden tests, the benchmark and test prints.

Everything is fixed so the copies are the same on every run: the town's seed and day, the
municipality's signing key (a constant, known to all: never a real key), the order ids, the
terminal and the moment of issue. The only module of ``printing`` that reads the municipal
server's code (a kiosk never imports it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from center.municipal.holder_proof import HolderProof, ProvenHolder
from center.municipal.issuer import Issuer, store_settings
from center.municipal.records import RecordStore
from center.municipal.requests import (
    AttachmentOptions,
    IssueItem,
    IssueRequest,
    NoOptions,
    Options,
    RegisterOptions,
    RegisterScope,
    ResidentRecordOptions,
    TaxOptions,
)
from center.municipal.service import VERSIONS
from center.municipal.settings import TaxKind, typical
from center.store.schema_versions import make_engine
from devtools.synthetic import Person, Population, generate
from documents import JST, Binding, CertificateType, MunicipalKey, OpenedDocument, TrustList, open_sealed

MUNICIPALITY = "131016"
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=JST)  # a Tuesday morning: family registers are issued
TERMINAL_ID = "T-0001"
SEED = 20261124
HOUSEHOLDS = 300
#: the specimen town's signing key: public knowledge, so nothing it signs is worth anything
SPECIMEN_KEY = MunicipalKey.from_private_bytes(MUNICIPALITY, hashlib.sha256(b"koufu specimen key").digest())


@dataclass(frozen=True)
class Specimens:
    """The specimen copies by name, with what verifies them."""

    copies: dict[str, OpenedDocument]
    trust: TrustList
    now: dt.datetime

    def binding(self, name: str) -> Binding:
        return self.copies[name].document.binding


Pick = Callable[[RecordStore, Population], Person]


def specimens() -> Specimens:
    """Issue every specimen (about a second): a fresh in-memory town each time."""
    engine = make_engine("sqlite://")
    VERSIONS.upgrade(engine)
    settings = typical(MUNICIPALITY, "千代田区", "Chiyoda City", "東京都", "千代田区長　山田　太郎")
    offers = dict(settings.offers)
    offers[CertificateType.RESIDENT_RECORD] = dataclasses.replace(
        offers[CertificateType.RESIDENT_RECORD], my_number=True
    )
    settings = dataclasses.replace(settings, offers=offers)
    with engine.begin() as connection:
        store_settings(connection, settings, NOW)
        people = generate(
            connection,
            municipality=MUNICIPALITY,
            name="千代田区",
            prefecture="東京都",
            households=HOUSEHOLDS,
            seed=SEED,
            today=NOW.date(),
            first_serial=5000,
        )
    terminal_key, ca, certificate = _terminal()
    issuer = _SpecimenIssuer(engine, SPECIMEN_KEY, [ca], clock=lambda: NOW)
    trust = TrustList([SPECIMEN_KEY.trusted()])
    copies: dict[str, OpenedDocument] = {}
    try:
        for number, (name, pick, kind, options) in enumerate(_CASES, start=1):
            with engine.connect() as connection:
                person = pick(RecordStore(connection), people)
            holder = ProvenHolder(
                person.certificate_serial or 0,
                hashlib.sha256(f"holder {person.resident_id}".encode()).hexdigest(),
                f"proof {number}",
                NOW + dt.timedelta(days=365),
            )
            issuer.holders[f"S-{number:02d}"] = holder
            request = IssueRequest(
                order_id=f"SPECIMEN-{number:02d}",
                session_id=f"S-{number:02d}",
                terminal_id=TERMINAL_ID,
                store="千代田神田店",
                printer=1,
                holder_proof=HolderProof(b"", b"", b"", b""),  # taken as given: see _SpecimenIssuer
                terminal_certificate=certificate.public_bytes(Encoding.DER),
                items=(IssueItem(kind, options(person) if callable(options) else options, 1),),
            )
            issued = issuer.issue(request)
            expected = Binding(request.order_id, request.session_id, TERMINAL_ID, holder.certificate_hash)
            copies[name] = open_sealed(
                issued.copies[0].sealed,
                terminal_id=TERMINAL_ID,
                terminal_key=terminal_key,
                trust=trust,
                expected=expected,
                now=NOW,
            )
    finally:
        engine.dispose()
    return Specimens(copies, trust, NOW)


class _SpecimenIssuer(Issuer):
    """The municipality's issuer with the card's proof taken as given: specimens are made without
    cards, so that their pages are the same on every run (the proof's checks have their own
    tests, tests/test_municipal_issuance.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holders: dict[str, ProvenHolder] = {}

    def prove_holder(
        self, proof: HolderProof, session_id: str, terminal_id: str, now: dt.datetime
    ) -> ProvenHolder:
        return self.holders[session_id]


def _terminal() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, x509.Certificate]:
    """A terminal CA and the terminal's certificate, valid around the specimens' moment."""
    ca_key, terminal_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "specimen terminal CA")])
    start, end = NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=30)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    terminal = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TERMINAL_ID)]))
        .issuer_name(ca_name)
        .public_key(terminal_key.public_key())
        .serial_number(2)
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(ca_key, hashes.SHA256())
    )
    return terminal_key, ca, terminal


# -- whom each specimen is for ----------------------------------------------------------------


def household_size(records: RecordStore, person: Person) -> int:
    """The persons of ``person``'s household a household copy prints (those still on the register)."""
    household = records.household(person.household_id)
    return sum(1 for member in household.members if member.status in ("resident", "moving_out"))


def register_size(records: RecordStore, person: Person) -> tuple[int, int]:
    """(members, address lines) of the person's family register."""
    resident = records.resident(person.resident_id)
    if resident is None or resident.register_id is None:
        return 0, 0
    register = records.register(resident.register_id)
    return len(register.members), sum(len(member.addresses) for member in register.members)


def _first(test: Callable[[RecordStore, Person], bool], skip: int = 0) -> Pick:
    def pick(records: RecordStore, people: Population) -> Person:
        matching = [person for person in people.ordinary if test(records, person)]
        if len(matching) <= skip:
            raise LookupError("the specimen town has no such resident")
        return matching[skip]

    return pick


def _foreign(records: RecordStore, people: Population) -> Person:
    return next(person for person in people.foreign if person.certificate_serial is not None)


_SMALL_HOUSEHOLD = _first(lambda records, person: 2 <= household_size(records, person) <= 4)
_LARGE_HOUSEHOLD = _first(lambda records, person: household_size(records, person) >= 5)
_LARGE_REGISTER = _first(lambda records, person: register_size(records, person)[0] >= 4)
_LONG_ATTACHMENT = _first(lambda records, person: register_size(records, person)[1] > 12)
_ANYONE = _first(lambda records, person: True)
_ALL = ResidentRecordOptions(head_and_relationship=True, domicile=True, my_number=True)

_CASES: tuple[tuple[str, Pick, CertificateType, Options | Callable[[Person], Options]], ...] = (
    (
        "resident_record",
        _SMALL_HOUSEHOLD,
        CertificateType.RESIDENT_RECORD,
        ResidentRecordOptions(head_and_relationship=True, domicile=True),
    ),
    (
        "resident_record_my_number",
        _first(lambda r, p: household_size(r, p) >= 2, skip=1),
        CertificateType.RESIDENT_RECORD,
        _ALL,
    ),
    (
        "resident_record_plain",
        _first(lambda r, p: household_size(r, p) == 1),
        CertificateType.RESIDENT_RECORD,
        ResidentRecordOptions(),
    ),
    ("resident_record_multi_page", _LARGE_HOUSEHOLD, CertificateType.RESIDENT_RECORD, _ALL),
    (
        "resident_record_foreign",
        _foreign,
        CertificateType.RESIDENT_RECORD,
        ResidentRecordOptions(head_and_relationship=True),
    ),
    (
        "resident_record_entries",
        _ANYONE,
        CertificateType.RESIDENT_RECORD_ENTRIES,
        lambda person: ResidentRecordOptions(members=(person.resident_id,), head_and_relationship=True),
    ),
    ("seal_registration", _ANYONE, CertificateType.SEAL_REGISTRATION, NoOptions()),
    ("tax_income", _ANYONE, CertificateType.TAX, TaxOptions(TaxKind.INCOME, 2026)),
    ("tax_taxation", _ANYONE, CertificateType.TAX, TaxOptions(TaxKind.TAXATION, 2026)),
    ("tax_combined", _ANYONE, CertificateType.TAX, TaxOptions(TaxKind.COMBINED, 2025)),
    ("tax_payment", _ANYONE, CertificateType.TAX, TaxOptions(TaxKind.PAYMENT, 2026)),
    (
        "family_register_full",
        _LARGE_REGISTER,
        CertificateType.FAMILY_REGISTER,
        RegisterOptions(RegisterScope.FULL),
    ),
    (
        "family_register_individual",
        _ANYONE,
        CertificateType.FAMILY_REGISTER,
        RegisterOptions(RegisterScope.INDIVIDUAL),
    ),
    (
        "attachment",
        _LONG_ATTACHMENT,
        CertificateType.FAMILY_REGISTER_ATTACHMENT,
        AttachmentOptions(domicile=True),
    ),
    ("attachment_plain", _ANYONE, CertificateType.FAMILY_REGISTER_ATTACHMENT, AttachmentOptions()),
)
#: every specimen's name, in issue order
NAMES = tuple(name for name, *_ in _CASES)

__all__ = [
    "MUNICIPALITY",
    "NAMES",
    "NOW",
    "SPECIMEN_KEY",
    "Specimens",
    "household_size",
    "register_size",
    "specimens",
]
