"""Ending what a previous session left open (障害復旧), from the order journal.

Run when the kiosk starts and before each session: a ``placed`` order (the kiosk crashed, lost
power or could not reach the center at the end) is voided and its payment reported refunded; a
``printed`` one is reported printed and settled. The center's order states make each report
safe to repeat. While the center cannot be reached the entry stays, and is tried again.
"""

from __future__ import annotations

import logging

import httpx

from center.client import CenterClient, CenterRefusal
from kiosk.journal import JournalEntry, OrderJournal

log = logging.getLogger(__name__)


def recover(journal: OrderJournal, client: CenterClient) -> JournalEntry | None:
    """End the journal's open order; returns the entry if it was ended (``None``: nothing open,
    or the center could not be reached and the entry stays)."""
    entry = journal.pending()
    if entry is None:
        return None
    try:
        if entry.stage == "placed":
            client.void(entry.order_id, "kiosk_restart")
            client.refunded(entry.order_id)
        else:
            client.printed(entry.order_id, list(entry.issue_numbers))
            client.settle(entry.order_id, entry.fee)
    except CenterRefusal as refusal:
        if refusal.status >= 500:
            log.warning("recovery of an order postponed: %s", refusal.code)
            return None
        # the center already knows better (the order was voided at its deadline, or settled)
        log.warning("recovery of an order refused: %s", refusal.code)
    except httpx.HTTPError as error:
        log.warning("recovery of an order postponed: %s", type(error).__name__)
        return None
    journal.clear()
    log.info("order left open by an earlier session ended (%s)", entry.stage)
    return entry
