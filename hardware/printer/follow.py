"""Following a submitted job to its end (ジョブの追跡), the same for every backend.

The job is looked at every ``poll`` seconds until it is completed. Anything else ends it: the
printer's condition (no paper, a jam, offline, another error) lasting ``fault_grace`` seconds, the
job not taken by the printer in ``start`` seconds or not finished in ``start + per_page × pages``,
the caller's stop, or the spooler not answering. The job is then CANCELLED and the cancellation
awaited before the typed error is raised: a job that failed is never left to finish later under
the next order, and never submitted again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from hardware.printer.condition import keyword_of
from hardware.printer.errors import (
    JobCancelled,
    JobTimeout,
    PaperJam,
    PaperOut,
    PrinterError,
    PrinterFailed,
    PrinterOffline,
)
from hardware.printer.job import JobState, JobStatus, Printed, Timeouts

log = logging.getLogger(__name__)

# printer-state-reasons keywords (RFC 8011 §5.4.12, without their -error/-warning/-report suffix)
FAULTS: dict[str, type[PrinterError]] = {
    "media-empty": PaperOut,
    "media-needed": PaperOut,
    "media-jam": PaperJam,
    "offline": PrinterOffline,
    "paused": PrinterOffline,
    "shutdown": PrinterOffline,
}


class Spooler(Protocol):
    """What following needs from a backend: a look at a job, and cancelling it."""

    def status(self, job_id: str) -> JobStatus: ...

    def cancel(self, job_id: str) -> None: ...


def fault_of(reason: str) -> type[PrinterError] | None:
    """The error a printer condition means, or ``None`` when it does not stop a job (a warning,
    an informational keyword). Unknown keywords ending in ``-error`` are :class:`PrinterFailed`."""
    keyword, suffix = keyword_of(reason)
    if suffix == "-warning":
        return None
    known = FAULTS.get(keyword)
    if known is None and suffix == "-error":
        return PrinterFailed
    return known


def follow(
    spooler: Spooler,
    job_id: str,
    pages: int,
    timeouts: Timeouts,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Printed:
    """Until job ``job_id`` of ``pages`` pages is completed; otherwise cancel it and raise."""
    stop = stop or threading.Event()
    submitted = clock()
    seen_since: dict[str, float] = {}  # printer conditions present now, and since when
    status = JobStatus(JobState.PENDING)
    while True:
        failure: PrinterError | None
        try:
            status = spooler.status(job_id)
        except PrinterError as error:  # the spooler does not answer: cancel if it still can
            failure = error
        else:
            now = clock()
            if status.state is JobState.COMPLETED:
                return Printed(job_id, pages)
            if status.state is JobState.CANCELLED:
                raise JobCancelled(
                    "the job was cancelled at the printer",
                    job_id=job_id,
                    pages_done=status.pages_done,
                    cancelled=True,
                )
            if status.state is JobState.ABORTED:
                raise PrinterFailed(
                    "the printer aborted the job", job_id=job_id, pages_done=status.pages_done, cancelled=True
                )
            seen_since = {reason: seen_since.get(reason, now) for reason in status.reasons}
            failure = _ending(status, seen_since, now - submitted, pages, timeouts, stop, now)
        if failure is not None:
            raise _cancelled(spooler, job_id, failure, timeouts, clock, status)
        stop.wait(timeouts.poll)


def _ending(
    status: JobStatus,
    seen_since: dict[str, float],
    elapsed: float,
    pages: int,
    timeouts: Timeouts,
    stop: threading.Event,
    now: float,
) -> PrinterError | None:
    if stop.is_set():
        return JobCancelled("the kiosk cancelled the job")
    for reason, since in sorted(seen_since.items()):
        fault = fault_of(reason)
        if fault is not None and now - since >= timeouts.fault_grace:
            return fault(f"the printer reports {reason}")
    if status.state in (JobState.PENDING, JobState.HELD) and elapsed > timeouts.start:
        return JobTimeout(f"the printer did not take the job in {timeouts.start:g} s")
    if elapsed > timeouts.finish(pages):
        return JobTimeout(f"the job did not finish in {timeouts.finish(pages):g} s")
    return None


def _cancelled(
    spooler: Spooler,
    job_id: str,
    error: PrinterError,
    timeouts: Timeouts,
    clock: Callable[[], float],
    last: JobStatus,
) -> PrinterError:
    """``error``, once job ``job_id`` is cancelled and gone (``error.cancelled`` says whether it
    is known to be gone: a spooler that does not answer cannot say)."""
    error.job_id, error.pages_done = job_id, last.pages_done
    deadline = clock() + timeouts.cancel
    try:
        spooler.cancel(job_id)
    except PrinterError as failure:
        log.warning("job %s not cancelled: %s", job_id, failure.code)
        deadline = clock()  # nothing to wait for
    while clock() < deadline:
        try:
            status = spooler.status(job_id)
        except PrinterError:  # not answering now, or answering nonsense: it may still confirm
            pass
        else:
            error.pages_done = max(error.pages_done, status.pages_done)
            if status.state.ended:
                error.cancelled = True
                break
        time.sleep(timeouts.poll)
    log.warning(
        "job %s ended: %s (%d pages done, cancelled: %s)",
        job_id,
        error.code,
        error.pages_done,
        error.cancelled,
    )
    return error
