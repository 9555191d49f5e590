"""The printer's condition (for the kiosk's heartbeat) from IPP ``printer-state-reasons``
keywords, with and without their suffixes, the most telling first; and a spool driver's
``printer.status`` between jobs, read as strictly as its job status files. (The CUPS backend's is
asked of a private cupsd in test_printer_cups.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.printer import PrinterCondition, SpoolPrinter, condition_of
from hardware.printer.condition import keyword_of
from hardware.printer.errors import PaperOut
from hardware.printer.follow import fault_of

C = PrinterCondition


@pytest.mark.parametrize(
    ("reasons", "condition"),
    [
        ([], C.READY),
        (["none"], C.READY),
        (["cups-waiting-for-job-completed"], C.READY),  # informational, vendor's: nothing
        (["com.example-whatever-report"], C.READY),
        (["media-low-warning"], C.PAPER_LOW),
        (["media-empty-warning"], C.PAPER_LOW),  # one tray empty, another still has paper
        (["media-empty-error"], C.PAPER_OUT),
        (["media-needed"], C.PAPER_OUT),  # no suffix: an error (RFC 8011)
        (["media-jam-error"], C.JAM),
        (["media-jam-warning"], C.READY),
        (["toner-low-warning"], C.TONER_LOW),
        (["marker-supply-low-report"], C.TONER_LOW),
        (["toner-empty-error"], C.ERROR),
        (["toner-empty-warning"], C.TONER_LOW),
        (["cover-open-error"], C.ERROR),  # any other error
        (["cover-open-warning"], C.READY),
        (["offline-report"], C.OFFLINE),
        (["paused"], C.OFFLINE),
        (["shutdown"], C.OFFLINE),
        (["media-low-warning", "toner-low-warning"], C.TONER_LOW),
        (["media-low-warning", "media-empty-error"], C.PAPER_OUT),
        (["media-empty-error", "media-jam-error"], C.JAM),
        (["cover-open-error", "media-empty-error"], C.PAPER_OUT),
        (["media-jam-error", "offline-report"], C.OFFLINE),
    ],
)
def test_the_condition_of_the_printers_reasons(reasons: list[str], condition: PrinterCondition) -> None:
    assert condition_of(reasons) is condition


def test_a_job_is_ended_by_what_the_condition_calls_a_fault() -> None:
    """The same keywords read the same way while a job prints (hardware/printer/follow.py)."""
    assert keyword_of("media-empty-error") == ("media-empty", "-error")
    assert keyword_of("paused") == ("paused", "")
    assert fault_of("media-empty-error") is PaperOut
    assert fault_of("media-low-warning") is None


def test_the_conditions_are_the_protocols_printer_states() -> None:
    from center.messages import PRINTER_STATES

    assert {condition.value for condition in PrinterCondition} == set(PRINTER_STATES)


def write_status(spool: Path, text: str) -> None:
    hidden = spool / ".printer.status"
    hidden.write_text(text)
    hidden.replace(spool / "printer.status")


@pytest.mark.parametrize(
    ("status", "condition"),
    [
        ('{"reasons": []}', C.READY),
        ('{"reasons": ["media-low-warning"]}', C.PAPER_LOW),
        ('{"reasons": ["media-jam-error"]}', C.JAM),
        ('{"reasons": ["offline-report"], "since": "whenever"}', C.OFFLINE),  # more is allowed
        ("not json {", C.ERROR),
        ('{"reasons": "media-jam-error"}', C.ERROR),
        ('{"reasons": [1]}', C.ERROR),
        ('{"reasons": ["' + "x" * 65 + '"]}', C.ERROR),
        ("[]", C.ERROR),
        ("{" + " " * 5000 + "}", C.ERROR),
        ('{"reasons": ["media-empty-error"]}'.encode("utf-16").decode("latin-1"), C.ERROR),
    ],
)
def test_a_spool_drivers_status_between_jobs(
    tmp_path: Path, status: str, condition: PrinterCondition
) -> None:
    write_status(tmp_path, status)
    assert SpoolPrinter(tmp_path).condition() is condition


def test_a_spool_without_a_status_is_ready_and_without_its_directory_offline(tmp_path: Path) -> None:
    assert SpoolPrinter(tmp_path).condition() is C.READY
    assert SpoolPrinter(tmp_path / "gone").condition() is C.OFFLINE
