"""The ends of a session: done, cancelled, failed (終了, 取消, 中断).

Each end first settles up — an order not on paper is voided at the center, every coin in escrow
is given back and the refund reported, the card is logged out, and a card still in the reader is
asked for until it is taken — then shows its words until touched or timed out, and the controller
wipes the session. A report the center could not take stays in the order journal and is made
later (:mod:`kiosk.recovery`).

Views:

- done: ``{}``.
- cancelled: ``{"reason": code, "refusal": {...} | None, "refund": yen, "remind": n}`` — the
  reason is ``cancel``, ``timeout``, ``locked``, ``card_removed`` or a refusal's code.
- failed: ``{"refund": yen, "remind": n, "spoiled": copies}`` — ``spoiled``: copies whose pages
  came out, whole or in part, of an order that failed (void: not to be used).
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.workflow.context import UNPAID, SessionContext
from kiosk.workflow.states.base import State, shown
from kiosk.workflow.states.card import remind_until_card_taken
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)


class SessionEnd(State):
    warned = False  # its words stay until touched or timed out, back to the start screen

    async def run(self, context: SessionContext) -> Outcome:
        refund = await self.settle_up(context)
        self.show(**self.view(context, refund))
        if context.card is not None:
            await self.give_card_back(context)
        await self.touch("ok")
        return Outcome.NEXT

    def view(self, context: SessionContext, refund: int) -> dict[str, object]:
        return {"reason": context.reason, "refusal": shown(context.refusal), "refund": refund}

    async def settle_up(self, context: SessionContext) -> int:
        """The order voided unless paid for, the coins given back; the yen returned."""
        refund = await self.terminal.cashbox.return_all()
        link = context.link
        if link is not None and context.order_stage in UNPAID and link.order is not None:
            journal = self.terminal.journal
            if journal.pending() is None:  # refused at placing: voided at the center, to be refunded
                journal.record(link.order.order_id, "placed")
            try:  # told now, or later from the journal
                await asyncio.to_thread(link.recover, journal, context.reason or "cancelled")
            except Exception as error:
                log.warning("order not yet voided or refunded: %s", type(error).__name__)
        return refund

    async def give_card_back(self, context: SessionContext) -> None:
        card, context.card = context.card, None
        if card is not None:
            await asyncio.to_thread(card.finish)
        if self.terminal.slot.present():
            await remind_until_card_taken(self)
            self.show(remind=0)  # the card is gone: the reminder goes off the screen


class Done(SessionEnd):
    step = Step.DONE
    timeout = 15

    def view(self, context: SessionContext, refund: int) -> dict[str, object]:
        return {}


class Cancelled(SessionEnd):
    step = Step.CANCELLED
    timeout = 30


class Failed(SessionEnd):
    step = Step.FAILED
    timeout = 30

    def view(self, context: SessionContext, refund: int) -> dict[str, object]:
        return {**super().view(context, refund), "spoiled": context.spoiled}
