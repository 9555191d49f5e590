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
        (messages.COIN, (1, 100)),  # a value missing
        (messages.COIN, (1, 100, 200, 300)),  # one too many
        (messages.COIN, (1, 70_000, 100)),  # over its 16 bits
        (messages.COIN, (70_000, 100, 100)),  # a payment number over its 16 bits
        (messages.OPEN_PAYMENT, (1, -1)),  # negative
        (messages.OPEN_PAYMENT, (1, 2**32)),
        (messages.OPEN_PAYMENT, (-1, 100)),
        (messages.OPEN_PAYMENT, (100,)),  # the fee alone, as version 1 had it
        (messages.RETURN_PAYMENT, ()),  # no payment named
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
        (messages.COIN, b"\x00\x64\x00\x00\x00\x64"),  # version 1's COIN: no payment number
        (messages.COIN, b"\x00" * 9),  # too long
        (messages.OPEN_PAYMENT, b"\x00\x00\x01\x2c"),  # version 1's OPEN_PAYMENT: the fee alone
        (messages.RETURN_PAYMENT, b""),
        (messages.GET_STATUS, b"\x00"),  # no data expected
    ],
)
def test_what_does_not_fit_is_refused_when_decoding(code: int, data: bytes) -> None:
    with pytest.raises(messages.BadMessage):
        messages.decode(code, data)
    with pytest.raises(messages.BadMessage):
        messages.fields(code, data)


def test_every_payment_message_names_its_payment_first() -> None:
    """The host tells a late event of an earlier payment from one of the open payment by it."""
    assert set(messages.PAYMENT_MESSAGES) == {
        messages.OPEN_PAYMENT,
        messages.ACCEPT_PAYMENT,
        messages.RETURN_PAYMENT,
        messages.COIN,
        messages.COIN_RETURNED,
        messages.PAYMENT_ACCEPTED,
        messages.PAYMENT_RETURNED,
    }
    for code in messages.PAYMENT_MESSAGES:
        layout, names = messages.FORMATS[code]
        assert (layout[1], names[0]) == ("H", "payment"), messages.NAMES[code]
    layout, names = messages.FORMATS[messages.STATUS]
    assert layout[names.index("payment") + 1] == "H"


def test_the_payment_number_is_on_the_wire_big_endian_before_the_rest() -> None:
    assert messages.encode(messages.OPEN_PAYMENT, 0x1234, 300) == b"\x12\x34\x00\x00\x01\x2c"
    assert messages.encode(messages.RETURN_PAYMENT, 7) == b"\x00\x07"
    coin = messages.encode(messages.COIN, 2, 100, 600)
    assert coin == b"\x00\x02\x00\x64\x00\x00\x02\x58"
    assert messages.fields(messages.COIN, coin) == {"payment": 2, "value": 100, "held": 600}
    assert messages.fields(messages.COIN_RETURNED, b"\x00\x00\x00\x0a") == {"payment": 0, "value": 10}
    accepted = messages.encode(messages.PAYMENT_ACCEPTED, 9, 680, 80, 0)
    assert messages.fields(messages.PAYMENT_ACCEPTED, accepted) == {
        "payment": 9,
        "accepted": 680,
        "change": 80,
        "owed": 0,
    }
    assert messages.decode(messages.PAYMENT_RETURNED, b"\xff\xff\x00\x00\x00\xc8") == (0xFFFF, 200)
    status = messages.fields(messages.STATUS, messages.encode(messages.STATUS, 1, 0, 5, 300, 100, 2, 9, 1, 0))
    assert (status["payment"], status["fee"], status["held"]) == (5, 300, 100)


def test_payment_numbers_go_round_and_skip_none() -> None:
    assert messages.next_payment(1) == 2
    assert messages.next_payment(messages.LAST_PAYMENT - 1) == messages.LAST_PAYMENT
    assert messages.next_payment(messages.LAST_PAYMENT) == 1
    assert messages.next_payment(messages.NO_PAYMENT) == 1
    assert messages.LAST_PAYMENT == 0xFFFF  # the largest the u16 field holds
