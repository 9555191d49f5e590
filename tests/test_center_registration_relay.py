"""The registered domicile (本籍地の利用登録) and the issuance record (交付履歴) end to end through
the center: real authority, center and two municipal server processes over TLS (a residence town
and the domicile, whose family registers hold the applicant), the kiosk's side built as the
kiosk builds it (the application signed with the card's signing key, sealed to the domicile,
the OCSP question about the signing certificate) and opening what comes back sealed to it.

The application is relayed and its route kept (nothing else); its status is asked again; the
staff approve; a domicile order is issued, printed and settled with the domicile, and the books
reconcile; a renewed card keeps the registration; the issuance record comes from both
municipalities, and one that cannot be reached is listed as unavailable.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

from center.audit import subject_of
from center.authority.issuance import SigningFacts
from center.authority.keys import generate_key
from center.client import CenterClient, CenterRefusal
from center.config import CenterConfig
from center.enrolment import EnrolledTerminal
from center.messages import RegistrationResponse
from center.municipal.registrations import Registrations
from center.protocol import resident_binding
from center.signing import unb64url
from center.store.engine import make_engine
from center.store.schema_versions import make_engine as make_municipal_engine
from center.store.tables import ledger, orders, registration_routes
from documents import Binding, CertificateType, open_sealed
from documents.issuance_record import IssuanceRecord, open_issuance_record
from documents.registration import application_bytes, open_registration_status, sealed_application
from documents.sealing_key import verify_sealing_key
from documents.to_municipality import seal_to_municipality
from support.books import audited, disagreements
from support.family_registers import Entry, write_register
from support.registration_world import DOMICILE, two_towns
from support.world import CODE, Resident, World

FAMILY = {"certificate_type": "family_register", "copies": 1, "options": {"scope": "full"}}
BIRTH = dt.date(1980, 4, 1)  # the world's cards' holders
HONSEKI = "大阪府大阪市北区中之島一丁目３番地"
HEAD = "試験　一郎"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in two_towns(request, tmp_path_factory, "registration-relay"):
        domicile_registers(world)
        yield world


def domicile_engine(world: World) -> sa.Engine:
    return make_municipal_engine(world.stack.towns[DOMICILE].database_url)


def domicile_registers(world: World) -> None:
    """One register at the domicile (本籍 ``HONSEKI``, 筆頭者 ``HEAD``) whose members are the
    applicants of the tests (the domicile issues at any hour: ``two_towns``)."""
    engine = domicile_engine(world)
    try:
        with engine.begin() as connection:
            entries = [
                Entry("試験", given, BIRTH, sex, relationship, born=True)
                for given, sex, relationship in (
                    ("一郎", "male", "長男"),
                    ("花子", "female", "長女"),
                    ("桜", "female", "二女"),
                )
            ]
            write_register(
                connection,
                9901,
                domicile=HONSEKI,
                head=HEAD,
                entries=entries,
                compiled_on=dt.date(2005, 6, 1),
                address="東京都千代田区千代田一丁目１番",
            )
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Applicant:
    """A resident of the town whose 戸籍 is at the domicile: their card's two keys and certificates."""

    resident: Resident
    signing_key: rsa.RSAPrivateKey
    signing_certificate: x509.Certificate
    signing_issuer: x509.Certificate


def applicant(world: World, given: str, sex: str) -> Applicant:
    """A resident of the town with a card whose signing certificate (署名用電子証明書) states the
    register member 試験 ``given`` (the 基本4情報 the domicile matches the application with)."""
    resident = world.resident()
    key = generate_key()
    facts = SigningFacts(f"試験　{given}", "東京都千代田区千代田一丁目１番", BIRTH, sex, "東京都", "千代田区")
    with world.stack.authority() as authority:
        certificate = authority.issue_signing(key.public_key(), facts, municipality=CODE)
    issuers = [
        x509.load_pem_x509_certificate(path.read_bytes())
        for path in (world.stack.authority_dir / "ca").glob("*.crt")
    ]
    issuer = next(ca for ca in issuers if ca.subject == certificate.issuer)
    return Applicant(resident, key, certificate, issuer)


@dataclass(frozen=True)
class Session:
    session_id: str
    challenge: bytes


def authenticated(world: World, client: CenterClient, resident: Resident) -> Session:
    world.stack.wait_until_open(client)
    session = client.open_session()
    binding = resident_binding(session.session_id, client.terminal.terminal_id, session.challenge)
    client.authenticate_resident(session.session_id, resident.certificate, resident.sign(binding))
    return Session(session.session_id, session.challenge)


def apply(
    world: World,
    client: CenterClient,
    person: Applicant,
    session: Session,
    *,
    head: str = HEAD,
    challenge: bytes | None = None,
) -> RegistrationResponse:
    """What the kiosk does: the application signed with the signing key, sealed to the domicile's
    verified sealing key, and the OCSP question about the signing certificate."""
    terminal_id = client.terminal.terminal_id
    statement = next(m for m in client.municipalities().municipalities if m.code == DOMICILE).statement
    sealing_key = verify_sealing_key(unb64url(statement), world.trust, now=dt.datetime.now(dt.UTC))
    application = application_bytes(
        municipality=DOMICILE,
        session_id=session.session_id,
        terminal_id=terminal_id,
        challenge=challenge or session.challenge,
        auth_serial=person.resident.serial,
        domicile=HONSEKI,
        head=head,
    )
    signature = person.signing_key.sign(application, padding.PKCS1v15(), hashes.SHA256())
    content = sealed_application(
        application, signature, person.signing_certificate.public_bytes(serialization.Encoding.DER)
    )
    sealed = seal_to_municipality(
        content, sealing_key, session_id=session.session_id, terminal_id=terminal_id
    )
    question = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(person.signing_certificate, person.signing_issuer, hashes.SHA1())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    return client.register_domicile(session.session_id, DOMICILE, sealed, question)


def status_of(
    world: World,
    answer: RegistrationResponse,
    terminal: EnrolledTerminal,
    session: Session,
    resident: Resident,
) -> dict[str, Any]:
    """The registration's status as the kiosk opens it."""
    return open_registration_status(
        unb64url(answer.sealed),
        terminal_id=terminal.terminal_id,
        terminal_key=terminal.key,
        trust=world.trust,
        session_id=session.session_id,
        holder_certificate=Binding.holder_hash(resident.certificate),
        now=dt.datetime.now(dt.UTC),
    )


def records_of(
    world: World, client: CenterClient, terminal: EnrolledTerminal, session: Session, resident: Resident
) -> tuple[dict[str, IssuanceRecord], list[str]]:
    answer = client.issuance_record(session.session_id)
    opened = {
        record.municipality: open_issuance_record(
            unb64url(record.sealed),
            municipality=record.municipality,
            terminal_id=terminal.terminal_id,
            terminal_key=terminal.key,
            trust=world.trust,
            session_id=session.session_id,
            holder_certificate=Binding.holder_hash(resident.certificate),
            now=dt.datetime.now(dt.UTC),
        )
        for record in answer.records
    }
    return opened, answer.unavailable


def center_rows(world: World, table: sa.Table, *where: Any) -> list[Any]:
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.select(table).where(*where)).all())
    finally:
        engine.dispose()


def subject(world: World, resident: Resident) -> str:
    return subject_of(resident.serial, CenterConfig.load(world.stack.center_dir).audit_secret)


def refused(call: Any) -> CenterRefusal:
    with pytest.raises(CenterRefusal) as info:
        call()
    return info.value


def test_a_registration_applied_approved_ordered_from_renewed_and_recorded(world: World) -> None:
    terminal, client = world.terminal("T-0401")
    hanako = applicant(world, "花子", "2")

    # the application, relayed: pending, its route kept and nothing else
    session = authenticated(world, client, hanako.resident)
    applied = apply(world, client, hanako, session)
    assert (applied.municipality, applied.name) == (DOMICILE, "大阪市北区")
    status = status_of(world, applied, terminal, session, hanako.resident)
    assert status["status"] == "pending" and status["approves_at"]
    [route] = center_rows(
        world, registration_routes, registration_routes.c.subject == subject(world, hanako.resident)
    )
    assert route.municipality == DOMICILE and len(route.registration_id) == 32
    assert ("usage_registration_relayed", "accepted", None) in audited(world.stack, "T-0401")
    pending = refused(lambda: client.offer(session.session_id, source="domicile"))
    assert pending.code == "refused_by_municipality"  # registration_pending, sealed

    # its status, asked again: the staff approved it meanwhile
    engine = domicile_engine(world)
    try:
        Registrations(engine).approve(route.registration_id, "戸籍係　大阪")
    finally:
        engine.dispose()
    session = authenticated(world, client, hanako.resident)
    asked = client.registration(session.session_id)
    assert status_of(world, asked, terminal, session, hanako.resident)["status"] == "approved"

    # a domicile order: issued by the domicile, printed, settled, the books reconciled
    offered = client.offer(session.session_id, source="domicile")
    assert offered["municipality"] == DOMICILE and offered["certificates"]["family_register"]["available"]
    order = client.place_order(session.session_id, secrets.token_hex(8), [FAMILY], source="domicile")
    assert order.state == "issued" and len(order.copies) == 1
    copy = order.copies[0]
    document = open_sealed(
        unb64url(copy.sealed),
        terminal_id=terminal.terminal_id,
        terminal_key=terminal.key,
        trust=world.trust,
        expected=Binding(
            order.order_id,
            session.session_id,
            terminal.terminal_id,
            Binding.holder_hash(hanako.resident.certificate),
        ),
    ).document
    assert (document.municipality, document.certificate_type) == (DOMICILE, "family_register")
    client.printing(order.order_id)
    client.printed(order.order_id, [copy.issue_number])
    assert client.settle(order.order_id, copy.fee).state == "settled"
    [placed] = center_rows(world, orders, orders.c.id == order.order_id)
    assert placed.municipality == DOMICILE
    lines = center_rows(world, ledger, ledger.c.order_id == order.order_id)
    assert {line.municipality for line in lines} == {DOMICILE} and sum(
        line.amount for line in lines
    ) == copy.fee
    assert disagreements(world.stack, ["T-0401"]) == []

    # a renewed card keeps the registration (the domicile links it; the center follows its route)
    key = generate_key()
    with world.stack.authority() as authority:
        renewed = authority.renew(hanako.resident.serial, key.public_key(), birth_date=BIRTH)
    world.town.link_card(renewed.serial_number, hanako.resident.resident_id)
    card = Resident(
        hanako.resident.resident_id,
        hanako.resident.name,
        key,
        renewed.public_bytes(serialization.Encoding.DER),
    )
    session = authenticated(world, client, card)
    asked = client.registration(session.session_id)
    assert status_of(world, asked, terminal, session, card)["status"] == "approved"
    assert center_rows(world, registration_routes, registration_routes.c.subject == subject(world, card))

    # the issuance record: the residence's (empty for this card) and the domicile's, with the copy
    records, unavailable = records_of(world, client, terminal, session, card)
    assert unavailable == [] and set(records) == {CODE, DOMICILE}
    assert records[CODE].issuances == ()
    [issued] = records[DOMICILE].issuances
    assert issued.certificate_type is CertificateType.FAMILY_REGISTER
    assert (issued.issue_numbers, issued.voided, issued.terminal_id) == ((copy.issue_number,), (), "T-0401")
    assert ("issuance_record_relayed", "accepted", None) in audited(world.stack, "T-0401")

    # a domicile that cannot be reached is listed, and the residence's record still comes
    town = world.stack.towns[DOMICILE]
    assert town.process is not None
    town.process.terminate()
    town.process.wait(10)
    try:
        records, unavailable = records_of(world, client, terminal, session, card)
        assert set(records) == {CODE} and unavailable == [DOMICILE]
    finally:
        world.stack.start_town(DOMICILE)
    client.close()


def test_a_wrong_head_is_denied_in_words_and_the_center_learns_nothing_of_it(world: World) -> None:
    terminal, client = world.terminal("T-0402")
    sakura = applicant(world, "桜", "2")
    session = authenticated(world, client, sakura.resident)
    denied = apply(world, client, sakura, session, head="試験　二郎")
    status = status_of(world, denied, terminal, session, sakura.resident)
    assert status["status"] == "denied" and status["reason"] and status["message_ja"]
    text = json.dumps(denied.model_dump(), ensure_ascii=False)
    assert "試験" not in text and "denied" not in text and "中之島" not in text
    client.close()


def test_an_application_not_proven_is_refused_and_routes_nothing(world: World) -> None:
    _terminal, client = world.terminal("T-0403")
    ichiro = applicant(world, "一郎", "1")
    session = authenticated(world, client, ichiro.resident)
    other = refused(lambda: apply(world, client, ichiro, session, challenge=secrets.token_bytes(32)))
    assert (other.status, other.code) == (422, "application_not_proven")
    assert not center_rows(
        world, registration_routes, registration_routes.c.subject == subject(world, ichiro.resident)
    )
    assert ("usage_registration", "refused", "application_not_proven") in audited(world.stack, "T-0403")
    assert refused(lambda: client.registration(session.session_id)).code == "no_registration"
    client.close()
