"""The store printer through a spool directory, for printer drivers without CUPS.

The kiosk and the driver share one directory; each job is named by its order id:

- ``job-<order>.pdf``: the job (every page, one PDF). The kiosk writes it under a hidden name and
  renames it, so the driver never sees half a file. The driver writes its first status, then
  TAKES the job (moves it away); a job gone when it takes it was cancelled.
- ``job-<order>.status``: written by the driver (atomically, by rename), JSON
  ``{"state": "processing" | "completed" | "cancelled" | "aborted", "pages_done": n,
  "reasons": ["media-empty-error", …]}`` with IPP's printer-state-reasons keywords.
- ``job-<order>.cancel``: written by the kiosk to cancel; the driver stops and answers
  ``cancelled``. A job not yet taken is cancelled by deleting it (nothing was printed).

Between jobs the driver MAY also write ``printer.status`` (atomically, by rename) whenever the
printer's condition changes: JSON ``{"reasons": [...]}`` with the same keywords. The kiosk reads it
for its heartbeat (:meth:`SpoolPrinter.condition`); without it a printer whose directory is there
is taken as ready.

The kiosk removes the three files once the job has ended (a cancel it could not see through stays,
and the next job waits for it). Like :class:`~hardware.printer.CupsPrinter`,
one job at a time, and anything found pending before a job is cancelled first.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from hardware.printer.condition import PrinterCondition, condition_of
from hardware.printer.document import job_file
from hardware.printer.errors import PrinterBusy, PrinterError, PrinterFailed, PrinterOffline
from hardware.printer.follow import follow
from hardware.printer.job import JobState, JobStatus, Printed, PrintJob, Timeouts, one_at_a_time

log = logging.getLogger(__name__)

PREFIX = "job-"
PRINTER_STATUS = "printer.status"
STATES = {
    "processing": JobState.PROCESSING,
    "completed": JobState.COMPLETED,
    "cancelled": JobState.CANCELLED,
    "aborted": JobState.ABORTED,
}
MAX_STATUS_BYTES = 4096


class SpoolPrinter:
    """The printer whose driver watches ``directory``."""

    def __init__(
        self, directory: Path, *, timeouts: Timeouts | None = None, work_dir: Path | None = None
    ) -> None:
        self.directory = directory
        self.timeouts = timeouts or Timeouts()
        self.work_dir = work_dir
        self._running = threading.Lock()

    def clear_leftovers(self) -> list[str]:
        with one_at_a_time(self._running):
            return self._clear()

    def print_job(self, job: PrintJob, stop: threading.Event | None = None) -> Printed:
        with one_at_a_time(self._running):
            if not self.directory.is_dir():
                raise PrinterOffline("the spool directory is missing")
            self._clear()
            with job_file(job, self.work_dir) as path:  # the kiosk's copy goes once the spool has one
                self._submit(path, job.name)
            log.info("job %s spooled: %d pages", job.name, len(job.pages))
            spool = _Spool(self.directory)
            try:
                printed = follow(spool, job.name, len(job.pages), self.timeouts, stop)
            except PrinterError as error:
                if error.cancelled:
                    spool.forget(job.name)
                raise
            spool.forget(job.name)
            log.info("job %s completed", job.name)
            return printed

    def condition(self) -> PrinterCondition:
        """``offline`` without the directory; else what the driver's ``printer.status`` says
        (``error`` when it is not that file's format), ``ready`` without one."""
        if not self.directory.is_dir():
            return PrinterCondition.OFFLINE
        try:
            with (self.directory / PRINTER_STATUS).open("rb") as file:
                text = file.read(MAX_STATUS_BYTES + 1)
        except FileNotFoundError:
            return PrinterCondition.READY
        except OSError:
            return PrinterCondition.OFFLINE
        try:
            fields = json.loads(text) if len(text) <= MAX_STATUS_BYTES else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            fields = None
        reasons = fields.get("reasons") if isinstance(fields, dict) else None
        if not isinstance(reasons, list) or not all(isinstance(r, str) and len(r) <= 64 for r in reasons):
            log.warning("the driver's printer.status is not its format")
            return PrinterCondition.ERROR
        return condition_of(reasons)

    def _submit(self, path: Path, name: str) -> None:
        hidden = self.directory / f".{PREFIX}{name}.tmp"
        created = False
        try:
            with path.open("rb") as source, hidden.open("xb") as target:
                created = True
                shutil.copyfileobj(source, target)
                target.flush()
                os.fsync(target.fileno())
            os.replace(hidden, _path(self.directory, name, ".pdf"))
        except OSError as error:
            if created:
                hidden.unlink(missing_ok=True)
            raise PrinterOffline("the job could not be written to the spool directory") from error

    def _names(self) -> set[str]:
        names = set()
        for path in self.directory.glob(f"{PREFIX}*"):
            if path.suffix in (".pdf", ".status", ".cancel"):
                names.add(path.name[len(PREFIX) : -len(path.suffix)])
        return names

    def _clear(self) -> list[str]:
        """Cancel every job found in the directory and wait until each has ended; their names."""
        spool = _Spool(self.directory)
        found = sorted(self._names())
        for name in found:
            log.warning("job %s of an earlier order found in the spool: cancelled", name)
            spool.cancel(name)
        deadline = time.monotonic() + self.timeouts.cancel
        for name in found:
            while not _ended(spool, name):
                if time.monotonic() > deadline:
                    raise PrinterBusy("an earlier job in the spool could not be cleared")
                time.sleep(self.timeouts.poll)
            spool.forget(name)
        return found


class _Spool:
    """:class:`~hardware.printer.follow.Spooler` over the directory's files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def status(self, job_id: str) -> JobStatus:
        if _path(self.directory, job_id, ".pdf").exists():
            return JobStatus(JobState.PENDING)  # not yet taken by the driver
        path = _path(self.directory, job_id, ".status")
        try:
            with path.open("rb") as file:
                text = file.read(MAX_STATUS_BYTES + 1)
        except FileNotFoundError:
            if _path(self.directory, job_id, ".cancel").exists():
                return JobStatus(JobState.CANCELLED)  # cancelled before it was taken: nothing printed
            raise PrinterFailed("the driver took the job but wrote no status") from None
        except OSError as error:
            raise PrinterOffline("the spool directory cannot be read") from error
        return _parse(text)

    def cancel(self, job_id: str) -> None:
        try:
            _path(self.directory, job_id, ".cancel").touch()
            _path(self.directory, job_id, ".pdf").unlink(missing_ok=True)  # not taken: never printed
        except OSError as error:
            raise PrinterOffline("the spool directory cannot be written") from error

    def forget(self, job_id: str) -> None:
        for suffix in (".pdf", ".status", ".cancel"):
            _path(self.directory, job_id, suffix).unlink(missing_ok=True)


def _ended(spool: _Spool, name: str) -> bool:
    try:
        return spool.status(name).state.ended
    except PrinterFailed:  # no status and no job: nothing can print any more
        return True


def _parse(text: bytes) -> JobStatus:
    """A status file's content; :class:`PrinterFailed` for anything but the format above."""
    if len(text) > MAX_STATUS_BYTES:
        raise PrinterFailed("the driver's status file is too large")
    try:
        fields = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PrinterFailed("the driver's status file is not JSON") from None
    if not isinstance(fields, dict) or fields.get("state") not in STATES:
        raise PrinterFailed("the driver's status file has no known state")
    pages, reasons = fields.get("pages_done", 0), fields.get("reasons", [])
    if isinstance(pages, bool) or not isinstance(pages, int) or not 0 <= pages <= 10_000:
        raise PrinterFailed("the driver's status file has a bad page count")
    if not isinstance(reasons, list) or not all(isinstance(r, str) and len(r) <= 64 for r in reasons):
        raise PrinterFailed("the driver's status file has bad reasons")
    return JobStatus(STATES[fields["state"]], frozenset(reasons) - {"none"}, pages)


def _path(directory: Path, name: str, suffix: str) -> Path:
    return directory / f"{PREFIX}{name}{suffix}"
