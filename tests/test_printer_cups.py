"""The CUPS printer against a private cupsd (tests/support/fixtures_cups.py): an order prints as
one job with every page; each printer fault at each stage ends in its typed error with the job
cancelled, sent to the printer once and never again, and the kiosk's copy of the pages gone; a
job left by an earlier run is cleared before the next order; two orders never interleave; bad
input refused.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from hardware.printer import (
    CupsPrinter,
    InvalidJob,
    JobCancelled,
    JobTimeout,
    PaperJam,
    PaperOut,
    PrinterBusy,
    PrinterError,
    PrinterFailed,
    PrinterOffline,
    PrintJob,
    QueueMisconfigured,
    Timeouts,
)
from support.cups_jobs import DPI, job, pages, pdf_pages, pending
from support.fixtures_cups import CupsServer

FAST = Timeouts(start=5.0, per_page=2.0, fault_grace=0.3, cancel=10.0, poll=0.05)


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    """Where the printer makes each job's private directory: empty again after every job."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def printer_for(cups_server: CupsServer, work_dir: Path) -> Callable[..., CupsPrinter]:
    def make(mode: str, *, policy: str = "stop-printer", timeouts: Timeouts = FAST) -> CupsPrinter:
        queue = cups_server.add_printer(mode, policy=policy)
        return CupsPrinter(queue, server=cups_server.server, timeouts=timeouts, work_dir=work_dir)

    return make


def test_an_order_prints_as_one_job_with_every_page(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter], work_dir: Path
) -> None:
    printer = printer_for("ok")
    order = f"ORD-{uuid.uuid4()}"  # the session's cupsd printed other tests' orders before
    printed = printer.print_job(job(order, count=5))
    assert printed.pages == 5 and printed.job_id.startswith(f"{printer.queue}-")
    number = printer.job_number(printed.job_id)
    assert pdf_pages(cups_server.output(number)) == 5
    assert cups_server.runs(order) == [str(number)]  # one job, named by the order id
    assert pending(cups_server, printer.queue) == ""
    assert list(work_dir.iterdir()) == []  # the kiosk's copy of the pages is gone


@pytest.mark.parametrize(
    ("mode", "error_type", "pages_done"),
    [
        ("paper-out", PaperOut, 0),  # before the first page
        ("jam-after-1", PaperJam, 1),  # after page 1 of 2
        ("offline", PrinterOffline, 0),  # the printer went off during the job: the queue stopped
        ("fail", PrinterOffline, 0),  # the backend failed: CUPS stopped the queue
    ],
)
def test_a_fault_during_the_job_cancels_it_and_it_is_never_sent_again(
    cups_server: CupsServer,
    printer_for: Callable[..., CupsPrinter],
    work_dir: Path,
    mode: str,
    error_type: type[PrinterError],
    pages_done: int,
) -> None:
    printer = printer_for(mode)
    order = f"ORD-{mode}"
    with pytest.raises(error_type) as raised:
        printer.print_job(job(order))
    error = raised.value
    assert error.code == error_type.code and error.cancelled and error.pages_done == pages_done
    assert error.job_id is not None
    assert pending(cups_server, printer.queue) == ""  # cancelled, not left to print later
    assert cups_server.runs(order) == [str(printer.job_number(error.job_id))]  # sent once, not retried
    assert not cups_server.output(printer.job_number(error.job_id)).exists()
    assert list(work_dir.iterdir()) == []


def test_a_job_the_printer_aborts_is_a_printer_failure(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter]
) -> None:
    printer = printer_for("fail", policy="abort-job")
    with pytest.raises(PrinterFailed) as raised:
        printer.print_job(job("ORD-ABORTED"))
    assert raised.value.cancelled and cups_server.runs("ORD-ABORTED") == [
        str(printer.job_number(raised.value.job_id or ""))
    ]


def test_a_printer_that_never_finishes_times_out_and_the_job_is_cancelled(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter], work_dir: Path
) -> None:
    printer = printer_for(
        "hang", timeouts=Timeouts(start=1.0, per_page=0.5, fault_grace=0.3, cancel=10.0, poll=0.05)
    )
    with pytest.raises(JobTimeout) as raised:
        printer.print_job(job("ORD-HANG", count=2))
    assert raised.value.code == "print_timeout" and raised.value.cancelled
    assert pending(cups_server, printer.queue) == ""
    assert len(cups_server.runs("ORD-HANG")) == 1
    assert list(work_dir.iterdir()) == []


def test_a_job_the_printer_does_not_take_times_out(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter]
) -> None:
    printer = printer_for(
        "ok", timeouts=Timeouts(start=0.5, per_page=1.0, fault_grace=5.0, cancel=10.0, poll=0.05)
    )
    cups_server.run("lpadmin", "-p", printer.queue, "-o", "job-hold-until-default=indefinite")
    with pytest.raises(JobTimeout, match="did not take"):
        printer.print_job(job("ORD-HELD"))
    assert pending(cups_server, printer.queue) == "" and cups_server.runs("ORD-HELD") == []


@pytest.mark.parametrize("switch_off", ["cupsdisable", "cupsreject"])
def test_an_offline_printer_is_refused_before_anything_is_submitted(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter], work_dir: Path, switch_off: str
) -> None:
    printer = printer_for("ok")
    cups_server.run(switch_off, printer.queue)
    with pytest.raises(PrinterOffline) as raised:
        printer.print_job(job("ORD-OFFLINE"))
    assert raised.value.job_id is None
    assert cups_server.runs("ORD-OFFLINE") == [] and pending(cups_server, printer.queue) == ""
    assert list(work_dir.iterdir()) == []


def test_a_queue_that_would_print_a_failed_job_again_is_refused(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter]
) -> None:
    printer = printer_for("ok", policy="retry-job")
    with pytest.raises(QueueMisconfigured, match="retry-job"):
        printer.print_job(job("ORD-RETRY"))
    assert cups_server.runs("ORD-RETRY") == []


def test_an_unknown_queue_or_an_unreachable_server_is_a_typed_error(
    cups_server: CupsServer, work_dir: Path
) -> None:
    with pytest.raises(QueueMisconfigured):
        CupsPrinter("no_such_queue", server=cups_server.server, timeouts=FAST).print_job(job("ORD-NOQUEUE"))
    closed = CupsPrinter("ok", server="127.0.0.1:1", timeouts=FAST, work_dir=work_dir)
    with pytest.raises(PrinterOffline):
        closed.print_job(job("ORD-NOSERVER"))
    assert list(work_dir.iterdir()) == []


def test_a_job_left_by_an_earlier_run_is_cleared_before_the_next_order(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter], tmp_path: Path
) -> None:
    printer = printer_for("ok")
    earlier = tmp_path / "earlier.pdf"
    pages(1)[0].save(earlier, "PDF", resolution=DPI)
    for order in ("ORD-EARLIER-1", "ORD-EARLIER-2"):  # held: as a crashed run may leave them
        cups_server.run("lp", "-d", printer.queue, "-H", "indefinite", "-t", order, str(earlier))
    assert len(pending(cups_server, printer.queue).splitlines()) == 2
    cleared = printer.clear_leftovers()  # at start-up
    assert len(cleared) == 2 and pending(cups_server, printer.queue) == ""
    cups_server.run("lp", "-d", printer.queue, "-H", "indefinite", "-t", "ORD-EARLIER-3", str(earlier))
    printed = printer.print_job(job("ORD-NEXT"))  # and before each job
    assert pdf_pages(cups_server.output(printer.job_number(printed.job_id))) == 2
    assert [cups_server.runs(f"ORD-EARLIER-{n}") for n in (1, 2, 3)] == [[], [], []]  # never printed


def test_a_second_order_is_refused_while_the_first_is_printing(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter]
) -> None:
    printer = printer_for("slow")
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            outcome["first"] = printer.print_job(job("ORD-FIRST", count=3))
        except PrinterError as error:  # pragma: no cover - reported by the assertion below
            outcome["first"] = error

    thread = threading.Thread(target=first)
    thread.start()
    try:
        while not cups_server.runs("ORD-FIRST"):  # the first job is at the printer
            thread.join(0.05)
            assert thread.is_alive(), outcome
        with pytest.raises(PrinterBusy):
            printer.print_job(job("ORD-SECOND"))
        with pytest.raises(PrinterBusy):
            printer.clear_leftovers()  # nor is the first one's job cleared under it
    finally:
        thread.join(30)
    first_printed = outcome["first"]
    assert not isinstance(first_printed, PrinterError), first_printed
    assert cups_server.runs("ORD-SECOND") == []
    second = printer.print_job(job("ORD-SECOND"))  # once the first is done
    assert pdf_pages(cups_server.output(printer.job_number(second.job_id))) == 2


def test_stopping_a_job_cancels_it(cups_server: CupsServer, printer_for: Callable[..., CupsPrinter]) -> None:
    printer = printer_for(
        "hang", timeouts=Timeouts(start=30.0, per_page=30.0, fault_grace=0.3, cancel=10.0, poll=0.05)
    )
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    with pytest.raises(JobCancelled) as raised:
        printer.print_job(job("ORD-STOPPED"), stop)
    assert raised.value.cancelled and pending(cups_server, printer.queue) == ""


def test_a_job_cancelled_at_the_printer_ends_in_job_cancelled(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter]
) -> None:
    printer = printer_for("hang", timeouts=Timeouts(start=30.0, per_page=30.0, poll=0.05))

    def staff_cancels() -> None:
        while not cups_server.runs("ORD-STAFF"):
            threading.Event().wait(0.05)
        cups_server.run("cancel", "-a", printer.queue)

    helper = threading.Thread(target=staff_cancels)
    helper.start()
    with pytest.raises(JobCancelled, match="at the printer"):
        printer.print_job(job("ORD-STAFF"))
    helper.join(10)


@pytest.mark.parametrize(
    ("name", "make_pages", "dpi"),
    [
        ("", lambda: pages(1), DPI),
        ("ORD 1; rm -rf /", lambda: pages(1), DPI),
        ("x" * 129, lambda: pages(1), DPI),
        ("ORD-1", list, DPI),  # no page
        ("ORD-1", lambda: pages(1) * 501, DPI),  # too many pages
        ("ORD-1", lambda: [Image.new("L", (6000, 8000))], DPI),  # beyond A4 at 600 dpi
        ("ORD-1", lambda: [Image.new("L", (0, 10))], DPI),
        ("ORD-1", lambda: [Image.new("CMYK", (100, 100))], DPI),
        ("ORD-1", lambda: ["not an image"], DPI),
        ("ORD-1", lambda: pages(1), 0),
    ],
)
def test_malformed_or_huge_jobs_are_refused(
    name: str, make_pages: Callable[[], list[Image.Image]], dpi: int
) -> None:
    with pytest.raises(InvalidJob) as raised:
        PrintJob(name, make_pages(), dpi=dpi)
    assert raised.value.code == "invalid_job"


def test_pages_go_to_the_printer_black_and_white_and_lossless(tmp_path: Path) -> None:
    """A grey page in a PDF is stored as JPEG, whose blur would fill in the copy-evident
    background's fine dots: the job file holds bilevel pages (CCITT G4), the dots intact."""
    from hardware.printer.document import bilevel, job_file

    page = Image.new("L", (800, 800), 255)
    for x in range(0, 800, 8):  # a field of one-pixel dots, as fine as the background's
        for y in range(0, 800, 8):
            page.putpixel((x, y), 0)
    with job_file(PrintJob("8e7e07d0-7269-48c7-8249-016bc1a78721", [page], dpi=300), tmp_path) as path:
        data = path.read_bytes()
    assert b"CCITTFaxDecode" in data and b"DCTDecode" not in data
    assert list(bilevel(page).getdata()) == [0 if v == 0 else 255 for v in page.getdata()]


def test_the_printers_condition_as_cups_sees_it(
    cups_server: CupsServer, printer_for: Callable[..., CupsPrinter]
) -> None:
    """What the kiosk's heartbeat says of the printer, asked of CUPS between jobs."""
    from hardware.printer import PrinterCondition

    printer = printer_for("ok")
    assert printer.condition() is PrinterCondition.READY
    cups_server.run("cupsreject", printer.queue)
    assert printer.condition() is PrinterCondition.OFFLINE
    cups_server.run("cupsaccept", printer.queue)
    cups_server.run("cupsdisable", printer.queue)
    assert printer.condition() is PrinterCondition.OFFLINE
    empty = printer_for("paper-out")
    with pytest.raises(PaperOut):
        empty.print_job(job("ORD-CONDITION"))
    assert empty.condition() is PrinterCondition.PAPER_OUT  # what the printer said stays after the job
    assert CupsPrinter("no_such_queue", server=cups_server.server).condition() is PrinterCondition.OFFLINE
    assert CupsPrinter("ok", server="127.0.0.1:1").condition() is PrinterCondition.OFFLINE
