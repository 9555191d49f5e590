"""The printer's condition (プリンターの状態) at any time, also between jobs: what the kiosk reports in
its heartbeat. One of seven, read from IPP's ``printer-state-reasons`` keywords (RFC 8011
§5.4.12), which CUPS answers and a spool driver writes:

- ``ready``; ``paper_low`` and ``toner_low``: it still prints (a warning);
- ``paper_out``, ``jam``, ``offline`` (off, stopped, paused, not answering) and ``error`` (any other
  fault: a cover open, toner empty…): it cannot print.

When several hold, the one that says most about why nothing prints wins: ``offline``, ``jam``,
``paper_out``, ``error``, ``toner_low``, ``paper_low``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

SUFFIXES = ("-error", "-warning", "-report")


class PrinterCondition(StrEnum):
    READY = "ready"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    TONER_LOW = "toner_low"
    JAM = "jam"
    OFFLINE = "offline"
    ERROR = "error"


# the order of precedence, the most telling first
PRECEDENCE = (
    PrinterCondition.OFFLINE,
    PrinterCondition.JAM,
    PrinterCondition.PAPER_OUT,
    PrinterCondition.ERROR,
    PrinterCondition.TONER_LOW,
    PrinterCondition.PAPER_LOW,
)
# keyword → its condition as an error (or with no suffix, or as a report), and as a warning
KEYWORDS: dict[str, tuple[PrinterCondition | None, PrinterCondition | None]] = {
    "offline": (PrinterCondition.OFFLINE, PrinterCondition.OFFLINE),
    "paused": (PrinterCondition.OFFLINE, PrinterCondition.OFFLINE),
    "shutdown": (PrinterCondition.OFFLINE, PrinterCondition.OFFLINE),
    "media-jam": (PrinterCondition.JAM, None),
    "media-empty": (PrinterCondition.PAPER_OUT, PrinterCondition.PAPER_LOW),  # a warning: one tray
    "media-needed": (PrinterCondition.PAPER_OUT, PrinterCondition.PAPER_LOW),
    "media-low": (PrinterCondition.PAPER_LOW, PrinterCondition.PAPER_LOW),
    "toner-empty": (PrinterCondition.ERROR, PrinterCondition.TONER_LOW),
    "marker-supply-empty": (PrinterCondition.ERROR, PrinterCondition.TONER_LOW),
    "toner-low": (PrinterCondition.TONER_LOW, PrinterCondition.TONER_LOW),
    "marker-supply-low": (PrinterCondition.TONER_LOW, PrinterCondition.TONER_LOW),
}


def keyword_of(reason: str) -> tuple[str, str]:
    """A ``printer-state-reasons`` value as its keyword and its suffix (``""`` when it has none)."""
    for ending in SUFFIXES:
        if reason.endswith(ending):
            return reason[: -len(ending)], ending
    return reason, ""


def condition_of(reasons: Iterable[str]) -> PrinterCondition:
    """The printer's condition given its ``printer-state-reasons`` (``none`` and keywords that
    mean nothing here are ignored; an unknown keyword ending in ``-error`` is ``error``)."""
    found = set()
    for reason in reasons:
        keyword, suffix = keyword_of(reason)
        known = KEYWORDS.get(keyword)
        if known is not None:
            condition = known[1] if suffix == "-warning" else known[0]
        else:
            condition = PrinterCondition.ERROR if suffix == "-error" else None
        if condition is not None:
            found.add(condition)
    return next((condition for condition in PRECEDENCE if condition in found), PrinterCondition.READY)
