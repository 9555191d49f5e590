"""Payment, printing and the documents taken (手数料の投入, 印刷, 証明書の取り忘れ防止).

The coins stay in escrow until the documents are printed: the order is placed when the fee is
in (an order whose fee is not the one collected is voided: nothing is printed), the center hears
that the job goes to the printer, the pages are printed, and only then are the fees of the copies
that came out whole taken into the cash box (the rest given back); the center is told which
copies were printed and what was taken. Whatever stops the session before that gives every coin
back (the end screens do it), and the center voids the order.

Views:

- payment: ``{"fee": yen, "paid": yen, "busy": key | None}`` — coins arrive from the coin
  mechanism; ``cancel`` gives them back.
- printing: ``{"pages": n | None, "busy": key}``, then ``{"pages": n, "spoiled": copies, "refund": yen}``.
- take_documents: ``{"remind": n, "spoiled": copies, "refund": yen}`` — ends when the printer's
  tray is empty; ``spoiled``: copies void because the printer stopped before they were out whole.
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.errors import FeeMismatch, PaymentError, PrinterError, Refused
from kiosk.ports import CenterLink, ReminderKind
from kiosk.workflow.context import SessionContext
from kiosk.workflow.controller import failure_code
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
        except Exception:  # the session fails; an order it made (a copy failed the check, or the
            if link.order is not None:  # center voided it) is voided and refunded by the end
                context.order_id, context.order_stage = link.order.order_id, "placed"
                self.terminal.journal.record(link.order.order_id, "placed")
            raise
        context.order_id = ordered.order_id
        context.order_stage = "placed"
        self.terminal.journal.record(ordered.order_id, "placed")
        # the coins in escrow pay another fee, or the copies' fees do not make the order's: nothing
        # is printed, the end voids it and gives every coin back
        if ordered.fee != context.fee or sum(ordered.fees.values()) != ordered.fee:
            raise FeeMismatch(ordered.fee, context.fee or 0)
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
    """The job and its settlement, copy by copy (印刷と精算).

    1. The journal says ``printing`` and the center hears it before anything goes to the printer
       (if it cannot, nothing is printed: the session fails, voiding and refunding).
    2. The job runs to its end: no screen time, no session limit, no cancel (paper is moving).
       A printer fault ends it, and so does a door or tamper alarm (the step stops the job).
    3. From the pages that came out: the copies out whole are printed, any other copy is void. No
       copy out whole: the session fails (voided, every coin back; pages out are void).
    4. The journal says ``printed``; the fees of the printed copies are taken from escrow, the rest
       given back; the journal says ``paid`` with the amount taken. If the coins cannot be taken
       (the coin mechanism failed, or a tamper alarm made the board give the escrow back), no coin
       is the store's: the session fails, and the order is voided and refunded with the pages out
       (void at the municipality: the resident is told not to use them).
    5. The center is told (:mod:`kiosk.recovery`): now, or from the journal when it answers again.
    """

    step = Step.PRINTING
    warned = False  # and no timeout: the resident's clock stops while paper moves

    async def run(self, context: SessionContext) -> Outcome:
        link = linked(context)
        order = link.order
        assert order is not None  # placed at the payment step (the binding says so too)
        journal = self.terminal.journal
        journal.record(order.order_id, "printing")
        context.order_stage = "printing"
        await self.center(link.printing)  # refused or unreachable: nothing is printed
        self.show(pages=None, busy="progress.printing")
        pages_done, fault = await self._job(context, link)
        outcome = order.outcome(pages_done)
        if not outcome.printed:  # the end voids it (pages out are void too), every coin back
            context.spoiled = len(outcome.spoiled)  # copies out in part: the resident is told they are void
            raise fault or PrinterError("nothing_printed")
        context.spoiled = len(outcome.spoiled) + len(outcome.unprinted)  # not printed whole: refunded
        journal.record(order.order_id, "printed", outcome.printed, outcome.due)
        context.order_stage = "printed"
        try:
            await self.terminal.cashbox.accept(outcome.due)
        except PaymentError:  # the coins went back (a tamper alarm returns the escrow at once): the
            await self.terminal.cashbox.return_all()  # paper out is unpaid, so it is void: the end
            context.spoiled = len(outcome.printed) + len(outcome.spoiled)  # voids the order
            raise
        taken = outcome.due
        journal.record(order.order_id, "paid", outcome.printed, taken)
        context.order_stage = "paid"
        context.refund = (context.paid or 0) - taken
        if fault is not None:
            context.reason = failure_code(self.step, fault)
        self.show(pages=pages_done, spoiled=context.spoiled, refund=context.refund, busy=None)
        try:  # told now, or later from the journal
            await asyncio.to_thread(link.recover, journal)
        except Exception as error:  # the paper is out and paid for: the journal keeps the report
            log.warning("printed order not yet reported: %s", type(error).__name__)
        return Outcome.NEXT

    async def _job(self, context: SessionContext, link: CenterLink) -> tuple[int, PrinterError | None]:
        """The pages that came out, and the fault that ended the job early (``None``: it ended)."""
        printer, guard = self.terminal.printer, self.terminal.guard
        job = asyncio.ensure_future(printer.print(context.documents, link.binding()))
        alarm = asyncio.ensure_future(guard.wait_for_alarm() if guard is not None else asyncio.Event().wait())
        try:
            await asyncio.wait({job, alarm}, return_when=asyncio.FIRST_COMPLETED)
            if not job.done():  # a door or tamper alarm: the job stops, what came out is settled
                log.warning("printing stopped by an alarm")
                printer.stop()
            try:
                return await job, None
            except PrinterError as error:
                return error.pages_done, error
        finally:
            alarm.cancel()
            job.cancel()
            await asyncio.gather(job, alarm, return_exceptions=True)


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
                self.show(remind=reminded, spoiled=context.spoiled, refund=context.refund)
                done, _pending = await asyncio.wait({taken}, timeout=terminal.remind_every)
                if done:
                    taken.result()  # a sensor's failure is the step's
                    return Outcome.NEXT
        finally:
            taken.cancel()
            terminal.reminder.stop()
