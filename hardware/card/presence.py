"""Card placed / card removed as events, for any :class:`CardReader` (カード検知).

The kiosk starts one :class:`PresenceWatcher` per reader; it calls ``on_placed(connection)`` when a
resident puts a card down and ``on_removed()`` when it is taken away (the "take your card back"
reminder stops then). Callbacks run on the watcher's thread; a Kivy UI hands them to its own thread
with ``Clock.schedule_once``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hardware.card.errors import CardError
from hardware.card.transport import CardConnection, CardReader

log = logging.getLogger(__name__)


class PresenceWatcher:
    def __init__(
        self,
        reader: CardReader,
        on_placed: Callable[[CardConnection], None],
        on_removed: Callable[[], None],
        *,
        poll: float = 0.25,
    ) -> None:
        self.reader = reader
        self.on_placed = on_placed
        self.on_removed = on_removed
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("watcher already started")
        self._thread = threading.Thread(target=self._run, name=f"presence:{self.reader.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection = self.reader.wait_for_card(self.poll)
                if connection is None:
                    continue
                self.on_placed(connection)
                while not self._stop.is_set():
                    if self.reader.wait_for_removal(self.poll):
                        self.on_removed()
                        break
            except CardError as exc:  # reader unplugged, pcscd restarted: keep watching
                log.warning("reader %s: %s", self.reader.name, exc)
                self._stop.wait(self.poll)
