"""The emulated card in the same process: a reader slot the test or demo puts the card into.

:class:`InProcessReader` is a :class:`CardReader` whose ``insert``/``remove`` play the resident's
hand; connections made while a card is in the slot talk to it directly.
"""

from __future__ import annotations

import threading

from hardware.card.errors import CardRemovedError, NoCardError
from hardware.card.transport import CardConnection, CardReader
from hardware.cardsim.card import VirtualCard


class InProcessConnection(CardConnection):
    def __init__(self, reader: InProcessReader, card: VirtualCard) -> None:
        self._reader = reader
        self._card = card
        self._closed = False

    def transceive(self, command: bytes | bytearray) -> bytes:
        if self._closed or self._reader.card is not self._card:
            raise CardRemovedError("card removed from the in-process reader")
        return self._card.process(bytes(command))

    def reset(self) -> None:
        if self._reader.card is not self._card:
            raise CardRemovedError("card removed from the in-process reader")
        self._card.power_on()

    def close(self) -> None:
        self._closed = True


class InProcessReader(CardReader):
    def __init__(self, name: str = "In-process reader") -> None:
        self.name = name
        self.card: VirtualCard | None = None
        self._changed = threading.Condition()
        self._attached = True

    def insert(self, card: VirtualCard) -> None:
        with self._changed:
            self.card = card
            card.power_on()
            self._changed.notify_all()

    def remove(self) -> None:
        with self._changed:
            if self.card is not None:
                self.card.power_off()
            self.card = None
            self._changed.notify_all()

    def card_present(self) -> bool:
        return self.card is not None

    def attached(self) -> bool:
        return self._attached

    def unplug(self) -> None:
        """The reader's cable is pulled: :meth:`attached` says so (the slot itself is left as is)."""
        self._attached = False

    def plug(self) -> None:
        self._attached = True

    def connect(self) -> InProcessConnection:
        if self.card is None:
            raise NoCardError("no card in the in-process reader")
        return InProcessConnection(self, self.card)

    def wait_for_card(self, timeout: float) -> CardConnection | None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.card is not None, timeout):
                return None
            return self.connect()

    def wait_for_removal(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.card is None, timeout)
