"""A print job (印刷ジョブ): one order's pages, and what a printer backend does with it.

A :class:`PrintJob` is every page of every copy of one order, in printing order, named by the
order id. A :class:`PrintBackend` prints it as ONE job and follows it to its end: it returns only
once the printer says the job is completed, and raises a :class:`~hardware.printer.errors.PrinterError`
once the job is cancelled (or could not be) otherwise. Backends block; callers run them in a worker
thread and may ask them to stop through a :class:`threading.Event`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from PIL import Image

from hardware.printer.condition import PrinterCondition
from hardware.printer.errors import InvalidJob, PrinterBusy

JOB_NAME = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # an order id, as documents.Binding has it
MAX_PAGES = 500  # one order: a few certificates of at most 99 pages each, in a few copies
MAX_PAGE_PIXELS = 5000 * 7100  # A4 at 600 dpi, either way round
PAGE_MODES = frozenset({"1", "L", "RGB"})


@dataclass(frozen=True)
class PrintJob:
    """One order's pages. ``name`` is the order id (never a person's name); ``pages`` are the
    rendered pages at ``dpi``, each an image of at most an A4 page at 600 dpi. :class:`InvalidJob`
    otherwise."""

    name: str
    pages: Sequence[Image.Image]
    dpi: int = 300

    def __post_init__(self) -> None:
        if not isinstance(self.dpi, int) or not 72 <= self.dpi <= 600:
            raise InvalidJob("a job's pages are 72 to 600 dpi")
        if not isinstance(self.name, str) or not JOB_NAME.fullmatch(self.name):
            raise InvalidJob("a job name is an order id: 1-128 of A-Z a-z 0-9 . _ : -")
        if not 1 <= len(self.pages) <= MAX_PAGES:
            raise InvalidJob(f"a job has 1 to {MAX_PAGES} pages, not {len(self.pages)}")
        for number, page in enumerate(self.pages, 1):
            if not isinstance(page, Image.Image) or page.mode not in PAGE_MODES:
                raise InvalidJob(f"page {number} is not a 1-bit, grey or RGB image")
            width, height = page.size
            if width < 1 or height < 1 or width * height > MAX_PAGE_PIXELS:
                raise InvalidJob(f"page {number} is {width}x{height} pixels, beyond an A4 page at 600 dpi")


class JobState(Enum):
    """Where a job is, in the words of IPP (RFC 8011 ``job-state``)."""

    PENDING = "pending"
    HELD = "held"
    PROCESSING = "processing"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    ABORTED = "aborted"
    COMPLETED = "completed"

    @property
    def ended(self) -> bool:
        return self in (JobState.CANCELLED, JobState.ABORTED, JobState.COMPLETED)


@dataclass(frozen=True)
class JobStatus:
    """One look at a job: its state, the printer's condition keywords (IPP ``printer-state-reasons``
    such as ``media-empty-error``; ``offline`` also for a stopped queue) and the pages done."""

    state: JobState
    reasons: frozenset[str] = frozenset()
    pages_done: int = 0


@dataclass(frozen=True)
class Printed:
    """A finished job: the spooler's id for it and the pages it had."""

    job_id: str
    pages: int


@dataclass(frozen=True)
class Timeouts:
    """Seconds a job may take: ``start`` until the printer takes it, then ``per_page`` for each page
    (on top of ``start``); a printer condition must last ``fault_grace`` before it ends the job (a
    printer clears the last job's condition when it starts the next); ``cancel`` for a cancelled job
    to be gone; ``poll`` between looks."""

    start: float = 30.0
    per_page: float = 15.0
    fault_grace: float = 3.0
    cancel: float = 15.0
    poll: float = 0.25

    def finish(self, pages: int) -> float:
        return self.start + self.per_page * pages


class PrintBackend(Protocol):
    """A printer the kiosk sends jobs to: CUPS, or a spool directory watched by a driver."""

    def clear_leftovers(self) -> list[str]:
        """Cancel every job of this kiosk still pending (after a crash, at start-up); their ids.
        :class:`~hardware.printer.errors.PrinterBusy` if one cannot be cleared."""

    def print_job(self, job: PrintJob, stop: threading.Event | None = None) -> Printed:
        """Print ``job`` as one job and follow it to its end. Setting ``stop`` cancels it
        (:class:`~hardware.printer.errors.JobCancelled`). Never submits a job twice."""

    def condition(self) -> PrinterCondition:
        """The printer's condition now, between jobs or during one (:mod:`hardware.printer.condition`);
        ``offline`` when it cannot be asked. Never raises."""


@contextmanager
def one_at_a_time(running: threading.Lock) -> Iterator[None]:
    """Holds ``running`` for one job; :class:`PrinterBusy` at once if another job holds it (a second
    order is refused while the first is printing, never queued behind it)."""
    if not running.acquire(blocking=False):
        raise PrinterBusy("a job of this kiosk is being printed")
    try:
        yield
    finally:
        running.release()
