"""APDU encoding and parsing, TLV, status-word names, My Number check digits."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.card.apdu import CommandApdu, MalformedApduError, ResponseApdu
from hardware.card.errors import ProtocolError
from hardware.card.mynumber import check_digit, is_valid, random_my_number
from hardware.card.status import describe_sw
from hardware.card.tlv import Tlv, TlvError, parse_all, read_tlv


@pytest.mark.parametrize(
    ("apdu", "wire"),
    [
        (CommandApdu(0x00, 0x20, 0x00, 0x80), "00200080"),
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, le=256), "00b0000000"),
        (CommandApdu(0x00, 0xB0, 0x8A, 0x00, le=65536), "00b08a00000000"),
        (CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x00\x18"), "00a4020c020018"),
        (CommandApdu(0x80, 0x2A, 0x00, 0x80, b"\x01", le=256), "802a0080010100"),
        (CommandApdu(0x80, 0x2A, 0x00, 0x80, bytes(300), le=256), "802a008000012c" + "00" * 300 + "0100"),
    ],
)
def test_encoding_short_and_extended(apdu: CommandApdu, wire: str) -> None:
    assert apdu.encode().hex() == wire
    parsed = CommandApdu.parse(bytes.fromhex(wire))
    assert (parsed.data, parsed.le) == (apdu.data, apdu.le)


@given(
    data=st.binary(max_size=400),
    le=st.integers(0, 65536),
    extended=st.booleans(),
    header=st.tuples(*[st.integers(0, 255)] * 4),
)
def test_parse_inverts_encode(
    data: bytes, le: int, extended: bool, header: tuple[int, int, int, int]
) -> None:
    apdu = CommandApdu(*header, data=data, le=le, extended=extended)
    parsed = CommandApdu.parse(apdu.encode())
    assert parsed.header == apdu.header
    assert parsed.data == data
    assert parsed.le == le


@given(st.binary(max_size=20))
def test_parse_never_crashes(raw: bytes) -> None:
    with contextlib.suppress(MalformedApduError):
        CommandApdu.parse(raw)


def test_malformed_commands() -> None:
    for hex_text in ["00a4", "00a4040c0ad392", "00b0000000000201", "00b000000000"]:
        with pytest.raises(MalformedApduError):
            CommandApdu.parse(bytes.fromhex(hex_text))


def test_response_needs_a_status_word() -> None:
    assert ResponseApdu.parse(b"\x01\x90\x00") == ResponseApdu(b"\x01", 0x9000)
    with pytest.raises(ProtocolError):
        ResponseApdu.parse(b"\x90")


def test_status_words_have_readable_names() -> None:
    assert describe_sw(0x6982) == "69 82 SECURITY_STATUS_NOT_SATISFIED"
    assert describe_sw(0x63C2) == "63 C2 TRIES_LEFT(2)"
    assert describe_sw(0x6100) == "61 00 MORE_DATA(256)"
    assert describe_sw(0x6F12) == "6F 12 UNKNOWN"


def test_tlv_with_two_byte_tags_and_long_lengths() -> None:
    long = Tlv(0xDF23, "東京都".encode() * 20)
    encoded = Tlv(0xFF20, Tlv(0xDF21, bytes(8)).encode() + long.encode()).encode()
    assert encoded[:4] == b"\xff\x20\x81\xc3"
    outer, end = read_tlv(encoded)
    assert end == len(encoded)
    assert parse_all(outer.value)[1] == long
    broken_tlvs = [
        b"\xff",
        b"\xdf\x21",
        b"\xdf\x21\x05\x00",
        b"\x30\x83\x00\x00\x01",
        b"\x1f\xff\xff\xff\xff",
    ]
    for broken in broken_tlvs:
        with pytest.raises(TlvError):
            read_tlv(broken)


def test_my_number_check_digit() -> None:
    # weights from the right: 2,3,4,5,6,7,2,3,4,5,6
    assert check_digit("12345678901") == 8
    assert is_valid("123456789018") and not is_valid("123456789010")
    assert all(is_valid(random_my_number()) for _ in range(20))
