"""The kiosk's side of the peripheral controller (周辺機器制御基板): the link to the RP2040 board that
runs ``firmware/`` — coins and escrow, the card tray and its light, the output tray, the buzzer, the
maintenance door and the tamper switch — and a simulator that runs the same firmware on the
MicroPython unix port behind a pseudo-terminal. See docs/firmware.md."""

from hardware.peripherals.controller import Event, PeripheralController
from hardware.peripherals.errors import (
    CommandRefused,
    ControllerReset,
    ControllerUnavailable,
    PeripheralError,
)

__all__ = [
    "CommandRefused",
    "ControllerReset",
    "ControllerUnavailable",
    "Event",
    "PeripheralController",
    "PeripheralError",
]
