"""The kiosk's printer port on the private CUPS server (tests/support/fixtures_cups.py): every copy
of an order rendered and printed as one job while the event loop keeps running; printer faults
become the kiosk's PrinterError with the printer's code, the job cancelled; a copy of another
order is refused before anything is rendered; an abandoned step cancels its job before the next
order. Plain pages (print_plain, the resident's issuance record) print as one job of no order,
on CUPS and on the spool printer, with the same faults; the stand-in printer does the same in memory.

The pages are drawn by a small Pillow renderer with render_document's call signature, and once by
printing.render itself (a specimen order).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from devtools.specimens import specimens
from documents import Binding, MunicipalKey, OpenedDocument, sign
from hardware.printer import CupsPrinter, PaperJam, PaperOut, SpoolPrinter, Timeouts
from hardware.printer import PrinterError as HardwarePrinterError
from kiosk.devices.printer import RenderingPrinter
from kiosk.devices.stand_ins import StandInPrinter
from kiosk.errors import PrinterError
from printing.render import render_document
from printing.render.issuance_record import render_issuance_record
from support.cups_jobs import pages as job_pages
from support.cups_jobs import pdf_pages, pending
from support.fixtures_cups import CupsServer
from support.issuance_records import PRINTED_AT, record_content
from support.sample_documents import CHIYODA, EXPECTED, ISSUE, make_document
from support.spool_driver import Driver

Make = Callable[..., tuple[RenderingPrinter, CupsPrinter]]
FAST = Timeouts(start=5.0, per_page=2.0, fault_grace=0.3, cancel=10.0, poll=0.05)
DPI = 100


class Drawing:
    """Draws each page's issue number (the renderer's signature: ``(opened, *, expected, dpi)``)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, opened: OpenedDocument, *, expected: Binding, dpi: int) -> list[Image.Image]:
        self.calls += 1
        assert opened.document.binding == expected
        pages = []
        for number in range(1, opened.document.pages + 1):
            page = Image.new("L", (round(8.27 * dpi), round(11.69 * dpi)), "white")
            label = f"{opened.document.issue_number.text} p{number}"
            ImageDraw.Draw(page).text((dpi, dpi), label, fill="black")
            pages.append(page)
        return pages


@pytest.fixture(scope="module")
def copies() -> list[OpenedDocument]:
    """Two copies of one order, two pages each."""
    key = MunicipalKey.generate(CHIYODA)
    result = []
    for sequence in (1, 2):
        issue = dataclasses.replace(ISSUE, sequence=sequence)
        signed = sign(make_document(issue=issue), key)
        result.append(
            OpenedDocument(signed.document, signed.key_id, signed.signature, signed.verification_code)
        )
    return result


@pytest.fixture
def kiosk_printer(cups_server: CupsServer, tmp_path: Path) -> Make:
    def make(mode: str, timeouts: Timeouts = FAST) -> tuple[RenderingPrinter, CupsPrinter]:
        backend = CupsPrinter(
            cups_server.add_printer(mode), server=cups_server.server, timeouts=timeouts, work_dir=tmp_path
        )
        return RenderingPrinter(backend, Drawing(), dpi=DPI, assume_taken_after=0.01), backend

    return make


async def ticking(printing: asyncio.Future[int]) -> tuple[int, int]:
    """The pages printed, and how often the event loop ran another task meanwhile."""
    ticks = 0
    while not printing.done():
        await asyncio.sleep(0.01)
        ticks += 1
    return await printing, ticks


def test_every_copy_prints_as_one_job_and_the_loop_keeps_running(
    cups_server: CupsServer, kiosk_printer: Make, copies: list[OpenedDocument], tmp_path: Path
) -> None:
    printer, backend = kiosk_printer("slow")
    earlier = len(cups_server.runs(EXPECTED.order_id))

    async def scenario() -> tuple[int, int]:
        return await ticking(asyncio.ensure_future(printer.print(copies, EXPECTED)))

    pages, ticks = asyncio.run(scenario())
    assert pages == 4 and ticks > 10  # the backend's two seconds did not block the loop
    *_others, job_id = cups_server.runs(EXPECTED.order_id)
    assert len(_others) == earlier  # one job
    assert pdf_pages(cups_server.output(int(job_id))) == 4
    assert list(tmp_path.iterdir()) == []  # no page of it left on the kiosk
    asyncio.run(asyncio.wait_for(printer.wait_until_taken(), 5))  # no tray sensor: assumed taken
    assert pending(cups_server, backend.queue) == ""


@pytest.mark.parametrize(
    ("mode", "code", "cause"), [("paper-out", "paper_out", PaperOut), ("jam-after-1", "paper_jam", PaperJam)]
)
def test_a_printer_fault_is_the_kiosk_s_printer_error_with_its_code(
    cups_server: CupsServer,
    kiosk_printer: Make,
    copies: list[OpenedDocument],
    tmp_path: Path,
    mode: str,
    code: str,
    cause: type[Exception],
) -> None:
    printer, backend = kiosk_printer(mode)
    with pytest.raises(PrinterError, match=f"^{code}$") as raised:
        asyncio.run(printer.print(copies, EXPECTED))
    assert isinstance(raised.value.__cause__, cause)
    failed = raised.value.__cause__
    assert isinstance(failed, HardwarePrinterError) and failed.job_id is not None and failed.cancelled
    assert cups_server.runs(EXPECTED.order_id).count(str(backend.job_number(failed.job_id))) == 1
    assert pending(cups_server, backend.queue) == ""
    assert list(tmp_path.iterdir()) == []


def test_a_copy_of_another_order_is_refused_before_rendering(
    cups_server: CupsServer, kiosk_printer: Make, copies: list[OpenedDocument]
) -> None:
    printer, backend = kiosk_printer("ok")
    other = dataclasses.replace(EXPECTED, order_id="ORD-20261123-999999")
    with pytest.raises(PrinterError, match="binding_mismatch"):
        asyncio.run(printer.print(copies, other))
    with pytest.raises(PrinterError, match="nothing_to_print"):
        asyncio.run(printer.print([], EXPECTED))
    assert isinstance(printer.render, Drawing) and printer.render.calls == 0
    assert cups_server.runs("ORD-20261123-999999") == [] and pending(cups_server, backend.queue) == ""


def test_a_renderer_giving_another_page_count_is_refused(
    cups_server: CupsServer, kiosk_printer: Make, copies: list[OpenedDocument]
) -> None:
    printer, backend = kiosk_printer("ok")
    printer.render = lambda opened, *, expected, dpi: [Image.new("L", (827, 1170), "white")]
    with pytest.raises(PrinterError, match="page_count_mismatch"):
        asyncio.run(printer.print(copies, EXPECTED))
    assert pending(cups_server, backend.queue) == ""


def test_an_abandoned_printing_step_cancels_its_job_before_letting_go(
    cups_server: CupsServer,
    kiosk_printer: Make,
    copies: list[OpenedDocument],
    caplog: pytest.LogCaptureFixture,
) -> None:
    printer, backend = kiosk_printer("hang", Timeouts(start=2.0, per_page=1.0, cancel=10.0, poll=0.05))

    async def abandoned() -> None:
        earlier = len(cups_server.runs(EXPECTED.order_id))  # other tests printed this order too
        task = asyncio.ensure_future(printer.print(copies, EXPECTED))
        while len(cups_server.runs(EXPECTED.order_id)) == earlier:  # until the job is at the printer
            await asyncio.sleep(0.02)
        task.cancel()  # the step's time ran out
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.WARNING, logger="hardware.printer"):
        asyncio.run(abandoned())
    assert pending(cups_server, backend.queue) == ""  # gone before the step let go
    assert "ended: job_cancelled" in caplog.text  # by the step, not by the job's own timeout


def test_wait_until_taken_uses_the_tray_sensor_when_there_is_one(
    kiosk_printer: Make, copies: list[OpenedDocument]
) -> None:
    class Tray:  # the peripheral controller's sensor (issue 7), played by the test
        def __init__(self) -> None:
            self.empty = asyncio.Event()

        async def wait_until_empty(self) -> None:
            await self.empty.wait()

    printer, _backend = kiosk_printer("ok")

    async def scenario() -> bool:
        tray = Tray()
        printer.tray = tray
        await asyncio.wait_for(printer.wait_until_taken(), 1)  # nothing printed: at once
        await printer.print(copies, EXPECTED)
        waiting = asyncio.ensure_future(printer.wait_until_taken())
        await asyncio.sleep(0.1)
        still_waiting = not waiting.done()
        tray.empty.set()  # the resident takes the pages
        await asyncio.wait_for(waiting, 5)
        return still_waiting

    assert asyncio.run(scenario())


def test_a_specimen_rendered_by_the_real_renderer_prints_every_page(
    cups_server: CupsServer, tmp_path: Path
) -> None:
    town = specimens()
    name, opened = next(iter(town.copies.items()))
    render = functools.partial(render_document, trust=town.trust, now=town.now)
    backend = CupsPrinter(
        cups_server.add_printer("ok"), server=cups_server.server, timeouts=FAST, work_dir=tmp_path
    )
    printer = RenderingPrinter(backend, render, dpi=150)
    earlier = len(cups_server.runs(opened.document.binding.order_id))
    pages = asyncio.run(printer.print([opened, opened], town.binding(name)))  # two copies
    assert pages == 2 * opened.document.pages
    *others, job_id = cups_server.runs(opened.document.binding.order_id)
    assert len(others) == earlier
    assert pdf_pages(cups_server.output(int(job_id))) == pages
    assert list(tmp_path.iterdir()) == []


# -- plain pages (print_plain: the resident's issuance record, no order) ------------------------------


def plain_runs(cups_server: CupsServer) -> list[tuple[str, str]]:
    """(job id, title) of every plain job the backend was started for."""
    log = cups_server.outputs / "runs.log"
    lines = [line.split() for line in (log.read_text().splitlines() if log.exists() else [])]
    return [(words[0], words[1]) for words in lines if len(words) == 2 and words[1].startswith("plain-")]


def a4_points(path: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size:")).split()
    return float(size[2]), float(size[4])


def test_plain_pages_print_as_one_job_of_no_order_and_stay_the_caller_s(
    cups_server: CupsServer, kiosk_printer: Make, tmp_path: Path
) -> None:
    printer, backend = kiosk_printer("ok")
    sheets = job_pages(3)  # A4 at 100 dpi
    earlier = plain_runs(cups_server)
    assert asyncio.run(printer.print_plain(sheets)) == 3
    runs = plain_runs(cups_server)[len(earlier) :]
    assert len(runs) == 1 and re.fullmatch(r"plain-[0-9a-f]{16}", runs[0][1])  # no order, no person
    output = cups_server.output(int(runs[0][0]))
    assert pdf_pages(output) == 3
    width, height = a4_points(output)  # the resolution read from the pages' width: A4 on paper
    assert abs(width - 595.3) < 1.5 and abs(height - 841.9) < 1.5
    assert sheets[0].getpixel((0, 0)) == 255  # the caller's pages were not closed
    assert list(tmp_path.iterdir()) == [] and pending(cups_server, backend.queue) == ""
    asyncio.run(asyncio.wait_for(printer.wait_until_taken(), 5))  # the reminder waits for them too


@pytest.mark.parametrize(
    ("mode", "code", "cause", "pages_done"),
    [("paper-out", "paper_out", PaperOut, 0), ("jam-after-1", "paper_jam", PaperJam, 1)],
)
def test_a_printer_fault_mid_plain_job_is_typed_as_for_an_order(
    cups_server: CupsServer,
    kiosk_printer: Make,
    tmp_path: Path,
    mode: str,
    code: str,
    cause: type[Exception],
    pages_done: int,
) -> None:
    printer, backend = kiosk_printer(mode)
    earlier = plain_runs(cups_server)
    with pytest.raises(PrinterError, match=f"^{code}$") as raised:
        asyncio.run(printer.print_plain(job_pages(2)))
    failed = raised.value.__cause__
    assert isinstance(failed, cause) and isinstance(failed, HardwarePrinterError) and failed.cancelled
    assert raised.value.pages_done == failed.pages_done
    assert len(plain_runs(cups_server)) == len(earlier) + 1  # submitted once, never again
    assert pending(cups_server, backend.queue) == "" and list(tmp_path.iterdir()) == []


def test_plain_printing_refuses_no_page_and_what_is_not_a_page(
    cups_server: CupsServer, kiosk_printer: Make
) -> None:
    printer, backend = kiosk_printer("ok")
    earlier = plain_runs(cups_server)
    with pytest.raises(PrinterError, match=r"^nothing_to_print$"):
        asyncio.run(printer.print_plain([]))
    with pytest.raises(PrinterError, match=r"^invalid_job$"):
        asyncio.run(printer.print_plain(["not a page"]))  # type: ignore[list-item]
    with pytest.raises(PrinterError, match=r"^invalid_job$"):
        asyncio.run(printer.print_plain([Image.new("L", (20, 30), "white")]))  # far below 72 dpi
    assert plain_runs(cups_server) == earlier and pending(cups_server, backend.queue) == ""


def test_the_issuance_record_rendered_prints_every_page(cups_server: CupsServer, tmp_path: Path) -> None:
    records = [record_content(rows=40)]
    sheets = render_issuance_record(records, language="ja", printed_at=PRINTED_AT, dpi=150)
    backend = CupsPrinter(
        cups_server.add_printer("ok"), server=cups_server.server, timeouts=FAST, work_dir=tmp_path
    )
    earlier = plain_runs(cups_server)
    assert asyncio.run(RenderingPrinter(backend, Drawing(), dpi=300).print_plain(sheets)) == len(sheets) > 1
    (job_id, _title), *more = plain_runs(cups_server)[len(earlier) :]
    assert more == [] and pdf_pages(cups_server.output(int(job_id))) == len(sheets)
    assert list(tmp_path.iterdir()) == []


def test_plain_pages_on_the_spool_printer_and_a_jam_after_the_first(tmp_path: Path) -> None:
    spool, outputs, work = tmp_path / "spool", tmp_path / "outputs", tmp_path / "work"
    for directory in (spool, outputs, work):
        directory.mkdir()
    driver = Driver(spool, outputs, "pages")
    driver.seconds_per_page = 0.05
    driver.start()
    try:
        backend = SpoolPrinter(spool, timeouts=FAST, work_dir=work)
        printer = RenderingPrinter(backend, Drawing(), dpi=DPI, assume_taken_after=0.01)
        assert asyncio.run(printer.print_plain(job_pages(2))) == 2
        (name,) = driver.taken
        assert re.fullmatch(r"plain-[0-9a-f]{16}", name) and pdf_pages(outputs / f"{name}.pdf") == 2
        driver.jam_after = 1
        with pytest.raises(PrinterError, match=r"^paper_jam$") as raised:
            asyncio.run(printer.print_plain(job_pages(3)))
        assert raised.value.pages_done == 1 and isinstance(raised.value.__cause__, PaperJam)
        assert len(driver.taken) == 2 and driver.pages_out == 3  # taken once; one page of it came out
        assert list(spool.iterdir()) == [] and list(work.iterdir()) == []
    finally:
        driver.done.set()
        driver.join(5)


def test_the_stand_in_printer_puts_plain_pages_in_its_tray_and_fails_as_asked() -> None:
    printer = StandInPrinter()
    sheets = job_pages(3)

    async def scenario() -> None:
        assert await printer.print_plain(sheets) == 3
        assert printer.plain_tray == sheets and printer.tray == []
        waiting = asyncio.ensure_future(printer.wait_until_taken())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        printer.take()  # the resident takes the pages
        await asyncio.wait_for(waiting, 1)
        assert printer.plain_tray == []
        printer.fault, printer.fault_after = "paper_out", 1
        with pytest.raises(PrinterError, match=r"^paper_out$") as raised:
            await printer.print_plain(sheets)
        assert raised.value.pages_done == 1 and printer.plain_tray == sheets[:1]
        with pytest.raises(PrinterError, match=r"^nothing_to_print$"):
            await printer.print_plain([])

    asyncio.run(scenario())
