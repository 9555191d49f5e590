"""One error hierarchy for the printer layer (プリンターのエラー).

Every way a print job can fail ends up as a :class:`PrinterError` with a stable ``code``
(``paper_out``, ``paper_jam``…) and facts about the job: its spooler id when it had one, the pages
the printer reported done, and whether the job is known to be cancelled. Messages never carry a
page's content or a person's data: job names are order ids.

A job that failed is never submitted again by this layer (a half-printed order is voided by the
caller, not printed twice).
"""

from __future__ import annotations


class PrinterError(Exception):
    """Base of every error raised by ``hardware.printer``."""

    code = "printer_error"

    def __init__(
        self, message: str, *, job_id: str | None = None, pages_done: int = 0, cancelled: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.job_id = job_id
        self.pages_done = pages_done
        self.cancelled = cancelled  # the job is known to be gone from the printer's queue

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, job_id={self.job_id!r})"


class PaperOut(PrinterError):
    """用紙切れ: the printer has no paper (``media-empty``, ``media-needed``)."""

    code = "paper_out"


class PaperJam(PrinterError):
    """紙詰まり: paper is stuck in the printer (``media-jam``); ``pages_done`` may be above 0."""

    code = "paper_jam"


class PrinterOffline(PrinterError):
    """The printer is off, stopped or not accepting jobs (``offline``, ``paused``, ``shutdown``)."""

    code = "printer_offline"


class PrinterFailed(PrinterError):
    """The printer reported another error (cover open, toner empty…) or aborted the job."""

    code = "printer_failed"


class JobTimeout(PrinterError):
    """The job did not start, or did not finish, in its time."""

    code = "print_timeout"


class JobRejected(PrinterError):
    """The spooler refused the job when it was submitted (nothing was printed)."""

    code = "job_rejected"


class JobCancelled(PrinterError):
    """The job was cancelled before it finished: by the caller, or by someone at the printer."""

    code = "job_cancelled"


class PrinterBusy(PrinterError):
    """Another job is still pending on the printer and could not be cleared: nothing was
    submitted, so no page of this order can come out under another one."""

    code = "printer_busy"


class InvalidJob(PrinterError):
    """The job itself is malformed: a bad name, no pages, too many or too large pages."""

    code = "invalid_job"


class QueueMisconfigured(PrinterError):
    """The printer queue is set up to do something unsafe (e.g. retry a failed job from its
    first page, which would print a half job twice) or does not exist."""

    code = "queue_misconfigured"
