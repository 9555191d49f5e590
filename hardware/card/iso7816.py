"""ISO 7816-4 on top of a :class:`CardConnection`: formatting, chaining, status words, errors.

:class:`Iso7816Channel` sends :class:`CommandApdu` objects in short or extended form, follows
``61xx`` (GET RESPONSE) and ``6Cxx`` (re-send with the exact Le) with hard limits so a broken card
cannot keep the kiosk in a loop, chains commands that are too long for short form when the card
or reader cannot take extended APDUs, and turns every status word other than ``90 00`` into a
typed :class:`ApduError`. It also counts traffic and logs it with VERIFY data redacted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hardware.card.apdu import SHORT_MAX_LC, SHORT_MAX_LE, CommandApdu, ResponseApdu
from hardware.card.errors import (
    ApduError,
    FileNotFoundOnCardError,
    InvalidPinError,
    PinBlockedError,
    ProtocolError,
    SecurityStatusError,
    WrongLengthError,
)
from hardware.card.status import SW, describe_sw, is_tries_left
from hardware.card.transport import CardConnection

log = logging.getLogger(__name__)

INS_GET_RESPONSE = 0xC0
SECRET_INS = frozenset({0x20, 0x24, 0x2C})  # VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER
MAX_RESPONSE_ROUNDS = 32  # GET RESPONSE rounds before a chain counts as endless
MAX_RESPONSE_BYTES = 65536 + 2


def raise_for_sw(sw: int, data: bytes = b"") -> None:
    """Raise the typed error for ``sw``; return quietly for ``90 00``."""
    if sw == SW.OK:
        return
    if is_tries_left(sw):
        raise InvalidPinError(sw, sw & 0x0F)
    if sw in (SW.REFERENCE_DATA_BLOCKED, SW.AUTH_METHOD_BLOCKED):
        raise PinBlockedError(sw)
    raise _ERROR_BY_SW.get(sw, ApduError)(sw, data)


_ERROR_BY_SW: dict[int, type[ApduError]] = {
    SW.FILE_NOT_FOUND: FileNotFoundOnCardError,
    SW.SECURITY_STATUS_NOT_SATISFIED: SecurityStatusError,
    SW.WRONG_LENGTH: WrongLengthError,
}


def redact(command: bytes | bytearray) -> str:
    """Hex of a command for logs; the data of PIN commands is replaced by ``**``."""
    if len(command) > 5 and command[1] in SECRET_INS:
        return bytes(command[:5]).hex(" ") + " **" * (len(command) - 5)
    return bytes(command).hex(" ")


@dataclass
class TrafficCounter:
    """APDUs exchanged and bytes each way (for ``make bench`` and diagnostics)."""

    commands: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


class Iso7816Channel:
    """APDU-level access to one card over one connection."""

    def __init__(self, connection: CardConnection, *, extended: bool = True) -> None:
        self.connection = connection
        self.extended = extended
        self.traffic = TrafficCounter()

    def exchange(self, command: bytes | bytearray) -> ResponseApdu:
        """One raw round trip, counted and logged (redacted)."""
        log.debug("> %s", redact(command))
        raw = self.connection.transceive(command)
        self.traffic.commands += 1
        self.traffic.bytes_sent += len(command)
        self.traffic.bytes_received += len(raw)
        response = ResponseApdu.parse(raw)
        log.debug("< %d bytes %s", len(response.data), describe_sw(response.sw))
        return response

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        """Send ``apdu`` and collect the whole response, without judging the status word."""
        if apdu.needs_extended() and not self.extended:
            return self._transmit_chained(apdu)
        return self._complete(apdu, self.exchange(apdu.encode()))

    def send(self, apdu: CommandApdu) -> bytes:
        """Send ``apdu``; return its data on ``90 00`` or raise the typed error."""
        response = self.transmit(apdu)
        raise_for_sw(response.sw, response.data)
        if apdu.le and len(response.data) > apdu.le:
            raise ProtocolError(f"card sent {len(response.data)} bytes where {apdu.le} were asked")
        if not apdu.le and response.data:
            raise ProtocolError(f"card sent {len(response.data)} bytes where none were expected")
        return response.data

    def send_secret(self, header: bytes, secret: bytearray) -> ResponseApdu:
        """Send a case-3 command whose data is a secret, from a buffer wiped right after.

        The APDU is assembled in a ``bytearray`` that is zeroed once the card has answered; the
        caller owns ``secret`` and wipes it too.
        """
        if not 0 < len(secret) <= SHORT_MAX_LC:
            raise ValueError("secret must be 1..255 bytes")
        command = bytearray(header) + bytearray((len(secret),)) + secret
        try:
            return self.exchange(command)
        finally:
            command[:] = bytes(len(command))

    def _complete(self, apdu: CommandApdu, response: ResponseApdu) -> ResponseApdu:
        """Follow ``6Cxx`` once and ``61xx`` up to the limits; anything else is final."""
        if response.sw1 == 0x6C:
            exact = response.sw2 or SHORT_MAX_LE
            retry = CommandApdu(apdu.cla, apdu.ins, apdu.p1, apdu.p2, apdu.data, exact)
            response = self.exchange(retry.encode())
            if response.sw1 == 0x6C:
                raise ProtocolError("card asked twice for a different Le (6Cxx loop)")
        collected = bytearray(response.data)
        rounds = 0
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > MAX_RESPONSE_ROUNDS or len(collected) > MAX_RESPONSE_BYTES:
                raise ProtocolError("card never ended its response chain (endless 61xx)")
            get = CommandApdu(0x00, INS_GET_RESPONSE, 0, 0, le=response.sw2 or SHORT_MAX_LE)
            response = self.exchange(get.encode())
            collected += response.data
        return ResponseApdu(bytes(collected), response.sw)

    def _transmit_chained(self, apdu: CommandApdu) -> ResponseApdu:
        """Command chaining (CLA bit 5) for data longer than short form allows."""
        parts = [apdu.data[i : i + SHORT_MAX_LC] for i in range(0, len(apdu.data), SHORT_MAX_LC)]
        for part in parts[:-1]:
            link = CommandApdu(apdu.cla | 0x10, apdu.ins, apdu.p1, apdu.p2, part)
            response = self.exchange(link.encode())
            if response.sw != SW.OK:
                return response
        last = CommandApdu(apdu.cla, apdu.ins, apdu.p1, apdu.p2, parts[-1], min(apdu.le, 256))
        return self._complete(last, self.exchange(last.encode()))
