"""Chaos under the order protocol (注文の障害試験): 200 orders from 20 terminals at once while the
links and the servers fail under them, and still every order is either printed and paid
(settled) or voided and refunded, never both, never neither, and the center and the
municipality tell the same story.

The world is the real one of the end-to-end tests (:mod:`support.world`): authority, center and
municipal server processes over TLS on loopback, the center on PostgreSQL in two worker
processes. Orders time out after :data:`DEADLINE` seconds and every center worker looks for
overdue orders and voids still to tell every :data:`HOUSEKEEPING` seconds.

Each terminal does what the kiosk does around an order, and only that: the card's proof of a
session (sent the direct way: it is not safe to send twice); the order placed under an
idempotency key, placed again with the same key while the center does not answer (an error, a
5xx); every copy opened against the terminal's own session and checked to name its resident;
then at random the resident cancels, or the job goes to the printer (``printing``, told before
any paper moves) and all its copies come out, or only the first (a jam), or none. Every end is
told the kiosk's way: from the order journal, by :func:`kiosk.recovery.recover`, again and again
while the center does not answer; a report the center refuses goes to the staff, and fails this
test. The terminals reach the center through one :class:`~support.tcp_proxy.TcpProxy` that
resets some connections as they open and some after the request reached the center.

Meanwhile a chaos thread, in turn: kills the municipal server (and starts it again), kills one
center worker (uvicorn's supervisor starts another; the other serves meanwhile), and pauses the
municipal server for longer than the center waits for it (:data:`center.municipal_client.TIMEOUT`,
not configurable: so twice only).

Nothing is mocked but the network's faults (the proxy) and the kiosk's devices: its printer
and its coins are this test's random choices and pauses (a job takes up to twice the deadline:
the center must not void an order whose paper is moving). The processes are killed and paused
for real.
Afterwards, everything up again and every void told, the books reconcile
(:func:`support.books.disagreements`), no terminal ever opened another resident's copy, and
the counts show the faults really happened: requests lost, orders voided by the faults, orders
partly printed.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from center import municipal_client
from center.client import CenterRefusal
from center.enrolment import EnrolledTerminal
from center.messages import CopyResponse, OrderResponse
from documents import DocumentError
from kiosk.journal import OrderJournal
from kiosk.recovery import recover
from support.books import center_orders, disagreements
from support.serving_worker import center_workers
from support.tcp_proxy import Fate, Plan, TcpProxy
from support.world import CODE, HOUSEHOLD, SEAL, Resident, World, authenticate, opened, running_world

T = TypeVar("T")
log = logging.getLogger(__name__)

DEADLINE = 4  # seconds from an order to printing, else the center voids it
HOUSEKEEPING = 0.3  # seconds between each center worker's looks for overdue orders and voids to tell
TERMINALS = 20
ORDERS_EACH = 10
HOUSEHOLDS = 330  # about three ordinary adults in four households: a resident and a card per order
ITEMS = [SEAL, HOUSEHOLD]  # two copies: a jam can leave one out whole and the other not
PATIENCE = 60.0  # seconds a terminal keeps trying one step while the center does not answer
RETRY_PAUSE = 0.25  # seconds between tries
ARRIVALS = (1.0, 5.0)  # seconds from one resident's end to the next one's card, at a terminal
PAYING = (0.0, 1.5)  # seconds from the copies delivered to the coins in (then the job goes to print)
PRINTING = (0.2, 2.0 * DEADLINE)  # seconds the job takes: some outlive the order's deadline
SEED = 20261207  # the residents' choices (the faults' moments are the machine's)
# the terminals' link to the center: one connection in seven reset after its request reached the
# center (its answer lost), one in five reset as it opens (nothing sent)
LINK = Plan(
    tuple(
        Fate.RESET_AFTER_REQUEST if n % 7 == 0 else Fate.RESET_AT_CONNECT if n % 5 == 0 else Fate.PASS
        for n in range(1, 36)
    )
)
TOWN_DOWN = 1.5  # seconds a killed municipal server stays down
LULL = 2.0  # seconds between two faults
STILL = municipal_client.TIMEOUT + 1.0  # seconds a paused municipal server stays still
WORKERS = 2
# in turn, until the terminals are done; a pause is long, so there are two of them only
FAULTS = ("town killed", "worker killed", "town paused", *("town killed", "worker killed") * 2) * 2
# why a terminal voids an order; any other reason of a refunded order is the center's (a fault)
TERMINAL_REASONS = {"cancelled", "printer_fault", "copy_check_failed"}


@pytest.fixture(scope="module", params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(
        request,
        tmp_path_factory,
        "chaos",
        HOUSEHOLDS,
        order_deadline=DEADLINE,
        housekeeping=HOUSEKEEPING,
        workers=WORKERS,
    )


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# -- the terminals -------------------------------------------------------------------------------


class GaveUp(Exception):
    """A step the center did not answer within :data:`PATIENCE`."""


@dataclass
class Tally:
    """What the terminals saw, from every thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    served: int = 0
    wrong_person: list[str] = field(default_factory=list)  # a copy of another resident, or unopenable
    problems: list[str] = field(default_factory=list)  # a refusal the kiosk has no rule for, a step given up
    events: Counter[str] = field(default_factory=Counter)  # the residents' choices, and what befell orders
    settled: dict[str, int] = field(default_factory=dict)  # order id: yen the terminal kept
    refunded: set[str] = field(default_factory=set)  # every coin given back

    def note(self, where: list[str], what: str) -> None:
        with self.lock:
            where.append(what)

    def saw(self, event: str) -> None:
        with self.lock:
            self.events[event] += 1


def names_the_resident(
    copy: CopyResponse,
    terminal: EnrolledTerminal,
    order_id: str,
    session_id: str,
    resident: Resident,
    world: World,
) -> bool:
    """The kiosk's check before printing (its own session's binding) passed, and the copy names
    this resident (the seal registration as its holder, the household record among its persons)."""
    body = opened(world, copy, terminal, order_id, session_id, resident).document.content["body"]
    if "persons" in body:
        return resident.name in {person["name"] for person in body["persons"]}
    return bool(body["name"] == resident.name)


def unanswered(error: Exception) -> bool:
    """The center did not answer (the kiosk tries again later): the link broke, or it failed (5xx)."""
    return isinstance(error, httpx.HTTPError) or (isinstance(error, CenterRefusal) and error.status >= 500)


class Terminal:
    """One terminal doing what the kiosk does around an order (no screens, no peripherals)."""

    def __init__(self, world: World, terminal_id: str, link_url: str, journal: Path, tally: Tally) -> None:
        self.world = world
        self.terminal = world.stack.enroll(terminal_id)
        self.direct = world.stack.client(self.terminal)  # the card's proof: never sent twice
        self.link = world.stack.client(self.terminal, url=link_url)
        self.journal = OrderJournal(journal)
        self.rng = random.Random(f"{SEED}-{terminal_id}")
        self.tally = tally

    @property
    def terminal_id(self) -> str:
        return self.terminal.terminal_id

    def close(self) -> None:
        self.direct.close()
        self.link.close()

    def serve_all(self, residents: list[Resident]) -> None:
        for number, resident in enumerate(residents, start=1):
            try:
                self.serve(resident)
            except Exception as error:
                self.tally.note(self.tally.problems, f"{self.terminal_id} order {number}: {error!r}")
            with self.tally.lock:
                self.tally.served += 1

    def serve(self, resident: Resident) -> None:
        time.sleep(self.rng.uniform(*ARRIVALS))
        session_id = self.persist(lambda: authenticate(self.world, self.direct, resident))
        placed = self.place(session_id, secrets.token_hex(12))
        delivered = time.monotonic()
        if isinstance(placed, str):  # the center voided it (its refusal names it): refunded
            self.tally.saw("voided at placement")
            self.end(placed, "placed", "cancelled")
            return
        if not all(
            self.checked(copy, placed.order_id, session_id, resident) for copy in placed.copies
        ):  # nothing of it is printed
            self.end(placed.order_id, "placed", "copy_check_failed")
            return
        choice = self.rng.choices(["cancel", "print", "jam", "jam at once"], weights=[2, 5, 2, 1])[0]
        self.tally.saw(choice)
        if choice == "cancel":
            self.end(placed.order_id, "placed", "cancelled")
            return
        time.sleep(self.rng.uniform(*PAYING))
        self.journal.record(placed.order_id, "printing")
        try:  # (the kiosk voids at the first failure here; trying again is as safe, and goes further)
            self.persist(lambda: self.link.printing(placed.order_id))
        except CenterRefusal as refusal:
            if refusal.status != 409:
                raise
            self.tally.saw("voided before printing")  # its deadline passed while unanswered
            self.end(placed.order_id, "printing", "cancelled")
            return
        time.sleep(self.rng.uniform(*PRINTING))  # paper moving: no deadline voids the order now
        out = {"print": placed.copies, "jam": placed.copies[:1], "jam at once": []}[choice]
        if not out:  # no copy out whole: voided, every coin back
            self.end(placed.order_id, "printing", "printer_fault")
            return
        if time.monotonic() - delivered > DEADLINE + HOUSEKEEPING:
            self.tally.saw("printed past its deadline")
        self.journal.record(
            placed.order_id, "paid", [copy.issue_number for copy in out], sum(copy.fee for copy in out)
        )
        self.end(placed.order_id, "paid")

    def place(self, session_id: str, key: str) -> OrderResponse | str:
        """The order's answer, or the id of the order the center voided in refusing it (a
        refusal that names no order is the kiosk's to show, and no rule of this test's)."""

        def once() -> OrderResponse | str:
            try:
                answer = self.link.place_order(session_id, key, ITEMS)
            except CenterRefusal as refusal:
                voided = refusal.details.get("order_id")
                if isinstance(voided, str):
                    return voided
                raise
            if answer.state != "issued":  # placed again after a lost answer: voided meanwhile
                assert answer.state in ("voided", "refunded"), answer
                return answer.order_id
            return answer

        return self.persist(once)

    def checked(self, copy: CopyResponse, order_id: str, session_id: str, resident: Resident) -> bool:
        try:
            if names_the_resident(copy, self.terminal, order_id, session_id, resident, self.world):
                return True
            problem = "names another resident"
        except DocumentError as error:
            problem = f"does not open for this session ({error!r})"
        self.tally.note(self.tally.wrong_person, f"{self.terminal_id}: copy {copy.issue_number} {problem}")
        return False

    def end(self, order_id: str, stage: str, reason: str = "cancelled") -> None:
        """Told from the journal, the kiosk's way, until the center has heard it."""
        if stage != "paid":
            self.journal.record(order_id, stage)
        give_up = time.monotonic() + PATIENCE
        while (told := recover(self.journal, self.link, reason)) is None:
            if time.monotonic() > give_up:
                raise GaveUp(f"order {order_id} ({stage}) never told")
            time.sleep(RETRY_PAUSE)
        refused = self.journal.escalations()
        if refused:
            self.journal.clear_escalations()
            raise AssertionError(f"the center refused the end of an order: {refused}")
        with self.tally.lock:
            if told.stage == "paid":
                self.tally.settled[order_id] = told.fee
            else:
                self.tally.refunded.add(order_id)

    def persist(self, step: Callable[[], T]) -> T:
        """``step`` until the center answers it (an answer may be a refusal, raised)."""
        give_up = time.monotonic() + PATIENCE
        while True:
            try:
                return step()
            except (httpx.HTTPError, CenterRefusal) as error:
                if not unanswered(error) or time.monotonic() > give_up:
                    raise
            time.sleep(RETRY_PAUSE)


# -- the chaos -----------------------------------------------------------------------------------


class Chaos:
    """The faults of :data:`FAULTS`, in turn, until told to stop; whatever it did is undone
    before it stops (the municipal server running, not paused; every center worker running)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.injected: Counter[str] = Counter()
        self.stopping = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self.run, name="chaos")

    def run(self) -> None:
        try:
            for fault in FAULTS:
                if self.stopping.wait(LULL):
                    return
                {
                    "town killed": self.kill_town,
                    "town paused": self.pause_town,
                    "worker killed": self.kill_worker,
                }[fault]()
                self.injected[fault] += 1
                log.info("chaos: %s", fault)
        except BaseException as error:
            self.failure = error

    def kill_town(self) -> None:
        process = self.world.town.process
        assert process is not None
        process.terminate()
        try:
            process.wait(10)
            time.sleep(TOWN_DOWN)
        finally:
            self.world.stack.start_town(CODE)

    def pause_town(self) -> None:
        process = self.world.town.process
        assert process is not None
        os.kill(process.pid, signal.SIGSTOP)
        try:
            time.sleep(STILL)
        finally:
            os.kill(process.pid, signal.SIGCONT)

    def kill_worker(self) -> None:
        serving = every_worker(self.world)
        killed = random.choice(sorted(serving))
        os.kill(killed, signal.SIGKILL)
        every_worker(self.world, gone=killed)


def every_worker(world: World, gone: int | None = None, timeout: float = 30.0) -> set[int]:
    """The center's workers once there are :data:`WORKERS` of them (and ``gone`` is not one of
    them: uvicorn's supervisor replaces a worker that died)."""
    supervisor = world.stack.center_process
    assert supervisor is not None and supervisor.poll() is None
    give_up = time.monotonic() + timeout
    while len(workers := center_workers(supervisor.pid)) != WORKERS or gone in workers:
        assert time.monotonic() < give_up, f"the center's workers are not back: {workers}"
        time.sleep(0.1)
    return workers


# -- the run -------------------------------------------------------------------------------------


def until_every_void_told(world: World, terminal_ids: list[str], timeout: float = 60.0) -> None:
    """Until the housekeeping has told the municipality of every void of these orders (or the
    time is up: the reconciliation then says which)."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if not any(order.void_pending for order in center_orders(world.stack, terminal_ids).values()):
            return
        time.sleep(HOUSEKEEPING)


@pytest.mark.timeout(420)
def test_every_order_ends_once_and_the_books_agree_under_chaos(world: World, tmp_path: Path) -> None:
    started = time.monotonic()
    tally = Tally()
    residents = [world.resident() for _ in range(TERMINALS * ORDERS_EACH)]
    chaos = Chaos(world)
    with TcpProxy(port_of(world.stack.center_url), LINK) as link:
        terminals = [
            Terminal(world, f"T-{7000 + index}", link.url(), tmp_path / f"journal-{index}.json", tally)
            for index in range(TERMINALS)
        ]
        world.stack.wait_until_open(terminals[0].direct)
        chaos.thread.start()
        try:
            with ThreadPoolExecutor(max_workers=TERMINALS) as pool:
                for ran in [
                    pool.submit(terminal.serve_all, residents[index::TERMINALS])
                    for index, terminal in enumerate(terminals)
                ]:
                    ran.result()
        finally:
            chaos.stopping.set()
            chaos.thread.join()
            for terminal in terminals:
                terminal.close()
        lost = link.outcomes
    assert chaos.failure is None, repr(chaos.failure)

    # everything up: the municipal server answers, both center workers serve
    town = world.town.process
    assert town is not None and town.poll() is None
    every_worker(world)
    terminal_ids = [terminal.terminal_id for terminal in terminals]
    until_every_void_told(world, terminal_ids)

    assert tally.wrong_person == [], "\n".join(tally.wrong_person)
    assert tally.problems == [], "\n".join(tally.problems)
    assert disagreements(world.stack, terminal_ids) == []

    orders = center_orders(world.stack, terminal_ids).values()
    settled = [order for order in orders if order.state == "settled"]
    refunded = [order for order in orders if order.state == "refunded"]
    partly = [order for order in settled if order.reason == "partly_printed"]
    by_fault = [order for order in refunded if order.reason not in TERMINAL_REASONS]
    assert tally.served == len(orders) == len(settled) + len(refunded) == TERMINALS * ORDERS_EACH
    # the coins each terminal kept or gave back agree with the center, order by order
    assert {order.order_id: order.settled for order in settled} == tally.settled
    assert {order.order_id for order in refunded} == tally.refunded
    # the faults happened, and each kind of end
    assert lost[Fate.RESET_AFTER_REQUEST] > 0 and lost[Fate.RESET_AT_CONNECT] > 0
    assert set(chaos.injected) == set(FAULTS), chaos.injected
    assert settled and partly and by_fault and len(refunded) > len(by_fault)
    assert tally.events["printed past its deadline"] > 0
    print(
        f"chaos: {len(orders)} orders from {TERMINALS} terminals, {len(settled)} settled "
        f"({len(partly)} partly printed), {len(refunded)} refunded ({len(by_fault)} voided by a fault: "
        f"{dict(Counter(order.reason for order in by_fault))}); events {dict(tally.events)}; faults "
        f"{dict(chaos.injected)}, connections reset {lost[Fate.RESET_AT_CONNECT]} at connect, "
        f"{lost[Fate.RESET_AFTER_REQUEST]} after the request; {time.monotonic() - started:.0f} s"
    )
