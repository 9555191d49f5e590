"""A resident at a headless kiosk, for the tests: a terminal with the real workflow, the emulated
card in an in-process reader (or pcscd), stand-in coins, printer and reminder, and a real
center and municipality (from :mod:`support.world`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from center.client import CenterClient
from center.enrolment import EnrolledTerminal
from devtools.stack import DevStack
from devtools.synthetic.population import Person
from hardware.card.holder import HolderAuthentication
from hardware.card.transport import CardReader
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from kiosk.center_link import KioskSession
from kiosk.devices.card_slot import ReaderSlot
from kiosk.devices.peripherals import LinkedCashbox, LinkedReminder
from kiosk.devices.stand_ins import (
    StandInCashbox,
    StandInMaintenance,
    StandInPrinter,
    StandInReminder,
)
from kiosk.headless import HeadlessScreen
from kiosk.journal import OrderJournal
from kiosk.ports import Printer
from kiosk.staff import StaffCode
from kiosk.staff_backoff import StaffCodeBackoff
from kiosk.terminal import Terminal
from kiosk.workflow.controller import Workflow
from kiosk.workflow.states import workflow_for
from kiosk.workflow.steps import Outcome, Step, next_step
from koufu.cards import issue_card
from support import books
from support.peripheral_rig import Rig
from support.world import CODE, World

STAFF_CODE = "97531864"  # the store staff's maintenance code of the test kiosks
STAFF_CODE_HASH = StaffCode.make(STAFF_CODE, iterations=10_000)


@dataclass
class Card:
    path: Path
    resident_id: int
    name: str

    def virtual(self) -> VirtualCard:
        return VirtualCard.open(self.path)


def usual_path() -> list[Step]:
    """The steps of a session that goes as planned, start screen to done: the transition table's
    ``next`` from the start screen on (the table itself is checked in test_kiosk_workflow)."""
    path = [Step.IDLE]
    while path[-1] is not Step.DONE:
        path.append(next_step(path[-1], Outcome.NEXT))
    return path


USUAL_PATH = usual_path()


def new_card(
    world: World, directory: Path, pool: str = "ordinary", *, resident: Person | None = None
) -> Card:
    """An emulated card of ``resident`` (else the next unused resident of ``pool``), linked in the town."""
    person = resident or next(p for p in getattr(world.town.people, pool) if p.resident_id not in world.used)
    world.used.add(person.resident_id)
    path = directory / f"card-{person.resident_id}.json"
    issue_card(
        path,
        authority_dir=world.stack.authority_dir,
        authority_db=world.stack.authority_db,
        holder=Holder(municipality=CODE),
    )
    reader = InProcessReader()
    reader.insert(VirtualCard.open(path))
    reading = HolderAuthentication(reader.connect()).read()
    assert reading.certificate is not None
    world.town.link_card(reading.certificate.certificate.serial_number, person.resident_id)
    return Card(path, person.resident_id, world.town.name_of(person.resident_id))


class StaffClock:
    """The wall clock the staff code's backoff reads (:mod:`kiosk.staff_backoff`), moved by the tests
    instead of waiting."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Kiosk:
    """One terminal: its screen, devices and workflow, and the center client behind them."""

    screen: BrokenScreen
    reader: CardReader
    cashbox: StandInCashbox | LinkedCashbox
    printer: StandInPrinter
    reminder: StandInReminder | LinkedReminder
    journal: OrderJournal
    client: CenterClient
    terminal: Terminal
    workflow: Workflow
    enrolled: EnrolledTerminal
    sessions: list[KioskSession] = field(default_factory=list)
    rig: Rig | None = None  # the peripheral controller's firmware simulator, when the kiosk has one
    staff_clock: StaffClock = field(default_factory=StaffClock)  # the backoff's clock after wrong codes
    paid_in: int = 0  # yen dropped into the slot over the test, taken or not
    unreconciled: str | None = None  # why this test's books cannot balance when it ends (said by the test)

    def drop(self, coin: int) -> bool:
        """A coin into the slot: the stand-in cashbox's, or the firmware simulator's acceptor."""
        self.paid_in += coin
        if self.rig is not None:  # once the board has opened the acceptor (the payment screen is up)
            simulator = self.rig.simulator
            simulator.wait_for(lambda: simulator.output("coin_inhibit") == 0, 10)
            return simulator.drop_coin(coin)
        assert isinstance(self.cashbox, StandInCashbox)
        return self.cashbox.drop(coin)

    def coins(self) -> books.Coins:
        """What the coin mechanism did: kept, given back (coins still in escrow count as given
        back: a board left alone returns them). The firmware simulator's machine: what did not
        come back to the return cup was kept (its change comes from the hoppers)."""
        if self.rig is not None:  # what did not come back to the cup is the store's
            machine = self.rig.simulator.mechanics
            returned = sum(machine.cup) + sum(machine.escrow)
            return books.Coins(self.paid_in, self.paid_in - returned, returned)
        assert isinstance(self.cashbox, StandInCashbox)
        returned = sum(self.cashbox.returned) + self.cashbox.held
        return books.Coins(self.paid_in, self.cashbox.cash_box, returned)

    def reconcile(self, stack: DevStack) -> None:
        """The one check every test that takes money ends with (:mod:`support.books`): coins,
        the center's orders and ledger and the municipality's copies agree."""
        problems = books.disagreements(stack, [self.enrolled.terminal_id], self.coins())
        assert not problems, "the books do not balance:\n" + "\n".join(problems)

    # -- the resident's gestures -------------------------------------------------------------
    async def start(self, language: str = "ja") -> None:
        await self.screen.wait_for(Step.IDLE)
        self.screen.press("start")
        await self.screen.wait_for(Step.LANGUAGE)
        self.screen.press("language", language)
        await self.waiting_for_the_card()

    async def waiting_for_the_card(self) -> dict[str, Any]:
        """Until the place-card step waits (it has looked whether a card lay there before)."""
        return await self.screen.wait_for(Step.PLACE_CARD, lambda v: "reading" in v)

    def place(self, card: Card) -> None:
        assert isinstance(self.reader, InProcessReader)
        self.reader.insert(card.virtual())

    def take_card(self) -> None:
        assert isinstance(self.reader, InProcessReader)
        self.reader.remove()

    async def enter_pin(self, digits: str) -> dict[str, Any]:
        """Type ``digits`` and OK; the PIN screen's view after the card answered (or the next
        screen's, when the PIN step is over)."""
        view = await self.screen.wait_for(Step.PIN, lambda v: "entered" in v or v.get("locked"))
        wrong_before = view.get("tries")
        for digit in digits:
            self.screen.press("digit", int(digit))
        await self.screen.wait_for(Step.PIN, lambda v: v.get("entered") == len(digits))
        self.screen.press("ok")
        for _ in range(200):
            await asyncio.sleep(0.05)
            if self.screen.current is not Step.PIN:
                return self.screen.view()
            view = self.screen.view()
            if view.get("locked") or (
                view.get("wrong")
                and view.get("entered") == 0
                and view.get("busy") is None
                and view.get("tries") != wrong_before
            ):
                return view
        raise AssertionError("the PIN step did not answer")

    async def through_the_card(self, card: Card, *, whose: str = "residence") -> None:
        """From the start screen to the certificate list: card, PIN, card taken back."""
        await self.start()
        self.place(card)
        await self.screen.wait_for(Step.WHOSE)
        self.screen.press("whose", whose)
        await self.enter_pin("1234")
        await self.screen.wait_for(Step.TAKE_CARD)
        self.take_card()
        await self.screen.wait_for(Step.CERTIFICATE_TYPE)

    async def choose(self, kind: str, copies: int = 1, *, household: bool = False) -> dict[str, Any]:
        """A certificate with its default options (``household``: every member of the household
        on it) and ``copies``; the confirm screen's view."""
        await self.screen.wait_for(Step.CERTIFICATE_TYPE)
        self.screen.press("choose", kind)
        await self.screen.wait_for_any((Step.OPTIONS, Step.COPIES))
        if self.screen.current is Step.OPTIONS:
            if household:
                for member in self.screen.view()["members"]:
                    if not member["chosen"]:
                        self.screen.press("member", member["member"])
                        await self.screen.wait_for(
                            Step.OPTIONS,
                            lambda v, m=member["member"]: any(
                                x["member"] == m and x["chosen"] for x in v["members"]
                            ),
                        )
            self.screen.press("next")
        await self.screen.wait_for(Step.COPIES)
        for _ in range(copies - 1):
            count = self.screen.view()["copies"]
            self.screen.press("more")
            await self.screen.wait_for(Step.COPIES, lambda v, c=count: v["copies"] == c + 1)
        self.screen.press("next")
        return await self.screen.wait_for(Step.CONFIRM)

    async def pay(self, fee: int) -> None:
        await self.screen.wait_for(Step.PAYMENT, lambda v: v.get("fee") == fee)
        paid = 0
        while paid < fee:
            coin = 500 if fee - paid >= 500 else 100 if fee - paid >= 100 else 10
            assert self.drop(coin)
            paid += coin
            await self.screen.wait_for_change()

    async def reach(self, card: Card, step: Step, *, paid: int = 0, copies: int = 1) -> None:
        """Drive a resident along the usual path (``copies`` household copies of the holder) until
        ``step``'s screen is shown (at payment, ``paid`` yen are dropped first)."""
        path = USUAL_PATH
        gestures = {
            Step.IDLE: lambda: self.screen.press("start"),
            Step.LANGUAGE: lambda: self.screen.press("language", "ja"),
            Step.PLACE_CARD: lambda: self.place(card),
            Step.WHOSE: lambda: self.screen.press("whose", "residence"),
            Step.TAKE_CARD: self.take_card,
            Step.CERTIFICATE_TYPE: lambda: self.screen.press("choose", "resident_record"),
            Step.OPTIONS: lambda: self.screen.press("next"),
            Step.COPIES: lambda: self.screen.press("next"),
            Step.CONFIRM: lambda: self.screen.press("next"),
            Step.TAKE_DOCUMENTS: self.printer.take,
        }
        for current in path[: path.index(step)]:
            if current is Step.PIN:
                await self.enter_pin("1234")
                continue
            if current is Step.PAYMENT:
                view = await self.screen.wait_for(Step.PAYMENT, lambda v: "fee" in v)
                await self.pay(view["fee"])
                continue
            if current is Step.PRINTING:
                await self.screen.wait_for(Step.TAKE_DOCUMENTS)
                continue
            if current is Step.COPIES:
                for more in range(1, copies):
                    await self.screen.wait_for(Step.COPIES, lambda v, n=more: v.get("copies") == n)
                    self.screen.press("more")
            await self.screen.wait_for(current, lambda v, c=current: c is Step.IDLE or bool(v))
            gestures[current]()
        await self.screen.wait_for(step)
        if step is Step.PAYMENT and paid:
            await self.screen.wait_for(Step.PAYMENT, lambda v: "fee" in v)
            for _ in range(paid // 100):
                self.drop(100)
                await self.screen.wait_for_change()

    async def run(self) -> Step:
        return await self.workflow.run_session()

    async def session(self, resident: Awaitable[None], timeout: float = 60) -> Step:
        """One session run to its end with ``resident`` (a coroutine driving it as a person would):
        how it ended. Either may take ``timeout`` seconds (a bound on waiting, not a measurement)."""
        run = asyncio.ensure_future(self.run())
        try:
            await asyncio.wait_for(resident, timeout)
            return await asyncio.wait_for(run, timeout)
        finally:
            run.cancel()

    async def into_maintenance(self, code: str = STAFF_CODE, *, via: Step = Step.IDLE) -> dict[str, Any]:
        """From the start screen (or ``via``, another screen with the staff's corner), the staff's
        corner and ``code`` (after waiting out any backoff of wrong codes); the maintenance
        screen's next view."""
        await self.screen.wait_for(via)
        assert self.terminal.staff_backoff is not None
        self.staff_clock.advance(self.terminal.staff_backoff.wait())
        self.screen.press("maintenance")
        await self.screen.wait_for(Step.MAINTENANCE, lambda v: "entered" in v or v.get("unavailable"))
        return await self.staff_types(code)

    async def staff_types(self, code: str, *, wait_out: bool = True) -> dict[str, Any]:
        """On the code screen, ``code`` and ok — first waiting out the backoff of wrong codes (the
        clock moved, the screen woken by a touch it ignores) unless ``wait_out`` is false; the next
        view: unlocked, or the code refused (``{}`` when it was the visit's last wrong code and the
        start screen came back)."""
        assert self.terminal.staff_backoff is not None
        if wait_out and self.terminal.staff_backoff.wait():
            self.staff_clock.advance(self.terminal.staff_backoff.wait())
            self.screen.press("delete")
            await self.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("wait") == 0)
        for digit in code:
            self.screen.press("digit", int(digit))
        await self.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("entered") == len(code))
        self.screen.press("ok")
        step = await self.screen.wait_for_any((Step.IDLE, Step.MAINTENANCE))
        while step is Step.MAINTENANCE:
            view = self.screen.view()
            if view.get("unlocked") or (view.get("wrong") and view.get("entered") == 0):
                return view
            await self.screen.wait_for_change()
            step = await self.screen.wait_for_any((Step.IDLE, Step.MAINTENANCE))
        return {}


@contextmanager
def kiosk(
    world: World,
    terminal_id: str,
    directory: Path,
    *,
    reader: CardReader | None = None,
    timeouts: dict[Step, float] | None = None,
    session_limit: float | None = None,
    remind_every: float = 0.2,
    journal: Path | None = None,
    seconds_per_page: float = 0.0,
    center_url: str | None = None,
    enrolled: EnrolledTerminal | None = None,
    printer: Printer | None = None,
    rig: Rig | None = None,
    wait_open: bool = True,
) -> Iterator[Kiosk]:
    """A kiosk of ``terminal_id`` (``enrolled``: that terminal again, restarted), once the center
    opens its sessions; ``wait_open=False``: at once, even while the center refuses them (a stop
    of issuance), its first request to the center then being the test's."""
    if enrolled is None:  # a newly enrolled terminal; else the same terminal, restarted
        enrolled, client = world.terminal(terminal_id)
    else:
        client = world.stack.client(enrolled)
    if wait_open:
        world.stack.wait_until_open(client)
    if center_url is not None:  # a center that cannot be reached
        client.close()
        client = world.stack.client(enrolled, center_url)
    screen = BrokenScreen()
    reader = reader or InProcessReader()
    store_printer = printer  # a real one, when given (the stand-in one stays for the driver)
    printer = StandInPrinter(seconds_per_page=seconds_per_page)
    cashbox: StandInCashbox | LinkedCashbox = StandInCashbox() if rig is None else rig.cashbox
    reminder: StandInReminder | LinkedReminder = StandInReminder() if rig is None else rig.reminder
    journal = OrderJournal(journal or directory / f"journal-{terminal_id}.json")
    staff_clock = StaffClock()
    sessions: list[KioskSession] = []

    def session() -> KioskSession:
        sessions.append(KioskSession(client, world.trust))
        return sessions[-1]

    terminal = Terminal(
        screen,
        ReaderSlot(reader, poll=0.05),
        cashbox,
        store_printer or printer,
        reminder,
        session,
        journal,
        remind_every=remind_every,
        guard=None if rig is None else rig.guard,
        maintenance=StandInMaintenance() if rig is None else rig.maintenance,
        staff_code=STAFF_CODE_HASH,
        staff_backoff=StaffCodeBackoff.beside(journal.path, clock=staff_clock),
    )
    workflow = workflow_for(
        terminal, timeouts=timeouts, **({} if session_limit is None else {"session_limit": session_limit})
    )
    try:
        driven = Kiosk(
            screen,
            reader,
            cashbox,
            printer,
            reminder,
            journal,
            client,
            terminal,
            workflow,
            enrolled,
            sessions,
            rig,
            staff_clock,
        )
        yield driven
        if driven.paid_in and driven.unreconciled is None:
            driven.reconcile(world.stack)
    finally:
        client.close()


class BrokenScreen(HeadlessScreen):
    """A screen that breaks (raises) when ``broken`` is shown and a touch is awaited: a UI fault."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: Step | None = None

    async def touch(self, step: Step) -> Any:
        if step is self.broken:
            raise RuntimeError("the screen broke")
        touch = await super().touch(step)
        if step is self.broken:  # broke while the step waited
            raise RuntimeError("the screen broke")
        return touch
