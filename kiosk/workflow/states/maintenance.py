"""The store staff's maintenance mode (保守モード), reached from the start screen.

Views:

- maintenance, locked: ``{"unlocked": False, "entered": n, "wrong": bool, "unavailable": bool,
  "wait": seconds}`` — the staff code is typed as digits (dots on the screen). Touches: ``digit``
  (an ``int`` 0-9), ``delete``, ``ok``, ``back``/``cancel`` (to the start screen). Three wrong codes
  end the visit. ``wait``: wrong codes back off (:mod:`kiosk.staff_backoff`, across visits and
  restarts); until it is 0 no digit is taken (the view is refreshed every second), and after five
  wrong codes in a row the center is told (an alarm, ``staff_code``; ``cleared`` by the right code).
  ``unavailable``: this terminal has no staff code or no peripheral controller; ``ok`` goes back.
- maintenance, unlocked: ``{"unlocked": True, "alarm": causes | None, "door_open": bool,
  "connected": bool, "owed": yen, "refused": bool, "card_left": bool, "escalated": [...]}`` — the
  controller is in maintenance mode (the door may open without an alarm); ``card_left``: a card is
  in the reader; ``escalated``: order reports the center refused (``{"order_id", "stage", "code",
  "fee"}``, :meth:`kiosk.journal.OrderJournal.escalate`), for staff to settle with the center.
  Touches: ``clear_alarm``, ``clear_escalated`` (settled with the center), ``done`` (or
  ``back``/``cancel``). The view is refreshed every second.

The digits go from the touches into a list of small ints, are checked against the code's hash
off the event loop, and are overwritten at once; nothing of them is logged.
"""

from __future__ import annotations

import asyncio
import logging
import math

from kiosk.errors import DeviceError
from kiosk.workflow.context import SessionContext
from kiosk.workflow.states.base import BACK, CANCEL, State, first
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)

MAX_WRONG = 3
MAX_DIGITS = 12
REFRESH = 1.0  # seconds between views of the board's state, and of the wait after wrong codes
STAFF_CODE_ALARM = "staff_code"  # the alarm's cause the center is told of after wrong codes in a row


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
                self.show(
                    card_left=terminal.slot.present(),  # a resident's card left in the reader
                    escalated=[vars(escalation) for escalation in terminal.journal.escalations()],
                )
                index, touch = await first(
                    self.touch("clear_alarm", "clear_escalated", "done"), asyncio.sleep(REFRESH)
                )
                if index == 1:
                    continue
                if touch.action in (BACK, CANCEL):
                    return Outcome.CANCEL
                if touch.action == "done":
                    return Outcome.NEXT
                if touch.action == "clear_escalated":
                    cleared = terminal.journal.clear_escalations()
                    log.warning("maintenance: %d refused order report(s) cleared by staff", cleared)
                    continue
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
        three wrong codes. While wrong codes back off (:mod:`kiosk.staff_backoff`) no code is
        taken: the screen counts the wait down and the keypad's digits are ignored."""
        code = self.terminal.staff_code
        backoff = self.terminal.staff_backoff
        assert code is not None and backoff is not None
        digits: list[int] = []
        wrong = 0
        try:
            while True:
                wait = math.ceil(backoff.wait())
                self.show(unlocked=False, unavailable=False, entered=len(digits), wrong=wrong > 0, wait=wait)
                if wait:
                    index, touch = await first(self.touch("digit", "delete", "ok"), asyncio.sleep(REFRESH))
                    if index == 1:
                        continue
                else:
                    touch = await self.touch("digit", "delete", "ok")
                if touch.action in (BACK, CANCEL):
                    return Outcome.CANCEL
                if wait:
                    continue  # refused until the delay is over
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
                        if backoff.right():
                            await self._report("cleared")
                        return None
                    wrong += 1
                    counted = backoff.wrong()
                    log.warning(
                        "maintenance: a wrong staff code (%d in a row; the next taken in %.0f s)",
                        counted.in_a_row,
                        counted.delay,
                    )
                    if counted.alarm:
                        await self._report("raised")
                    if wrong >= MAX_WRONG:
                        return Outcome.NEXT
        finally:
            digits[:] = [0] * len(digits)

    async def _report(self, state: str) -> None:
        """Tell the center of wrong staff codes in a row (an alarm, ``staff_code``: its audit log and
        the operators), or that the right code followed them; the screen goes on either way."""
        log.warning("alarm %s %s", STAFF_CODE_ALARM, state)
        try:
            await asyncio.to_thread(self.terminal.center().report_alarm, STAFF_CODE_ALARM, state)
        except Exception as error:
            log.warning("alarm %s not reported to the center: %s", state, type(error).__name__)
