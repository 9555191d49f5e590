"""The store printer (店舗プリンター): print jobs, their errors, and two backends.

- :class:`PrintJob`: every page of every copy of one order, named by the order id, printed as ONE
  job; :class:`PrintBackend`: prints it and follows it to its end.
- :class:`CupsPrinter`: a CUPS queue (the store's printer driver behind it).
- :class:`SpoolPrinter`: a directory watched by a printer driver without CUPS.
- :class:`PrinterCondition`: the printer's condition at any time (each backend's ``condition()``),
  for the kiosk's heartbeat.

Every failure is a :class:`PrinterError` with a stable ``code``; a failed job is cancelled and
never submitted again. No kiosk, screen or document types here: pages arrive as images.
"""

from hardware.printer.condition import PrinterCondition, condition_of
from hardware.printer.cups import CupsPrinter
from hardware.printer.errors import (
    InvalidJob,
    JobCancelled,
    JobRejected,
    JobTimeout,
    PaperJam,
    PaperOut,
    PrinterBusy,
    PrinterError,
    PrinterFailed,
    PrinterOffline,
    QueueMisconfigured,
)
from hardware.printer.job import JobState, JobStatus, PrintBackend, Printed, PrintJob, Timeouts
from hardware.printer.spool import SpoolPrinter

__all__ = [
    "CupsPrinter",
    "InvalidJob",
    "JobCancelled",
    "JobRejected",
    "JobState",
    "JobStatus",
    "JobTimeout",
    "PaperJam",
    "PaperOut",
    "PrintBackend",
    "PrintJob",
    "Printed",
    "PrinterBusy",
    "PrinterCondition",
    "PrinterError",
    "PrinterFailed",
    "PrinterOffline",
    "QueueMisconfigured",
    "SpoolPrinter",
    "Timeouts",
    "condition_of",
]
