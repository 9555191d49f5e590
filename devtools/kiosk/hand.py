"""The resident's hand with an emulated My Number Card, for the demo panel, rehearsals and tests."""

from __future__ import annotations

from pathlib import Path

from hardware.card.transport import CardReader
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.vpcd_link import DEFAULT_PORT, VpcdLink


class EmulatedHand:
    """A resident's hand with an emulated My Number Card (its state file): places the card on the
    terminal's reader and takes it away — straight into an in-process reader, or through pcscd by
    connecting the card to vpcd (the real PC/SC code path)."""

    def __init__(self, card: Path, reader: CardReader, *, vpcd_port: int = DEFAULT_PORT) -> None:
        self.card = card
        self.reader = reader
        self.vpcd_port = vpcd_port
        self._link: VpcdLink | None = None

    @property
    def placed(self) -> bool:
        if isinstance(self.reader, InProcessReader):
            return self.reader.card is not None
        return self._link is not None and self._link.attached

    def place(self) -> None:
        if self.placed:
            return
        card = VirtualCard.open(self.card)
        if isinstance(self.reader, InProcessReader):
            self.reader.insert(card)
        else:
            self._link = VpcdLink(card, port=self.vpcd_port)
            self._link.attach()

    def take(self) -> None:
        if isinstance(self.reader, InProcessReader):
            self.reader.remove()
        elif self._link is not None:
            self._link.detach()
            self._link = None
