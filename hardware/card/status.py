"""Status words (SW1 SW2) of ISO 7816-4 as the My Number Card uses them.

Shared by the card client and the emulator; an unknown status word still prints a readable name.
"""

from __future__ import annotations

import enum


class SW(enum.IntEnum):
    """Named status words (ステータスワード)."""

    OK = 0x9000
    END_OF_FILE_REACHED = 0x6282
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_BLOCKED = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    SM_DATA_OBJECTS_MISSING = 0x69FC
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    UNKNOWN_ERROR = 0x6F00


def sw_of(sw1: int, sw2: int) -> int:
    return (sw1 << 8) | sw2


def is_tries_left(sw: int) -> bool:
    """``63 Cx``: verification failed or tries query, x tries remaining."""
    return sw & 0xFFF0 == 0x63C0


def describe_sw(sw: int) -> str:
    """``'69 82 SECURITY_STATUS_NOT_SATISFIED'``; families such as ``63 Cx`` and ``61 xx`` by rule."""
    text = f"{sw >> 8:02X} {sw & 0xFF:02X}"
    try:
        return f"{text} {SW(sw).name}"
    except ValueError:
        pass
    if is_tries_left(sw):
        return f"{text} TRIES_LEFT({sw & 0x0F})"
    if sw >> 8 == 0x61:
        return f"{text} MORE_DATA({sw & 0xFF or 256})"
    if sw >> 8 == 0x6C:
        return f"{text} WRONG_LE(exact={sw & 0xFF or 256})"
    return f"{text} UNKNOWN"
