"""The usage registration application made at the kiosk (利用登録申請), with an emulated My Number
Card in-process and the JPKI authority simulator: the application signed with the card's signing
key, sealed to the domicile municipality so that it alone opens it, the signature verifying with
the card's signing certificate, the OCSP request about that certificate answered by the authority;
the card step's errors as the kiosk's; the status and the issuance record read strictly.

Every time is fixed or derived from the card's certificates: nothing depends on today's date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509 import ocsp

from center.authority.service import AuthorityService
from documents import CertificateType, SealingKey, b64url_decode, cbor, open_from_terminal
from documents.issuance_record import IssuanceRecord, RecordedIssuance
from hardware.card.pin import PinBuffer
from hardware.card.profile import SIGNING_PASSWORD
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from kiosk.card import ResidentCard, password_buffer
from kiosk.errors import (
    CardRemoved,
    KioskError,
    NoSigningCertificate,
    NotMyNumberCard,
    PinLocked,
    WrongPin,
)
from kiosk.issuance_record import merged
from kiosk.registration import (
    ApplicationRefused,
    RegistrationView,
    application_of,
    build_application,
    check_typed,
)
from koufu.cards import issue_card
from support.hostile_cards import hostile, verify_with_data

DOMICILE_CODE = "011002"
SESSION, TERMINAL = "s-2f0c9a", "T-0901"
CHALLENGE = bytes(range(32))
DOMICILE, HEAD = "北海道札幌市中央区北一条西二丁目１番地", "試験　太郎"


def password(text: str) -> PinBuffer:
    return PinBuffer.of(SIGNING_PASSWORD, text)


@pytest.fixture(scope="module")
def sealing() -> tuple[ec.EllipticCurvePrivateKey, SealingKey]:
    private = ec.generate_private_key(ec.SECP256R1())
    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    return private, SealingKey(DOMICILE_CODE, private.public_key(), "札幌市", "Sapporo City", "北海道", far)


@pytest.fixture
def reader(card_path: Path) -> Iterator[InProcessReader]:
    reader = InProcessReader()
    reader.insert(VirtualCard.open(card_path))
    yield reader
    reader.remove()


def application(auth_serial: int = 12345678) -> bytes:
    return application_of(
        municipality=DOMICILE_CODE,
        session_id=SESSION,
        terminal_id=TERMINAL,
        challenge=CHALLENGE,
        auth_serial=auth_serial,
        domicile=DOMICILE,
        head=HEAD,
    )


def test_the_signed_application_opens_only_at_its_municipality_and_verifies(
    reader: InProcessReader, sealing: tuple[ec.EllipticCurvePrivateKey, SealingKey]
) -> None:
    private, key = sealing
    card = ResidentCard(reader.connect())
    reading = card.read()
    assert reading.certificate is not None and card.holder_certificate() == reading.certificate
    assert reader.card is not None and reading.certificate == reader.card.state.auth_cert
    assert card.signing_tries_left() == 5
    made = application()
    signed = card.sign(password("ABC123"), made)
    card.finish()
    built = build_application(made, signed, key, session_id=SESSION, terminal_id=TERMINAL)
    assert DOMICILE.encode() not in built.sealed and HEAD.encode() not in built.sealed
    assert DOMICILE not in repr(built)
    content = open_from_terminal(
        built.sealed,
        municipality=DOMICILE_CODE,
        sealing_key=private,
        session_id=SESSION,
        terminal_id=TERMINAL,
    )
    assert content["kind"] == "usage_registration"
    sent = b64url_decode(content["application"])
    assert sent == made
    assert cbor.decode(sent, what="application") == {
        "format": "koufu-registration-application/1",
        "municipality": DOMICILE_CODE,
        "session_id": SESSION,
        "terminal_id": TERMINAL,
        "challenge": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "auth_serial": "12345678",
        "domicile": DOMICILE,
        "head": HEAD,
    }
    assert b64url_decode(content["signing_certificate"]) == reader.card.state.sign_cert
    signed.certificate.public_key.verify(
        b64url_decode(content["signature"]), sent, padding.PKCS1v15(), hashes.SHA256()
    )


def test_the_ocsp_request_names_the_signing_certificate_and_the_authority_answers_it(
    tmp_path: Path, authority_dir: Path, sealing: tuple[ec.EllipticCurvePrivateKey, SealingKey]
) -> None:
    path = tmp_path / "card.json"
    state = issue_card(path, authority_dir=authority_dir)
    reader = InProcessReader()
    reader.insert(VirtualCard.open(path))
    card = ResidentCard(reader.connect())
    card.read()
    signed = card.sign(password("ABC123"), application())
    built = build_application(application(), signed, sealing[1], session_id=SESSION, terminal_id=TERMINAL)
    question = ocsp.load_der_ocsp_request(built.ocsp_request)
    assert question.serial_number == signed.certificate.serial_number
    assert isinstance(question.hash_algorithm, hashes.SHA1) and len(question.extensions) == 0
    issued_at = signed.certificate.certificate.not_valid_before_utc
    with AuthorityService.open(authority_dir, now=issued_at) as authority:
        answer = ocsp.load_der_ocsp_response(authority.ocsp_response(built.ocsp_request, now=issued_at))
        assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert answer.serial_number == signed.certificate.serial_number
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
        authority.revoke(signed.certificate.serial_number, "key_compromise", now=issued_at)
        later = issued_at + dt.timedelta(minutes=1)
        answer = ocsp.load_der_ocsp_response(authority.ocsp_response(built.ocsp_request, now=later))
        assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert state.sign_cert == signed.certificate.der


@pytest.mark.parametrize(
    ("domicile", "head", "code"),
    [
        ("", HEAD, "domicile_length"),
        ("　 ", HEAD, "domicile_length"),
        ("あ" * 101, HEAD, "domicile_length"),
        (DOMICILE, "", "head_length"),
        (DOMICILE, "あ" * 41, "head_length"),
    ],
)
def test_what_was_typed_is_checked_before_the_card_is_asked(domicile: str, head: str, code: str) -> None:
    with pytest.raises(ApplicationRefused) as refused:
        check_typed(domicile, head)
    assert refused.value.code == code and "あ" not in str(refused.value)
    check_typed("あ" * 100, "あ" * 40)


def test_wrong_passwords_and_the_lock_are_the_kiosk_s_errors(reader: InProcessReader) -> None:
    card = ResidentCard(reader.connect())
    card.read()
    remaining = []
    for _ in range(4):
        with pytest.raises(WrongPin) as wrong:
            card.sign(password("WRONG1"), b"x")
        remaining.append(wrong.value.tries_left)
    assert remaining == [4, 3, 2, 1]
    buffer = password("WRONG1")
    with pytest.raises(PinLocked):
        card.sign(buffer, b"x")
    assert len(buffer) == 0
    assert ResidentCard(reader.connect()).signing_tries_left() == 0
    assert ResidentCard(reader.connect()).read().tries_left == 3  # the PIN is another key's
    assert len(password_buffer()) == 0


def test_a_card_without_a_signing_certificate_says_so(tmp_path: Path, authority_dir: Path) -> None:
    path = tmp_path / "young.json"
    issue_card(path, authority_dir=authority_dir, sign_password=None)
    reader = InProcessReader()
    reader.insert(VirtualCard.open(path))
    card = ResidentCard(reader.connect())
    assert card.read().tries_left == 3  # it proves its holder as any card
    with pytest.raises(NoSigningCertificate):
        card.signing_tries_left()
    buffer = password("ABC123")
    with pytest.raises(NoSigningCertificate):
        ResidentCard(reader.connect()).sign(buffer, b"x")
    assert len(buffer) == 0


def test_a_card_that_stops_being_one_and_a_card_taken_away(card_path: Path, reader: InProcessReader) -> None:
    named = iter(range(100))  # the first SELECT of the JPKI AP (placed, read) answers, later ones not

    def tamper(_index: int, command: bytes, real: bytes) -> bytes:
        return b"\x6a\x82" if command[1:3] == b"\xa4\x04" and next(named) else real

    connection = hostile(card_path, tamper)
    stranger = ResidentCard(connection)
    stranger.read()
    buffer = password("ABC123")
    with pytest.raises(NotMyNumberCard):
        stranger.sign(buffer, b"x")
    assert len(buffer) == 0 and verify_with_data(connection.sent) == 0
    card = ResidentCard(reader.connect())
    card.read()
    reader.remove()
    with pytest.raises(CardRemoved):
        card.sign(password("ABC123"), b"x")
    card.finish()  # quiet: the card is gone


STATUS = {
    "municipality": DOMICILE_CODE,
    "name": "札幌市",
    "name_en": "Sapporo City",
    "status": "pending",
    "applied_at": "2026-11-24T10:00:00+09:00",
    "approves_at": "2026-12-01T00:00:00+09:00",
    "decided_at": None,
    "reason": None,
    "message_ja": None,
    "message_en": None,
}


def test_a_registration_status_is_read_strictly() -> None:
    view = RegistrationView.from_content(STATUS)
    assert view.status == "pending" and not view.approved and not view.may_apply
    assert view.approves_at == dt.datetime(2026, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert view.view()["approves_at"] == "2026-12-01T00:00:00+09:00"
    assert "札幌" not in repr(view)
    denied = RegistrationView.from_content(
        {**STATUS, "status": "denied", "reason": "head_mismatch", "message_en": "The head differs."}
    )
    assert denied.may_apply and denied.reason == "head_mismatch"
    for broken in (
        {**STATUS, "status": "maybe"},
        {**STATUS, "applied_at": "2026-11-24T10:00:00"},  # no offset
        {**STATUS, "name": 3},
        {k: v for k, v in STATUS.items() if k != "municipality"},
    ):
        with pytest.raises(KioskError):
            RegistrationView.from_content(broken)


JST = dt.timezone(dt.timedelta(hours=9))


def record(
    code: str, name: str, *rows: tuple[dt.datetime, CertificateType, tuple[str, ...]]
) -> IssuanceRecord:
    until = dt.datetime(2026, 11, 24, tzinfo=JST)
    return IssuanceRecord(
        code,
        name,
        name,
        until - dt.timedelta(days=365),
        until,
        tuple(
            RecordedIssuance(at, "テスト店", "T-0001", kind, numbers, numbers[1:])
            for at, kind, numbers in rows
        ),
    )


def test_records_are_merged_newest_first_with_the_unavailable() -> None:
    residence = record(
        "131016",
        "千代田区",
        (dt.datetime(2026, 11, 20, 10, tzinfo=JST), CertificateType.RESIDENT_RECORD, ("A-1", "A-2")),
        (dt.datetime(2026, 1, 5, 9, tzinfo=JST), CertificateType.SEAL_REGISTRATION, ("A-0",)),
    )
    domicile = record(
        "011002",
        "札幌市",
        (dt.datetime(2026, 6, 1, 12, tzinfo=JST), CertificateType.FAMILY_REGISTER, ("B-1",)),
    )
    view = merged([residence, domicile], ["272001", "272001"])
    assert [row.issue_numbers[0] for row in view.rows] == ["A-1", "B-1", "A-0"]
    assert view.rows[0].voided == ("A-2",) and view.rows[0].copies == 2
    assert view.rows[1].certificate_type == "family_register"
    assert view.unavailable == ("272001",) and not view.complete
    assert [s.municipality for s in view.sources] == ["131016", "011002"]
    shown = view.view()
    assert shown["rows"][1]["name"] == "札幌市"  # type: ignore[index]
    assert shown["rows"][0]["issued_at"] == "2026-11-20T10:00:00+09:00"  # type: ignore[index]
    assert "A-1" not in repr(view)
    assert merged([], []).complete
