"""The store printer through CUPS (pycups, i.e. libcups over IPP).

One order is ONE job on the kiosk's own queue: a multi-page PDF named by the order id. Before it
is submitted the queue is checked (it exists, accepts jobs, is not stopped, and its error policy
never retries a job from its first page) and every job still pending on it is cancelled: a job
left by a crashed run, or one that could not be cancelled before, never prints under this order.
The job is then followed to its end (:func:`~hardware.printer.follow.follow`). One job at a time:
a second call while one is running is refused with :class:`PrinterBusy`, never queued.

libcups keeps its server per thread, so each call names the server again in its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import cups  # pycups: a C extension without type information (untyped for mypy, see pyproject)

from hardware.printer.condition import PrinterCondition, condition_of
from hardware.printer.document import job_file
from hardware.printer.errors import (
    JobRejected,
    PrinterBusy,
    PrinterError,
    PrinterOffline,
    QueueMisconfigured,
)
from hardware.printer.follow import follow
from hardware.printer.job import JobState, JobStatus, Printed, PrintJob, Timeouts, one_at_a_time

log = logging.getLogger(__name__)

JOB_STATES = {
    3: JobState.PENDING,
    4: JobState.HELD,
    5: JobState.PROCESSING,
    6: JobState.STOPPED,
    7: JobState.CANCELLED,
    8: JobState.ABORTED,
    9: JobState.COMPLETED,
}
PRINTER_STOPPED = 5
UNSAFE_POLICIES = frozenset({"retry-job", "retry-current-job"})  # would print a half job again
NOT_FOUND = 0x0406  # client-error-not-found
NOT_ACCEPTING = 0x0506  # server-error-not-accepting-jobs
PRINTER_ATTRIBUTES = [
    "printer-state",
    "printer-state-reasons",
    "printer-is-accepting-jobs",
    "printer-error-policy",
]
PDF = "application/pdf"
JOB_ATTRIBUTES = ["job-state", "job-impressions-completed", "job-media-sheets-completed"]


class CupsPrinter:
    """The CUPS queue ``queue`` of ``server`` (``host:port`` or a socket path; libcups' default,
    ``CUPS_SERVER`` or client.conf, when ``None``), as this kiosk's printer."""

    def __init__(
        self,
        queue: str,
        *,
        server: str | None = None,
        timeouts: Timeouts | None = None,
        work_dir: Path | None = None,
    ) -> None:
        self.queue = queue
        self.server = server
        self.timeouts = timeouts or Timeouts()
        self.work_dir = work_dir  # where each job's private directory is made (the system's temp)
        self._running = threading.Lock()

    def clear_leftovers(self) -> list[str]:
        with self._one_at_a_time():
            return self._clear(self._connect())

    def print_job(self, job: PrintJob, stop: threading.Event | None = None) -> Printed:
        with self._one_at_a_time():
            connection = self._connect()
            self._check_queue(connection)
            self._clear(connection)
            with job_file(job, self.work_dir) as path:
                job_id = self._submit(connection, job, path)
                log.info("job %s submitted: order %s, %d pages", job_id, job.name, len(job.pages))
                printed = follow(_Jobs(self, connection), job_id, len(job.pages), self.timeouts, stop)
            log.info("job %s completed", job_id)
            return printed

    def condition(self) -> PrinterCondition:
        """The queue's printer as CUPS sees it now: its ``printer-state-reasons``, ``paused`` when
        the queue is stopped, ``offline`` when it takes no jobs or CUPS does not answer."""
        try:
            printer = _call(
                self._connect().getPrinterAttributes, self.queue, requested_attributes=PRINTER_ATTRIBUTES
            )
        except PrinterError:
            return PrinterCondition.OFFLINE
        reasons = set(_values(printer.get("printer-state-reasons")))
        if printer.get("printer-state") == PRINTER_STOPPED or not printer.get(
            "printer-is-accepting-jobs", False
        ):
            reasons.add("paused")
        return condition_of(reasons)

    # -- the queue ------------------------------------------------------------------------

    def _one_at_a_time(self) -> AbstractContextManager[None]:
        return one_at_a_time(self._running)

    def _connect(self) -> Any:
        try:
            if self.server is not None:
                cups.setServer(self.server)  # per thread in libcups
            return cups.Connection()
        except RuntimeError as error:
            raise PrinterOffline("the CUPS server does not answer") from error

    def _check_queue(self, connection: Any) -> None:
        printer = _call(connection.getPrinterAttributes, self.queue, requested_attributes=PRINTER_ATTRIBUTES)
        policy = printer.get("printer-error-policy", "")
        if policy in UNSAFE_POLICIES:
            raise QueueMisconfigured(f"the queue's error policy {policy} would print a failed job again")
        if not printer.get("printer-is-accepting-jobs", False):
            raise PrinterOffline("the queue does not accept jobs")
        if printer.get("printer-state") == PRINTER_STOPPED:
            raise PrinterOffline("the queue is stopped")

    def _pending(self, connection: Any) -> list[int]:
        jobs = _call(
            connection.getJobs, which_jobs="not-completed", requested_attributes=["job-id", "job-printer-uri"]
        )
        suffix = f"/printers/{self.queue}"
        return sorted(
            job_id
            for job_id, attributes in jobs.items()
            if str(attributes.get("job-printer-uri", "")).endswith(suffix)
        )

    def _clear(self, connection: Any) -> list[str]:
        """Cancel every job pending on the queue and wait until they are gone; their ids."""
        pending = self._pending(connection)
        for job_id in pending:
            log.warning("job %s of an earlier order still pending: cancelled", self._name(job_id))
            try:
                _call(connection.cancelJob, job_id)
            except PrinterError as error:  # it may have ended meanwhile; checked below
                log.warning("job %s: cancel refused (%s)", self._name(job_id), error.code)
        deadline = time.monotonic() + self.timeouts.cancel
        while still := self._pending(connection):
            if time.monotonic() > deadline:
                raise PrinterBusy(f"{len(still)} earlier job(s) could not be cleared from the queue")
            time.sleep(self.timeouts.poll)
        return [self._name(job_id) for job_id in pending]

    def _submit(self, connection: Any, job: PrintJob, path: Path) -> str:
        try:
            number = connection.printFile(self.queue, str(path), job.name, {"document-format": PDF})
        except cups.IPPError as error:
            status = error.args[0] if error.args else 0
            self._clear(connection)  # a job half made by the failed request must not print later
            if status == NOT_ACCEPTING:
                raise PrinterOffline("the queue does not accept jobs") from error
            if status == NOT_FOUND:
                raise QueueMisconfigured("the queue does not exist") from error
            raise JobRejected(f"CUPS refused the job (IPP status 0x{status:04x})") from error
        except RuntimeError as error:
            raise PrinterOffline("the CUPS server does not answer") from error
        return self._name(int(number))

    def _name(self, job_id: int) -> str:
        return f"{self.queue}-{job_id}"

    def job_number(self, job_id: str) -> int:
        queue, _, number = job_id.rpartition("-")
        if queue != self.queue or not number.isdigit():
            raise ValueError("not a job of this queue")
        return int(number)


class _Jobs:
    """:class:`~hardware.printer.follow.Spooler` over one connection."""

    def __init__(self, printer: CupsPrinter, connection: Any) -> None:
        self.printer = printer
        self.connection = connection

    def status(self, job_id: str) -> JobStatus:
        job = _call(
            self.connection.getJobAttributes,
            self.printer.job_number(job_id),
            requested_attributes=JOB_ATTRIBUTES,
        )
        printer = _call(
            self.connection.getPrinterAttributes, self.printer.queue, requested_attributes=PRINTER_ATTRIBUTES
        )
        reasons = set(_values(printer.get("printer-state-reasons"))) - {"none"}
        if printer.get("printer-state") == PRINTER_STOPPED:
            reasons.add("paused")
        pages = max(
            int(job.get("job-impressions-completed", 0)), int(job.get("job-media-sheets-completed", 0))
        )
        state = JOB_STATES.get(int(job.get("job-state", 0)), JobState.PENDING)
        return JobStatus(state, frozenset(reasons), pages)

    def cancel(self, job_id: str) -> None:
        _call(self.connection.cancelJob, self.printer.job_number(job_id))


def _call(operation: Any, *args: Any, **kwargs: Any) -> Any:
    """One CUPS request; its failures as printer errors."""
    try:
        return operation(*args, **kwargs)
    except cups.IPPError as error:
        status = error.args[0] if error.args else 0
        if status == NOT_FOUND:
            raise QueueMisconfigured("CUPS does not know the queue or job") from error
        raise PrinterOffline(f"CUPS answered IPP status 0x{status:04x}") from error
    except (RuntimeError, cups.HTTPError) as error:
        raise PrinterOffline("the CUPS server does not answer") from error


def _values(value: object) -> Iterable[str]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return (str(item) for item in value)
    return (str(value),)
