"""Payment, printing and the documents taken (手数料の投入, 印刷, 証明書の取り忘れ防止).

The coins stay in escrow until the documents are printed: the order is placed when the fee is
in (an order whose fee is not the one collected is voided: nothing is printed), the pages are
printed, the center is told, and only then are the coins accepted into the cash box (and the
change given). Whatever stops the session before that gives every coin back (the end screens do
it), and the center voids the order.

Views:

- payment: ``{"fee": yen, "paid": yen, "busy": key | None}`` — coins arrive from the coin
  mechanism; ``cancel`` gives them back.
- printing: ``{"pages": n | None, "busy": key}``.
- take_documents: ``{"remind": n}`` — ends when the printer's tray is empty.
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.errors import FeeMismatch, PaymentError, Refused
from kiosk.ports import CenterLink, ReminderKind
from kiosk.workflow.context import SessionContext
from kiosk.workflow.states.base import State, first
from kiosk.workflow.steps import Outcome, Step

log = logging.getLogger(__name__)


def linked(context: SessionContext) -> CenterLink:
    """The session's business with the center (opened at the PIN step, before any of these)."""
    assert context.link is not None
    return context.link


class Payment(State):
    step = Step.PAYMENT
    timeout = 120

    async def run(self, context: SessionContext) -> Outcome:
        assert context.fee is not None
        cashbox = self.terminal.cashbox
        cashbox.open(context.fee)
        while cashbox.held < context.fee:
            context.paid = cashbox.held
            self.show(fee=context.fee, paid=context.paid, busy=None)
            index, _result = await first(cashbox.wait_for_coins(), self.touch())
            if index == 1:  # cancel (the end screen gives the coins back)
                return Outcome.CANCEL
            self.terminal.activity.mark()  # a coin
        context.paid = cashbox.held
        self.show(fee=context.fee, paid=context.paid)
        return await self._order(context)

    async def _order(self, context: SessionContext) -> Outcome:
        items = [chosen.item() for chosen in context.basket]
        link = linked(context)
        try:
            ordered = await self.center(link.place, items, printer=self.terminal.printer_number)
        except Refused as refused:  # (a refusal that ends the session is no Refused: it fails it)
            if refused.order_id is not None:
                context.order_id = refused.order_id  # voided at the center: reported refunded
            context.refusal = refused.refusal
            await self.terminal.cashbox.return_all()
            context.paid = 0
            await self._refunded(context)
            context.basket.clear()
            context.fee = None
            return Outcome.REFUSED
        context.order_id = ordered.order_id
        context.order_stage = "placed"
        self.terminal.journal.record(ordered.order_id, "placed")
        if ordered.fee != context.fee:  # the coins in escrow pay another fee: nothing is printed
            raise FeeMismatch(ordered.fee, context.fee or 0)  # the end voids it, gives every coin back
        context.documents = list(ordered.copies)
        return Outcome.NEXT

    async def _refunded(self, context: SessionContext) -> None:
        if context.order_id is None:
            return
        link = linked(context)
        try:
            await self.center(link.refunded)
        except Exception as error:  # the center voided it; the refund is reported at the end
            log.warning("refund of a refused order not reported: %s", type(error).__name__)
            context.order_stage = "refused"
            return
        link.order = None
        context.order_id = None


class Printing(State):
    step = Step.PRINTING
    timeout, warned = 300, False

    async def run(self, context: SessionContext) -> Outcome:
        self.show(pages=None, busy="progress.printing")
        link = linked(context)
        pages = await self.terminal.printer.print(context.documents, link.binding())
        order = link.order
        assert order is not None  # placed at the payment step (the binding says so too)
        context.order_stage = "printed"
        self.terminal.journal.record(order.order_id, "printed", order.issue_numbers, order.fee)
        self.show(pages=pages)
        try:
            await self.terminal.cashbox.accept()  # the paper is out: the fee is the store's
        except PaymentError as error:  # the paper is valid all the same; the coins went back
            log.warning("fee not collected after printing: %s", error)
        try:
            await self.center(link.printed)
            await self.center(link.settle)
        except Exception as error:  # the paper is valid; the journal tells the center later
            log.warning("printed order not yet reported: %s", type(error).__name__)
        else:
            self.terminal.journal.clear()
        context.order_stage = "settled"
        self.show(busy=None)
        return Outcome.NEXT


class TakeDocuments(State):
    step = Step.TAKE_DOCUMENTS
    timeout, warned = 120, False

    async def run(self, context: SessionContext) -> Outcome:
        context.documents.clear()  # on paper now; the kiosk keeps no copy
        terminal = self.terminal
        taken = asyncio.ensure_future(terminal.printer.wait_until_taken())  # one wait, however long
        reminded = 0
        try:
            while True:
                terminal.reminder.start(ReminderKind.TAKE_DOCUMENTS)
                reminded += 1
                self.show(remind=reminded)
                done, _pending = await asyncio.wait({taken}, timeout=terminal.remind_every)
                if done:
                    taken.result()  # a sensor's failure is the step's
                    return Outcome.NEXT
        finally:
            taken.cancel()
            terminal.reminder.stop()
