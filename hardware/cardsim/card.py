"""The My Number Card emulator (マイナンバーカードエミュレータ): one APDU in, one APDU out.

:meth:`VirtualCard.process` answers every command byte for byte as ``reference/jpki-card.md``
describes, and never raises: a broken command gets a status word, as a chip would give.
Volatile state (selected application and file, verified PINs, a command chain) is lost on
power-off; retry counters and changed PINs are committed to the card's file before the answer.
The design decisions where the reference leaves questions open are in ``docs/card-emulator.md``.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hardware.card.apdu import CommandApdu, MalformedApduError
from hardware.card.profile import MAX_SIGN_INPUT
from hardware.card.status import SW
from hardware.cardsim.filesystem import (
    POLICIES,
    Application,
    BinaryFile,
    ElementaryFile,
    KeyFile,
    PinFile,
    build_applications,
)
from hardware.cardsim.state import CardState, CardStore

log = logging.getLogger(__name__)

# Contact ATR of a real My Number Card: T=1, card capabilities 73 C6 01 C0 (chaining, extended Lc/Le).
CONTACT_ATR = bytes.fromhex("3BDA13FF8131FB468012392F31C173C601C03B")
MIN_AID_PREFIX = 5  # a registered application provider identifier (RID) at least

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20
INS_CHANGE_REFERENCE_DATA = 0x24
INS_COMPUTE_SIGNATURE = 0x2A
CLA_PROPRIETARY = 0x80
CLA_CHAINING = 0x10


@dataclass(frozen=True)
class ContactlessParameters:
    """What the card says in its ATQB/SENSB_RES (ISO 14443-3 Type B)."""

    pupi: bytes = bytes.fromhex("4A504B49")  # pseudo-unique PICC identifier
    application_data: bytes = bytes(4)
    protocol_info: bytes = bytes.fromhex("B381A1")  # frames up to 256 bytes, FWI 10 (≈309 ms)

    def __post_init__(self) -> None:
        sizes = (len(self.pupi), len(self.application_data), len(self.protocol_info))
        if sizes != (4, 4, 3):
            raise ValueError("PUPI and application data are 4 bytes, protocol info 3")

    @property
    def sensb_res(self) -> bytes:
        """SENSB_RES (ATQB): ``50 || PUPI (4) || application data (4) || protocol info (3)``."""
        return b"\x50" + self.pupi + self.application_data + self.protocol_info

    @property
    def atr(self) -> bytes:
        """The ATR a PC/SC contactless reader synthesises (PC/SC part 3, Type B)."""
        body = b"\x88\x80\x01" + self.application_data + self.protocol_info + b"\x00"
        tck = 0
        for byte in body:
            tck ^= byte
        return b"\x3b" + body + bytes((tck,))


class _Reply(Exception):
    """Internal shortcut: answer with this status word (and data) now."""

    def __init__(self, sw: int, data: bytes = b"") -> None:
        self.sw = sw
        self.data = data


def _fail(sw: int) -> _Reply:
    return _Reply(sw)


class VirtualCard:
    """A personalised card; attach it to a reader with one of the links in ``hardware.cardsim``."""

    def __init__(
        self,
        state: CardState,
        store: CardStore | None = None,
        *,
        sign_delay: float = 0.0,
        contactless: ContactlessParameters | None = None,
    ) -> None:
        self._state = state
        self._store = store
        self.sign_delay = sign_delay
        self.contactless = contactless or ContactlessParameters()
        self.atr = CONTACT_ATR
        self._apps = build_applications(state)
        self._keys = {
            "auth": _load_key(state.auth_key_pem),
            **({"sign": _load_key(state.sign_key_pem)} if state.sign_key_pem else {}),
        }
        self._powered = False
        self._clear_volatile()

    @classmethod
    def open(cls, path: Path | str, **options: float) -> VirtualCard:
        """Load a card from its state file; PIN counters are written back to the same file."""
        store = CardStore(Path(path))
        return cls(store.load(POLICIES), store, sign_delay=options.get("sign_delay", 0.0))

    @property
    def state(self) -> CardState:
        return self._state

    # -- power ---------------------------------------------------------------------------------

    def power_on(self) -> bytes:
        """Cold or warm reset: every security state is gone; returns the ATR."""
        self._clear_volatile()
        self._powered = True
        return self.atr

    def power_off(self) -> None:
        self._clear_volatile()
        self._powered = False

    def _clear_volatile(self) -> None:
        self._app: Application | None = None
        self._ef: int | None = None
        self._verified: set[str] = set()
        self._chain: tuple[bytes, bytearray] | None = None

    # -- commands ------------------------------------------------------------------------------

    def process(self, command: bytes) -> bytes:
        """Answer one command APDU; never raises."""
        try:
            data = self._dispatch(bytes(command))
            sw = SW.OK.value
        except _Reply as reply:
            data, sw = reply.data, reply.sw
        except Exception:  # a chip never crashes: it answers "unknown error"
            log.exception("emulator fault while processing INS %02X", command[1:2] or b"?")
            data, sw = b"", SW.UNKNOWN_ERROR.value
        log.debug("INS %s -> %04X (%d bytes)", bytes(command[1:2]).hex(), sw, len(data))
        return data + sw.to_bytes(2, "big")

    def _dispatch(self, raw: bytes) -> bytes:
        try:
            apdu = CommandApdu.parse(raw)
        except MalformedApduError:
            raise _fail(SW.WRONG_LENGTH) from None
        apdu = self._unchain(apdu)
        cla = apdu.cla & ~CLA_CHAINING
        if cla & 0x0C:
            raise _fail(SW.SECURE_MESSAGING_NOT_SUPPORTED)
        if cla & 0x03:
            raise _fail(SW.LOGICAL_CHANNEL_NOT_SUPPORTED)
        if cla == 0x00:
            handler = {
                INS_SELECT: self._select,
                INS_READ_BINARY: self._read_binary,
                INS_VERIFY: self._verify,
                INS_CHANGE_REFERENCE_DATA: self._change_reference_data,
            }.get(apdu.ins)
        elif cla == CLA_PROPRIETARY:
            handler = {INS_COMPUTE_SIGNATURE: self._compute_signature}.get(apdu.ins)
        else:
            raise _fail(SW.CLA_NOT_SUPPORTED)
        if handler is None:
            raise _fail(SW.INS_NOT_SUPPORTED)
        return handler(apdu)

    def _unchain(self, apdu: CommandApdu) -> CommandApdu:
        """ISO 7816-4 command chaining (CLA bit 5): collect the parts, run the whole command."""
        if apdu.cla & CLA_CHAINING:
            header = bytes((apdu.cla & ~CLA_CHAINING, apdu.ins, apdu.p1, apdu.p2))
            if self._chain and self._chain[0] != header:
                self._chain = None
                raise _fail(SW.CONDITIONS_NOT_SATISFIED)
            if self._chain is None:
                self._chain = (header, bytearray())
            self._chain[1].extend(apdu.data)
            if len(self._chain[1]) > 65535:
                self._chain = None
                raise _fail(SW.WRONG_LENGTH)
            raise _Reply(SW.OK)
        if self._chain is None:
            return apdu
        header, collected = self._chain
        self._chain = None
        if header != apdu.header:
            raise _fail(SW.CONDITIONS_NOT_SATISFIED)
        return CommandApdu(apdu.cla, apdu.ins, apdu.p1, apdu.p2, bytes(collected) + apdu.data, apdu.le, True)

    # SELECT ----------------------------------------------------------------------------------

    def _select(self, apdu: CommandApdu) -> bytes:
        if apdu.p2 not in (0x00, 0x0C):
            raise _fail(SW.INCORRECT_P1P2)
        if apdu.p1 == 0x04:
            return self._select_application(apdu.data)
        if apdu.p1 == 0x02:
            return self._select_file(apdu.data)
        raise _fail(SW.INCORRECT_P1P2)  # MF (00), path (08, 09) and the rest are not supported

    def _select_application(self, name: bytes) -> bytes:
        if not MIN_AID_PREFIX <= len(name) <= 16:
            raise _fail(SW.FILE_NOT_FOUND) if name else _fail(SW.WRONG_LENGTH)
        for aid, app in self._apps.items():
            if aid.value.startswith(name):
                self._app, self._ef = app, None
                self._verified.clear()  # re-selecting logs every PIN out
                return b""
        raise _fail(SW.FILE_NOT_FOUND)

    def _select_file(self, fid: bytes) -> bytes:
        if len(fid) != 2:
            raise _fail(SW.WRONG_LENGTH)
        number = int.from_bytes(fid, "big")
        if self._app is None or number not in self._app.files:
            raise _fail(SW.FILE_NOT_FOUND)
        self._ef = number
        return b""

    def _current_file(self) -> ElementaryFile:
        if self._app is None or self._ef is None:
            raise _fail(SW.FILE_NOT_FOUND)
        return self._app.files[self._ef]

    # READ BINARY -----------------------------------------------------------------------------

    def _read_binary(self, apdu: CommandApdu) -> bytes:
        if apdu.data or not apdu.le:
            raise _fail(SW.WRONG_LENGTH)
        if apdu.p1 & 0x80:
            if apdu.p1 & 0x60:
                raise _fail(SW.INCORRECT_P1P2)
            self._select_file(bytes((0, apdu.p1 & 0x1F)))
            offset = apdu.p2
        else:
            offset = (apdu.p1 << 8) | apdu.p2
        ef = self._current_file()
        if not isinstance(ef, BinaryFile):
            raise _fail(SW.SECURITY_STATUS_NOT_SATISFIED)  # keys and PINs are never readable
        if ef.opened_by and not self._verified.intersection(ef.opened_by):
            raise _fail(SW.SECURITY_STATUS_NOT_SATISFIED)
        if offset >= len(ef.content):
            raise _fail(SW.WRONG_P1P2)
        return ef.content[offset : offset + apdu.le]

    # VERIFY / CHANGE REFERENCE DATA ----------------------------------------------------------

    def _current_pin(self, apdu: CommandApdu, p1: int) -> str:
        if apdu.p1 != p1 or apdu.p2 != 0x80:
            raise _fail(SW.INCORRECT_P1P2)
        ef = self._current_file()
        if not isinstance(ef, PinFile):
            raise _fail(SW.FILE_NOT_FOUND)
        return ef.pin

    def _verify(self, apdu: CommandApdu) -> bytes:
        key = self._current_pin(apdu, 0x00)
        ref = self._state.pins[key]
        if not apdu.data:  # the tries query: 63 Cx, never 90 00
            raise _fail(0x63C0 | ref.tries_left)
        if ref.blocked:
            raise _fail(SW.REFERENCE_DATA_BLOCKED)
        if not ref.policy.min_length <= len(apdu.data) <= ref.policy.max_length:
            raise _fail(SW.WRONG_LENGTH)  # decision: a wrong-length PIN costs no try
        if ref.matches(apdu.data):
            if ref.tries_left != ref.policy.max_tries:
                ref.tries_left = ref.policy.max_tries
                self._commit()
            self._verified.add(key)
            return b""
        ref.tries_left -= 1
        self._verified.discard(key)
        self._commit()  # the counter reaches the card's memory before the answer leaves
        raise _fail(0x63C0 | ref.tries_left)

    def _change_reference_data(self, apdu: CommandApdu) -> bytes:
        key = self._current_pin(apdu, 0x01)
        ref = self._state.pins[key]
        if ref.blocked:
            raise _fail(SW.REFERENCE_DATA_BLOCKED)
        if key not in self._verified:
            raise _fail(SW.SECURITY_STATUS_NOT_SATISFIED)
        if not ref.policy.min_length <= len(apdu.data) <= ref.policy.max_length:
            raise _fail(SW.WRONG_LENGTH)
        if ref.policy.check(apdu.data):
            raise _fail(SW.WRONG_DATA)
        ref.replace(apdu.data)
        self._commit()
        return b""

    def _commit(self) -> None:
        if self._store is not None:
            self._store.save(self._state)

    # COMPUTE DIGITAL SIGNATURE ---------------------------------------------------------------

    def _compute_signature(self, apdu: CommandApdu) -> bytes:
        if apdu.p1 != 0x00:
            raise _fail(SW.INCORRECT_P1P2)
        if apdu.p2 & 0x80 and apdu.p2 & 0x1F:
            self._select_file(bytes((0, apdu.p2 & 0x1F)))
        elif apdu.p2 != 0x80:
            raise _fail(SW.INCORRECT_P1P2)
        ef = self._current_file()
        if not isinstance(ef, KeyFile):
            raise _fail(SW.CONDITIONS_NOT_SATISFIED)
        if not 0 < len(apdu.data) <= MAX_SIGN_INPUT:
            raise _fail(SW.WRONG_LENGTH)
        if ef.pin not in self._verified:
            raise _fail(SW.SECURITY_STATUS_NOT_SATISFIED)
        started = time.monotonic()
        signature = pkcs1_v15_sign_raw(self._keys[ef.key], apdu.data)
        remaining = self.sign_delay - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)  # the chip's own RSA time, for links that must send WTX
        return signature


@functools.lru_cache(maxsize=64)
def _load_key(pem: bytes) -> rsa.RSAPrivateKey:
    """Parse (and check) a key once; re-opening the same card, as tests and links do, is cheap."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("card keys are RSA")
    return key


def pkcs1_v15_sign_raw(key: rsa.RSAPrivateKey, digest_info: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 over bytes given as they are (the card does not hash): type-1 padding,
    then the private-key operation with the CRT parameters."""
    numbers = key.private_numbers()
    size = (numbers.public_numbers.n.bit_length() + 7) // 8
    if len(digest_info) > size - 11:
        raise ValueError("input too long for PKCS#1 v1.5")
    block = b"\x00\x01" + b"\xff" * (size - 3 - len(digest_info)) + b"\x00" + digest_info
    m = int.from_bytes(block, "big")
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    return (s2 + h * numbers.q).to_bytes(size, "big")
