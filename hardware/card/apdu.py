"""Command and response APDUs (ISO/IEC 7816-4 §5): encoding for the kiosk, parsing for the emulator.

Both sides use the same :class:`CommandApdu`, so a command the client builds is exactly what the
emulator parses. Short form: ``Lc`` and ``Le`` one byte each (``Le = 00`` means 256). Extended
form: a ``00`` marker, then two-byte ``Lc``/``Le`` (``Le = 0000`` means 65,536).
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.card.errors import ProtocolError

SHORT_MAX_LC = 255
SHORT_MAX_LE = 256
EXTENDED_MAX_LC = 65535
EXTENDED_MAX_LE = 65536


class MalformedApduError(ValueError):
    """A command APDU whose length fields do not match its size."""


@dataclass(frozen=True)
class CommandApdu:
    """One command: header, data and the expected response length (0 = none expected)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int = 0
    extended: bool = False

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def needs_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_LC or self.le > SHORT_MAX_LE

    def encode(self) -> bytes:
        """The bytes on the wire; extended form when asked for or when the lengths require it."""
        if len(self.data) > EXTENDED_MAX_LC or not 0 <= self.le <= EXTENDED_MAX_LE:
            raise ValueError("APDU lengths exceed ISO 7816-4 limits")
        out = bytearray(self.header)
        if self.extended or self.needs_extended():
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
                if self.le:
                    out += (self.le % 65536).to_bytes(2, "big")
            elif self.le:
                out += b"\x00" + (self.le % 65536).to_bytes(2, "big")
            return bytes(out)
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le:
            out.append(self.le % 256)
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Decode the four ISO cases in short or extended form; :class:`MalformedApduError` if none fits.

        ``Le`` of a case-2/4 command is reported as 256 (short) or 65,536 (extended) for ``00``.
        """
        if len(raw) < 4:
            raise MalformedApduError("command shorter than its 4-byte header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        if body[0] != 0:
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), le=body[-1] or 256)
            raise MalformedApduError("short Lc does not match the command length")
        if len(body) == 3:
            return cls(cla, ins, p1, p2, le=int.from_bytes(body[1:3], "big") or 65536, extended=True)
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise MalformedApduError("extended Lc of zero")
        if len(body) == 3 + lc:
            return cls(cla, ins, p1, p2, bytes(body[3:]), extended=True)
        if len(body) == 5 + lc:
            le = int.from_bytes(body[-2:], "big") or 65536
            return cls(cla, ins, p1, p2, bytes(body[3 : 3 + lc]), le=le, extended=True)
        raise MalformedApduError("extended Lc does not match the command length")


@dataclass(frozen=True)
class ResponseApdu:
    """A response: data and status word."""

    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        """Split a response; :class:`ProtocolError` when there is no status word."""
        if len(raw) < 2:
            raise ProtocolError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")
