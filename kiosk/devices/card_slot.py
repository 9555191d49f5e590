"""The card slot over a :class:`hardware.card.transport.CardReader` (PC/SC, NFC or in-process).

The reader's waits block; here they run in a worker thread in short slices, so a waiting step
can be cancelled (the resident pressed cancel, or walked away) within a fraction of a second.

The slot tells what is there, not whose it is: ``wait_for_card`` connects to a card already lying
in the reader. A session begins only with a card placed during it; the start screen and the
place-card step ask :meth:`ReaderSlot.present` first and never read a card left from before
(:mod:`kiosk.workflow.states.left_card`).
"""

from __future__ import annotations

import asyncio

from hardware.card.transport import CardConnection, CardReader

POLL = 0.25  # seconds a worker thread blocks in the reader before the step may be cancelled


class ReaderSlot:
    def __init__(self, reader: CardReader, *, poll: float = POLL) -> None:
        self.reader = reader
        self.poll = poll

    async def wait_for_card(self) -> CardConnection:
        while True:
            connection = await asyncio.to_thread(self.reader.wait_for_card, self.poll)
            if connection is not None:
                return connection

    async def wait_for_removal(self) -> None:
        while not await asyncio.to_thread(self.reader.wait_for_removal, self.poll):
            pass

    def present(self) -> bool:
        return self.reader.card_present()

    def attached(self) -> bool:
        return self.reader.attached()
