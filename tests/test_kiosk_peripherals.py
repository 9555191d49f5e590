"""Whole sessions at a kiosk whose coins, light, buzzer and alarms are the real firmware on the
MicroPython unix port behind a pseudo-terminal (tests/support/peripheral_rig.py), with the real
center and municipality: paying with change, a refund on cancel, the reminders, a tamper alarm
putting the terminal out of service, a controller reset mid-payment and the kiosk restarting
mid-order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware import messages
from kiosk.workflow.steps import Step
from support.center_audit import alarms_audited
from support.kiosk_driver import Card, Kiosk, kiosk, new_card
from support.peripheral_rig import Rig, peripheral_rig
from support.world import World, running_world

_terminals = iter(range(900, 1000))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-peripherals", 40)


@pytest.fixture
def card(world: World, tmp_path: Path) -> Card:
    return new_card(world, tmp_path)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with peripheral_rig(tmp_path) as rig:
        yield rig


@pytest.fixture
def terminal(world: World, tmp_path: Path, rig: Rig) -> Iterator[Kiosk]:
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, rig=rig) as k:
        yield k


def order_state(k: Kiosk, order_id: str) -> str:
    state: str = k.client.order(order_id).state
    return state


def blinked(rig: Rig, pin: str, since: int) -> int:
    """How often ``pin`` went on in the mechanics' history from entry ``since``."""
    history = list(rig.simulator.mechanics.history)[since:]
    return sum(1 for _at, name, level in history if name == pin and level)


async def ended(k: Kiosk, run: asyncio.Future[Step], end: Step) -> Step:
    await k.screen.wait_for(end, timeout=30)
    k.screen.press("ok")
    return await asyncio.wait_for(run, 30)


def test_a_session_paid_in_coins_with_change_and_reminders(terminal: Kiosk, rig: Rig, card: Card) -> None:
    k, machine = terminal, rig.simulator.mechanics

    async def resident() -> tuple[int, str, Step]:
        run = asyncio.ensure_future(k.run())
        await k.through_the_card(card)
        confirm = await k.choose("resident_record")
        fee = confirm["total"]
        k.screen.press("next")
        await k.screen.wait_for(Step.PAYMENT, lambda v: v.get("fee") == fee)
        assert k.drop(500)  # more than the fee: change comes back
        await k.screen.wait_for(Step.TAKE_DOCUMENTS, timeout=30)
        order_id = k.sessions[-1].order.order_id  # type: ignore[union-attr]
        since = len(machine.history)
        assert rig.simulator.wait_for(
            lambda: blinked(rig, "light", since) >= 1 and blinked(rig, "buzzer", since) >= 1, 10
        )
        k.printer.take()
        return fee, order_id, await ended(k, run, Step.DONE)

    fee, order_id, end = asyncio.run(resident())
    assert end is Step.DONE
    assert machine.cash_box == [500]
    assert sum(machine.cup) == 500 - fee  # the change, from the hoppers
    assert rig.simulator.wait_for(
        lambda: not rig.simulator.output("light") and not rig.simulator.output("buzzer"), 5
    )
    assert order_state(k, order_id) == "settled"


def test_cancel_at_payment_gives_the_coins_back(terminal: Kiosk, rig: Rig, card: Card) -> None:
    k, machine = terminal, rig.simulator.mechanics

    async def resident() -> Step:
        run = asyncio.ensure_future(k.run())
        await k.reach(card, Step.PAYMENT, paid=100)  # (less than any fee)
        assert machine.escrow == [100]
        k.screen.press("cancel")
        view = await k.screen.wait_for(Step.CANCELLED, lambda v: "refund" in v)
        assert view["refund"] == 100
        k.screen.press("ok")
        return await asyncio.wait_for(run, 30)

    assert asyncio.run(resident()) is Step.CANCELLED
    assert machine.cup == [100] and machine.cash_box == [] and machine.escrow == []


def test_tamper_mid_session_fails_it_refunds_and_keeps_the_terminal_out_of_service(
    world: World, terminal: Kiosk, rig: Rig, card: Card
) -> None:
    k, machine = terminal, rig.simulator.mechanics

    async def residents() -> str | None:
        run = asyncio.ensure_future(k.run())
        await k.reach(card, Step.PAYMENT, paid=100)
        rig.simulator.trip_tamper()
        failed = await k.screen.wait_for(Step.FAILED, timeout=15)
        k.screen.press("ok")
        assert await asyncio.wait_for(run, 30) is Step.FAILED
        assert rig.simulator.wait_for(lambda: machine.cup == [100], 10)
        assert machine.cash_box == []

        run = asyncio.ensure_future(k.run())  # the next resident finds the terminal out of service
        view = await k.screen.wait_for(Step.IDLE, lambda v: v.get("out_of_service") is not None)
        assert view["out_of_service"] == "tamper"
        k.screen.press("start")
        await asyncio.sleep(0.5)
        assert k.screen.view(Step.IDLE).get("out_of_service") == "tamper"  # no session starts
        view = await k.into_maintenance()  # the clerk, with the staff code
        assert view["alarm"] == "tamper" and view["connected"]
        assert rig.simulator.wait_for(
            lambda: rig.controller.state.status.get("flags", 0) & messages.STATUS_MAINTENANCE, 5
        )
        rig.simulator.open_door()  # in maintenance mode: no new alarm
        await k.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("door_open"), timeout=5)
        k.screen.press("clear_alarm")  # the tamper switch is still tripped: refused
        await k.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("refused"), timeout=10)
        rig.simulator.rest_tamper()
        rig.simulator.close_door()
        k.screen.press("clear_alarm")
        await k.screen.wait_for(
            Step.MAINTENANCE, lambda v: v.get("refused") is False and v.get("alarm") is None, timeout=10
        )
        k.screen.press("done")
        await k.screen.wait_for(Step.IDLE, lambda v: v.get("out_of_service", "") is None, timeout=10)
        assert rig.simulator.wait_for(
            lambda: not rig.controller.state.status.get("flags", 0) & messages.STATUS_MAINTENANCE, 5
        )
        k.screen.press("start")
        await k.screen.wait_for(Step.LANGUAGE)
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        return failed.get("reason")

    reason = asyncio.run(residents())
    assert reason is not None and "terminal_alarm" in reason
    audited = alarms_audited(world.stack, k.enrolled.terminal_id)
    assert audited == [("raised", "tamper"), ("cleared", "tamper")]


def test_a_controller_reset_mid_payment_fails_the_session_and_charges_nothing(
    terminal: Kiosk, rig: Rig, card: Card
) -> None:
    k, machine = terminal, rig.simulator.mechanics

    async def residents() -> tuple[int, Step]:
        run = asyncio.ensure_future(k.run())
        await k.reach(card, Step.PAYMENT, paid=100)
        rig.simulator.reset_controller()
        assert await ended(k, run, Step.FAILED) is Step.FAILED
        assert machine.cup == [100] and machine.cash_box == []
        run = asyncio.ensure_future(k.run())  # the terminal recovers: the next resident is served
        await k.reach(card, Step.TAKE_DOCUMENTS)
        fee = k.sessions[-1].order.fee  # type: ignore[union-attr]
        k.printer.take()
        return fee, await ended(k, run, Step.DONE)

    fee, end = asyncio.run(residents())
    assert end is Step.DONE
    assert machine.cup[:1] == [100]  # given back once
    assert sum(machine.cash_box) == fee  # and the fee taken once, from the second payment


def test_a_kiosk_restarted_mid_order_has_the_coins_returned_and_the_order_voided(
    world: World, rig: Rig, card: Card, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.json"
    machine = rig.simulator.mechanics
    with kiosk(
        world, f"T-{next(_terminals):04d}", tmp_path, journal=journal, seconds_per_page=30, rig=rig
    ) as k:

        async def crash() -> str:
            run = asyncio.ensure_future(k.run())
            await k.reach(card, Step.PRINTING)
            order_id = k.sessions[-1].order.order_id  # type: ignore[union-attr]
            run.cancel()  # the kiosk's process dies while the page is printing, coins in escrow
            await asyncio.gather(run, return_exceptions=True)
            return order_id

        order_id = asyncio.run(crash())
        held = sum(machine.escrow)
        assert held > 0 and machine.cash_box == []
        k.unreconciled = "the kiosk crashed: its restart below ends the order"

    rig.restart_host()  # the kiosk's program starts again: a new driver, a new link session
    with kiosk(world, "", tmp_path, journal=journal, enrolled=k.enrolled, rig=rig) as again:

        async def start() -> None:
            run = asyncio.ensure_future(again.run())
            await again.screen.wait_for(Step.IDLE)
            for _ in range(200):
                if not journal.exists() and sum(machine.cup) == held:
                    break
                await asyncio.sleep(0.05)
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)

        asyncio.run(start())
        assert sum(machine.cup) == held and machine.cash_box == [] and machine.escrow == []
        assert order_state(again, order_id) == "refunded"
    k.reconcile(world.stack)
