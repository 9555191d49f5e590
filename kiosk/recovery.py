"""Telling the center how an order ended, from the order journal (障害復旧).

One path for every end, in the session and after it: the session's last step writes the
journal and calls :func:`recover`; the kiosk calls it again when it starts and before each
session, for an order an earlier run left open (a crash, a power cut, a center that could not
be reached). From the journal's stage:

- ``placed``, ``printing``, ``printed``: no coin was taken (the coins went back, or the
  peripheral controller gave them back when the host went away), so the order is voided (pages
  that came out unpaid are void at the municipality) and reported refunded; an order the center
  voided already (its deadline, the municipality's refusal) is only reported refunded;
- ``paid``: the copies that came out whole are reported printed, and the amount taken settled.

The center's order states make each report safe to repeat. While the center cannot be reached
(or fails, 5xx) the entry stays and is tried again. A report it refuses (4xx: the order was
voided while its paper came out, the amount is not the one due) is escalated, never dropped:
kept for the store's staff (:meth:`kiosk.journal.OrderJournal.escalate`); the center audits its
refusal.
"""

from __future__ import annotations

import logging

import httpx

from center.client import CenterClient, CenterRefusal
from kiosk.journal import JournalEntry, OrderJournal

log = logging.getLogger(__name__)

RESTART = "kiosk_restart"  # why an order a crash left open is voided
NOT_PAID = ("placed", "printing", "printed")


def recover(journal: OrderJournal, client: CenterClient, reason: str = RESTART) -> JournalEntry | None:
    """End the journal's open order; returns the entry if it was ended (told, or escalated to
    staff; ``None``: nothing open, or the center could not be reached and the entry stays).
    ``reason``: why an unpaid order is voided."""
    entry = journal.pending()
    if entry is None:
        return None
    try:
        if entry.stage in NOT_PAID:
            _void(client, entry.order_id, reason)
            client.refunded(entry.order_id)
        else:
            client.printed(entry.order_id, list(entry.issue_numbers))
            client.settle(entry.order_id, entry.fee)
    except CenterRefusal as refusal:
        if refusal.status >= 500:
            log.warning("order report postponed: %s", refusal.code)
            return None
        journal.escalate(entry, refusal.code)
        log.error("order report refused (%s, %s): kept for the staff", entry.stage, refusal.code)
        return entry
    except httpx.HTTPError as error:
        log.warning("order report postponed: %s", type(error).__name__)
        return None
    journal.clear()
    log.info("order ended (%s)", entry.stage)
    return entry


def _void(client: CenterClient, order_id: str, reason: str) -> None:
    """Void the order, unless the center voided it already."""
    try:
        client.void(order_id, reason)
    except CenterRefusal as refusal:
        if refusal.status == 409 and refusal.details.get("state") in ("voided", "refunded"):
            return
        raise
