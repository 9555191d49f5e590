"""A terminal put together from its settings: the center client, the trust list, the journal, the
card reader, the peripheral controller (or stand-ins for coins, light and buzzer), the printer,
and the heartbeat's sender (started by whoever runs the terminal: ``kiosk/ui/launch.py``).

``reader`` in the settings, or given here:

- ``pcsc`` — the first PC/SC reader (a real one, or vpcd's with an emulated card: ``make run``);
- ``pcsc:<prefix>`` — the first PC/SC reader whose name starts with ``prefix``;
- ``inprocess`` — an in-process reader (tests and rehearsals put an emulated card in it).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from center.client import CenterClient
from documents import Binding, OpenedDocument, TrustList
from hardware.card.pcsc import PcscReader
from hardware.card.transport import CardReader
from hardware.cardsim.inprocess import InProcessReader
from hardware.peripherals import ControllerUnavailable, Event, PeripheralController
from hardware.peripherals.controller import LINK_DOWN, LINK_UP, RESET
from hardware.peripherals.simulator import PeripheralSimulator
from hardware.peripherals.transport import FdTransport, SerialTransport
from hardware.printer import CupsPrinter, PrintBackend, SpoolPrinter
from kiosk.center_link import KioskSession
from kiosk.config import FIRMWARE_SIMULATOR, STAND_IN, KioskConfig
from kiosk.devices.card_slot import ReaderSlot
from kiosk.devices.peripherals import (
    LinkedCashbox,
    LinkedGuard,
    LinkedMaintenance,
    LinkedPaperTray,
    LinkedReminder,
)
from kiosk.devices.printer import RenderingPrinter, TraySensor
from kiosk.devices.stand_ins import (
    StandInCashbox,
    StandInMaintenance,
    StandInPrinter,
    StandInReminder,
)
from kiosk.heartbeat import HeartbeatSender, build_version, report_of
from kiosk.journal import OrderJournal
from kiosk.ports import Printer, Screen
from kiosk.terminal import Terminal
from printing.render import render_document


def reader_for(spec: str) -> CardReader:
    if spec == "inprocess":
        return InProcessReader()
    if spec == "pcsc":
        return PcscReader.matching("")
    if spec.startswith("pcsc:"):
        return PcscReader.matching(spec.removeprefix("pcsc:"))
    raise ValueError(f"unknown reader {spec!r}: pcsc, pcsc:<name prefix> or inprocess")


@dataclass
class StandInDevices:
    """The stand-ins in the kiosk's own process: its coins and reminder when ``peripherals`` is
    ``stand-in``, its printer when ``print_to`` is."""

    cashbox: StandInCashbox
    printer: StandInPrinter
    reminder: StandInReminder


@dataclass
class Peripherals:
    """The peripheral controller's devices: on a board (``serial:<device>``) or on its firmware's
    simulator (``firmware-simulator``: the MicroPython unix port behind a pseudo-terminal)."""

    controller: PeripheralController
    cashbox: LinkedCashbox
    reminder: LinkedReminder
    guard: LinkedGuard
    tray: LinkedPaperTray
    maintenance: LinkedMaintenance
    simulator: PeripheralSimulator | None = None

    @classmethod
    def linked(
        cls, controller: PeripheralController, simulator: PeripheralSimulator | None = None
    ) -> Peripherals:
        """The kiosk's adapters on ``controller`` (started or not)."""
        cashbox = LinkedCashbox(controller)
        return cls(
            controller,
            cashbox,
            LinkedReminder(controller),
            LinkedGuard(controller),
            LinkedPaperTray(controller),
            LinkedMaintenance(controller, cashbox),
            simulator,
        )

    def close(self) -> None:
        self.controller.close()
        if self.simulator is not None:
            self.simulator.close()


def peripherals_for(config: KioskConfig, *, up_timeout: float = 15.0) -> Peripherals | None:
    """The peripheral controller ``peripherals`` names, connected and up; ``None`` for ``stand-in``."""
    if config.peripherals == STAND_IN:
        return None
    simulator = None
    transport: SerialTransport | FdTransport
    if config.peripherals == FIRMWARE_SIMULATOR:
        simulator = PeripheralSimulator(config.journal.parent / "board").start()
        transport = simulator.transport
    else:
        transport = SerialTransport(config.peripherals.removeprefix("serial:"))
    controller = PeripheralController(transport).start()
    if not controller.wait_until_up(up_timeout):
        controller.close()
        if simulator is not None:
            simulator.close()
        raise ControllerUnavailable(f"the peripheral controller on {config.peripherals} does not answer")
    return Peripherals.linked(controller, simulator)


HEARTBEAT_TIMEOUT = 10.0  # seconds for one heartbeat, all tries together (the next comes in 30)
# the controller's events after which the heartbeat goes at once: the alarm, the board gone or back
CONTROLLER_CHANGES = frozenset({"ALARM", LINK_UP, LINK_DOWN, RESET})


@dataclass
class Assembled:
    terminal: Terminal
    devices: StandInDevices
    client: CenterClient
    reader: CardReader
    peripherals: Peripherals | None = None
    heartbeats: HeartbeatSender | None = None  # not started
    heartbeat_client: CenterClient | None = None  # the heartbeats' own connection

    def close(self) -> None:
        if self.heartbeats is not None:
            self.heartbeats.stop()
        if self.heartbeat_client is not None:
            self.heartbeat_client.close()
        self.client.close()
        if self.peripherals is not None:
            self.peripherals.close()


def heartbeats_for(
    config: KioskConfig, terminal: Terminal, peripherals: Peripherals | None
) -> tuple[HeartbeatSender, CenterClient]:
    """The terminal's heartbeat sender (not started), on a center client of its own (to the
    settings' ``heartbeat_url``: the center's URL unless a group of its own serves heartbeats),
    sent again at once when a session ends or the controller's alarm or link changes."""
    client = CenterClient(
        config.heartbeat_address, config.enrolled(), verify=str(config.center_ca), timeout=HEARTBEAT_TIMEOUT
    )
    sender = HeartbeatSender(
        client,
        functools.partial(report_of, terminal, build=build_version(), config_hash=config.fingerprint()),
    )
    terminal.last_session.subscribe(sender.poke)
    if peripherals is not None:

        def changed(event: Event) -> None:
            if event.name in CONTROLLER_CHANGES:
                sender.poke()

        peripherals.controller.subscribe(changed)
    return sender, client


def printer_for(
    config: KioskConfig, trust: TrustList, *, work_dir: Path | None = None, tray: TraySensor | None = None
) -> RenderingPrinter:
    """The store's printer of ``print_to`` (``cups:<queue>`` or ``spool:<directory>``): every page
    rendered by :func:`printing.render.render_document` against ``trust`` at the time of printing."""
    kind, _, where = config.print_to.partition(":")
    backend: PrintBackend
    if kind == "cups":
        backend = CupsPrinter(where, work_dir=work_dir)
    elif kind == "spool":
        backend = SpoolPrinter(Path(where), work_dir=work_dir)
    else:
        raise ValueError(f"no printer for {config.print_to!r}")

    def render(opened: OpenedDocument, *, expected: Binding, dpi: int) -> list[Image.Image]:
        return render_document(opened, trust=trust, expected=expected, now=dt.datetime.now(dt.UTC), dpi=dpi)

    return RenderingPrinter(backend, render, tray=tray)


def assemble(
    config: KioskConfig, screen: Screen, *, reader: CardReader | None = None, seconds_per_page: float = 0.0
) -> Assembled:
    """The terminal of ``config``: the peripheral controller's coins, light, buzzer, output tray and
    alarm when ``peripherals`` names one (else the stand-in coins and reminder); the store's printer
    when ``print_to`` names one, else the stand-in printer."""
    client = CenterClient(config.center_url, config.enrolled(), verify=str(config.center_ca))
    trust = config.trust_list()
    reader = reader or reader_for(config.reader)
    devices = StandInDevices(
        StandInCashbox(), StandInPrinter(seconds_per_page=seconds_per_page), StandInReminder()
    )
    peripherals = peripherals_for(config)
    tray = None if peripherals is None else peripherals.tray
    printer: Printer = (
        devices.printer if config.print_to == STAND_IN else printer_for(config, trust, tray=tray)
    )
    terminal = Terminal(
        screen=screen,
        slot=ReaderSlot(reader),
        cashbox=devices.cashbox if peripherals is None else peripherals.cashbox,
        printer=printer,
        reminder=devices.reminder if peripherals is None else peripherals.reminder,
        center=lambda: KioskSession(client, trust),
        journal=OrderJournal(config.journal),
        printer_number=config.printer,
        guard=None if peripherals is None else peripherals.guard,
        maintenance=StandInMaintenance() if peripherals is None else peripherals.maintenance,
        staff_code=config.staff_code,
    )
    heartbeats, heartbeat_client = heartbeats_for(config, terminal, peripherals)
    return Assembled(terminal, devices, client, reader, peripherals, heartbeats, heartbeat_client)
