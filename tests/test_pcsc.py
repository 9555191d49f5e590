"""The PC/SC adapter through a real pcscd: emulated card → vpcd → pcscd → pyscard → PcscReader.

The card stays in between tests (see ``support.fixtures_pcscd``); each test inserts or removes it
first.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from smartcard.Exceptions import SmartcardException

from hardware.card.errors import CardRemovedError, CardTimeoutError, InvalidPinError, TransportError
from hardware.card.holder import HolderAuthentication
from hardware.card.iso7816 import Iso7816Channel
from hardware.card.jpki import JpkiSession
from hardware.card.pcsc import PcscConnection, PcscReader, list_readers
from hardware.card.pin import PinBuffer
from hardware.card.profile import SIGNING_PASSWORD, USER_AUTH_PIN
from hardware.card.signing import SigningStep
from hardware.cardsim.card import VirtualCard
from support.fixtures_pcscd import Pcscd, VpcdSlot

pytestmark = pytest.mark.pcscd

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SELECT_UNKNOWN_AID = bytes.fromhex("00A4040C07A0000000031010")  # a payment AID
SELECT_AUTH_PIN = bytes.fromhex("00A4020C020018")
SELECT_AUTH_KEY = bytes.fromhex("00A4020C020017")
VERIFY_1234 = bytes.fromhex("0020008004") + b"1234"
SIGN_51_BYTES = bytes.fromhex("802A008033") + bytes(51) + b"\x00"
OK = b"\x90\x00"


@pytest.fixture(scope="module")
def card(card_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> VirtualCard:
    """One card object for the module: inserting it again while it is in costs nothing."""
    path = tmp_path_factory.mktemp("pcsc-card") / "card.json"
    shutil.copyfile(card_templates["card"], path)
    return VirtualCard.open(path)


@pytest.fixture
def reader(vpcd_slot: VpcdSlot) -> Iterator[PcscReader]:
    with PcscReader(vpcd_slot.reader) as reader:
        yield reader


def connect(reader: PcscReader) -> PcscConnection:
    connection = reader.wait_for_card(5)
    assert connection is not None, "a card is in the reader but wait_for_card gave up"
    return connection


def test_list_readers_shows_the_vpcd_readers(pcscd: Pcscd) -> None:
    names = list_readers()
    assert pcscd.readers and set(pcscd.readers) <= set(names)
    assert (
        PcscReader.matching("Virtual PCD").name
        == sorted(name for name in names if name.startswith("Virtual PCD"))[0]
    )
    with pytest.raises(TransportError, match="no PC/SC reader"):
        PcscReader.matching("No Such Reader")


def test_a_reader_is_attached_while_pcscd_lists_it(pcscd: Pcscd, reader: PcscReader) -> None:
    """What the kiosk's heartbeat reports: a reader whose cable was pulled is no longer listed."""
    assert reader.attached()
    with PcscReader("Unplugged Reader 00 00") as gone:
        assert not gone.attached()


def test_inserted_card_answers_apdus(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    vpcd_slot.insert(card)
    assert reader.card_present()
    with connect(reader) as connection:
        assert connection.atr == card.atr
        assert not connection.contactless
        assert connection.transceive(SELECT_JPKI) == OK
        assert connection.transceive(SELECT_UNKNOWN_AID) == b"\x6a\x82"
        token_info = connection.transceive(bytes.fromhex("00B0860000"))  # READ BINARY SFI 06
        assert token_info[:15] == b"JPKIAPICCTOKEN2" and token_info[-2:] == OK


def test_extended_read_of_the_certificate_passes_pcscd(
    vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard
) -> None:
    vpcd_slot.insert(card)
    with connect(reader) as connection:
        assert connection.transceive(SELECT_JPKI) == OK
        response = connection.transceive(bytes.fromhex("00B08A00000000"))  # SFI 0A, Le 65536
    assert response[-2:] == OK
    assert response[:-2] == card.state.auth_cert
    assert len(response) > 258  # more than a short APDU could carry


def test_reset_clears_the_verified_pin(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    vpcd_slot.insert(card)
    with connect(reader) as connection:
        for command in (SELECT_JPKI, SELECT_AUTH_PIN, VERIFY_1234, SELECT_AUTH_KEY):
            assert connection.transceive(command) == OK
        assert connection.transceive(SIGN_51_BYTES)[-2:] == OK
        connection.reset()
        assert connection.transceive(SELECT_AUTH_KEY) == b"\x6a\x82"  # no application selected
        for command in (SELECT_JPKI, SELECT_AUTH_KEY):
            assert connection.transceive(command) == OK
        assert connection.transceive(SIGN_51_BYTES) == b"\x69\x82"


def test_close_resets_the_card(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    vpcd_slot.insert(card)
    with connect(reader) as connection:
        for command in (SELECT_JPKI, SELECT_AUTH_PIN, VERIFY_1234):
            assert connection.transceive(command) == OK
    with connect(reader) as connection:
        assert connection.transceive(SELECT_AUTH_KEY) == b"\x6a\x82"  # the session is gone


def test_connection_is_exclusive(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    vpcd_slot.insert(card)
    with connect(reader):
        with pytest.raises(TransportError) as info:
            PcscConnection(vpcd_slot.reader)
        assert isinstance(info.value.__cause__, SmartcardException)
        assert not isinstance(info.value, CardRemovedError)
    with connect(reader) as connection:  # free again once closed
        assert connection.transceive(SELECT_JPKI) == OK


def test_transceive_after_close_is_a_transport_error(
    vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard
) -> None:
    vpcd_slot.insert(card)
    connection = connect(reader)
    connection.close()
    with pytest.raises(TransportError):
        connection.transceive(SELECT_JPKI)


def test_jpki_session_signs_through_pcscd(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    vpcd_slot.insert(card)
    with connect(reader) as connection:
        session = JpkiSession(Iso7816Channel(connection))
        certificate = session.read_user_auth_certificate()
        assert certificate.der == card.state.auth_cert
        assert session.auth_pin.tries_left() == 3
        session.auth_pin.verify(PinBuffer.of(USER_AUTH_PIN, "1234"))
        signature = session.sign_with_auth_key(b"challenge from the center")
    certificate.public_key.verify(
        signature, b"challenge from the center", padding.PKCS1v15(), hashes.SHA256()
    )


def test_signing_step_through_pcscd(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    """The signing path end to end through vpcd and pcscd: the CA certificate and the signing
    certificate in one extended READ BINARY each, a wrong password counted, then the signature."""
    vpcd_slot.insert(card)
    message = b"a usage registration application"
    with connect(reader) as connection:
        step = SigningStep(connection)
        reading = step.read()
        assert reading.tries_left == 5 and reading.ca_certificate.der == card.state.sign_ca_cert
        with pytest.raises(InvalidPinError) as wrong:
            step.sign(PinBuffer.of(SIGNING_PASSWORD, "WRONG1"), message)
        assert wrong.value.attempts_remaining == 4
        signed = step.sign(PinBuffer.of(SIGNING_PASSWORD, "ABC123"), message)
        assert SigningStep(connection).read().tries_left == 5  # the right one restored the count
        step.finish()
    assert signed.certificate.der == card.state.sign_cert
    signed.certificate.public_key.verify(signed.signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_removal_is_seen(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    vpcd_slot.insert(card)
    with connect(reader) as connection:
        assert connection.transceive(SELECT_JPKI) == OK
        assert reader.wait_for_removal(0.2) is False  # still there
        vpcd_slot.remove()
        assert not reader.card_present()
        assert reader.wait_for_removal(0) is True
        with pytest.raises(CardRemovedError, match="card removed") as info:
            connection.transceive(SELECT_JPKI)
        assert isinstance(info.value.__cause__, SmartcardException)
        connection.close()  # closing a removed card, and closing twice, never raises


def test_next_card_connects_although_the_last_connection_was_left_open(
    vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard
) -> None:
    vpcd_slot.insert(card)
    forgotten = connect(reader)  # never closed by the caller
    vpcd_slot.remove()
    vpcd_slot.insert(card)
    with connect(reader) as connection:  # no sharing violation: the reader closed `forgotten`
        assert connection.transceive(SELECT_JPKI) == OK
    with pytest.raises(TransportError):
        forgotten.transceive(SELECT_JPKI)


def test_wait_for_card_times_out_with_none_when_no_card(vpcd_slot: VpcdSlot, reader: PcscReader) -> None:
    vpcd_slot.remove()
    assert not reader.card_present()
    assert reader.wait_for_card(0.3) is None
    assert reader.wait_for_removal(0) is True


@pytest.mark.timeout(30)
def test_cancel_ends_a_wait_early(vpcd_slot: VpcdSlot, reader: PcscReader) -> None:
    vpcd_slot.remove()
    canceller = threading.Timer(0.2, reader.cancel)
    canceller.start()
    assert reader.wait_for_card(3600) is None  # without the cancel, the test times out
    canceller.join()
    assert reader.wait_for_card(0) is None  # the reader still works after a cancel


def test_unknown_reader_is_a_transport_error(pcscd: Pcscd) -> None:
    with PcscReader("No Such Reader 00 00") as reader, pytest.raises(TransportError):
        reader.card_present()


def test_wait_for_card_sees_a_card_inserted_later(
    vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard
) -> None:
    vpcd_slot.remove()
    inserter = threading.Timer(0.3, vpcd_slot.insert, args=(card,))
    inserter.start()
    try:
        connection = reader.wait_for_card(5)
        assert connection is not None
        with connection:
            assert connection.transceive(SELECT_JPKI) == OK
    finally:
        inserter.join()


def test_wait_for_removal_returns_when_the_card_is_pulled(
    vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard
) -> None:
    vpcd_slot.insert(card)
    assert vpcd_slot.link is not None
    remover = threading.Timer(0.3, vpcd_slot.link.detach)
    remover.start()
    try:
        assert reader.card_present()
        assert reader.wait_for_removal(5) is True
    finally:
        remover.join()


def test_insert_and_remove_repeatedly(vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard) -> None:
    vpcd_slot.remove()
    for _ in range(2):
        vpcd_slot.insert(card)
        with connect(reader) as connection:
            assert connection.transceive(SELECT_JPKI) == OK
        vpcd_slot.remove()
        assert reader.wait_for_card(0) is None


class StallingCard:
    """A card that stalls on READ BINARY (pcscd itself would wait as long as it takes)."""

    def __init__(self, card: VirtualCard, stall: float) -> None:
        self.card = card
        self.stall = stall

    @property
    def atr(self) -> bytes:
        return self.card.atr

    def power_on(self) -> bytes:
        return self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def process(self, command: bytes) -> bytes:
        if command[1] == 0xB0:
            time.sleep(self.stall)
        return self.card.process(command)


def test_a_stalling_card_gets_a_deadline_through_pcscd(
    vpcd_slot: VpcdSlot, reader: PcscReader, card: VirtualCard
) -> None:
    vpcd_slot.insert(StallingCard(card, stall=2.0))
    connection = connect(reader)
    auth = HolderAuthentication(connection, command_timeout=0.3)
    with pytest.raises(CardTimeoutError):
        auth.read()
    assert auth.traffic.commands == 1  # the SELECT; the READ BINARY never came back
    auth.finish()
    vpcd_slot.remove()  # returns once the stalled command is over
    connection.close()
