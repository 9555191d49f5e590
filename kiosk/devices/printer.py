"""The kiosk's printer port on a real printer (印刷): render every page, print them as one job.

:class:`RenderingPrinter` implements :class:`kiosk.ports.Printer` over a
:class:`hardware.printer.PrintBackend` (CUPS, or a spool directory):

1. every copy is checked against this session's binding, then rendered (a worker thread) by the
   injected renderer, :func:`printing.render.render_document` bound to the trust list and the clock;
   a document that fails is refused before anything is sent to the printer;
2. all pages of all copies go to the printer as ONE job named by the order id, followed to its end
   in a worker thread, so the screens stay responsive;
3. a printer failure becomes :class:`kiosk.errors.PrinterError` whose message is the printer
   layer's code (``paper_out``, ``paper_jam``, ``printer_offline``, ``print_timeout``…), the
   original kept as the cause; the job was cancelled and is never printed again (the session fails,
   the order is voided, the coins come back);
4. :meth:`RenderingPrinter.stop` (a door or tamper alarm) cancels the job at the printer; the
   job's end is awaited and reported as a :class:`kiosk.errors.PrinterError` (``stopped``) with
   the pages that came out, so the order is settled copy by copy. If the step itself is
   abandoned (the kiosk shutting down), the job is cancelled and its end awaited before the step
   lets go, so no page of this order can come out during the next one;
5. the rendered pages are dropped when the job is over; the job file lived in a private temporary
   directory that the backend removed.

A plain page that is no certificate (the resident's issuance record, 交付履歴) is printed by
:meth:`RenderingPrinter.print_plain`: the caller's pages as they are, as one job named
``plain-`` and a random token (no order, no person), followed, stopped and reported exactly as an
order's job (steps 2-4). Its resolution is read from the pages' width (A4).

Taken documents: a store printer has a sensor on its output tray only through the peripheral
controller (issue 7). With a :class:`TraySensor`, :meth:`RenderingPrinter.wait_until_taken` waits for
the tray to be empty; without one it cannot know, and returns ``assume_taken_after`` seconds after
the job (the reminder sounds until then; the store's staff keep forgotten pages, as today).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Sequence
from typing import Protocol

from PIL import Image

from documents import Binding, OpenedDocument
from hardware.printer import PrintBackend, Printed, PrinterCondition, PrinterError, PrintJob
from kiosk.errors import PrinterError as KioskPrinterError

log = logging.getLogger(__name__)

DPI = 300  # printing.render's default
A4_WIDTH_INCHES = 210.0 / 25.4


class PageRenderer(Protocol):
    """Draws one checked copy as pages: ``render_document`` with its trust list and clock bound."""

    def __call__(self, opened: OpenedDocument, *, expected: Binding, dpi: int) -> list[Image.Image]: ...


class TraySensor(Protocol):
    """The output tray's paper sensor (排紙トレイ), from the peripheral controller."""

    async def wait_until_empty(self) -> None: ...


class RenderingPrinter:
    """The store printer as the kiosk's :class:`~kiosk.ports.Printer`."""

    def __init__(
        self,
        backend: PrintBackend,
        render: PageRenderer,
        *,
        dpi: int = DPI,
        tray: TraySensor | None = None,
        assume_taken_after: float = 10.0,
    ) -> None:
        self.backend = backend
        self.render = render
        self.dpi = dpi
        self.tray = tray
        self.assume_taken_after = assume_taken_after
        self._printed_since_taken = False
        self._stop: threading.Event | None = None  # the running job's

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def clear_leftovers(self) -> list[str]:
        """At start-up: cancel the jobs an earlier run left on the printer; their ids."""
        try:
            return await asyncio.to_thread(self.backend.clear_leftovers)
        except PrinterError as error:
            raise KioskPrinterError(error.code) from error

    async def print(self, documents: Sequence[OpenedDocument], expected: Binding) -> int:
        if not documents:
            raise KioskPrinterError("nothing_to_print")
        if any(opened.document.binding != expected for opened in documents):
            raise KioskPrinterError("binding_mismatch")  # a copy that is not this order's
        pages = await asyncio.to_thread(self._render_all, documents, expected)
        try:
            return await self._print_job(expected.order_id, pages, self.dpi)
        finally:
            for page in pages:
                page.close()
            pages.clear()

    async def print_plain(self, pages: Sequence[Image.Image]) -> int:
        if not pages:
            raise KioskPrinterError("nothing_to_print")
        return await self._print_job(plain_job_name(), list(pages), _dpi_of(pages[0]))

    async def _print_job(self, name: str, pages: Sequence[Image.Image], dpi: int) -> int:
        """``pages`` as one job named ``name``, followed to its end; the pages printed, or the
        kiosk's :class:`~kiosk.errors.PrinterError` with the printer layer's code."""
        try:
            printed = await self._follow(PrintJob(name, pages, dpi=dpi))
        except PrinterError as error:
            log.warning("job %s not printed: %s (%d pages done)", name, error.code, error.pages_done)
            self._printed_since_taken = error.pages_done > 0
            code = "stopped" if self._stopped else error.code
            raise KioskPrinterError(code, pages_done=error.pages_done) from error
        self._printed_since_taken = True
        return printed.pages

    def _render_all(self, documents: Sequence[OpenedDocument], expected: Binding) -> list[Image.Image]:
        pages: list[Image.Image] = []
        for opened in documents:
            drawn = self.render(opened, expected=expected, dpi=self.dpi)
            if len(drawn) != opened.document.pages:
                raise KioskPrinterError("page_count_mismatch")
            pages.extend(drawn)
        return pages

    @property
    def _stopped(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _follow(self, job: PrintJob) -> Printed:
        stop = self._stop = threading.Event()
        worker = asyncio.ensure_future(asyncio.to_thread(self.backend.print_job, job, stop))
        try:
            return await asyncio.shield(worker)
        except asyncio.CancelledError:  # the step was abandoned: cancel the job, and see it gone
            stop.set()
            await asyncio.gather(worker, return_exceptions=True)
            raise

    def condition(self) -> PrinterCondition:
        return self.backend.condition()

    async def wait_until_taken(self) -> None:
        if not self._printed_since_taken:
            return
        if self.tray is not None:
            await self.tray.wait_until_empty()
        else:
            await asyncio.sleep(self.assume_taken_after)
        self._printed_since_taken = False


def plain_job_name() -> str:
    """The name of a plain job on the printer: ``plain-`` and 16 random hex digits (it names no
    order and no person, and no two jobs alike)."""
    return f"plain-{secrets.token_hex(8)}"


def _dpi_of(page: Image.Image) -> int:
    """The resolution of an A4 page, from its width (portrait); 0 for something not an image, which
    the job then refuses (``invalid_job``)."""
    if not isinstance(page, Image.Image):
        return 0
    return round(page.width / A4_WIDTH_INCHES)
