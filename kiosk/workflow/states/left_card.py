"""A card left in the reader after a session (カードの置き忘れ): nobody's card.

The start screen that finds a card in the reader comes here instead of starting a session: the
card is not read, no PIN is ever tried on it, and the light and buzzer go on ("take your card")
until it is gone; then the start screen follows. Staff reach the maintenance mode from here too
(where the card is shown); the start screen brings them back here while it lies there.

Views:

- left_card: ``{"remind": n}`` — how often the reminder has sounded. Touches: ``maintenance``
  (the staff's corner) only; there is no session to cancel.
"""

from __future__ import annotations

import logging

from kiosk.workflow.context import SessionContext
from kiosk.workflow.states.base import State
from kiosk.workflow.states.card import remind_until_card_taken
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)


class LeftCard(State):
    """Reminds until the card left in the reader is taken; no session starts meanwhile."""

    step = Step.LEFT_CARD
    timeout, warned = 300, False  # then the start screen, which finds the card again if still there

    async def run(self, context: SessionContext) -> Outcome:
        log.info("a card was left in the reader: no session until it is taken")
        outcome = await remind_until_card_taken(self, meanwhile=self._staff)
        if outcome is Outcome.NEXT:
            log.info("the card left in the reader was taken")
        return outcome

    async def _staff(self) -> Outcome:
        while (await self.touch("maintenance")).action != "maintenance":
            pass  # cancel and back: nothing to cancel here
        return Outcome.MAINTENANCE
