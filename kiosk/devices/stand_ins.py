"""Stand-ins for the coin mechanism, the printer, the light and buzzer and the maintenance mode,
in the kiosk's own process (``peripherals = "stand-in"``, ``print_to = "stand-in"`` in the
settings): no peripheral controller, no store printer. Driven by tests, load runs and the demo's
on-screen buttons (``drop``, ``take``, ``jam``).

They keep what a real device would: yen in escrow and in the cash box, the pages in the output
tray until they are taken (as paper, which is the resident's, and only in memory: nothing is
written to disk), and how often each reminder has sounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from PIL import Image

from documents import Binding, OpenedDocument
from hardware.printer import PrinterCondition
from kiosk.errors import DeviceError, PaymentError, PrinterError
from kiosk.ports import ReminderKind

COINS = (10, 50, 100, 500)  # the coins the terminal takes (1 and 5 yen are refused)


class StandInCashbox:
    def __init__(self) -> None:
        self.fee: int | None = None
        self._held: list[int] = []
        self.cash_box = 0  # yen accepted, for the store's count
        self.returned: list[int] = []  # coins given back, in order (the return cup)
        self.fault: str | None = None  # set by a test: the next operation fails
        self.accept_fault: str | None = None  # set by a test: taking the coins fails, they stay in escrow
        self._changed = asyncio.Event()

    def open(self, fee: int) -> None:
        if self._held:
            raise PaymentError("coins are still held from another payment")
        self.fee = fee
        self._changed.clear()

    def drop(self, coin: int) -> bool:
        """A coin put into the slot: taken into escrow, or returned at once (no payment open, a
        coin the terminal does not take)."""
        if self.fee is None or coin not in COINS:
            self.returned.append(coin)
            return False
        self._held.append(coin)
        self._changed.set()
        return True

    async def wait_for_coins(self) -> int:
        await self._changed.wait()
        self._changed.clear()
        if self.fault:
            raise PaymentError(self.fault)
        return self.held

    @property
    def held(self) -> int:
        return sum(self._held)

    async def accept(self, amount: int) -> int:
        if self.fee is None or self.held < self.fee:
            raise PaymentError("the fee is not paid")
        if not 0 < amount <= self.fee:
            raise PaymentError("not an amount of this payment")
        if self.accept_fault:
            raise PaymentError(self.accept_fault)  # a real board keeps the escrow: return_all gives it back
        change, self.cash_box = self.held - amount, self.cash_box + amount
        self._held.clear()
        self.fee = None
        if change:
            self.returned.append(change)
        return change

    async def return_all(self) -> int:
        held = self.held
        self.returned.extend(self._held)
        self._held.clear()
        self.fee = None
        return held


class StandInPrinter:
    """Prints instantly into an output tray held in memory (the store's printer is
    :class:`kiosk.devices.printer.RenderingPrinter` on CUPS or a spool directory)."""

    def __init__(self, *, seconds_per_page: float = 0.0) -> None:
        self.tray: list[OpenedDocument] = []  # the copies that came out whole
        self.plain_tray: list[Image.Image] = []  # plain pages that came out (print_plain)
        self.pages_out = 0  # pages put in the tray, whole copies or not
        self.jobs = 0
        self.fault: str | None = None  # "paper_out", "jam", "offline": the next job fails
        self.fault_after: int = 0  # pages the failing job puts out first
        self.tray_fault: str | None = None  # the output tray's sensor fails
        self.state = PrinterCondition.READY  # what it says between jobs (set by a test or the demo)
        self.seconds_per_page = seconds_per_page
        self._taken = asyncio.Event()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def print(self, documents: Sequence[OpenedDocument], expected: Binding) -> int:
        if any(document.document.binding != expected for document in documents):
            raise PrinterError("a copy is not this order's")
        fault = self._start_job()
        pages = 0
        for document in documents:
            pages = await self._put_out(document.document.pages, pages, fault)
            self.tray.append(document)
        return pages

    async def print_plain(self, pages: Sequence[Image.Image]) -> int:
        if not pages:
            raise PrinterError("nothing_to_print")
        fault = self._start_job()
        done = 0
        for page in pages:
            done = await self._put_out(1, done, fault)
            self.plain_tray.append(page)
        return done

    def _start_job(self) -> str | None:
        """A new job: it clears an earlier stop and takes the fault set for the next job (its own)."""
        fault, self.fault = self.fault, None
        self._stop.clear()
        self.jobs += 1
        return fault

    async def _put_out(self, count: int, done: int, fault: str | None) -> int:
        """``count`` more pages of a job that has put out ``done``, each taking its time, until the
        job's ``fault`` (after :attr:`fault_after` pages) or a stop; the job's pages done then."""
        for _page in range(count):
            if fault is not None and done >= self.fault_after:
                raise PrinterError(fault, pages_done=done)
            with contextlib.suppress(TimeoutError):  # a page takes its time, unless the job is stopped
                await asyncio.wait_for(self._stop.wait(), self.seconds_per_page)
            if self._stop.is_set():
                raise PrinterError("stopped", pages_done=done)
            done += 1
            self.pages_out += 1
            self._taken.clear()
        return done

    def condition(self) -> PrinterCondition:
        return self.state

    def take(self) -> list[OpenedDocument]:
        """The resident takes the pages out of the tray (the copies, and any plain pages: those are
        in :attr:`plain_tray` until then)."""
        taken, self.tray = self.tray, []
        self.plain_tray = []
        self._taken.set()
        return taken

    async def wait_until_taken(self) -> None:
        if self.tray_fault:
            raise PrinterError(self.tray_fault)
        if self.tray or self.plain_tray:
            await self._taken.wait()


class StandInReminder:
    def __init__(self) -> None:
        self.active: ReminderKind | None = None
        self.sounded: dict[ReminderKind, int] = dict.fromkeys(ReminderKind, 0)

    def start(self, kind: ReminderKind) -> None:
        self.active = kind
        self.sounded[kind] += 1

    def stop(self) -> None:
        self.active = None


class StandInMaintenance:
    """The maintenance mode without a controller: no door, no alarm; staff can still get in."""

    def __init__(self) -> None:
        self.active = False
        self.fault: str | None = None  # set by a test: the board's state cannot be read

    def enter(self) -> None:
        self.active = True

    def leave(self) -> None:
        self.active = False

    async def clear_alarm(self) -> None:
        return None

    def status(self) -> dict[str, object]:
        if self.fault:
            raise DeviceError(self.fault)
        return {"alarm": None, "door_open": False, "connected": True, "owed": 0}
