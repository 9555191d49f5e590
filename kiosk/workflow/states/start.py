"""The start of a session: the start screen, the language, the card placed, whose certificates.

Views (what each screen is told; the words come from the catalogs):

- idle: ``{"out_of_service": None}`` — touched, the session starts; ``{"out_of_service": causes}``
  while the door or tamper alarm is latched (no resident's touch is taken until staff clear it),
  ``{"out_of_service": "order_report"}`` while an order an earlier session left in the journal
  cannot be told to the center (tried again every ``retry_report`` seconds).
  ``Touch("maintenance")`` (the staff's corner) leads to the maintenance mode either way. A card
  found in the reader (left after a session) starts no session: the ``left_card`` screen follows.
- language: ``{"languages": ["ja", "en"]}`` — ``Touch("language", "en")``.
- place_card: ``{"reading": bool, "problem": key | None}`` — waits for a card; ``problem`` when
  the card cannot be read (not a My Number Card, moved during reading): take it and try again;
  ``place_card.already_there`` when a card lay in the reader before this screen: it is not read
  (a session begins only with a card placed during it), take it and place it again.
- whose: ``{"choices": ["residence", "domicile"]}`` — ``Touch("whose", "residence")``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

from kiosk.card import ResidentCard
from kiosk.errors import CardUnreadable
from kiosk.messages import LANGUAGES
from kiosk.terminal import Terminal
from kiosk.workflow.context import SessionContext
from kiosk.workflow.states.base import State, ending, first, unread_problem
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)

WHOSE = ("residence", "domicile")  # 住所地, 本籍地


class Idle(State):
    """The start screen; an order an earlier session left open is ended first (the journal), and
    no session starts until it is.
    Out of service while the door or tamper alarm is latched; staff reach the maintenance mode
    from here at any time (``Touch("maintenance")``). A card lying in the reader was left after a
    session: no session starts until it is taken (``card_left``)."""

    step = Step.IDLE  # no timeout: the start screen waits for ever
    retry_report = 10.0  # seconds between tries to tell the center of an order left in the journal

    def __init__(self, terminal: Terminal) -> None:
        super().__init__(terminal)
        self._reported: str | None = None  # the alarm the center was told of, until told it cleared

    async def run(self, context: SessionContext) -> Outcome:
        guard = self.terminal.guard
        while guard is not None and guard.alarm is not None:  # out of service until staff clear it
            causes = guard.alarm
            self.show(out_of_service=causes)
            if self._reported != causes:
                log.warning("out of service: alarm %s", causes)
                await self._report(causes, "raised")
                self._reported = causes
            index, touch = await first(guard.wait_until_cleared(), self.touch("maintenance"))
            if index == 1 and touch.action == "maintenance":
                return Outcome.MAINTENANCE
        if self._reported is not None:
            await self._report(self._reported, "cleared")
            self._reported = None
        while not await self._order_ended():  # the journal's order first: a session would overwrite it
            self.show(out_of_service="order_report")
            index, _touch = await first(asyncio.sleep(self.retry_report), self.touch("maintenance"))
            if index == 1:
                return Outcome.MAINTENANCE
        self.show(out_of_service=None)
        if self.terminal.slot.present():
            return Outcome.CARD_LEFT
        touch = await self.touch("start", "maintenance")  # cancel and back start a session too
        return Outcome.MAINTENANCE if touch.action == "maintenance" else Outcome.NEXT

    async def _order_ended(self) -> bool:
        """Whether the order an earlier session left in the journal is ended (told to the
        center, or escalated to staff); while the center cannot be told, no session starts."""
        journal = self.terminal.journal
        if journal.pending() is None:
            return True
        try:
            await asyncio.to_thread(self.terminal.center().recover, journal)
        except Exception as error:  # a link that cannot even be made: tried again
            log.warning("order report not made: %s", type(error).__name__)
        return journal.pending() is None

    async def _report(self, causes: str, state: str) -> None:
        """Tell the center of the alarm (its audit log and the operators); the terminal stays out
        of service whether or not the center hears it."""
        link = self.terminal.center()
        try:
            await asyncio.to_thread(link.report_alarm, causes, state)
        except Exception as error:
            log.warning("alarm %s not reported to the center: %s", state, type(error).__name__)


class OneOf(State):
    """A screen where the resident picks one of a few answers; the answer is kept in the context
    under the touch's action (the language, whose certificates)."""

    action: ClassVar[str]
    shown_as: ClassVar[str]  # the view's key for the answers
    answers: ClassVar[tuple[str, ...]]

    async def run(self, context: SessionContext) -> Outcome:
        self.show(**{self.shown_as: list(self.answers)})
        while True:
            touch = await self.touch(self.action)
            if touch.action != self.action:
                return Outcome.CANCEL
            if touch.value in self.answers:
                setattr(context, self.action, touch.value)
                return Outcome.NEXT


class Language(OneOf):
    step = Step.LANGUAGE
    timeout = 60
    action, shown_as, answers = "language", "languages", LANGUAGES


class PlaceCard(State):
    """Waits for the card and reads what is needed before the PIN: the user-authentication
    certificate and the PIN's tries left (no try is spent). Only a card placed while this screen
    is up is read: one lying in the reader already is asked to be taken first."""

    step = Step.PLACE_CARD
    timeout = 60

    async def run(self, context: SessionContext) -> Outcome:
        if self.terminal.slot.present():  # there before this screen: whoever's it is, not read
            self.show(reading=False, problem="place_card.already_there")
            index, result = await first(self.terminal.slot.wait_for_removal(), self.touch())
            if index == 1:
                return ending(result) or Outcome.CANCEL
        problem: str | None = None
        while True:
            self.show(reading=False, problem=problem)
            index, result = await first(self.terminal.slot.wait_for_card(), self.touch())
            if index == 1:
                return ending(result) or Outcome.CANCEL
            self.terminal.activity.mark()
            self.show(reading=True, problem=None)
            card = ResidentCard(result)
            try:
                reading = await asyncio.to_thread(card.read)
            except CardUnreadable as error:
                problem = unread_problem(error)
            else:
                context.card = card
                context.tries_left = reading.tries_left
                if reading.certificate is not None:
                    context.certificate[:] = reading.certificate
                return Outcome.NEXT
            await asyncio.to_thread(card.finish)
            self.show(reading=False, problem=problem)
            await self.terminal.slot.wait_for_removal()


class Whose(OneOf):
    step = Step.WHOSE
    timeout = 60
    action, shown_as, answers = "whose", "choices", WHOSE
