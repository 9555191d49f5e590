"""The center's relay of the registered domicile (本籍地の利用登録) as a terminal meets it: real
authority, center and two municipal server processes over TLS, terminals signing their requests
and cards signing their sessions' challenges. What the center decides itself: its refusals, the
forwarding of the signing certificate's OCSP question to the real authority, and the route
(a card's keyed hash → the domicile municipality) that ``source=domicile`` offers and orders
follow, a renewed card's too, with the calendar of that municipality. The municipalities' own
answers to applications are in ``test_center_registration_relay.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from center.audit import subject_of
from center.authority.issuance import SigningFacts
from center.authority.keys import generate_key
from center.authority_client import AuthorityClient, NotOneQuestion, single_certid_request
from center.client import CenterRefusal
from center.config import CenterConfig
from center.jpki_verify import RevocationStatus, judge_ocsp
from center.store.engine import make_engine
from center.store.tables import orders, registration_routes
from devtools.stack import ALWAYS_OPEN, CALENDAR_TIMEOUT
from documents import b64url_encode
from support.books import audited
from support.registration_world import DOMICILE, two_towns
from support.world import CODE, SEAL, Resident, World, authenticate

FAMILY = {"certificate_type": "family_register", "copies": 1, "options": {"scope": "full"}}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from two_towns(request, tmp_path_factory, "registration")


def refused(call: Any) -> CenterRefusal:
    with pytest.raises(CenterRefusal) as info:
        call()
    return info.value


def center_engine(world: World) -> sa.Engine:
    return make_engine(CenterConfig.load(world.stack.center_dir).database_url)


def route(world: World, resident: Resident, municipality: str, registration_id: str = "r" * 32) -> None:
    """The route the center keeps once an application of this card went to ``municipality``."""
    subject = subject_of(resident.serial, CenterConfig.load(world.stack.center_dir).audit_secret)
    engine = center_engine(world)
    try:
        with engine.begin() as connection:
            connection.execute(registration_routes.delete().where(registration_routes.c.subject == subject))
            connection.execute(
                registration_routes.insert().values(
                    subject=subject, municipality=municipality, registration_id=registration_id
                )
            )
    finally:
        engine.dispose()


def routes(world: World) -> dict[str, tuple[str, str]]:
    engine = center_engine(world)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(registration_routes)).all()
    finally:
        engine.dispose()
    return {row.subject: (row.municipality, row.registration_id) for row in rows}


def order_municipality(world: World, order_id: str) -> str:
    engine = center_engine(world)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(
                    sa.select(orders.c.municipality).where(orders.c.id == order_id)
                ).scalar_one()
            )
    finally:
        engine.dispose()


def signing_certificate(world: World, *, revoked: bool = False) -> tuple[x509.Certificate, x509.Certificate]:
    """A card's signing certificate (署名用電子証明書) from the stack's authority, and its CA."""
    facts = SigningFacts(
        "試験　花子", "東京都千代田区千代田1-1", dt.date(1980, 4, 1), "2", "東京都", "千代田区"
    )
    with world.stack.authority() as authority:
        certificate = authority.issue_signing(generate_key().public_key(), facts, municipality=CODE)
        if revoked:
            authority.revoke(certificate.serial_number, "key_compromise")
    issuers = [
        x509.load_pem_x509_certificate(path.read_bytes())
        for path in (world.stack.authority_dir / "ca").glob("*.crt")
    ]
    issuer = next(ca for ca in issuers if ca.subject == certificate.issuer)
    return certificate, issuer


def question(*certificates: tuple[x509.Certificate, x509.Certificate], nonce: bool = False) -> bytes:
    """An OCSP request about ``certificates`` (SHA-1 CertIDs; more than one written by hand, as
    the library writes one only), with a nonce if asked."""
    if len(certificates) > 1:
        requests = b"".join(_inside(_inside(_inside(question(one)))) for one in certificates)
        return _der(0x30, _der(0x30, _der(0x30, requests)))
    builder = ocsp.OCSPRequestBuilder().add_certificate(*certificates[0], hashes.SHA1())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(secrets.token_bytes(16)), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _inside(element: bytes) -> bytes:
    """The content of one DER element (the whole of ``element``)."""
    size, start = element[1], 2
    if size & 0x80:
        count = size & 0x7F
        size, start = int.from_bytes(element[2 : 2 + count], "big"), 2 + count
    assert start + size == len(element)
    return element[start:]


def application(municipality: str, ocsp_request: str) -> dict[str, str]:
    return {
        "municipality": municipality,
        "sealed": b64url_encode(secrets.token_bytes(64)),  # the center never opens it
        "signing_ocsp_request": ocsp_request,
    }


# -- what the center keeps ----------------------------------------------------------------------


def test_the_route_table_holds_the_route_and_nothing_else(world: World) -> None:
    engine = center_engine(world)
    try:
        columns = {column["name"] for column in sa.inspect(engine).get_columns("registration_routes")}
    finally:
        engine.dispose()
    assert columns == {"subject", "municipality", "registration_id"}


# -- the application's refusals -----------------------------------------------------------------


def test_an_application_to_a_municipality_not_taking_part_is_unknown_municipality(world: World) -> None:
    _terminal, client = world.terminal("T-0301")
    session_id = authenticate(world, client, world.resident())
    ask = b64url_encode(question(signing_certificate(world)))
    answer = client.request("POST", f"/v1/sessions/{session_id}/registration", application("999999", ask))
    assert (answer.status_code, answer.json()["error"]) == (404, "unknown_municipality")
    assert ("usage_registration", "refused", "unknown_municipality") in audited(world.stack, "T-0301")
    client.close()


def test_an_ocsp_request_that_is_not_one_plain_question_is_refused(world: World) -> None:
    _terminal, client = world.terminal("T-0302")
    session_id = authenticate(world, client, world.resident())
    one, other = signing_certificate(world), signing_certificate(world)
    wrong = {
        "two certificates": b64url_encode(question(one, other)),
        "a nonce": b64url_encode(question(one, nonce=True)),
        "not DER": b64url_encode(b"\x30\x03\x02\x01\x05"),
        "too long": b64url_encode(question(one) + bytes(1000)),
        "the standard alphabet": "a+b/",
    }
    for why, ask in wrong.items():
        answer = client.request("POST", f"/v1/sessions/{session_id}/registration", application(DOMICILE, ask))
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_body"), why
    stray_bits = client.request(
        "POST", f"/v1/sessions/{session_id}/registration", application(DOMICILE, "AB")
    )
    assert (stray_bits.status_code, stray_bits.json()["error"]) == (400, "invalid_base64")
    unknown_field = {**application(DOMICILE, b64url_encode(question(one))), "name": "試験　花子"}
    answer = client.request("POST", f"/v1/sessions/{session_id}/registration", unknown_field)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_body")
    client.close()


def test_a_session_without_the_card_s_proof_has_no_registration_business(world: World) -> None:
    _terminal, client = world.terminal("T-0303")
    world.stack.wait_until_open(client)
    session = client.open_session()
    ask = b64url_encode(question(signing_certificate(world)))
    path = f"/v1/sessions/{session.session_id}"
    for method, route_path, body in (
        ("POST", "/registration", application(DOMICILE, ask)),
        ("GET", "/registration", None),
        ("GET", "/issuance-record", None),
    ):
        answer = client.request(method, path + route_path, body)
        assert (answer.status_code, answer.json()["error"]) == (409, "session_not_authenticated")
    other = client.request("GET", "/v1/sessions/not-a-session/registration")
    assert (other.status_code, other.json()["error"]) == (404, "unknown_session")
    client.close()


# -- the signing certificate's OCSP question, forwarded to the real authority -------------------


def test_the_signing_certificate_s_question_is_forwarded_and_answered_by_the_authority(world: World) -> None:
    good, revoked = signing_certificate(world), signing_certificate(world, revoked=True)
    config = CenterConfig.load(world.stack.center_dir)

    async def ask(request: bytes) -> bytes:
        client = AuthorityClient(
            config.authority.url, config.authority.token, verify=str(config.path(config.authority.ca_bundle))
        )
        try:
            return await client.forward_ocsp(request)
        finally:
            await client.close()

    for (certificate, issuer), status in ((good, RevocationStatus.GOOD), (revoked, RevocationStatus.REVOKED)):
        answer = asyncio.run(ask(question((certificate, issuer))))
        assert judge_ocsp(answer, certificate, issuer, dt.datetime.now(dt.UTC)).status is status
    with pytest.raises(NotOneQuestion):
        asyncio.run(ask(question(good, revoked)))  # refused before the authority is asked


def test_only_one_plain_certid_is_one_question(world: World) -> None:
    one = signing_certificate(world)
    plain = question(one)
    assert single_certid_request(plain) == plain
    sha256 = ocsp.OCSPRequestBuilder().add_certificate(one[0], one[1], hashes.SHA256()).build()
    assert single_certid_request(sha256.public_bytes(serialization.Encoding.DER))
    for wrong in (b"", plain + b"\x00", question(one, one), question(one, nonce=True), b"\x30" * 2000):
        with pytest.raises(NotOneQuestion):
            single_certid_request(wrong)


# -- where a holder without a route goes --------------------------------------------------------


def test_a_holder_without_a_route_has_no_registration(world: World) -> None:
    _terminal, client = world.terminal("T-0304")
    session_id = authenticate(world, client, world.resident())
    assert refused(lambda: client.registration(session_id)).code == "no_registration"
    assert refused(lambda: client.offer(session_id, source="domicile")).code == "no_registration"
    order = refused(lambda: client.place_order(session_id, secrets.token_hex(8), [FAMILY], source="domicile"))
    assert (order.status, order.code) == (404, "no_registration")
    assert client.offer(session_id)["municipality"] == CODE  # the residence, as before
    client.close()


def test_source_is_residence_or_domicile(world: World) -> None:
    _terminal, client = world.terminal("T-0305")
    session_id = authenticate(world, client, world.resident())
    answer = client.request("GET", f"/v1/sessions/{session_id}/offer?source=elsewhere")
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_query")
    order = {"idempotency_key": secrets.token_hex(8), "printer": 1, "items": [SEAL], "source": "elsewhere"}
    answer = client.request("POST", f"/v1/sessions/{session_id}/orders", order)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_body")
    client.close()


# -- the route followed ---------------------------------------------------------------------------


def test_a_domicile_order_goes_to_the_routed_municipality_and_stays_there(world: World) -> None:
    """The routed municipality is asked, not the residence: here it knows nothing of the card and
    refuses, sealed; the order it voided is its own (the refund is reported against it)."""
    _terminal, client = world.terminal("T-0306")
    resident = world.resident()
    route(world, resident, DOMICILE)
    session_id = authenticate(world, client, resident)
    offer = refused(lambda: client.offer(session_id, source="domicile"))
    assert (offer.status, offer.code) == (422, "refused_by_municipality") and offer.details["sealed"]
    order = refused(lambda: client.place_order(session_id, secrets.token_hex(8), [FAMILY], source="domicile"))
    assert order.code == "refused_by_municipality"
    assert order_municipality(world, order.details["order_id"]) == DOMICILE
    assert client.refunded(order.details["order_id"]).state == "refunded"
    client.close()


def test_the_domicile_s_calendar_closes_its_orders(world: World) -> None:
    """A stop of the domicile municipality in the service calendar refuses its orders before it
    is asked (here it would refuse them itself, 422: the 403 is the calendar's), and leaves the
    residence's alone."""
    _terminal, client = world.terminal("T-0307")
    resident = world.resident()
    route(world, resident, DOMICILE)
    now = dt.datetime.now(dt.UTC)
    stop = {
        "municipality": DOMICILE,
        "start": (now - dt.timedelta(hours=1)).isoformat(),
        "end": (now + dt.timedelta(hours=1)).isoformat(),
        "certificate_types": [],
        "message": {"ja": "システム移行のため停止しています", "en": "Stopped for a system migration"},
    }
    world.stack.load_calendar({**ALWAYS_OPEN, "municipality_stops": [stop]})
    try:
        session_id = authenticate(world, client, resident)
        deadline = time.monotonic() + CALENDAR_TIMEOUT  # every center process re-reads it within 5 s
        while True:
            closed = refused(
                lambda: client.place_order(session_id, secrets.token_hex(8), [FAMILY], source="domicile")
            )
            if closed.code == "municipality_stop" or time.monotonic() > deadline:
                break
            client.refunded(closed.details["order_id"])
        assert (closed.status, closed.code) == (403, "municipality_stop")
        assert client.offer(session_id)["certificates"]["seal_registration"]["reason"] is None
    finally:
        world.stack.load_calendar(ALWAYS_OPEN)
    assert ("order_placement", "refused", "municipality_stop") in audited(world.stack, "T-0307")
    client.close()


def test_a_renewed_card_follows_the_route_of_the_card_it_renewed(world: World) -> None:
    _terminal, client = world.terminal("T-0308")
    resident = world.resident()
    route(world, resident, CODE, "a" * 32)
    key = generate_key()
    with world.stack.authority() as authority:
        renewed = authority.renew(resident.serial, key.public_key(), birth_date=dt.date(1980, 4, 1))
    world.town.link_card(renewed.serial_number, resident.resident_id)
    card = Resident(
        resident.resident_id, resident.name, key, renewed.public_bytes(serialization.Encoding.DER)
    )
    session_id = authenticate(world, client, card)
    offered = client.offer(session_id, source="domicile")
    assert offered["municipality"] == CODE
    secret = CenterConfig.load(world.stack.center_dir).audit_secret
    kept = routes(world)
    assert (
        kept[subject_of(card.serial, secret)] == kept[subject_of(resident.serial, secret)] == (CODE, "a" * 32)
    )
    assert str(card.serial) not in json.dumps(kept) and str(resident.serial) not in json.dumps(kept)
    assert ("usage_registration_followed", "accepted", None) in audited(world.stack, "T-0308")
    client.close()
