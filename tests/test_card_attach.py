"""``koufu card attach`` as a separate process: the kiosk's card step through real pcscd + vpcd +
pyscard and through nfcpy's UDP driver; wrong PINs counted across removals (insert = attach,
removal = the process ends)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from hardware.card.errors import InvalidPinError, PinBlockedError
from hardware.card.holder import HolderAuthentication
from hardware.card.nfc import NfcReader
from hardware.card.pcsc import PcscReader
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.card.transport import CardReader
from hardware.cardsim.nfc_link import free_udp_path
from support.fixtures_pcscd import VpcdSlot


@contextmanager
def attached(card: Path, *where: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "koufu", "card", "attach", str(card), *where],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "card" in banner, banner
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def wrong_pin_then_count(reader: CardReader) -> int:
    """Place the card, type a wrong PIN, return the tries the card then reports."""
    connection = reader.wait_for_card(10.0)
    assert connection is not None, "card not seen"
    with connection:
        auth = HolderAuthentication(connection)
        assert auth.read().tries_left > 0
        with pytest.raises((InvalidPinError, PinBlockedError)) as error:
            auth.prove(PinBuffer.of(USER_AUTH_PIN, "0000"), b"challenge")
        return int(error.value.attempts_remaining)


def lockout_across_removals(reader: CardReader, card: Path, where: Callable[[], tuple[str, ...]]) -> None:
    seen = []
    for _ in range(3):
        with attached(card, *where()):
            seen.append(wrong_pin_then_count(reader))
        assert reader.wait_for_removal(10.0)
    assert seen == [2, 1, 0]
    with attached(card, *where()):
        connection = reader.wait_for_card(10.0)
        assert connection is not None
        with connection:
            auth = HolderAuthentication(connection)
            assert auth.read().blocked
            with pytest.raises(PinBlockedError):
                auth.prove(PinBuffer.of(USER_AUTH_PIN, "1234"), b"challenge")


def whole_step(reader: CardReader) -> None:
    connection = reader.wait_for_card(10.0)
    assert connection is not None
    with connection:
        auth = HolderAuthentication(connection)
        reading = auth.read()
        proof = auth.prove(PinBuffer.of(USER_AUTH_PIN, "1234"), b"challenge")
        assert auth.traffic.commands == 7 and reading.tries_left == 3
        proof.certificate.public_key.verify(
            proof.signature, b"challenge", padding.PKCS1v15(), hashes.SHA256()
        )
        auth.finish()


def test_pcsc_card_step_and_lockout(vpcd: VpcdSlot, card_path: Path) -> None:
    reader = PcscReader(vpcd.reader)
    where = ("--vpcd", f"{vpcd.host}:{vpcd.port}")
    with attached(card_path, *where):
        whole_step(reader)
    assert reader.wait_for_removal(10.0)
    lockout_across_removals(reader, card_path, lambda: where)


def test_nfc_card_step_and_lockout(card_path: Path) -> None:
    path = free_udp_path()
    with NfcReader(path, poll_interval=0.05) as reader:
        with attached(card_path, "--nfc", path, "--sign-delay", "0.4"):
            whole_step(reader)  # 0.4 s of on-chip RSA: more than FWT, so WTX is needed
        assert reader.wait_for_removal(10.0)
        lockout_across_removals(reader, card_path, lambda: ("--nfc", path))
