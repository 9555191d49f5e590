"""One error hierarchy for the peripheral controller's host side (周辺機器のエラー)."""

from __future__ import annotations

from typing import ClassVar


class PeripheralError(Exception):
    """Base of every error raised by ``hardware.peripherals``."""

    code = "peripheral_error"


class ControllerUnavailable(PeripheralError):
    """The board does not answer: the link is not up, went down, or no answer came in time."""

    code = "controller_unavailable"


class ControllerReset(PeripheralError):
    """The board started again (power, watchdog) while something was under way; at its start it
    returns the coins held in escrow."""

    code = "controller_reset"


class CommandRefused(PeripheralError):
    """The board refused a command (``REFUSED``): ``reason`` is one of ``firmware.messages.REASON_*``."""

    code = "command_refused"

    REASONS: ClassVar[dict[int, str]] = {
        1: "bad message",
        2: "a payment is already open",
        3: "no payment is open",
        4: "the fee is not paid",
        5: "the alarm is latched",
        6: "not in maintenance mode",
        7: "the tamper switch is still tripped",
    }

    def __init__(self, command: str, reason: int) -> None:
        super().__init__(f"{command} refused: {self.REASONS.get(reason, f'reason {reason}')}")
        self.command = command
        self.reason = reason
