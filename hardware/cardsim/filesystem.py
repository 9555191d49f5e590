"""The emulated card's applications and elementary files, built from its persistent state.

Access rules live next to each file: a binary file lists the reference data any one of which opens
it, a key file names the PIN that must be verified before it signs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.card.profile import (
    AID,
    CHECK_NUMBER_A,
    CHECK_NUMBER_B,
    INPUT_SUPPORT_PIN,
    SIGNING_PASSWORD,
    USER_AUTH_PIN,
    InputSupportFile,
    JpkiFile,
    PinPolicy,
)
from hardware.card.tlv import Tlv
from hardware.cardsim.state import CardState, HolderFacts

# Reference data on the card, by key in the state file.
AUTH_PIN = "jpki.auth"
SIGN_PASSWORD = "jpki.sign"
SUPPORT_PIN = "input.pin"
SUPPORT_CHECK_A = "input.a"
SUPPORT_CHECK_B = "input.b"

POLICIES: dict[str, PinPolicy] = {
    AUTH_PIN: USER_AUTH_PIN,
    SIGN_PASSWORD: SIGNING_PASSWORD,
    SUPPORT_PIN: INPUT_SUPPORT_PIN,
    SUPPORT_CHECK_A: CHECK_NUMBER_A,
    SUPPORT_CHECK_B: CHECK_NUMBER_B,
}

TOKEN_LABEL_SIZE = 32


@dataclass(frozen=True)
class BinaryFile:
    """A transparent EF read with READ BINARY; ``opened_by`` empty means free to read."""

    content: bytes
    opened_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class PinFile:
    """An EF holding reference data, the target of VERIFY and CHANGE REFERENCE DATA."""

    pin: str


@dataclass(frozen=True)
class KeyFile:
    """A private-key EF; it signs only after ``pin`` was verified since the application was selected."""

    key: str
    pin: str


ElementaryFile = BinaryFile | PinFile | KeyFile


@dataclass(frozen=True)
class Application:
    aid: AID
    files: dict[int, ElementaryFile] = field(default_factory=dict)


def build_applications(state: CardState) -> dict[AID, Application]:
    """Every application the card answers to, in the order a prefix SELECT tries them."""
    apps = [
        Application(AID.JPKI, _jpki_files(state)),
        Application(AID.INPUT_SUPPORT, _input_support_files(state.holder)),
        # Present on real cards but not emulated: they select, and hold no files we serve.
        Application(AID.CARD_FACE_CHECK),
        Application(AID.RESIDENT_REGISTRY),
        Application(AID.COMMON),
    ]
    return {app.aid: app for app in apps}


def _jpki_files(state: CardState) -> dict[int, ElementaryFile]:
    auth_cert_opened_by = (AUTH_PIN,) if state.auth_cert_needs_pin else ()
    files: dict[int, ElementaryFile] = {
        JpkiFile.TOKEN_INFO: BinaryFile(token_info(state.label)),
        JpkiFile.CERT_PRESENCE: BinaryFile(bytes((0x8F, 0x8F if state.sign_cert else 0x00, 0x00))),
        JpkiFile.AUTH_CERT: BinaryFile(state.auth_cert, auth_cert_opened_by),
        JpkiFile.AUTH_CA_CERT: BinaryFile(state.auth_ca_cert),
        JpkiFile.AUTH_KEY: KeyFile("auth", AUTH_PIN),
        JpkiFile.AUTH_PIN: PinFile(AUTH_PIN),
    }
    if state.sign_cert and state.sign_ca_cert and SIGN_PASSWORD in state.pins:
        files[JpkiFile.SIGN_CERT] = BinaryFile(state.sign_cert, (SIGN_PASSWORD,))
        files[JpkiFile.SIGN_CA_CERT] = BinaryFile(state.sign_ca_cert)
        files[JpkiFile.SIGN_KEY] = KeyFile("sign", SIGN_PASSWORD)
        files[JpkiFile.SIGN_PIN] = PinFile(SIGN_PASSWORD)
    return files


def _input_support_files(holder: HolderFacts) -> dict[int, ElementaryFile]:
    return {
        InputSupportFile.MY_NUMBER: BinaryFile(
            my_number_record(holder.my_number), (SUPPORT_PIN, SUPPORT_CHECK_A)
        ),
        InputSupportFile.BASIC_FOUR: BinaryFile(basic_four_record(holder), (SUPPORT_PIN, SUPPORT_CHECK_B)),
        InputSupportFile.PIN: PinFile(SUPPORT_PIN),
        InputSupportFile.CHECK_NUMBER_A: PinFile(SUPPORT_CHECK_A),
        InputSupportFile.CHECK_NUMBER_B: PinFile(SUPPORT_CHECK_B),
    }


def token_info(label: str) -> bytes:
    """EF ``0006``: the token label as ASCII, padded with spaces to 32 bytes."""
    raw = label.encode("ascii")
    if len(raw) > TOKEN_LABEL_SIZE:
        raise ValueError("token label longer than 32 bytes")
    return raw.ljust(TOKEN_LABEL_SIZE, b" ")


def my_number_record(my_number: str) -> bytes:
    """EF ``0001`` of the input-support AP: ``FF 10 0C <12 digits> FF FF`` (17 bytes)."""
    if len(my_number) != 12 or not my_number.isdigit():
        raise ValueError("My Number must be 12 digits")
    return b"\xff\x10\x0c" + my_number.encode("ascii") + b"\xff\xff"


def check_number_b(holder: HolderFacts) -> str:
    """照合番号B: birth date YYMMDD + card expiry year YYYY + 4-digit security code."""
    return holder.birth_date[2:8] + holder.card_expiry_year + holder.security_code


def basic_four_record(holder: HolderFacts) -> bytes:
    """EF ``0002``: ``FF20 { DF21 offsets, DF22 name, DF23 address, DF24 birth, DF25 sex }``.

    DF21 holds four big-endian 16-bit offsets, counted from the first byte of the file, of the
    DF22..DF25 tags (design decision: the public sources do not say where offsets start).
    """
    fields = [
        Tlv(0xDF22, holder.name.encode("utf-8")),
        Tlv(0xDF23, holder.address.encode("utf-8")),
        Tlv(0xDF24, holder.birth_date.encode("ascii")),
        Tlv(0xDF25, holder.sex.encode("ascii")),
    ]
    encoded = [item.encode() for item in fields]
    header_len = len(Tlv(0xDF21, bytes(8)).encode())
    body_len = header_len + sum(len(e) for e in encoded)
    outer_header_len = len(Tlv(0xFF20, bytes(body_len)).encode()) - body_len
    offsets = bytearray()
    position = outer_header_len + header_len
    for item in encoded:
        offsets += position.to_bytes(2, "big")
        position += len(item)
    body = Tlv(0xDF21, bytes(offsets)).encode() + b"".join(encoded)
    return Tlv(0xFF20, body).encode()
