"""The order journal (取引記録): the one thing the kiosk writes to disk during a session.

It holds the id of the order in progress and how far it got — identifiers of the order and
amounts, nothing about the person — so that a kiosk restarted after a crash or a power cut ends
the order it left open, and a report the center could not take is made later:

- ``placed``: the coins are in escrow, nothing printed;
- ``printing``: written before the center is told and the job goes to the printer;
- ``printed``: the job is over, and these copies (``issue_numbers``) came out whole, for ``fee``
  yen; the coins are still in escrow;
- ``paid``: ``fee`` yen were taken into the cash box (the rest given back), to be reported with
  the copies printed.

A kiosk that stops before ``paid`` has not taken a coin (the peripheral controller gives back the
coins it held when the host went away), so the order is voided and reported refunded, whatever
came out (pages out unpaid are void at the municipality). A ``paid`` one is reported printed and
settled, as often as it takes. The file is written atomically and removed when the center has
heard the end of the order.

A report the center refuses (it voided the order, the amount is not due) is never dropped: it is
escalated (:meth:`OrderJournal.escalate`) to a list beside the journal that the store's staff see
in the maintenance mode and clear once they have settled it with the center.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STAGES = ("placed", "printing", "printed", "paid")


@dataclass(frozen=True)
class JournalEntry:
    order_id: str
    stage: str
    issue_numbers: tuple[str, ...] = ()  # printed, paid: the copies that came out whole
    fee: int = 0  # printed: yen due; paid: yen taken


@dataclass(frozen=True)
class Escalation:
    """An order report the center refused, kept for the store's staff (identifiers only)."""

    order_id: str
    stage: str
    code: str  # the center's refusal
    fee: int = 0


class OrderJournal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, order_id: str, stage: str, issue_numbers: Sequence[str] = (), fee: int = 0) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        entry = {"order_id": order_id, "stage": stage, "issue_numbers": list(issue_numbers), "fee": fee}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        with open(partial, "w", encoding="ascii") as file:
            json.dump(entry, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".partial").unlink(missing_ok=True)

    @property
    def escalations_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".escalated.jsonl")

    def escalate(self, entry: JournalEntry, code: str) -> None:
        """Keep ``entry``'s report, refused by the center with ``code``, for the staff; the
        journal is free for the next order."""
        line = {"order_id": entry.order_id, "stage": entry.stage, "code": code, "fee": entry.fee}
        with open(self.escalations_path, "a", encoding="ascii") as file:
            file.write(json.dumps(line) + "\n")
            file.flush()
            os.fsync(file.fileno())
        self.clear()

    def escalations(self) -> list[Escalation]:
        """The refused reports the staff have not cleared yet, oldest first. A line that cannot
        be read (a torn write) is listed as ``unreadable``: staff still see that something is
        there to settle."""
        try:
            lines = self.escalations_path.read_bytes().decode("ascii", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in lines:
            try:
                data = json.loads(line)
                found.append(
                    Escalation(str(data["order_id"]), str(data["stage"]), str(data["code"]), int(data["fee"]))
                )
            except (ValueError, KeyError, TypeError):
                log.warning("an escalated order report is unreadable")
                found.append(Escalation("?", "?", "unreadable"))
        return found

    def clear_escalations(self) -> int:
        """The staff settled them with the center: how many were cleared."""
        count = len(self.escalations())
        self.escalations_path.unlink(missing_ok=True)
        return count

    def pending(self) -> JournalEntry | None:
        """The order a previous run left open, or ``None`` (also for an unreadable journal,
        which is logged and removed: it can only be a torn write of a session's first record)."""
        try:
            data = json.loads(self.path.read_text(encoding="ascii"))
            entry = JournalEntry(
                str(data["order_id"]),
                str(data["stage"]),
                tuple(str(number) for number in data["issue_numbers"]),
                int(data["fee"]),
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("order journal unreadable; removed")
            self.clear()
            return None
        if entry.stage not in STAGES:
            self.clear()
            return None
        return entry
