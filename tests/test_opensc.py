"""Real middleware sees the emulated card: pcsc-tools and OpenSC through pcscd and vpcd_slot.

OpenSC runs with a private ``opensc.conf`` (``use_file_cache = no``) and a private ``HOME``: its
file cache keys every JPKI card by the same name, so a cached certificate of one emulated card
would be shown for the next (reference §9).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hardware.cardsim.card import VirtualCard
from hardware.cardsim.filesystem import AUTH_PIN
from hardware.cardsim.tap import CardTap
from koufu.cards import issue_card
from support.fixtures_pcscd import VpcdSlot

pytestmark = [pytest.mark.pcscd, pytest.mark.opensc]

TOOLS = ("pcsc_scan", "opensc-tool", "pkcs15-tool", "pkcs15-crypt")
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
MESSAGE = b"challenge from the issuance center"


class OpenSC:
    """Runs the command-line tools against the session's vpcd reader with a private config."""

    def __init__(self, home: Path, reader: str) -> None:
        for tool in TOOLS:
            if shutil.which(tool) is None:
                pytest.fail(f"{tool} is not installed: install opensc and pcsc-tools (see the Makefile)")
        conf = home / "opensc.conf"
        conf.write_text("app default {\n  framework pkcs15 {\n    use_file_cache = no;\n  }\n}\n")
        self.env = {**os.environ, "OPENSC_CONF": str(conf), "HOME": str(home)}
        self.reader = reader
        self.home = home

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stderr}"
        return result

    def tool(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """An OpenSC tool on our reader (never reader 0: the session may own vpcd's slot 1)."""
        return self.run(tool, "--reader", self.reader, *args, check=check)

    def sign(self, key: str, pin: str, message: bytes, check: bool = True) -> tuple[int, bytes, str]:
        """``pkcs15-crypt --sign``: returns exit code, signature and stderr.

        ``--sha-256`` means "the input file *is* a SHA-256 hash": pkcs15-crypt does not hash.
        """
        digest = self.home / "digest.bin"
        signature = self.home / "signature.bin"
        digest.write_bytes(hashlib.sha256(message).digest())
        signature.unlink(missing_ok=True)
        result = self.tool(
            "pkcs15-crypt", "--sign", "--key", key, "--pkcs1", "--sha-256", "--pin", pin,
            "-i", str(digest), "-o", str(signature), check=check,
        )  # fmt: skip
        return result.returncode, signature.read_bytes() if signature.exists() else b"", result.stderr


@pytest.fixture(scope="module")
def opensc(tmp_path_factory: pytest.TempPathFactory, vpcd_slot: VpcdSlot) -> OpenSC:
    return OpenSC(tmp_path_factory.mktemp("opensc-home"), vpcd_slot.reader)


def fresh_card(card_templates: dict[str, Path], directory: Path) -> CardTap:
    path = directory / "card.json"
    shutil.copyfile(card_templates["card"], path)
    return CardTap(VirtualCard.open(path))


@pytest.fixture(scope="module")
def card(card_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> CardTap:
    """One card for the module's read-only tests (it stays inserted between them)."""
    return fresh_card(card_templates, tmp_path_factory.mktemp("opensc-card"))


def auth_public_key(card: CardTap) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(card.card.state.auth_cert).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def test_pcsc_scan_shows_the_reader_and_the_atr(opensc: OpenSC, vpcd_slot: VpcdSlot, card: CardTap) -> None:
    vpcd_slot.insert(card)
    readers = opensc.run("pcsc_scan", "-r").stdout
    assert vpcd_slot.reader in readers
    scan = opensc.run("pcsc_scan", "-c", "-n").stdout  # -c: report the cards once and exit
    ours = re.search(rf"Reader \d+: {re.escape(vpcd_slot.reader)}\n(.*?)(?=\n Reader |\Z)", scan, re.S)
    assert ours is not None, scan
    assert "Card state: Card inserted" in ours.group(1)
    assert f"ATR: {card.atr.hex(' ').upper()}" in ours.group(1)


def test_opensc_tool_sees_the_card_and_picks_the_jpki_driver(
    opensc: OpenSC, vpcd_slot: VpcdSlot, card: CardTap
) -> None:
    vpcd_slot.insert(card)
    listing = opensc.run("opensc-tool", "--list-readers").stdout
    assert any(vpcd_slot.reader in line and " Yes " in line for line in listing.splitlines())
    atr = opensc.tool("opensc-tool", "--atr").stdout.strip()
    assert atr == card.atr.hex(":")
    assert opensc.tool("opensc-tool", "--name").stdout.strip() == "jpki"


def test_pkcs15_tool_lists_the_four_certificates(opensc: OpenSC, vpcd_slot: VpcdSlot, card: CardTap) -> None:
    vpcd_slot.insert(card)
    listing = opensc.tool("pkcs15-tool", "--list-certificates").stdout
    blocks = {block.splitlines()[0]: block for block in listing.split("X.509 Certificate ")[1:]}
    assert set(blocks) == {
        "[User Authentication Certificate]",
        "[Digital Signature Certificate]",
        "[User Authentication Certificate CA]",
        "[Digital Signature Certificate CA]",
    }
    auth = blocks["[User Authentication Certificate]"]
    assert "Path           : 000a" in auth and "ID             : 01" in auth
    assert "private" in blocks["[Digital Signature Certificate]"]


def test_pkcs15_tool_reads_the_auth_certificate_from_the_card(
    opensc: OpenSC, vpcd_slot: VpcdSlot, card: CardTap
) -> None:
    vpcd_slot.insert(card)
    for cert_id, der in (("01", card.card.state.auth_cert), ("03", card.card.state.auth_ca_cert)):
        pem = opensc.tool("pkcs15-tool", "--read-certificate", cert_id).stdout
        read = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
        assert read == der, f"certificate {cert_id} differs from the card's"


def test_pkcs15_tool_lists_the_two_pins(opensc: OpenSC, vpcd_slot: VpcdSlot, card: CardTap) -> None:
    vpcd_slot.insert(card)
    listing = opensc.tool("pkcs15-tool", "--list-pins").stdout
    auth, sign = listing.split("PIN [")[1:]
    assert auth.startswith("User Authentication PIN]") and sign.startswith("Digital Signature PIN]")
    assert "min_len:4, max_len:4" in auth and "Tries left     : 3" in auth
    assert "min_len:6, max_len:16" in sign and "Tries left     : 5" in sign


def test_pkcs15_crypt_signs_with_the_auth_key(opensc: OpenSC, vpcd_slot: VpcdSlot, card: CardTap) -> None:
    vpcd_slot.insert(card)
    card.commands.clear()
    _, signature, _ = opensc.sign("01", "1234", MESSAGE)
    assert len(signature) == 256
    auth_public_key(card).verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(MESSAGE).digest()
    tail = card.commands[-4:]  # reference §9: what OpenSC's jpki driver sends to sign
    assert tail == [
        bytes.fromhex("00A4020C020018"),
        bytes.fromhex("0020008004") + b"1234",
        bytes.fromhex("00A4020C020017"),
        bytes.fromhex("802A008033") + digest_info + b"\x00",
    ]


def test_no_file_cache_each_card_shows_its_own_certificate(
    opensc: OpenSC, vpcd_slot: VpcdSlot, card: CardTap, authority_dir: Path, tmp_path: Path
) -> None:
    issue_card(tmp_path / "other.json", authority_dir=authority_dir)  # new keys, new certificate
    other = CardTap(VirtualCard.open(tmp_path / "other.json"))
    for inserted in (card, other, card):
        vpcd_slot.insert(inserted)
        pem = opensc.tool("pkcs15-tool", "--read-certificate", "01").stdout
        read = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
        assert read == inserted.card.state.auth_cert
    assert card.card.state.auth_cert != other.card.state.auth_cert
    assert not (opensc.home / ".cache" / "opensc").exists()


def test_wrong_pin_through_pkcs15_crypt_costs_a_try(
    opensc: OpenSC, vpcd_slot: VpcdSlot, card_templates: dict[str, Path], tmp_path: Path
) -> None:
    card = fresh_card(card_templates, tmp_path)
    vpcd_slot.insert(card)
    code, signature, stderr = opensc.sign("01", "9999", MESSAGE, check=False)
    assert code != 0 and signature == b""
    assert "PIN code or key incorrect" in stderr
    assert not any(command[:2] == b"\x80\x2a" for command in card.commands)
    assert card.card.state.pins[AUTH_PIN].tries_left == 2
    assert VirtualCard.open(tmp_path / "card.json").state.pins[AUTH_PIN].tries_left == 2  # persisted
    assert "Tries left     : 2" in opensc.tool("pkcs15-tool", "--list-pins").stdout
    _, signature, _ = opensc.sign("01", "1234", MESSAGE)  # the right PIN restores the counter
    auth_public_key(card).verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert card.card.state.pins[AUTH_PIN].tries_left == 3
