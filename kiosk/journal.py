"""The order journal (取引記録): the one thing the kiosk writes to disk during a session.

It holds the id of the order in progress and how far it got (``placed``, ``printed``, with the
printed copies' issue numbers and the fee) — identifiers of the order, nothing about the
person — so that a kiosk restarted after a crash or a power cut
ends the order it left open: a placed order is voided and its payment reported refunded (the
peripheral controller gives back the coins it held when the host went away); a printed one is
reported printed and settled (the paper is out, the coins were accepted). The same is done when
the center could not be told at the time (it was unreachable). The file is written atomically and
removed at the end of every session.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STAGES = ("placed", "printed")


@dataclass(frozen=True)
class JournalEntry:
    order_id: str
    stage: str
    issue_numbers: tuple[str, ...] = ()  # printed: what the center is to be told
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
