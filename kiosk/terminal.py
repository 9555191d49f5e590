"""One terminal's parts as the workflow's steps use them: the screen, the devices, the way to the
center and the order journal. The Kivy app, the headless driver and ``make run`` each build one
(with real devices or stand-ins) and give it to :func:`kiosk.workflow.states.build_steps`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.journal import OrderJournal
from kiosk.ports import CardSlot, Cashbox, CenterLink, Guard, Maintenance, Printer, Reminder, Screen
from kiosk.staff import StaffCode
from kiosk.staff_backoff import StaffCodeBackoff
from kiosk.workflow.controller import Activity, LastSession

REMIND_EVERY = 5.0  # seconds between the buzzer's repeats while a card or documents are left


@dataclass
class Terminal:
    screen: Screen
    slot: CardSlot
    cashbox: Cashbox
    printer: Printer
    reminder: Reminder
    center: Callable[[], CenterLink]  # a new session with the center (a KioskSession), one per resident
    journal: OrderJournal
    printer_number: int = 1
    remind_every: float = REMIND_EVERY
    activity: Activity = field(default_factory=Activity)  # the resident's last touch, card or coin
    last_session: LastSession = field(default_factory=LastSession)  # the minute it ended, for the heartbeat
    guard: Guard | None = None  # the door and tamper alarm (none without a peripheral controller)
    maintenance: Maintenance | None = None  # the staff's maintenance mode on the controller
    staff_code: StaffCode | None = None  # its code's hash (no maintenance mode without one)
    staff_backoff: StaffCodeBackoff | None = None  # wrong codes in a row; by default beside the journal

    def __post_init__(self) -> None:
        if self.staff_backoff is None:
            self.staff_backoff = StaffCodeBackoff.beside(self.journal.path)
