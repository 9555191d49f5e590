"""The card's signing path (署名用電子証明書) against the emulator in-process, and against broken or
malicious cards: the signing password's tries and lock, the signing certificate and its CA, the
signature, the password never logged and never sent before the resident pressed enter."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.card.errors import (
    CardDataError,
    CardError,
    InvalidPinError,
    InvalidPinFormatError,
    NoSigningCertificateError,
    PinBlockedError,
    SecurityStatusError,
)
from hardware.card.holder import HolderAuthentication
from hardware.card.pin import PinBuffer
from hardware.card.profile import SIGNING_PASSWORD, USER_AUTH_PIN
from hardware.card.signing import SigningStep, signing_password_buffer
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from koufu.cards import issue_card
from support.hostile_cards import TamperedConnection, answers, hostile, on_ins, verify_with_data

MESSAGE = b"koufu-registration-application/1 as the kiosk built it"


def password(text: str) -> PinBuffer:
    return PinBuffer.of(SIGNING_PASSWORD, text)


@pytest.fixture
def reader(card_path: Path) -> InProcessReader:
    reader = InProcessReader()
    reader.insert(VirtualCard.open(card_path))
    return reader


def test_whole_signing_step_in_eight_apdus(reader: InProcessReader) -> None:
    step = SigningStep(reader.connect())
    reading = step.read()
    assert reading.tries_left == 5 and not reading.blocked
    signed = step.sign(password("ABC123"), MESSAGE)
    assert step.traffic.commands == 8
    assert reader.card is not None
    assert signed.certificate.der == reader.card.state.sign_cert
    assert signed.ca_certificate.der == reader.card.state.sign_ca_cert == reading.ca_certificate.der
    signed.certificate.public_key.verify(signed.signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    signed.certificate.certificate.verify_directly_issued_by(signed.ca_certificate.certificate)
    assert str(signed.certificate.serial_number) in repr(signed)
    assert "試験" not in repr(signed) and "試験" not in repr(signed.certificate)


def test_sign_without_read_selects_what_it_needs(reader: InProcessReader) -> None:
    step = SigningStep(reader.connect())
    signed = step.sign(password("ABC123"), MESSAGE)
    signed.certificate.public_key.verify(signed.signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert step.traffic.commands == 7  # no tries query


def test_wrong_passwords_are_counted_down_and_then_locked(reader: InProcessReader) -> None:
    step = SigningStep(reader.connect())
    assert step.read().tries_left == 5
    remaining = []
    for _ in range(4):
        with pytest.raises(InvalidPinError) as wrong:
            step.sign(password("WRONG1"), MESSAGE)
        remaining.append(wrong.value.attempts_remaining)
    assert remaining == [4, 3, 2, 1]
    assert step.jpki.signing_password.tries_left() == 1
    with pytest.raises(PinBlockedError):
        step.sign(password("WRONG1"), MESSAGE)
    with pytest.raises(PinBlockedError) as locked:
        step.sign(password("ABC123"), MESSAGE)
    assert locked.value.attempts_remaining == 0
    assert SigningStep(reader.connect()).read().blocked
    auth = HolderAuthentication(reader.connect())  # the user-authentication PIN is independent
    assert auth.read().tries_left == 3


def test_a_right_password_restores_the_count(reader: InProcessReader) -> None:
    step = SigningStep(reader.connect())
    step.read()
    with pytest.raises(InvalidPinError):
        step.sign(password("WRONG1"), MESSAGE)
    step.sign(password("ABC123"), MESSAGE)
    assert SigningStep(reader.connect()).read().tries_left == 5


@pytest.mark.parametrize("text", ["abc123", "ABC12", "ABC-123", "ＡＢＣ１２３", ""])
def test_a_malformed_password_never_reaches_the_card(reader: InProcessReader, text: str) -> None:
    step = SigningStep(reader.connect())
    step.read()
    sent = step.traffic.commands
    buffer = PinBuffer(SIGNING_PASSWORD)
    with contextlib.suppress(InvalidPinFormatError):  # a full-width letter is refused on entry
        for char in text:
            buffer.append(char)
    with pytest.raises(InvalidPinFormatError):
        step.sign(buffer, MESSAGE)
    assert step.traffic.commands == sent and len(buffer) == 0
    assert step.jpki.signing_password.tries_left() == 5


def test_the_password_holds_at_most_sixteen_characters() -> None:
    buffer = password("A" * 16)
    with pytest.raises(InvalidPinFormatError):
        buffer.append("B")
    assert len(buffer) == 16 and len(signing_password_buffer()) == 0


def test_a_user_auth_pin_buffer_is_not_a_signing_password(reader: InProcessReader) -> None:
    step = SigningStep(reader.connect())
    step.read()
    sent = step.traffic.commands
    pin = PinBuffer.of(USER_AUTH_PIN, "1234")
    with pytest.raises(ValueError, match="SIGNING_PASSWORD"):
        step.sign(pin, MESSAGE)
    assert len(pin) == 0 and step.traffic.commands == sent


def test_password_buffer_is_wiped_and_never_printed(reader: InProcessReader) -> None:
    step = SigningStep(reader.connect())
    step.read()
    buffer = password("ABC123")
    assert "ABC123" not in repr(buffer) and "ABC123" not in str(buffer)
    step.sign(buffer, MESSAGE)
    assert len(buffer) == 0 and bytes(buffer._buffer) == bytes(16)
    wrong = password("WRONG1")
    with pytest.raises(InvalidPinError):
        step.sign(wrong, MESSAGE)
    assert bytes(wrong._buffer) == bytes(16)


def test_traffic_log_redacts_the_password(reader: InProcessReader, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    step = SigningStep(reader.connect())
    step.read()
    step.sign(password("ABC123"), MESSAGE)
    log = caplog.text
    assert "00 20 00 80 06 ** ** ** ** ** **" in log
    assert "41 42 43 31 32 33" not in log and "ABC123" not in log and "414243" not in log


def test_the_signing_key_and_certificate_stay_closed_without_the_password(reader: InProcessReader) -> None:
    auth = HolderAuthentication(reader.connect())
    auth.read()
    auth.prove(PinBuffer.of(USER_AUTH_PIN, "1234"), b"challenge")  # the other key's PIN
    with pytest.raises(SecurityStatusError):
        auth.jpki.read_signing_certificate()
    with pytest.raises(SecurityStatusError):
        auth.jpki.sign_with_signing_key(MESSAGE)


def test_finish_logs_the_card_out(reader: InProcessReader) -> None:
    step = SigningStep(reader.connect())
    step.read()
    step.sign(password("ABC123"), MESSAGE)
    step.finish()
    next_resident = SigningStep(reader.connect())
    next_resident.read()
    with pytest.raises(CardError):
        next_resident.jpki.sign_with_signing_key(b"without the password")


def test_a_card_without_a_signing_certificate(tmp_path: Path, authority_dir: Path) -> None:
    path = tmp_path / "young.json"
    issue_card(path, authority_dir=authority_dir, sign_password=None)
    reader = InProcessReader()
    reader.insert(VirtualCard.open(path))
    with pytest.raises(NoSigningCertificateError):
        SigningStep(reader.connect()).read()
    buffer = password("ABC123")
    with pytest.raises(NoSigningCertificateError):
        SigningStep(reader.connect()).sign(buffer, MESSAGE)
    assert len(buffer) == 0 and bytes(buffer._buffer) == bytes(16)


# -- broken and malicious cards ----------------------------------------------------------------


def on_read_of(sfi: int, answer: bytes) -> Callable[[int, bytes, bytes], bytes]:
    """Replace the answer to READ BINARY of one short file id."""
    return lambda _i, command, real: answer if command[1] == 0xB0 and command[2] == 0x80 | sfi else real


@pytest.mark.parametrize(
    "signature", [bytes(255), bytes(128), b"\x01" * 256], ids=["short", "half", "garbage"]
)
def test_bad_signatures_are_caught_at_the_kiosk(card_path: Path, signature: bytes) -> None:
    connection = hostile(card_path, on_ins(0x2A, signature + b"\x90\x00"))
    step = SigningStep(connection)
    step.read()
    with pytest.raises(CardDataError):
        step.sign(password("ABC123"), MESSAGE)
    assert verify_with_data(connection.sent) == 1


def test_a_signing_certificate_of_another_ca_is_caught(card_path: Path) -> None:
    card = VirtualCard.open(card_path)
    other_ca = card.state.auth_ca_cert  # a real CA certificate, not the one that signed
    connection = hostile(card_path, on_read_of(0x02, other_ca + b"\x90\x00"))
    step = SigningStep(connection)
    assert x509.load_der_x509_certificate(step.read().ca_certificate.der)
    with pytest.raises(CardDataError, match="signing CA"):
        step.sign(password("ABC123"), MESSAGE)


@pytest.mark.parametrize(
    "tamper",
    [
        on_read_of(0x01, b"\x31\x82\x01\x00" + bytes(100) + b"\x90\x00"),
        on_read_of(0x02, b"\x30\x82\x04\x00" + bytes(10) + b"\x90\x00"),
    ],
    ids=["signing certificate", "CA certificate"],
)
def test_certificates_that_are_not_der_are_caught(
    card_path: Path, tamper: Callable[[int, bytes, bytes], bytes]
) -> None:
    connection = hostile(card_path, tamper)
    step = SigningStep(connection)
    with pytest.raises(CardDataError):
        step.read()
        step.sign(password("ABC123"), MESSAGE)
    assert verify_with_data(connection.sent) <= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replacements=st.dictionaries(st.integers(0, 10), answers, max_size=4))
def test_any_hostile_answers_give_typed_errors_and_spend_no_unasked_try(
    card_path: Path, replacements: dict[int, bytes]
) -> None:
    connection: TamperedConnection = hostile(card_path, lambda i, _c, real: replacements.get(i, real))
    step: SigningStep | None = None
    try:
        step = SigningStep(connection)
        step.read()
    except CardError:
        pass
    assert verify_with_data(connection.sent) == 0  # reading never sends the password
    if step is None:
        return
    before = len(connection.sent)
    with contextlib.suppress(CardError):
        step.sign(password("ABC123"), MESSAGE)
    assert verify_with_data(connection.sent[before:]) <= 1
    assert len(connection.sent) < 100  # no endless loop on 61xx / 6Cxx
