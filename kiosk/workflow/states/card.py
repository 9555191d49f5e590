"""The PIN and the card's proof, then the card given back (暗証番号の入力, カードの取り忘れ防止).

Views:

- pin: ``{"entered": n, "length": 4, "tries": n, "last_try": bool, "wrong": bool, "locked": bool,
  "busy": key | None}`` — the screen shows ``entered`` dots, never digits. Touches: ``digit``
  (an ``int`` 0-9), ``delete``, ``ok``, ``back``, ``cancel``; on a locked card, ``ok``.
- take_card: ``{"remind": n}`` — how often the reminder has sounded; ends when the card is gone
  (then, for the registered domicile kept elsewhere than the residence, its registration is asked:
  :mod:`kiosk.workflow.states.domicile`).

The digits go from the touches into a :class:`PinBuffer` and from it to the card only; the
buffer is wiped when the card has answered, and whatever happens on the way out. The PIN buffer is
the card layer's own value type (a wipeable buffer): the one thing of that layer a step holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import cast

from hardware.card.pin import PinBuffer
from kiosk.card import PIN_LENGTH, pin_buffer
from kiosk.errors import CardRemoved, Refused, WrongPin
from kiosk.ports import CenterLink, ReminderKind
from kiosk.workflow.context import SessionContext
from kiosk.workflow.states.base import State, ending, first
from kiosk.workflow.states.choice import keeps_register
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)


class Pin(State):
    step = Step.PIN
    timeout = 60

    async def run(self, context: SessionContext) -> Outcome:
        if context.tries_left == 0:
            return await self._locked()
        if (refused := await self._open(context)) is not None:
            return refused
        wrong = False
        pin = pin_buffer()
        try:
            while True:
                self._show(pin, context, wrong)
                touch = await self.touch("digit", "delete", "ok")
                if (outcome := ending(touch)) is not None:
                    return outcome
                if touch.action == "digit" and isinstance(touch.value, int) and 0 <= touch.value <= 9:
                    if len(pin) < PIN_LENGTH:
                        pin.append("0123456789"[touch.value])
                elif touch.action == "delete":
                    pin.backspace()
                elif touch.action == "ok" and len(pin) == PIN_LENGTH:
                    outcome = await self._prove(pin, context)
                    if outcome is not None:
                        return outcome
                    wrong = True
                    pin.wipe()
                    if context.tries_left == 0:
                        return await self._locked()
        finally:
            pin.wipe()

    async def _open(self, context: SessionContext) -> Outcome | None:
        """The center session, opened before the PIN is typed: a closed service is said now."""
        if context.link is None:
            context.link = self.terminal.center()
        if context.link.session_id is not None:
            return None  # back from the whose screen: the session stays
        try:
            await self.center(context.link.open)
        except Refused as refused:
            return self._refused(refused, context)
        return None

    def _show(self, pin: PinBuffer, context: SessionContext, wrong: bool) -> None:
        self.show(
            entered=len(pin),
            length=PIN_LENGTH,
            tries=context.tries_left,
            last_try=context.tries_left == 1,
            wrong=wrong,
            locked=False,
            busy=None,
        )

    async def _prove(self, pin: PinBuffer, context: SessionContext) -> Outcome | None:
        """The card's proof and the center's offer; ``None`` after a wrong PIN (tries updated)."""
        link, card = self._link(context), context.card
        assert card is not None  # read at the card step
        try:
            offer = await self.center(link.authenticate, card, pin)
        except WrongPin as wrong:  # a locked card has none left
            context.tries_left = wrong.tries_left
            return None
        except CardRemoved as gone:
            log.info("card gone during the PIN step: %s", gone)
            context.reason = "card_removed"
            return Outcome.CANCEL
        except Refused as refused:
            return self._refused(refused, context)
        context.session_id = link.session_id
        context.municipality = offer.municipality
        context.offers = offer
        await asyncio.to_thread(card.finish)  # logged out: the card has done its part
        return Outcome.NEXT

    @staticmethod
    def _link(context: SessionContext) -> CenterLink:
        assert context.link is not None  # opened when the step began
        return context.link

    @staticmethod
    def _refused(refused: Refused, context: SessionContext) -> Outcome:
        context.refusal = refused.refusal
        context.reason = refused.code
        return Outcome.REFUSED

    async def _locked(self) -> Outcome:
        self.show(entered=0, length=PIN_LENGTH, tries=0, last_try=False, wrong=False, locked=True, busy=None)
        await self.touch("ok")
        return Outcome.LOCKED


class TakeCard(State):
    """Asks for the card back and waits until it is gone; the light and buzzer repeat."""

    step = Step.TAKE_CARD
    timeout, warned = 120, False

    async def run(self, context: SessionContext) -> Outcome:
        outcome = await remind_until_card_taken(self, meanwhile=self._cancelled)
        if outcome is Outcome.NEXT:
            context.card = None  # gone (a cancel leaves it to the end screen to ask for again)
            if (
                context.whose == "domicile"
                and context.offers is not None
                and not keeps_register(context.offers)
            ):
                return Outcome.DOMICILE  # the registered domicile's usage registration is asked
        return outcome

    async def _cancelled(self) -> Outcome:
        await self.touch("cancel")  # (or back)
        return Outcome.CANCEL


async def remind_until_card_taken(
    state: State, *, meanwhile: Callable[[], Awaitable[Outcome]] | None = None
) -> Outcome:
    """Blink and sound every ``remind_every`` seconds until the card is gone (also used by the end
    screens, when a session ends with the card still in the reader, and by the screen of a card
    left after a session); ``next`` once it is gone. ``meanwhile`` is what else the screen waits
    for (a touch): its outcome, if it comes first. Without it no touch is taken meanwhile, so an
    "OK" made then is answered afterwards."""
    terminal = state.terminal
    reminded = 0
    try:
        while terminal.slot.present():
            terminal.reminder.start(ReminderKind.TAKE_CARD)
            reminded += 1
            state.show(remind=reminded)
            waits = [terminal.slot.wait_for_removal(), *([meanwhile()] if meanwhile is not None else [])]
            try:
                index, result = await asyncio.wait_for(first(*waits), terminal.remind_every)
            except TimeoutError:
                continue
            if index == 1:
                return cast(Outcome, result)
            break
    finally:
        terminal.reminder.stop()
    return Outcome.NEXT
