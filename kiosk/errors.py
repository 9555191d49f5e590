"""The kiosk's one error hierarchy (端末のエラー): what ends a resident's session.

A step that meets one of these answers ``error``: the session fails cleanly (the order is
voided, the coins come back, the session is wiped). Messages carry codes and types, never a
person's data.
"""

from __future__ import annotations


class KioskError(Exception):
    """The session cannot go on (the step that meets it ends the session, voiding and refunding)."""


class DeviceError(KioskError):
    """A device of the terminal failed (printer, coin mechanism, card reader)."""


class PrinterError(DeviceError):
    """The printer could not finish the job (paper out, jam, offline, timeout)."""


class PaymentError(DeviceError):
    """The coin mechanism failed (coins it holds are returned by the end of the session)."""


class TerminalAlarm(DeviceError):
    """The maintenance door opened outside maintenance mode, or the tamper switch tripped: the
    session ends at once and the terminal is out of service until staff clear the alarm."""

    def __init__(self, causes: str) -> None:
        super().__init__(f"terminal alarm: {causes}")
        self.causes = causes
