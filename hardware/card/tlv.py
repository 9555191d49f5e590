"""BER-TLV as the input-support application stores its records (``FF 20 L { DF21 … }``).

Tags keep their raw bytes (``FF20``, ``DF21``): a first byte with the low five bits set is followed
by tag bytes until one has bit 8 clear. Lengths are definite: ``< 80``, ``81 xx`` or ``82 xx xx``.
"""

from __future__ import annotations

from dataclasses import dataclass


class TlvError(ValueError):
    """Bytes that are not well-formed BER-TLV."""


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    def encode(self) -> bytes:
        return encode_tag(self.tag) + encode_length(len(self.value)) + self.value


def encode_tag(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    if length <= 0xFF:
        return bytes((0x81, length))
    if length <= 0xFFFF:
        return b"\x82" + length.to_bytes(2, "big")
    raise TlvError("TLV value longer than 65,535 bytes")


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Decode one TLV at ``offset``; returns it and the offset just after it."""
    end = len(data)
    if offset >= end:
        raise TlvError("no TLV at end of data")
    first = data[offset]
    tag = first
    pos = offset + 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= end:
                raise TlvError("tag runs past the end of data")
            tag = (tag << 8) | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
            if pos - offset > 4:
                raise TlvError("tag longer than 4 bytes")
    if pos >= end:
        raise TlvError("missing length")
    length = data[pos]
    pos += 1
    if length & 0x80:
        count = length & 0x7F
        if count not in (1, 2) or pos + count > end:
            raise TlvError("unsupported or truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise TlvError("value runs past the end of data")
    return Tlv(tag, bytes(data[pos : pos + length])), pos + length


def parse_all(data: bytes) -> list[Tlv]:
    """Decode a sequence of TLVs filling ``data`` exactly."""
    items = []
    offset = 0
    while offset < len(data):
        item, offset = read_tlv(data, offset)
        items.append(item)
    return items
