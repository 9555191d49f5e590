"""The store staff's maintenance mode (保守モード), reached from the start screen.

Views:

- maintenance, locked: ``{"unlocked": False, "entered": n, "wrong": bool, "unavailable": bool}`` —
  the staff code is typed as digits (dots on the screen). Touches: ``digit`` (an ``int`` 0-9),
  ``delete``, ``ok``, ``back``/``cancel`` (to the start screen). Three wrong codes end the visit.
  ``unavailable``: this terminal has no staff code or no peripheral controller; ``ok`` goes back.
- maintenance, unlocked: ``{"unlocked": True, "alarm": causes | None, "door_open": bool,
  "connected": bool, "owed": yen, "refused": bool, "card_left": bool}`` — the controller is in
  maintenance mode (the door may open without an alarm); ``card_left``: a card is in the reader.
  Touches: ``clear_alarm``, ``done`` (or ``back``/``cancel``). The view is refreshed every second.

The digits go from the touches into a list of small ints, are checked against the code's hash
off the event loop, and are overwritten at once; nothing of them is logged.
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.errors import DeviceError
from kiosk.workflow.context import SessionContext
from kiosk.workflow.states.base import BACK, CANCEL, State, first
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)

MAX_WRONG = 3
MAX_DIGITS = 12
REFRESH = 1.0  # seconds between views of the board's state


class MaintenanceMode(State):
    step = Step.MAINTENANCE
    timeout = 180

    async def run(self, context: SessionContext) -> Outcome:
        terminal = self.terminal
        maintenance = terminal.maintenance
        if terminal.staff_code is None or maintenance is None:
            self.show(unlocked=False, unavailable=True, entered=0, wrong=False)
            touch = await self.touch("ok")
            return Outcome.NEXT if touch.action == "ok" else Outcome.CANCEL
        if (turned_away := await self._unlocked()) is not None:
            return turned_away
        log.info("maintenance mode entered")
        maintenance.enter()
        refused = False
        try:
            while True:
                self.show(unlocked=True, unavailable=False, refused=refused, **maintenance.status())
                self.show(card_left=terminal.slot.present())  # a resident's card left in the reader
                index, touch = await first(self.touch("clear_alarm", "done"), asyncio.sleep(REFRESH))
                if index == 1:
                    continue
                if touch.action in (BACK, CANCEL):
                    return Outcome.CANCEL
                if touch.action == "done":
                    return Outcome.NEXT
                try:
                    await maintenance.clear_alarm()
                    refused = False
                    log.info("maintenance: alarm cleared")
                except DeviceError as error:
                    refused = True
                    log.warning("maintenance: alarm not cleared: %s", error)
        finally:
            maintenance.leave()
            log.info("maintenance mode left")

    async def _unlocked(self) -> Outcome | None:
        """``None`` once staff typed the right code; ``cancel`` when they gave up, ``next`` after
        three wrong codes."""
        code = self.terminal.staff_code
        assert code is not None
        digits: list[int] = []
        wrong = 0
        try:
            while True:
                self.show(unlocked=False, unavailable=False, entered=len(digits), wrong=wrong > 0)
                touch = await self.touch("digit", "delete", "ok")
                if touch.action in (BACK, CANCEL):
                    return Outcome.CANCEL
                if touch.action == "digit" and isinstance(touch.value, int) and 0 <= touch.value <= 9:
                    if len(digits) < MAX_DIGITS:
                        digits.append(touch.value)
                elif touch.action == "delete" and digits:
                    digits[-1] = 0
                    digits.pop()
                elif touch.action == "ok" and digits:
                    self.show(busy="progress.checking")
                    try:
                        right = await asyncio.to_thread(code.matches, list(digits))
                    finally:
                        self.show(busy=None)
                        digits[:] = [0] * len(digits)
                        digits.clear()
                    if right:
                        return None
                    wrong += 1
                    log.warning("maintenance: a wrong staff code (%d of %d)", wrong, MAX_WRONG)
                    if wrong >= MAX_WRONG:
                        return Outcome.NEXT
        finally:
            digits[:] = [0] * len(digits)
