"""The spool-directory printer with a driver thread playing the printer behind it (the one part
not run for real here: a printer without CUPS; the driver below follows the directory protocol of
hardware/printer/spool.py). An order prints as one file with every page; each fault ends in its
typed error with the job cancelled, taken once and never again, and nothing left in the spool or the
kiosk's temporary directory; malformed status files, leftovers and a second order are handled.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.printer import (
    JobCancelled,
    JobTimeout,
    PaperJam,
    PaperOut,
    PrinterBusy,
    PrinterError,
    PrinterFailed,
    PrinterOffline,
    SpoolPrinter,
    Timeouts,
)
from support.cups_jobs import DPI, job, pdf_pages
from support.spool_driver import Driver

FAST = Timeouts(start=2.0, per_page=1.0, fault_grace=0.2, cancel=5.0, poll=0.02)


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    directory = tmp_path / "spool"
    directory.mkdir()
    return directory


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def driven(spool: Path, tmp_path: Path) -> Iterator[Driver]:
    """The driver thread; its mode is set by the test before the first job."""
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    driver = Driver(spool, outputs, "ok")
    driver.start()
    yield driver
    driver.done.set()
    driver.join(5)


def printer(spool: Path, work_dir: Path, timeouts: Timeouts = FAST) -> SpoolPrinter:
    return SpoolPrinter(spool, timeouts=timeouts, work_dir=work_dir)


def test_an_order_is_spooled_as_one_file_with_every_page(spool: Path, work_dir: Path, driven: Driver) -> None:
    printed = printer(spool, work_dir).print_job(job("ORD-20261123-000017", count=4))
    assert printed.job_id == "ORD-20261123-000017" and printed.pages == 4
    assert driven.taken == ["ORD-20261123-000017"]
    assert pdf_pages(driven.outputs / "ORD-20261123-000017.pdf") == 4
    assert list(spool.iterdir()) == [] and list(work_dir.iterdir()) == []


def test_a_warning_does_not_stop_the_job(spool: Path, work_dir: Path, driven: Driver) -> None:
    driven.mode = "low-paper"
    assert printer(spool, work_dir).print_job(job("ORD-LOW")).pages == 2


@pytest.mark.parametrize(
    ("mode", "error_type", "pages_done"),
    [
        ("paper-out", PaperOut, 0),
        ("jam-after-1", PaperJam, 1),
        ("offline", PrinterOffline, 0),
        ("garbage", PrinterFailed, 0),
        ("bad-state", PrinterFailed, 0),
        ("bad-pages", PrinterFailed, 0),
        ("huge", PrinterFailed, 0),
    ],
)
def test_a_fault_cancels_the_job_and_it_is_taken_once(
    spool: Path, work_dir: Path, driven: Driver, mode: str, error_type: type[PrinterError], pages_done: int
) -> None:
    driven.mode = mode
    with pytest.raises(error_type) as raised:
        printer(spool, work_dir).print_job(job(f"ORD-{mode}"))
    error = raised.value
    assert error.code == error_type.code and error.cancelled and error.pages_done == pages_done
    assert error.job_id == f"ORD-{mode}"
    assert driven.taken == [f"ORD-{mode}"]  # once, never again
    assert list(spool.iterdir()) == [] and list(work_dir.iterdir()) == []


def test_a_job_the_driver_aborts_is_a_printer_failure(spool: Path, work_dir: Path, driven: Driver) -> None:
    driven.mode = "aborted"
    with pytest.raises(PrinterFailed, match="aborted"):
        printer(spool, work_dir).print_job(job("ORD-ABORTED"))
    assert list(spool.iterdir()) == []


def test_a_driver_that_never_finishes_times_out(spool: Path, work_dir: Path, driven: Driver) -> None:
    driven.mode = "hang"
    with pytest.raises(JobTimeout, match="did not finish") as raised:
        printer(spool, work_dir, Timeouts(start=0.5, per_page=0.25, poll=0.02)).print_job(job("ORD-HANG"))
    assert raised.value.cancelled and driven.taken == ["ORD-HANG"] and list(spool.iterdir()) == []


def test_a_job_no_driver_takes_times_out_and_is_withdrawn(spool: Path, work_dir: Path) -> None:
    with pytest.raises(JobTimeout, match="did not take") as raised:
        printer(spool, work_dir, Timeouts(start=0.3, poll=0.02)).print_job(job("ORD-NODRIVER"))
    assert raised.value.cancelled
    assert list(spool.iterdir()) == [] and list(work_dir.iterdir()) == []  # the untaken job deleted


def test_stopping_a_job_cancels_it(spool: Path, work_dir: Path, driven: Driver) -> None:
    driven.mode = "hang"
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(JobCancelled) as raised:
        printer(spool, work_dir).print_job(job("ORD-STOP"), stop)
    assert raised.value.cancelled and list(spool.iterdir()) == []


def test_leftovers_of_an_earlier_run_are_cleared_before_the_next_order(
    spool: Path, work_dir: Path, tmp_path: Path
) -> None:
    job("ORD-UNTAKEN", count=1).pages[0].save(spool / "job-ORD-UNTAKEN.pdf", "PDF", resolution=DPI)
    (spool / "job-ORD-DONE.status").write_text('{"state": "completed", "pages_done": 2}')
    (spool / "job-ORD-GONE.cancel").touch()
    assert printer(spool, work_dir).clear_leftovers() == ["ORD-DONE", "ORD-GONE", "ORD-UNTAKEN"]
    assert list(spool.iterdir()) == []
    (spool / "job-ORD-STUCK.status").write_text('{"state": "processing"}')  # and no driver answers
    with pytest.raises(PrinterBusy):
        printer(spool, work_dir, Timeouts(cancel=0.3, poll=0.02)).print_job(job("ORD-NEXT"))
    assert not (spool / "job-ORD-NEXT.pdf").exists() and list(work_dir.iterdir()) == []
    assert (spool / "job-ORD-STUCK.cancel").exists()  # the cancel stays for the driver to see


def test_a_leftover_the_driver_is_still_printing_is_cancelled_first(
    spool: Path, work_dir: Path, driven: Driver
) -> None:
    driven.mode = "hang"
    (spool / "job-ORD-EARLIER.status").write_text('{"state": "processing"}')
    threading.Thread(target=driven.until_cancelled, args=("ORD-EARLIER",), daemon=True).start()
    with pytest.raises(JobTimeout):  # this order's own job then hangs
        printer(spool, work_dir, Timeouts(start=0.5, per_page=0.1, poll=0.02)).print_job(job("ORD-NEXT"))
    assert driven.taken == ["ORD-NEXT"] and list(spool.iterdir()) == []


def test_a_second_order_is_refused_while_the_first_is_printing(
    spool: Path, work_dir: Path, driven: Driver
) -> None:
    driven.mode = "slow"
    shared = printer(spool, work_dir)
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(shared.print_job(job("ORD-FIRST"))))
    thread.start()
    while not driven.taken:
        thread.join(0.02)
    with pytest.raises(PrinterBusy):
        shared.print_job(job("ORD-SECOND"))
    thread.join(10)
    assert len(results) == 1 and driven.taken == ["ORD-FIRST"]


def test_a_missing_or_unwritable_spool_is_offline(tmp_path: Path, work_dir: Path) -> None:
    with pytest.raises(PrinterOffline, match="missing"):
        printer(tmp_path / "nowhere", work_dir).print_job(job("ORD-1"))
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        if os.geteuid() == 0:  # root writes anywhere: a file in the way of the job plays the fault
            (read_only / ".job-ORD-1.tmp").mkdir()
        with pytest.raises(PrinterOffline, match="could not be written"):
            printer(read_only, work_dir).print_job(job("ORD-1"))
    finally:
        read_only.chmod(0o700)
    assert list(work_dir.iterdir()) == []
