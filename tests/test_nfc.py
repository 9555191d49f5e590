"""The kiosk's NFC adapter against the emulated card, over nfcpy's UDP driver on loopback.

The card side (hardware/cardsim/nfc_link.py) runs in a background thread; the reader side
(hardware/card/nfc.py) runs in the test. Each test gets its own free UDP port.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nfc.tag
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hardware.card.errors import CardRemovedError, TransportError
from hardware.card.nfc import NfcConnection, NfcReader, is_iso_dep
from hardware.cardsim.card import ContactlessParameters, VirtualCard
from hardware.cardsim.nfc_link import NfcCardLink, NfcLinkError, free_udp_path, run_nfc

pytestmark = [pytest.mark.nfc, pytest.mark.timeout(60)]

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
SELECT_OTHER = bytes.fromhex("00A4040C07A0000000041010")
OK = b"\x90\x00"
CERTIFICATE = b"\x30\x82\x06\xca" + bytes((i * 7 + 3) % 256 for i in range(1738))  # 1,742 bytes
SIGNATURE = bytes(range(256))
MY_NUMBER_CARD_INFO = bytes.fromhex("B381A1")  # 256-byte frames, FWI 10 (309 ms)
SMALL_FRAME_INFO = bytes.fromhex("B351A1")  # 64-byte frames
SHA256_PREFIX = bytes.fromhex("3031300D060960864801650304020105000420")


@dataclass
class StubCard:
    """Enough of a JPKI card for the transport: SELECT, READ BINARY, a slow signature, an echo."""

    sign_delay: float = 0.0
    contactless: ContactlessParameters = field(
        default_factory=lambda: ContactlessParameters(bytes.fromhex("01020304"))
    )
    commands: list[bytes] = field(default_factory=list)
    power_ons: int = 0
    power_offs: int = 0

    def power_on(self) -> bytes:
        self.power_ons += 1
        return b"\x3b\x88\x80\x01"

    def power_off(self) -> None:
        self.power_offs += 1

    def process(self, command: bytes) -> bytes:
        self.commands.append(command)
        ins = command[1]
        if ins == 0xA4:
            return OK if command == SELECT_JPKI else b"\x6a\x82"
        if ins == 0xB0:
            offset = int.from_bytes(command[2:4], "big")
            short = len(command) == 5
            le = (command[4] or 256) if short else (int.from_bytes(command[5:7], "big") or 65536)
            return CERTIFICATE[offset : offset + le] + OK
        if ins == 0x2A:
            time.sleep(self.sign_delay)
            return SIGNATURE + OK
        if ins == 0xEE:  # echo the data field (short or extended Lc)
            if command[4] == 0:
                return command[7 : 7 + int.from_bytes(command[5:7], "big")] + OK
            return command[5 : 5 + command[4]] + OK
        return b"\x6d\x00"


@pytest.fixture
def path() -> str:
    return free_udp_path()


@pytest.fixture
def stub() -> StubCard:
    return StubCard()


@pytest.fixture
def reader(path: str) -> Iterator[NfcReader]:
    with NfcReader(path, poll_interval=0.05) as reader:
        yield reader


@pytest.fixture
def link(stub: StubCard, path: str, reader: NfcReader) -> Iterator[NfcCardLink]:
    """The stub card on the reader; taken away before the reader closes (a card that is
    deselected first would sit in nfcpy's listen(), which lasts at least 0.5 s)."""
    link = NfcCardLink(stub, path)
    link.attach()
    yield link
    link.detach()


def connect(reader: NfcReader, timeout: float = 5.0) -> NfcConnection:
    connection = reader.wait_for_card(timeout)
    assert connection is not None, "no card activated"
    return connection


# -- activation and plain APDUs ------------------------------------------------------------------


def test_select_jpki_answers_9000(link: NfcCardLink, reader: NfcReader, stub: StubCard) -> None:
    connection = connect(reader)
    assert connection.contactless
    expected = ContactlessParameters(bytes.fromhex("01020304"), bytes(4), MY_NUMBER_CARD_INFO)
    assert connection.sensb_res == expected.sensb_res
    assert connection.transceive(SELECT_JPKI) == OK
    assert connection.transceive(SELECT_OTHER) == b"\x6a\x82"
    assert stub.commands == [SELECT_JPKI, SELECT_OTHER]
    assert stub.power_ons == 1
    assert link.stats.activations == 1 and link.stats.apdus == 2


def test_wait_for_card_hands_out_the_open_connection(link: NfcCardLink, reader: NfcReader) -> None:
    connection = connect(reader)
    assert reader.wait_for_card(1.0) is connection
    assert link.stats.activations == 1


def test_sensb_res_announces_iso_dep() -> None:
    assert is_iso_dep(ContactlessParameters(bytes(4), bytes(4), MY_NUMBER_CARD_INFO).sensb_res)
    assert not is_iso_dep(ContactlessParameters(bytes(4), bytes(4), bytes.fromhex("B38080")).sensb_res)
    with pytest.raises(ValueError):
        ContactlessParameters(bytes(3), bytes(4), MY_NUMBER_CARD_INFO)


# -- chaining -----------------------------------------------------------------------------------


def test_extended_read_binary_comes_back_through_response_chaining(
    link: NfcCardLink, reader: NfcReader
) -> None:
    connection = connect(reader)
    response = connection.transceive(b"\x00\xb0\x00\x00\x00" + len(CERTIFICATE).to_bytes(2, "big"))
    assert response == CERTIFICATE + OK
    assert link.stats.blocks.chained_blocks_sent == -(-len(response) // 253) - 1  # 253 INF bytes a block
    # Le larger than the file: what remains, from an offset
    assert connection.transceive(bytes.fromhex("00B00100000600")) == CERTIFICATE[256:] + OK


@pytest.mark.parametrize(
    ("protocol_info", "extended", "chained_blocks"),
    [
        (MY_NUMBER_CARD_INFO, True, 1),  # 4 + 3 + 245 + 2 = 254 bytes > 253 per block
        (SMALL_FRAME_INFO, False, 4),  # 4 + 1 + 245 + 1 = 251 bytes in blocks of 61
    ],
)
def test_long_command_goes_through_reader_chaining(
    path: str, reader: NfcReader, protocol_info: bytes, extended: bool, chained_blocks: int
) -> None:
    card = StubCard(contactless=ContactlessParameters(bytes.fromhex("01020304"), protocol_info=protocol_info))
    data = bytes((i * 13) % 256 for i in range(245))
    if extended:
        command = b"\x80\xee\x00\x00\x00\x00\xf5" + data + b"\x00\x00"
    else:
        command = b"\x80\xee\x00\x00\xf5" + data + b"\x00"
    with NfcCardLink(card, path) as link:
        connection = connect(reader)
        assert connection.transceive(command) == data + OK
        assert card.commands == [command]
        assert link.stats.blocks.chained_blocks_received == chained_blocks


# -- waiting time extension ---------------------------------------------------------------------


def test_slow_command_succeeds_thanks_to_wtx(link: NfcCardLink, reader: NfcReader, stub: StubCard) -> None:
    stub.sign_delay = 0.9  # ~3 FWT; nfcpy gives up after about 4 FWT without WTX
    connection = connect(reader)
    response = connection.transceive(b"\x80\x2a\x00\x80\x33" + SHA256_PREFIX + bytes(32) + b"\x00")
    assert response == SIGNATURE + OK
    assert link.stats.blocks.wtx_requests >= 3
    assert link.stats.blocks.retransmissions == 0  # the reader never had to ask (R(NAK))
    assert connection.transceive(SELECT_JPKI) == OK


# -- removal, presence and re-activation ---------------------------------------------------------


@pytest.mark.timeout(30)
def test_removal_during_use_raises_card_removed(link: NfcCardLink, reader: NfcReader) -> None:
    connection = connect(reader)
    assert connection.transceive(SELECT_JPKI) == OK
    link.detach()
    with pytest.raises(CardRemovedError) as excinfo:  # after FWT + R(NAK) retries (~1.3 s)
        connection.transceive(SELECT_JPKI)
    assert isinstance(excinfo.value.__cause__, nfc.tag.TagCommandError)
    with pytest.raises(CardRemovedError) as again:  # the broken connection refuses at once
        connection.transceive(SELECT_JPKI)
    assert again.value.__cause__ is None  # refused locally, nothing sent
    assert reader.wait_for_removal(5.0)


def test_removal_is_seen_by_wait_for_removal_with_the_connection_open(
    link: NfcCardLink, reader: NfcReader
) -> None:
    connection = connect(reader)
    assert reader.card_present()
    assert not reader.wait_for_removal(0.3)  # the card stays: presence checks keep answering
    assert connection.transceive(SELECT_JPKI) == OK  # and they leave the block numbers in step
    link.detach()
    assert reader.wait_for_removal(5.0)
    with pytest.raises(TransportError):
        connection.transceive(SELECT_JPKI)


def test_closed_connection_then_removal_and_reattach(
    link: NfcCardLink, reader: NfcReader, stub: StubCard
) -> None:
    connection = connect(reader)
    assert connection.transceive(SELECT_JPKI) == OK
    connection.close()
    connection.close()  # twice is harmless
    with pytest.raises(TransportError):
        connection.transceive(SELECT_JPKI)
    assert reader.card_present()  # polled with the field reset: the card answers SENSB_REQ
    assert not reader.wait_for_removal(0.3)
    link.detach()
    assert reader.wait_for_removal(5.0)
    assert stub.power_offs == stub.power_ons == 1

    link.attach()
    again = connect(reader)
    assert again is not connection
    assert again.transceive(SELECT_JPKI) == OK
    assert link.stats.activations == 2 and stub.power_ons == 2


def test_reset_powers_the_card_anew(link: NfcCardLink, reader: NfcReader, stub: StubCard) -> None:
    connection = connect(reader)
    assert connection.transceive(SELECT_JPKI) == OK
    connection.reset()
    assert connection.transceive(SELECT_JPKI) == OK  # the card powers up before it answers
    assert stub.power_offs == 1 and stub.power_ons == 2
    link.detach()
    with pytest.raises(CardRemovedError):
        connection.reset()


@pytest.mark.timeout(30)
def test_no_card_means_none(path: str, reader: NfcReader) -> None:
    assert reader.wait_for_card(0.2) is None  # the UDP driver waits 1 s for each SENSB_RES


def test_bad_device_paths_fail_at_once(stub: StubCard) -> None:
    with pytest.raises(NfcLinkError):
        NfcCardLink(stub, "tty:nonexistent:nodriver").attach()
    with pytest.raises(TransportError):
        NfcReader("tty:nonexistent:nodriver")


def test_run_nfc_serves_until_stopped(path: str, reader: NfcReader, stub: StubCard) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=run_nfc, args=(stub, path, stop), daemon=True)
    thread.start()
    try:
        assert connect(reader).transceive(SELECT_JPKI) == OK
    finally:
        stop.set()
        thread.join(3.0)
    assert not thread.is_alive()


def test_pin_data_never_reaches_the_log(
    link: NfcCardLink, reader: NfcReader, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection = connect(reader)
    connection.transceive(bytes.fromhex("0020008004") + b"9876")
    connection.transceive(bytes.fromhex("0024018006") + b"ABC987")
    assert any("20" in record.getMessage() for record in caplog.records)  # it was logged
    text = caplog.text.upper()
    for secret in (b"9876", b"ABC987"):
        assert secret.hex().upper() not in text.replace(" ", "")
        assert secret.decode() not in text


# -- the real emulator --------------------------------------------------------------------------


def test_virtual_card_reads_its_certificate_and_signs_over_nfc(
    card_path: Path, path: str, reader: NfcReader
) -> None:
    card = VirtualCard.open(card_path, sign_delay=0.5)
    digest = hashlib.sha256(b"koufu").digest()
    with NfcCardLink(card, path) as link:
        connection = connect(reader)
        assert connection.transceive(SELECT_JPKI) == OK
        assert connection.transceive(bytes.fromhex("00A4020C02000A")) == OK
        response = connection.transceive(bytes.fromhex("00B00000000000"))  # Le 65536: all of it
        assert response == card.state.auth_cert + OK
        for command in ("00A4020C020018", "002000800431323334", "00A4020C020017"):
            assert connection.transceive(bytes.fromhex(command)) == OK
        signed = connection.transceive(b"\x80\x2a\x00\x80\x33" + SHA256_PREFIX + digest + b"\x00")
        assert signed[-2:] == OK and len(signed) == 258
        assert link.stats.blocks.wtx_requests >= 1 and link.stats.blocks.retransmissions == 0
    public_key = x509.load_der_x509_certificate(card.state.auth_cert).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signed[:-2], b"koufu", padding.PKCS1v15(), hashes.SHA256())


def test_a_simulated_radio_port_has_no_service_name() -> None:
    """nfcpy's UDP driver cannot open a port named in /etc/services (it reads the port back as
    the name): the helper never hands one out, and such a port is refused with a clear error."""
    for _ in range(50):
        port = int(free_udp_path().rsplit(":", 1)[1])
        with pytest.raises(OSError):
            socket.getservbyport(port, "udp")
    named = socket.getservbyname("domain", "udp")  # 53, named on every system
    with pytest.raises(TransportError, match="cannot open NFC reader"):
        NfcReader(f"udp:127.0.0.1:{named}")
