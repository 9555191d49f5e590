"""The kiosk's card client (ISO 7816 layer, JPKI and input-support sessions) against the emulator
in-process, and against broken or malicious cards."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.card.errors import (
    CardDataError,
    CardError,
    CardRemovedError,
    CardTimeoutError,
    InvalidPinError,
    InvalidPinFormatError,
    NotMyNumberCardError,
    PinBlockedError,
    ProtocolError,
)
from hardware.card.holder import HolderAuthentication
from hardware.card.input_support import InputSupportSession
from hardware.card.iso7816 import Iso7816Channel
from hardware.card.pin import PinBuffer
from hardware.card.profile import INPUT_SUPPORT_PIN, USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from support.hostile_cards import answers, hostile, on_ins, verify_with_data


def pin(text: str) -> PinBuffer:
    return PinBuffer.of(USER_AUTH_PIN, text)


@pytest.fixture
def reader(card_path: Path) -> InProcessReader:
    reader = InProcessReader()
    reader.insert(VirtualCard.open(card_path))
    return reader


def test_whole_card_step_in_seven_apdus(reader: InProcessReader) -> None:
    auth = HolderAuthentication(reader.connect())
    reading = auth.read()
    assert reading.tries_left == 3 and reading.certificate is not None
    proof = auth.prove(pin("1234"), b"center challenge")
    assert auth.traffic.commands == 7
    proof.certificate.public_key.verify(
        proof.signature, b"center challenge", padding.PKCS1v15(), hashes.SHA256()
    )


def test_wrong_pins_are_counted_down_and_then_blocked(reader: InProcessReader) -> None:
    auth = HolderAuthentication(reader.connect())
    assert auth.read().tries_left == 3
    remaining = []
    for _ in range(2):
        with pytest.raises(InvalidPinError) as wrong:
            auth.prove(pin("0000"), b"x")
        remaining.append(wrong.value.attempts_remaining)
    assert remaining == [2, 1]
    assert auth.jpki.auth_pin.tries_left() == 1
    with pytest.raises(PinBlockedError):
        auth.prove(pin("0000"), b"x")
    with pytest.raises(PinBlockedError):
        auth.prove(pin("1234"), b"x")
    assert HolderAuthentication(reader.connect()).read().blocked


def test_lockout_survives_removal_and_another_reader(card_path: Path) -> None:
    first = InProcessReader()
    first.insert(VirtualCard.open(card_path))
    auth = HolderAuthentication(first.connect())
    auth.read()
    for _ in range(3):
        with pytest.raises((InvalidPinError, PinBlockedError)):
            auth.prove(pin("0000"), b"x")
    first.remove()
    with pytest.raises(CardRemovedError):
        auth.read()
    second = InProcessReader("another store")
    second.insert(VirtualCard.open(card_path))
    assert HolderAuthentication(second.connect()).read().tries_left == 0


def test_malformed_pin_never_reaches_the_card(reader: InProcessReader) -> None:
    auth = HolderAuthentication(reader.connect())
    auth.read()
    sent = auth.traffic.commands
    with pytest.raises(InvalidPinFormatError):
        auth.prove(pin("12a4"), b"x")
    with pytest.raises(InvalidPinFormatError):
        auth.prove(PinBuffer(USER_AUTH_PIN), b"x")
    assert auth.traffic.commands == sent
    assert auth.jpki.auth_pin.tries_left() == 3


def test_pin_buffer_is_wiped_after_verify_and_never_printed(reader: InProcessReader) -> None:
    auth = HolderAuthentication(reader.connect())
    auth.read()
    buffer = pin("1234")
    assert "1234" not in repr(buffer) and "1234" not in str(buffer)
    auth.prove(buffer, b"x")
    assert len(buffer) == 0 and bytes(buffer._buffer) == bytes(4)
    wrong = pin("9999")
    with pytest.raises(InvalidPinError):
        auth.prove(wrong, b"x")
    assert bytes(wrong._buffer) == bytes(4)


def test_traffic_log_redacts_the_pin(reader: InProcessReader, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    auth = HolderAuthentication(reader.connect())
    auth.read()
    auth.prove(pin("1234"), b"x")
    log = caplog.text
    assert "00 20 00 80 04 ** ** ** **" in log
    assert "31 32 33 34" not in log and "1234" not in log


def test_finish_logs_the_card_out(reader: InProcessReader) -> None:
    auth = HolderAuthentication(reader.connect())
    auth.read()
    auth.prove(pin("1234"), b"x")
    auth.finish()
    next_resident = HolderAuthentication(reader.connect())
    next_resident.read()
    with pytest.raises(CardError):
        next_resident.jpki.sign_with_auth_key(b"without a PIN")


def test_smartphone_token_reads_its_certificate_after_the_pin(android_card_path: Path) -> None:
    reader = InProcessReader()
    reader.insert(VirtualCard.open(android_card_path))
    auth = HolderAuthentication(reader.connect())
    reading = auth.read()
    assert reading.certificate is None and reading.tries_left == 3
    proof = auth.prove(pin("1234"), b"x")
    assert proof.certificate.serial_number > 0
    assert auth.jpki.read_token_label() == "JPKIAPGPSETOKEN"
    assert auth.traffic.commands == 9  # 8 for the step + the label


def test_short_apdus_only_link_reads_in_pieces(reader: InProcessReader) -> None:
    auth = HolderAuthentication(reader.connect(), extended=False)
    reading = auth.read()
    assert reading.certificate is not None
    size = len(reading.certificate.der)
    assert auth.traffic.commands == 3 + (size // 256 + 1)


def test_input_support_session(reader: InProcessReader) -> None:
    channel = Iso7816Channel(reader.connect())
    session = InputSupportSession(channel)
    session.pin.verify(PinBuffer.of(INPUT_SUPPORT_PIN, "1234"))
    facts = session.read_basic_four()
    assert reader.card is not None
    holder = reader.card.state.holder
    assert session.read_my_number() == holder.my_number
    assert (facts.name, facts.address, facts.birth_date, facts.sex) == (
        holder.name,
        holder.address,
        holder.birth_date,
        holder.sex,
    )
    assert holder.name not in repr(facts)


# -- broken and malicious cards ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (on_ins(0xA4, b"\x6a\x82"), NotMyNumberCardError),
        (on_ins(0xA4, b""), ProtocolError),
        (on_ins(0xA4, b"\x90"), ProtocolError),
        (on_ins(0xA4, b"\x01\x02\x90\x00"), ProtocolError),
        (on_ins(0xB0, b"\x31\x82\x01\x00" + bytes(100) + b"\x90\x00"), CardDataError),
        (on_ins(0xB0, b"\x30\x82\x04\x00" + bytes(10) + b"\x90\x00"), CardDataError),
        (on_ins((0xB0, 0xC0), b"\x61\x10"), ProtocolError),  # 61 10 forever
        (on_ins(0xB0, b"\x6c\x10"), ProtocolError),  # 6C loop
        (on_ins(0x20, b"\x90\x00"), ProtocolError),  # tries query claiming "verified"
        (on_ins(0x20, b"\x63\xc9"), ProtocolError),  # 9 tries of a 3-try PIN
        (on_ins(0x20, b"\x12\x34"), ProtocolError),
    ],
)
def test_broken_answers_before_the_pin_are_typed_errors(
    card_path: Path, tamper: Callable[[int, bytes, bytes], bytes], error: type[CardError]
) -> None:
    connection = hostile(card_path, tamper)
    with pytest.raises(error):
        HolderAuthentication(connection).read()
    assert verify_with_data(connection.sent) == 0


def test_oversized_answer_is_refused(card_path: Path) -> None:
    connection = hostile(card_path, on_ins(0x2A, bytes(300) + b"\x90\x00"))
    auth = HolderAuthentication(connection)
    auth.read()
    with pytest.raises(ProtocolError):
        auth.prove(pin("1234"), b"x")


@pytest.mark.parametrize(
    "signature", [bytes(255), bytes(128), b"\x01" * 256], ids=["short", "half", "garbage"]
)
def test_bad_signatures_are_caught_at_the_kiosk(card_path: Path, signature: bytes) -> None:
    connection = hostile(card_path, on_ins(0x2A, signature + b"\x90\x00"))
    auth = HolderAuthentication(connection)
    auth.read()
    with pytest.raises(CardDataError):
        auth.prove(pin("1234"), b"x")
    assert verify_with_data(connection.sent) == 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replacements=st.dictionaries(st.integers(0, 12), answers, max_size=4))
def test_any_hostile_answers_give_typed_errors_and_spend_no_unasked_try(
    card_path: Path, replacements: dict[int, bytes]
) -> None:
    connection = hostile(card_path, lambda i, _c, real: replacements.get(i, real))
    auth: HolderAuthentication | None = None
    try:
        auth = HolderAuthentication(connection)
        auth.read()
    except CardError:
        pass
    assert verify_with_data(connection.sent) == 0  # reading never touches the PIN
    if auth is None:
        return
    before = len(connection.sent)
    with contextlib.suppress(CardError):
        auth.prove(pin("1234"), b"x")
    assert verify_with_data(connection.sent[before:]) <= 1
    assert len(connection.sent) < 100  # no endless loop on 61xx / 6Cxx


def test_change_pin_through_the_client(reader: InProcessReader) -> None:
    session = HolderAuthentication(reader.connect()).jpki
    with pytest.raises(CardError):  # not verified yet in this session
        session.auth_pin.change(pin("4321"))
    session.auth_pin.verify(pin("1234"))
    new = pin("4321")
    session.auth_pin.change(new)
    assert len(new) == 0
    session.logout()
    with pytest.raises(InvalidPinError):
        session.auth_pin.verify(pin("1234"))
    session.auth_pin.verify(pin("4321"))


def test_a_card_that_never_answers_gets_a_deadline(card_path: Path) -> None:
    card = VirtualCard.open(card_path, sign_delay=30.0)  # a signature that never comes
    reader = InProcessReader()
    reader.insert(card)
    auth = HolderAuthentication(reader.connect(), command_timeout=0.5)
    auth.read()
    with pytest.raises(CardTimeoutError):
        auth.prove(pin("1234"), b"x")
    with pytest.raises(CardTimeoutError, match="never completed"):
        auth.read()
    auth.finish()  # quiet: the resident's session still ends cleanly
