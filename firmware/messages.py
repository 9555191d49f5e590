"""The messages the kiosk and the peripheral controller exchange over the link (周辺機器の電文).

One module for both ends, like ``firmware.link``: it runs unchanged on MicroPython and CPython.
Every message is a link DATA message ``(code, data)``: a one-byte type code and at most 63 bytes,
big-endian, laid out by the ``struct`` formats below. Commands (host → board) have codes below
0x80, events (board → host) 0x80 and above. See docs/firmware.md, "Messages".

Money is in yen, unsigned 32-bit. Coins taken: 10, 50, 100, 500 yen (1 and 5 yen coins and anything
unrecognised are returned by the acceptor itself).

Every payment (支払い) has a number the host chooses, 1..65535 (0: no payment), given in OPEN_PAYMENT
and named by every message about the payment: ACCEPT_PAYMENT and RETURN_PAYMENT, COIN, COIN_RETURNED,
PAYMENT_ACCEPTED, PAYMENT_RETURNED and STATUS. An event the board sends again after its link failed
may arrive after the next payment opened; its number tells the host it is not about that one.
These layouts are those of link protocol version 2 (``link.PROTOCOL_VERSION``).
"""

try:
    from micropython import const
except ImportError:

    def const(value):
        return value


import struct

# -- commands, host → board ---------------------------------------------------------------------------
OPEN_PAYMENT = const(0x01)  # payment u16, fee u32: take coins into escrow until the fee is reached
ACCEPT_PAYMENT = const(0x02)  # payment u16, fee u32: escrow into the cash box, held − fee as change
RETURN_PAYMENT = const(0x03)  # payment u16: every coin in escrow back to the return cup; payment closed
SET_LIGHT = const(0x04)  # pattern u8 (LIGHT_*): the card tray's light
SET_BUZZER = const(0x05)  # pattern u8 (BUZZER_*)
SET_MAINTENANCE = const(0x06)  # on u8: staff opened maintenance mode (the door may open)
CLEAR_ALARM = const(0x07)  # (none): staff clear the latched alarm (only in maintenance mode)
GET_STATUS = const(0x08)  # (none): answered by STATUS

# -- events, board → host -----------------------------------------------------------------------------
BOOTED = const(0x80)  # reset cause u8 (RESET_*), returned u32: yen given back from escrow at boot
COIN = const(0x81)  # payment u16, value u16, held u32: a coin taken into escrow
COIN_RETURNED = const(0x82)  # payment u16 (0: none open), value u16: a coin refused (the fee reached…)
# payment u16, accepted u32, change u32 (due), owed u32 (of it, what the hoppers lacked)
PAYMENT_ACCEPTED = const(0x83)
PAYMENT_RETURNED = const(0x84)  # payment u16, returned u32
CARD_TRAY = const(0x85)  # present u8: the card tray's presence sensor
PAPER_TRAY = const(0x86)  # present u8: the printer's output tray sensor
DOOR = const(0x87)  # open u8: the maintenance door
ALARM = const(0x88)  # causes u8 (ALARM_* bits), latched until CLEAR_ALARM
STATUS = const(0x89)  # see STATUS_FORMAT
REFUSED = const(0x8A)  # command u8, reason u8 (REASON_*): a command the board will not carry out

# -- values ---------------------------------------------------------------------------------------------
LIGHT_OFF = const(0)
LIGHT_ON = const(1)
LIGHT_BLINK = const(2)

BUZZER_QUIET = const(0)
BUZZER_TAKE_CARD = const(1)  # two short beeps, repeated
BUZZER_TAKE_DOCUMENTS = const(2)  # one long beep, repeated

ALARM_DOOR = const(1)  # the maintenance door opened outside maintenance mode
ALARM_TAMPER = const(2)  # the tamper switch tripped (case opened, unit moved)

RESET_POWER_ON = const(0)
RESET_WATCHDOG = const(1)
RESET_SOFT = const(2)  # machine.soft_reset, or the unix port's start

REASON_BAD_MESSAGE = const(1)  # unknown code, data of the wrong length, a value out of range
REASON_PAYMENT_OPEN = const(2)  # OPEN_PAYMENT while a payment is open or coins are held
REASON_NO_PAYMENT = const(3)  # ACCEPT/RETURN naming a payment that is not open
REASON_NOT_PAID = const(4)  # ACCEPT_PAYMENT with less held than the fee
REASON_ALARM = const(5)  # OPEN_PAYMENT while the alarm is latched
REASON_NOT_MAINTENANCE = const(6)  # CLEAR_ALARM outside maintenance mode
REASON_STILL_TRIPPED = const(7)  # CLEAR_ALARM while the tamper switch is still tripped

# STATUS flags
STATUS_PAYMENT_OPEN = const(1)
STATUS_CARD_PRESENT = const(2)
STATUS_PAPER_PRESENT = const(4)
STATUS_DOOR_OPEN = const(8)
STATUS_MAINTENANCE = const(16)

COINS = (10, 50, 100, 500)
NO_PAYMENT = const(0)  # the payment number of none: STATUS with no payment open, a coin refused then
LAST_PAYMENT = const(0xFFFF)  # payment numbers are 1..LAST_PAYMENT; after it, 1 again

# the data of each message, by code: a struct format (big-endian) and field names
FORMATS = {
    OPEN_PAYMENT: (">HI", ("payment", "fee")),
    ACCEPT_PAYMENT: (">HI", ("payment", "fee")),
    RETURN_PAYMENT: (">H", ("payment",)),
    SET_LIGHT: (">B", ("pattern",)),
    SET_BUZZER: (">B", ("pattern",)),
    SET_MAINTENANCE: (">B", ("on",)),
    CLEAR_ALARM: (">", ()),
    GET_STATUS: (">", ()),
    BOOTED: (">BI", ("cause", "returned")),
    COIN: (">HHI", ("payment", "value", "held")),
    COIN_RETURNED: (">HH", ("payment", "value")),
    PAYMENT_ACCEPTED: (">HIII", ("payment", "accepted", "change", "owed")),
    PAYMENT_RETURNED: (">HI", ("payment", "returned")),
    CARD_TRAY: (">B", ("present",)),
    PAPER_TRAY: (">B", ("present",)),
    DOOR: (">B", ("open",)),
    ALARM: (">B", ("causes",)),
    # flags u8, alarm causes u8, payment u16 (0: none open), fee u32 (0: no payment), held u32,
    # reset cause u8, uptime s u32, heap free u32, link crc errors u16
    STATUS: (
        ">BBHIIBIIH",
        ("flags", "alarm", "payment", "fee", "held", "cause", "uptime", "heap_free", "crc_errors"),
    ),
    REFUSED: (">BB", ("command", "reason")),
}

NAMES = {
    OPEN_PAYMENT: "OPEN_PAYMENT",
    ACCEPT_PAYMENT: "ACCEPT_PAYMENT",
    RETURN_PAYMENT: "RETURN_PAYMENT",
    SET_LIGHT: "SET_LIGHT",
    SET_BUZZER: "SET_BUZZER",
    SET_MAINTENANCE: "SET_MAINTENANCE",
    CLEAR_ALARM: "CLEAR_ALARM",
    GET_STATUS: "GET_STATUS",
    BOOTED: "BOOTED",
    COIN: "COIN",
    COIN_RETURNED: "COIN_RETURNED",
    PAYMENT_ACCEPTED: "PAYMENT_ACCEPTED",
    PAYMENT_RETURNED: "PAYMENT_RETURNED",
    CARD_TRAY: "CARD_TRAY",
    PAPER_TRAY: "PAPER_TRAY",
    DOOR: "DOOR",
    ALARM: "ALARM",
    STATUS: "STATUS",
    REFUSED: "REFUSED",
}


# the messages about one payment: each names it by its number, its first field
PAYMENT_MESSAGES = (
    OPEN_PAYMENT,
    ACCEPT_PAYMENT,
    RETURN_PAYMENT,
    COIN,
    COIN_RETURNED,
    PAYMENT_ACCEPTED,
    PAYMENT_RETURNED,
)

_LARGEST = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFFFFFF}


def next_payment(number):
    """The payment number after ``number``: 1..LAST_PAYMENT in turn, never NO_PAYMENT."""
    return number % LAST_PAYMENT + 1


class BadMessage(ValueError):
    """A message whose code is unknown or whose data does not fit its layout."""


def encode(code, *values):
    """The data of message ``code`` carrying ``values`` in its layout's order."""
    layout = FORMATS.get(code)
    if layout is None:
        raise BadMessage(f"unknown message code {code}")
    if len(values) != len(layout[1]):
        raise BadMessage(f"{NAMES[code]} takes {len(layout[1])} values")
    for index, value in enumerate(values):  # MicroPython's struct truncates; CPython's raises
        if not isinstance(value, int) or not 0 <= value <= _LARGEST[layout[0][1 + index]]:
            raise BadMessage(f"{NAMES[code]}: {value!r} does not fit its field")
    return struct.pack(layout[0], *values)


def decode(code, data):
    """The values of message ``code`` from its ``data``, as a tuple in the layout's order."""
    layout = FORMATS.get(code)
    if layout is None:
        raise BadMessage(f"unknown message code {code}")
    if len(data) != struct.calcsize(layout[0]):
        expected = struct.calcsize(layout[0])
        raise BadMessage(f"{NAMES[code]}: {len(data)} bytes of data, not {expected}")
    return struct.unpack(layout[0], data)


def fields(code, data):
    """The values of message ``code`` from its ``data``, as a dict by field name."""
    values = decode(code, data)
    names = FORMATS[code][1]
    return {names[index]: values[index] for index in range(len(names))}
