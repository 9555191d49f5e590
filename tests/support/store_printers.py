"""The store's printer as a kiosk's settings name it (``print_to``), for the end-to-end tests: the
real renderer and the real backend (the tests' CUPS server, or a spool directory with its driver
thread), with timeouts short enough for a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.printer import Timeouts
from kiosk.assembly import printer_for
from kiosk.config import KioskConfig
from kiosk.devices.printer import RenderingPrinter
from support.fixtures_cups import CupsServer
from support.world import World

FAST = Timeouts(start=10.0, per_page=5.0, fault_grace=0.3, cancel=10.0, poll=0.05)


def store_printer(world: World, print_to: str, tmp_path: Path) -> RenderingPrinter:
    """The printer of ``print_to`` (``cups:<queue>``, ``spool:<directory>``) as the kiosk builds it."""
    config = KioskConfig(
        center_url="https://unused",
        center_ca=tmp_path,
        terminal=tmp_path,
        trust=tmp_path,
        journal=tmp_path / "journal.json",
        print_to=print_to,
        peripherals="stand-in",
    )
    printer = printer_for(config, world.trust, work_dir=tmp_path)
    assert isinstance(printer, RenderingPrinter)
    printer.backend.timeouts = FAST  # type: ignore[attr-defined]
    printer.assume_taken_after = 0.2
    return printer


def cups_printer(
    world: World, cups_server: CupsServer, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> RenderingPrinter:
    """A new queue of the tests' CUPS server playing ``mode`` (:mod:`support.fixtures_cups`)."""
    monkeypatch.setenv("CUPS_SERVER", cups_server.server)  # the kiosk's libcups finds the tests' cupsd
    return store_printer(world, f"cups:{cups_server.add_printer(mode)}", tmp_path)
