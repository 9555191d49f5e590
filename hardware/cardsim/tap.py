"""A tap on the emulated card's contacts: records and counts every APDU that reaches it.

Used by benchmarks (APDUs and bytes of one client against another) and by tests that check the
exact commands third-party middleware sends.
"""

from __future__ import annotations

from hardware.cardsim.card import ContactlessParameters, VirtualCard


class CardTap:
    """Wraps a :class:`VirtualCard` and offers the same methods to any link."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        self.commands: list[bytes] = []
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def atr(self) -> bytes:
        return self.card.atr

    @property
    def contactless(self) -> ContactlessParameters:
        return self.card.contactless

    def power_on(self) -> bytes:
        return self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def process(self, command: bytes) -> bytes:
        answer = self.card.process(command)
        self.commands.append(bytes(command))
        self.bytes_in += len(command)
        self.bytes_out += len(answer)
        return answer

    def snapshot(self) -> tuple[int, int]:
        """(APDUs so far, bytes both ways so far)."""
        return len(self.commands), self.bytes_in + self.bytes_out
