"""The peripheral link's messages (firmware/messages.py) on CPython: every layout round-trips, and
what does not fit is a typed error (the same module runs on the board: tests/test_firmware_units.py)."""

from __future__ import annotations

import struct

import pytest

from firmware import messages


@pytest.mark.parametrize("code", sorted(messages.FORMATS))
def test_every_message_round_trips_at_its_limits(code: int) -> None:
    layout, names = messages.FORMATS[code]
    largest = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFFFFFF}
    for values in ([0] * len(names), [largest[kind] for kind in layout[1:]]):
        data = messages.encode(code, *values)
        assert len(data) == struct.calcsize(layout) <= 63  # one link DATA message
        assert list(messages.decode(code, data)) == values
        assert messages.fields(code, data) == dict(zip(names, values, strict=True))
    assert code in messages.NAMES


def test_commands_and_events_keep_to_their_ranges() -> None:
    commands = [code for code in messages.FORMATS if code < 0x80]
    events = [code for code in messages.FORMATS if code >= 0x80]
    assert commands and events
    assert all(messages.NAMES[code].isupper() for code in messages.FORMATS)
    assert len(set(messages.NAMES.values())) == len(messages.NAMES)


@pytest.mark.parametrize(
    ("code", "values"),
    [
        (0x7F, ()),  # no such message
        (messages.COIN, (100,)),  # a value missing
        (messages.COIN, (100, 200, 300)),  # one too many
        (messages.COIN, (70_000, 100)),  # over its 16 bits
        (messages.OPEN_PAYMENT, (-1,)),  # negative
        (messages.OPEN_PAYMENT, (2**32,)),
        (messages.SET_LIGHT, ("blink",)),  # not a number
        (messages.SET_LIGHT, (1.5,)),
    ],
)
def test_what_does_not_fit_is_refused_when_encoding(code: int, values: tuple[object, ...]) -> None:
    with pytest.raises(messages.BadMessage):
        messages.encode(code, *values)


@pytest.mark.parametrize(
    ("code", "data"),
    [
        (0x7F, b""),
        (messages.COIN, b"\x00\x64"),  # too short
        (messages.COIN, b"\x00" * 7),  # too long
        (messages.GET_STATUS, b"\x00"),  # no data expected
    ],
)
def test_what_does_not_fit_is_refused_when_decoding(code: int, data: bytes) -> None:
    with pytest.raises(messages.BadMessage):
        messages.decode(code, data)
    with pytest.raises(messages.BadMessage):
        messages.fields(code, data)
