"""A deadline on every exchange with a card (カード応答の時間制限).

pcscd waits as long as a reader waits, and a reader waits as long as a card keeps asking for more
time: a broken or malicious card could hold the kiosk forever. :class:`DeadlineConnection` runs
each exchange on a worker thread and gives up after ``timeout`` seconds with
:class:`CardTimeoutError`; the connection is then marked unusable (the stuck call may still be
running inside the driver), and the kiosk ends the resident's session cleanly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hardware.card.errors import CardTimeoutError
from hardware.card.transport import CardConnection

T = TypeVar("T")

# A JPKI signature takes well under a second on contact and about twice that contactless, even
# with waiting-time extensions; ten seconds is far beyond any honest card.
DEFAULT_TIMEOUT = 10.0


class DeadlineConnection(CardConnection):
    def __init__(self, inner: CardConnection, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.inner = inner
        self.timeout = timeout
        self._stuck = False

    @property
    def contactless(self) -> bool:
        return self.inner.contactless

    def transceive(self, command: bytes | bytearray) -> bytes:
        return self._bounded(lambda: self.inner.transceive(command), "command")

    def reset(self) -> None:
        self._bounded(self.inner.reset, "reset")

    def close(self) -> None:
        if not self._stuck:
            self.inner.close()

    def _bounded(self, call: Callable[[], T], what: str) -> T:
        """Run ``call`` on a daemon thread (a stuck driver call must not keep the process alive)."""
        if self._stuck:
            raise CardTimeoutError("an earlier command to this card never completed")
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = call()
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="card-io", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            self._stuck = True
            raise CardTimeoutError(f"card gave no answer to a {what} in {self.timeout:g} s")
        if "error" in outcome:
            raise outcome["error"]
        value: T = outcome["value"]
        return value
