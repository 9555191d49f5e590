"""Every coin and every page accounted for, end to end: whole sessions with the real center and
municipality, the store printer on its real backends (the tests' CUPS server, or a spool directory
with its driver thread) and, where coins and alarms matter, the peripheral controller's firmware
on the unix port. One test per way a job can end other than as planned: the session's limit while
printing, a printer fault after some copies, a copy stopped part way, a door alarm while
printing, the kiosk killed while printing, the center gone after printing, and a printed report
the center refuses.

Each ends with the one reconciliation (:mod:`support.books`, run by the kiosk driver): coins kept
are the fees of the copies printed whole and the center's settled amount, the rest came back, every
copy not printed whole is void at its municipality."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from center.municipal import schema as municipal_schema
from center.store.schema_versions import make_engine as make_municipal_engine
from kiosk.devices.printer import RenderingPrinter
from kiosk.workflow.steps import Step
from support import books
from support.fixtures_cups import CupsServer
from support.kiosk_driver import Card, Kiosk, kiosk, new_card
from support.peripheral_rig import peripheral_rig
from support.spool_driver import Driver
from support.store_printers import cups_printer, store_printer
from support.tcp_proxy import TcpProxy
from support.world import World, running_world

_terminals = iter(range(1100, 1200))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-paper-faults", 60)


@pytest.fixture
def spooled(world: World, tmp_path: Path) -> Iterator[tuple[RenderingPrinter, Driver]]:
    """The store printer on a spool directory, its driver printing a page every half second."""
    spool, outputs = tmp_path / "spool", tmp_path / "outputs"
    spool.mkdir()
    outputs.mkdir()
    driver = Driver(spool, outputs, "pages")
    driver.start()
    yield store_printer(world, f"spool:{spool}", tmp_path), driver
    driver.done.set()
    driver.join(5)


def big_household_card(world: World, directory: Path, members: int = 5) -> Card:
    """A card of an ordinary resident whose household has ``members`` or more: its household copy
    takes two pages (four persons to a page)."""
    engine = make_municipal_engine(world.town.database_url)
    try:
        with engine.connect() as connection:
            residents = municipal_schema.residents.c
            big = set(
                connection.execute(
                    sa.select(residents.household_id)
                    .group_by(residents.household_id)
                    .having(sa.func.count() >= members)
                ).scalars()
            )
    finally:
        engine.dispose()
    chosen = next(
        p for p in world.town.people.ordinary if p.household_id in big and p.resident_id not in world.used
    )
    return new_card(world, directory, resident=chosen)


@dataclass
class Placed:
    fee: int
    order_id: str


async def order_and_pay(k: Kiosk, card: Card, *, copies: int = 1, household: bool = False) -> Placed:
    """From the start screen to the paper moving: card, PIN, a resident record, coins."""
    await k.through_the_card(card)
    confirm = await k.choose("resident_record", copies, household=household)
    k.screen.press("next")
    await k.pay(confirm["total"])
    await k.screen.wait_for(Step.PRINTING)
    order = k.sessions[-1].order
    assert order is not None
    return Placed(int(confirm["total"]), order.order_id)


async def ended(k: Kiosk, run: asyncio.Future[Step], end: Step) -> dict[str, object]:
    """The end screen's view (the tray's pages are taken by the printer's own wait); then back to
    the start screen."""
    view = dict(await k.screen.wait_for(end, lambda v: end is Step.DONE or "refund" in v, timeout=60))
    if k.reader.card_present():
        k.take_card()
    k.screen.press("ok")
    assert await asyncio.wait_for(run, 30) is end
    return view


def in_service(view: dict[str, object]) -> bool:
    """The start screen takes a resident (no alarm, no order report waiting for the center)."""
    return "out_of_service" in view and not view["out_of_service"]


def copies_of(world: World, order_id: str) -> list[str]:
    """The order's copies at the municipality: ``printed``, ``voided``, ``issued``, sorted."""
    return sorted(books.municipal_copies(world.stack, [order_id]).values())


def test_the_session_limit_passing_while_printing_cuts_no_job_short(
    world: World, spooled: tuple[RenderingPrinter, Driver], tmp_path: Path
) -> None:
    printer, driver = spooled
    card = new_card(world, tmp_path)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:

        async def resident() -> Placed:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, copies=3)
            k.workflow.session_limit = 0.0  # the resident's time is up while the pages come out
            await k.screen.wait_for(Step.TAKE_DOCUMENTS, timeout=30)
            await ended(k, run, Step.DONE)
            return placed

        placed = asyncio.run(resident())
        assert driver.pages_out == 3 and k.cashbox.cash_box == placed.fee
        assert k.client.order(placed.order_id).state == "settled"


def test_a_jam_after_the_first_of_two_copies_charges_the_first_and_voids_the_second(
    world: World, cups_server: CupsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = new_card(world, tmp_path)
    printer = cups_printer(world, cups_server, "jam-after-1", tmp_path, monkeypatch)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:

        async def resident() -> tuple[Placed, dict[str, object]]:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, copies=2)
            told = dict(await k.screen.wait_for(Step.TAKE_DOCUMENTS, timeout=60))
            await ended(k, run, Step.DONE)
            return placed, told

        placed, told = asyncio.run(resident())
        assert told["spoiled"] == 1 and told["refund"] == placed.fee // 2  # the resident is told, in words
        order = k.client.order(placed.order_id)
        assert order.state == "settled" and order.reason == "partly_printed"
        assert copies_of(world, placed.order_id) == ["printed", "voided"]
        assert k.cashbox.cash_box == placed.fee // 2


def test_a_copy_stopped_part_way_is_void_and_its_fee_returned(
    world: World, spooled: tuple[RenderingPrinter, Driver], tmp_path: Path
) -> None:
    """Two copies of two pages each; the printer jams after the third page: the first copy is
    printed and paid, the second came out in part and is void at the municipality (and at the
    center's verification), its fee returned."""
    printer, driver = spooled
    driver.seconds_per_page, driver.jam_after = 0.1, 3
    card = big_household_card(world, tmp_path)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:

        async def resident() -> tuple[Placed, dict[str, object]]:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, copies=2, household=True)
            told = dict(await k.screen.wait_for(Step.TAKE_DOCUMENTS, timeout=60))
            await ended(k, run, Step.DONE)
            return placed, told

        placed, told = asyncio.run(resident())
        assert driver.pages_out == 3
        assert told["spoiled"] == 1 and told["refund"] == placed.fee // 2
        copies = books.center_orders(world.stack, [k.enrolled.terminal_id])[placed.order_id].copies
        assert sorted(printed for _fee, printed in copies.values()) == [False, True]
        assert copies_of(world, placed.order_id) == ["printed", "voided"]
        assert k.cashbox.cash_box == placed.fee // 2


def test_a_single_copy_stopped_part_way_fails_the_session_and_returns_every_coin(
    world: World, spooled: tuple[RenderingPrinter, Driver], tmp_path: Path
) -> None:
    printer, driver = spooled
    driver.seconds_per_page, driver.jam_after = 0.1, 1
    card = big_household_card(world, tmp_path)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:

        async def resident() -> tuple[Placed, dict[str, object]]:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, household=True)
            return placed, await ended(k, run, Step.FAILED)

        placed, failed = asyncio.run(resident())
        assert failed["refund"] == placed.fee and failed["spoiled"] == 1  # told the page out is void
        assert k.client.order(placed.order_id).state == "refunded"
        assert copies_of(world, placed.order_id) == ["voided"]
        assert k.cashbox.cash_box == 0


def test_a_tamper_alarm_while_printing_stops_the_job_and_voids_what_came_out(
    world: World, spooled: tuple[RenderingPrinter, Driver], tmp_path: Path
) -> None:
    """The board gives every coin in escrow back the moment the tamper alarm latches, and the step
    stops the job: nothing was paid, so the copies that came out are void, the order refunded,
    and the resident told not to use them."""
    printer, driver = spooled
    card = new_card(world, tmp_path)
    with (
        peripheral_rig(tmp_path) as rig,
        kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer, rig=rig) as k,
    ):

        async def resident() -> tuple[Placed, dict[str, object]]:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, copies=3)
            while driver.pages_out < 1:
                await asyncio.sleep(0.02)
            rig.simulator.trip_tamper()
            return placed, await ended(k, run, Step.FAILED)

        placed, failed = asyncio.run(resident())
        pages = driver.pages_out
        assert 1 <= pages < 3 and failed["spoiled"] == pages  # the copies out, void
        assert k.client.order(placed.order_id).state == "refunded"
        assert copies_of(world, placed.order_id) == ["voided"] * 3
        assert k.coins().kept == 0


def test_a_kiosk_killed_while_printing_voids_the_order_when_it_starts_again(
    world: World, spooled: tuple[RenderingPrinter, Driver], tmp_path: Path
) -> None:
    """No coin was taken (the board gives the escrow back when the host goes away): the order is
    voided and refunded, and the page that came out is void at the municipality."""
    printer, driver = spooled
    card = new_card(world, tmp_path)
    journal = tmp_path / "journal.json"
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer, journal=journal) as k:

        async def killed() -> Placed:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, copies=2)
            while driver.pages_out < 1:
                await asyncio.sleep(0.02)
            run.cancel()  # the process dies mid-job
            await asyncio.gather(run, return_exceptions=True)
            return placed

        placed = asyncio.run(killed())
        assert k.client.order(placed.order_id).state == "printing"  # the center never voids it on its own
        with kiosk(world, "", tmp_path, printer=printer, journal=journal, enrolled=k.enrolled) as again:

            async def restarted() -> None:
                run = asyncio.ensure_future(again.run())
                await again.screen.wait_for(
                    Step.IDLE, lambda v: "out_of_service" in v and not v["out_of_service"]
                )
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)

            asyncio.run(restarted())
        assert k.client.order(placed.order_id).state == "refunded"
        assert copies_of(world, placed.order_id) == ["voided", "voided"]


def test_the_center_gone_after_printing_hears_of_the_order_when_back(
    world: World, spooled: tuple[RenderingPrinter, Driver], tmp_path: Path
) -> None:
    """The paper is out and paid for; the center cannot be reached: the journal keeps the report,
    the kiosk starts no session until the center has it, and then it is settled once."""
    printer, driver = spooled
    card = new_card(world, tmp_path)
    center_port = int(world.stack.center_url.rsplit(":", 1)[1])
    with (
        TcpProxy(center_port) as proxy,
        kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer, center_url=proxy.url()) as k,
    ):
        k.workflow.steps[Step.IDLE].retry_report = 0.2  # type: ignore[attr-defined]

        async def resident() -> Placed:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, copies=2)
            while driver.pages_out < 1:
                await asyncio.sleep(0.02)
            proxy.down()
            await ended(k, run, Step.DONE)
            assert '"paid"' in k.journal.path.read_text()
            run = asyncio.ensure_future(k.run())
            await k.screen.wait_for(
                Step.IDLE, lambda v: v.get("out_of_service") == "order_report", timeout=60
            )
            proxy.up()
            await k.screen.wait_for(
                Step.IDLE, lambda v: "out_of_service" in v and not v["out_of_service"], timeout=60
            )
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            return placed

        placed = asyncio.run(resident())
        assert k.journal.pending() is None
        assert k.client.order(placed.order_id).state == "settled"


def test_a_printed_report_the_center_refuses_is_kept_for_staff_and_audited(
    world: World, spooled: tuple[RenderingPrinter, Driver], tmp_path: Path
) -> None:
    """The order was voided at the center while its paper came out (here by a second call of the
    terminal's own: a center that lost track): the report is refused with 409. It is not dropped:
    staff see it in the maintenance mode until they settle it, and the center audits the refusal."""
    printer, driver = spooled
    card = new_card(world, tmp_path)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:
        k.unreconciled = "the center refused the report: the staff settle it with the center by hand"

        async def resident() -> tuple[Placed, list[dict[str, object]]]:
            run = asyncio.ensure_future(k.run())
            placed = await order_and_pay(k, card, copies=2)
            while driver.pages_out < 1:
                await asyncio.sleep(0.02)
            k.client.void(placed.order_id, "cancelled")
            await ended(k, run, Step.DONE)
            run = asyncio.ensure_future(k.run())
            view = await k.into_maintenance()
            escalated = list(view["escalated"])
            k.screen.press("clear_escalated")
            await k.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("escalated") == [])
            k.screen.press("done")
            await k.screen.wait_for(Step.IDLE)
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
            return placed, escalated

        placed, escalated = asyncio.run(resident())
        assert k.client.order(placed.order_id).state == "voided"
        taken = k.cashbox.cash_box
        assert escalated == [
            {"order_id": placed.order_id, "stage": "paid", "code": "order_state", "fee": taken}
        ]
        audited = books.audited(world.stack, k.enrolled.terminal_id)
        assert ("order_printed_refused", "refused", "order_state") in audited
        assert k.journal.pending() is None and k.journal.escalations() == []
