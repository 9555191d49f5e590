"""Reading whole transparent files with READ BINARY, as few APDUs as the link allows."""

from __future__ import annotations

from hardware.card.apdu import EXTENDED_MAX_LE, SHORT_MAX_LE, CommandApdu
from hardware.card.errors import ApduError, ProtocolError, WrongLengthError
from hardware.card.iso7816 import Iso7816Channel
from hardware.card.status import SW

INS_READ_BINARY = 0xB0
INS_SELECT = 0xA4
MAX_FILE_SIZE = 32768  # 15-bit offsets: nothing on the card is larger


def select_file(channel: Iso7816Channel, fid: int) -> None:
    """``00 A4 02 0C 02 <FID>``: the only EF select form the card accepts."""
    channel.send(CommandApdu(0x00, INS_SELECT, 0x02, 0x0C, fid.to_bytes(2, "big")))


def read_binary(channel: Iso7816Channel, offset: int, length: int) -> bytes:
    """Up to ``length`` bytes of the current EF from ``offset``."""
    if not 0 <= offset < MAX_FILE_SIZE:
        raise ValueError("offset must fit in 15 bits")
    return channel.send(CommandApdu(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=length))


def read_whole_file(channel: Iso7816Channel, sfi: int) -> bytes:
    """The whole EF with short id ``sfi``: one extended READ BINARY when the link takes extended
    APDUs, else 256-byte pieces until a short piece (or ``6B 00`` exactly at the end)."""
    if not 1 <= sfi <= 30:
        raise ValueError("short file identifiers are 1..30")
    first_le = EXTENDED_MAX_LE if channel.extended else SHORT_MAX_LE
    first = CommandApdu(0x00, INS_READ_BINARY, 0x80 | sfi, 0x00, le=first_le)
    try:
        content = bytearray(channel.send(first))
    except WrongLengthError:
        if not channel.extended:
            raise
        channel.extended = False  # the reader or card refused extended Le: short from now on
        return read_whole_file(channel, sfi)
    if len(content) < first_le:
        return bytes(content)
    if channel.extended:
        raise ProtocolError("file larger than 64 KiB")
    while True:
        if len(content) >= MAX_FILE_SIZE:
            raise ProtocolError("file larger than the card's address space")
        try:
            piece = read_binary(channel, len(content), SHORT_MAX_LE)
        except ApduError as exc:
            if exc.sw == SW.WRONG_P1P2:  # the file ended exactly on a piece boundary
                return bytes(content)
            raise
        content += piece
        if len(piece) < SHORT_MAX_LE:
            return bytes(content)
