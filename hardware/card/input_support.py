"""The card-info input-support application (券面事項入力補助AP): My Number and the four facts.

The kiosk itself never reads these (the center knows residents only by certificate serial); this
session exists for municipal counter tools and for checking the emulator against the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.card.apdu import CommandApdu
from hardware.card.errors import CardDataError, FileNotFoundOnCardError, NotMyNumberCardError
from hardware.card.files import read_whole_file
from hardware.card.iso7816 import Iso7816Channel
from hardware.card.jpki import PinSlot
from hardware.card.mynumber import is_valid
from hardware.card.profile import (
    AID,
    CHECK_NUMBER_A,
    CHECK_NUMBER_B,
    INPUT_SUPPORT_PIN,
    InputSupportFile,
)
from hardware.card.tlv import TlvError, parse_all, read_tlv


@dataclass(frozen=True)
class BasicFour:
    """基本4情報: name, address, birth date (YYYYMMDD) and sex code ("1", "2" or "9")."""

    name: str
    address: str
    birth_date: str
    sex: str

    def __repr__(self) -> str:  # personal data never reaches a log through repr
        return "BasicFour(<redacted>)"


class InputSupportSession:
    def __init__(self, channel: Iso7816Channel) -> None:
        self.channel = channel
        self.pin = PinSlot(channel, InputSupportFile.PIN, INPUT_SUPPORT_PIN)
        self.check_number_a = PinSlot(channel, InputSupportFile.CHECK_NUMBER_A, CHECK_NUMBER_A)
        self.check_number_b = PinSlot(channel, InputSupportFile.CHECK_NUMBER_B, CHECK_NUMBER_B)
        try:
            channel.send(CommandApdu(0x00, 0xA4, 0x04, 0x0C, AID.INPUT_SUPPORT.value))
        except FileNotFoundOnCardError as exc:
            raise NotMyNumberCardError("the card has no input-support application") from exc

    def read_my_number(self) -> str:
        """EF ``0001``: ``FF 10 0C <12 digits> FF FF``; needs the PIN or 照合番号A."""
        raw = read_whole_file(self.channel, InputSupportFile.MY_NUMBER)
        try:
            item, _ = read_tlv(raw)
        except TlvError as exc:
            raise CardDataError(f"My Number record is not TLV: {exc}") from exc
        number = item.value.decode("ascii", errors="replace")
        if item.tag != 0xFF10 or not is_valid(number):
            raise CardDataError("My Number record is malformed")
        return number

    def read_basic_four(self) -> BasicFour:
        """EF ``0002``: ``FF20 { DF21 … DF22 name, DF23 address, DF24 birth, DF25 sex }``."""
        raw = read_whole_file(self.channel, InputSupportFile.BASIC_FOUR)
        try:
            outer, _ = read_tlv(raw)
            if outer.tag != 0xFF20:
                raise CardDataError("basic four record does not start with FF20")
            fields = {item.tag: item.value for item in parse_all(outer.value)}
            return BasicFour(
                name=fields[0xDF22].decode("utf-8"),
                address=fields[0xDF23].decode("utf-8"),
                birth_date=fields[0xDF24].decode("ascii"),
                sex=fields[0xDF25].decode("ascii"),
            )
        except (TlvError, KeyError, UnicodeDecodeError) as exc:
            raise CardDataError(f"basic four record is malformed ({type(exc).__name__})") from exc
