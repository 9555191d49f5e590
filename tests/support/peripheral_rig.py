"""The peripheral controller for tests: the real firmware on the MicroPython unix port behind a
pseudo-terminal (hardware.peripherals.simulator), the host's driver on it, and the kiosk's adapters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.peripherals import Event, PeripheralController
from hardware.peripherals.simulator import PeripheralSimulator
from kiosk.assembly import Peripherals

UP_TIMEOUT = 15.0


@dataclass
class Rig:
    """The simulator, the kiosk's :class:`~kiosk.assembly.Peripherals` on it (``rig.cashbox``,
    ``rig.controller``… are theirs) and every event the driver published."""

    simulator: PeripheralSimulator
    devices: Peripherals
    events: list[Event]
    _arrived: threading.Condition

    def __getattr__(self, name: str) -> Any:  # controller, cashbox, reminder, guard, tray, maintenance
        if name == "devices":  # not connected yet
            raise AttributeError(name)
        return getattr(self.devices, name)

    def names(self) -> list[str]:
        return [event.name for event in list(self.events)]

    def wait_for_event(
        self,
        name: str,
        timeout: float = 10.0,
        *,
        after: int = 0,
        where: Callable[[Event], bool] = lambda _e: True,
    ) -> Event:
        """The first event ``name`` (from the ``after``-th on) that ``where`` accepts."""
        found: list[Event] = []

        def seen() -> bool:
            found[:] = [e for e in list(self.events)[after:] if e.name == name and where(e)]
            return bool(found)

        deadline = time.monotonic() + timeout
        with self._arrived:
            while not seen():
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no {name} event; saw {self.names()[after:]}"
                self._arrived.wait(min(remaining, 0.05))
        return found[0]

    def restart_host(self, **options: object) -> None:
        """The kiosk's program starts again: a new driver (a new link session) on the same line."""
        self.controller.close()
        self.connect(**options)

    def connect(self, **options: object) -> None:
        controller = PeripheralController(self.simulator.transport, **options)  # type: ignore[arg-type]
        self.events = []
        controller.subscribe(self._record)
        self.devices = Peripherals.linked(controller, self.simulator)
        controller.start()
        assert controller.wait_until_up(UP_TIMEOUT), "the board did not come up"

    def _record(self, event: Event) -> None:
        with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()


@contextmanager
def peripheral_rig(directory: Path, **options: object) -> Iterator[Rig]:
    simulator = PeripheralSimulator(directory / "board").start()
    rig = Rig.__new__(Rig)
    rig.simulator = simulator
    rig._arrived = threading.Condition()
    try:
        rig.connect(**options)
        yield rig
    finally:
        if "devices" in vars(rig):
            rig.controller.close()
        simulator.close()
