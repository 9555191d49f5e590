"""Card placed / removed events over the in-process reader (the other transports have their own)."""

from __future__ import annotations

import queue
from pathlib import Path

from hardware.card.presence import PresenceWatcher
from hardware.card.transport import CardConnection
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader


def test_placed_and_removed_events_repeat(card_path: Path) -> None:
    reader = InProcessReader()
    events: queue.Queue[str] = queue.Queue()

    def placed(connection: CardConnection) -> None:
        answer = connection.transceive(bytes.fromhex("00A4040C0AD392F000260100000001"))
        events.put(f"placed {answer.hex()}")

    watcher = PresenceWatcher(reader, placed, lambda: events.put("removed"), poll=0.05)
    watcher.start()
    try:
        card = VirtualCard.open(card_path)
        for _ in range(2):
            reader.insert(card)
            assert events.get(timeout=5) == "placed 9000"
            reader.remove()
            assert events.get(timeout=5) == "removed"
        assert events.empty()
    finally:
        watcher.stop()
