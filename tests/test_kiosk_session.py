"""The resident's whole session at a headless kiosk: the real workflow and its steps, the emulated
card (the card code path in-process), stand-in coins, printer and reminder, and real authority,
center and municipal server processes over TLS.

Every transition of the table is taken by some test of this module; the last test checks it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from center.calendar import Closed, ServiceCalendar
from center.messages import OrderResponse
from center.municipal import schema as municipal_schema
from center.store.engine import make_engine
from devtools.stack import ALWAYS_OPEN
from documents import JST, OpenedDocument
from hardware.card.holder import HolderAuthentication
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessConnection, InProcessReader
from kiosk.devices.stand_ins import StandInMaintenance
from kiosk.messages import Catalog
from kiosk.ports import ReminderKind
from kiosk.ui.words import reason_words, unavailable_words
from kiosk.workflow.steps import NO_CANCEL, TRANSITIONS, Outcome, Step
from support import books
from support.canaries import holds
from support.center_audit import alarms_audited
from support.domicile_steps import DOMICILE_STEPS
from support.kiosk_driver import STAFF_CODE, USUAL_PATH, Card, Kiosk, kiosk, new_card
from support.world import CODE, World, running_world

TAKEN: set[tuple[Step, Outcome]] = set()  # every transition any test of this module took
_terminals = iter(range(1, 1000))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-session", 150)


@pytest.fixture
def card(world: World, tmp_path: Path) -> Card:
    return new_card(world, tmp_path)


@pytest.fixture
def terminal(world: World, tmp_path: Path) -> Iterator[Kiosk]:
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path) as k:
        yield k
        TAKEN.update((step, outcome) for step, outcome, _ in k.workflow.history)


def order_state(k: Kiosk, order_id: str) -> str:
    state: str = k.client.order(order_id).state
    return state


async def session(k: Kiosk, resident: object) -> Step:
    """Run one session with ``resident`` (a coroutine driving it) and return how it ended."""
    run = asyncio.ensure_future(k.run())
    try:
        await asyncio.wait_for(resident, 60)  # type: ignore[arg-type]
        return await asyncio.wait_for(run, 60)
    finally:
        run.cancel()


def test_a_whole_session_prints_the_holder_s_seal_certificate(terminal: Kiosk, card: Card) -> None:
    k = terminal

    async def resident() -> None:
        await k.through_the_card(card)
        view = k.screen.view(Step.CERTIFICATE_TYPE)
        assert [c["type"] for c in view["certificates"]] == [
            "resident_record",
            "resident_record_entries",
            "seal_registration",
            "tax",
        ]
        confirm = await k.choose("seal_registration")
        assert confirm["total"] == confirm["items"][0]["fee"] > 0
        k.screen.press("next")
        await k.pay(confirm["total"])
        await k.screen.wait_for(Step.TAKE_DOCUMENTS)
        assert k.reminder.active is not None
        printed.extend(k.printer.take())
        await k.screen.wait_for(Step.DONE)
        k.screen.press("ok")

    printed: list[OpenedDocument] = []
    assert asyncio.run(session(k, resident())) is Step.DONE
    assert [c.document.content["body"]["name"] for c in printed] == [card.name]
    assert k.client.order(printed[0].document.binding.order_id).state == "settled"
    order = k.sessions[-1]
    assert order.order is None and order.session_id is None  # forgotten
    assert k.cashbox.cash_box > 0 and k.cashbox.held == 0
    assert not k.journal.path.exists()
    assert k.reminder.active is None and all(k.reminder.sounded.values())
    assert not k.workflow.context.personal
    assert k.screen.shown[-3:] == [Step.TAKE_DOCUMENTS, Step.DONE, Step.IDLE]


def test_a_household_copy_and_a_tax_certificate_in_one_order_with_change(
    terminal: Kiosk, card: Card, world: World
) -> None:
    k = terminal
    printed: list[str] = []

    async def whole_household() -> None:
        """A household copy: the holder is chosen already; every other member is ticked."""
        k.screen.press("choose", "resident_record")
        options = await k.screen.wait_for(Step.OPTIONS)
        household = options["members"]
        assert [m["chosen"] for m in household] == [m["holder"] for m in household]
        for member in household:
            if not member["holder"]:
                k.screen.press("member", member["member"])
        await k.screen.wait_for(Step.OPTIONS, lambda v: all(m["chosen"] for m in v["members"]))

    async def two_copies() -> None:
        k.screen.press("next")
        await k.screen.wait_for(Step.COPIES)
        k.screen.press("more")
        await k.screen.wait_for(Step.COPIES, lambda v: v["copies"] == 2)

    async def resident() -> None:
        await k.through_the_card(card)
        await whole_household()
        k.screen.press("flag", "head_and_relationship")
        await k.screen.wait_for(Step.OPTIONS, lambda v: v["flags"]["head_and_relationship"])
        k.screen.press("back")  # back to the list: choosing again starts from the holder alone
        await k.screen.wait_for(Step.CERTIFICATE_TYPE)
        await whole_household()
        await two_copies()
        k.screen.press("back")  # from the copies: the list again
        await k.screen.wait_for(Step.CERTIFICATE_TYPE)
        await whole_household()
        await two_copies()
        k.screen.press("next")
        await k.screen.wait_for(Step.CONFIRM)
        k.screen.press("back")
        await k.screen.wait_for(Step.COPIES)
        k.screen.press("next")
        await k.screen.wait_for(Step.CONFIRM)
        k.screen.press("another")
        await k.screen.wait_for(Step.CERTIFICATE_TYPE, lambda v: v["basket"] == 1)
        k.screen.press("choose", "tax")
        tax = await k.screen.wait_for(Step.OPTIONS)
        assert tax["tax_year"] == tax["tax_years"][0]
        k.screen.press("next")
        await k.screen.wait_for(Step.COPIES)
        k.screen.press("next")
        confirm = await k.screen.wait_for(Step.CONFIRM)
        assert [(i["type"], i["copies"]) for i in confirm["items"]] == [("resident_record", 2), ("tax", 1)]
        k.screen.press("next")
        await k.screen.wait_for(Step.PAYMENT)
        k.cashbox.drop(500)
        k.cashbox.drop(500)
        k.cashbox.drop(500)
        k.cashbox.drop(500)  # 2,000 yen for a smaller fee: change
        await k.screen.wait_for(Step.TAKE_DOCUMENTS)
        printed.extend(
            c.document.content["body"]["name"] for c in k.printer.tray if "name" in c.document.content["body"]
        )
        k.printer.take()
        await k.screen.wait_for(Step.DONE)
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.DONE
    assert k.printer.jobs == 1
    assert k.cashbox.returned and sum(k.cashbox.returned) + k.cashbox.cash_box == 2000
    assert card.name in printed


def test_a_wrong_pin_shows_the_tries_left_and_warns_before_the_last(terminal: Kiosk, card: Card) -> None:
    k = terminal

    async def resident() -> None:
        await k.start("en")
        k.place(card)
        await k.screen.wait_for(Step.WHOSE)
        k.screen.press("whose", "residence")
        first = await k.screen.wait_for(Step.PIN, lambda v: "tries" in v)
        assert first["tries"] == 3 and not first["last_try"] and first["entered"] == 0
        view = await k.enter_pin("9999")
        assert view["wrong"] and view["tries"] == 2 and not view["last_try"]
        k.screen.press("digit", 1)
        k.screen.press("delete")
        await k.screen.wait_for(Step.PIN, lambda v: v["entered"] == 0)
        view = await k.enter_pin("0000")
        assert view["tries"] == 1 and view["last_try"]
        k.screen.press("back")  # back to whose certificates; the card stays
        await k.screen.wait_for(Step.WHOSE)
        k.screen.press("whose", "residence")
        await k.enter_pin("1234")
        await k.screen.wait_for(Step.TAKE_CARD)
        k.take_card()
        await k.screen.wait_for(Step.CERTIFICATE_TYPE)
        k.screen.press("cancel")
        await k.screen.wait_for(Step.CANCELLED)
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.CANCELLED
    assert k.workflow.history[-1][1] is Outcome.NEXT
    from hardware.card.holder import HolderAuthentication
    from hardware.cardsim.inprocess import InProcessReader

    reader = InProcessReader()
    reader.insert(card.virtual())
    assert HolderAuthentication(reader.connect()).read().tries_left == 3  # the right PIN reset them


def test_a_locked_card_is_explained_and_given_back(terminal: Kiosk, card: Card) -> None:
    k = terminal
    state = VirtualCard.open(card.path)
    for _ in range(3):  # three wrong PINs elsewhere: locked
        from hardware.card.errors import CardError
        from hardware.card.holder import HolderAuthentication
        from hardware.card.pin import PinBuffer
        from hardware.card.profile import USER_AUTH_PIN
        from hardware.cardsim.inprocess import InProcessReader

        reader = InProcessReader()
        reader.insert(state)
        auth = HolderAuthentication(reader.connect())
        auth.read()
        with pytest.raises(CardError):
            auth.jpki.auth_pin.verify(PinBuffer.of(USER_AUTH_PIN, "0000"))

    async def resident() -> None:
        await k.start()
        k.place(card)
        await k.screen.wait_for(Step.WHOSE)
        k.screen.press("whose", "residence")
        view = await k.screen.wait_for(Step.PIN, lambda v: v.get("locked"))
        assert view["tries"] == 0
        k.screen.press("digit", 1)  # no keypad on a locked card
        k.screen.press("ok")
        ended = await k.screen.wait_for(Step.CANCELLED, lambda v: v.get("remind", 0) >= 2)
        assert k.reminder.active is not None and ended["reason"] == "locked"
        k.take_card()
        await k.screen.wait_for(Step.CANCELLED, lambda v: True)
        await asyncio.sleep(0.3)
        assert k.reminder.active is None
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.CANCELLED
    assert (Step.PIN, Outcome.LOCKED) in [(s, o) for s, o, _ in k.workflow.history]


def test_a_certificate_the_municipality_cannot_issue_is_shown_with_its_reason(
    terminal: Kiosk, world: World, tmp_path: Path
) -> None:
    k = terminal
    card = new_card(world, tmp_path, "no_seal")

    async def resident() -> None:
        await k.through_the_card(card)
        listed = {c["type"]: c for c in k.screen.view()["certificates"]}
        assert not listed["seal_registration"]["available"]
        assert listed["seal_registration"]["reason"] == "no_seal_registered"
        k.screen.press("choose", "seal_registration")  # nothing happens
        k.screen.press("choose", "resident_record")
        await k.screen.wait_for(Step.OPTIONS)
        k.screen.press("cancel")
        await k.screen.wait_for(Step.CANCELLED)
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.CANCELLED
    assert [s for s, _, _ in k.workflow.history].count(Step.OPTIONS) == 1


def test_a_holder_the_municipality_refuses_is_told_why_and_given_the_card_back(
    terminal: Kiosk, world: World, tmp_path: Path
) -> None:
    k = terminal
    card = new_card(world, tmp_path, "moved_out")

    async def resident() -> None:
        await k.start()
        k.place(card)
        await k.screen.wait_for(Step.WHOSE)
        k.screen.press("whose", "residence")
        await k.enter_pin("1234")
        ended = await k.screen.wait_for(Step.CANCELLED, lambda v: v["remind"] >= 1)
        assert ended["refusal"]["code"] == "moved_out" and ended["reason"] == "moved_out"
        k.take_card()
        await asyncio.sleep(0.3)
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.CANCELLED
    assert (Step.PIN, Outcome.REFUSED) in {(s, o) for s, o, _ in k.workflow.history}


def block(world: World, resident_id: int) -> None:
    """An issuance stop (交付停止) registered for the resident at the municipality, now."""
    engine = make_engine(world.town.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(municipal_schema.issuance_blocks).values(
                    resident_id=resident_id,
                    kind="issuance_stop",
                    starts_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
                    ends_at=None,
                )
            )
    finally:
        engine.dispose()


def test_an_order_refused_at_payment_returns_the_coins_and_reports_the_refund(
    terminal: Kiosk, card: Card, world: World
) -> None:
    k = terminal
    refunded: list[str] = []
    report = k.client.refunded

    def spy(order_id: str) -> dict[str, object]:
        refunded.append(order_id)
        return report(order_id)

    k.client.refunded = spy  # type: ignore[method-assign]

    async def resident() -> None:
        await k.through_the_card(card)
        block(world, card.resident_id)  # between the offer and the order
        confirm = await k.choose("seal_registration")
        k.screen.press("next")
        await k.pay(confirm["total"])
        refused = await k.screen.wait_for(Step.CERTIFICATE_TYPE, lambda v: v["refusal"] is not None)
        assert refused["refusal"]["code"] == "not_issuable_here" and refused["basket"] == 0
        k.screen.press("cancel")
        await k.screen.wait_for(Step.CANCELLED)
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.CANCELLED
    assert k.cashbox.cash_box == 0 and sum(k.cashbox.returned) > 0 and k.cashbox.held == 0
    assert k.printer.jobs == 0
    assert len(refunded) == 1 and order_state(k, refunded[0]) == "refunded"
    refused = [o for s, o, _ in k.workflow.history if s is Step.PAYMENT]
    assert refused == [Outcome.REFUSED]


# the usual path's steps a resident can cancel (not the start screen, not while paper is out)
CANCELLABLE = [step for step in USUAL_PATH if step not in (Step.IDLE, Step.DONE, *NO_CANCEL)]


@pytest.mark.parametrize("step", CANCELLABLE, ids=[s.value for s in CANCELLABLE])
def test_cancel_on_any_screen_ends_the_session_returns_the_coins_and_the_card(
    terminal: Kiosk, card: Card, step: Step
) -> None:
    k = terminal

    async def resident() -> None:
        await k.reach(card, step, paid=100)
        k.screen.press("cancel")
        ended = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
        if k.reader.card_present():  # before the card step was over: asked for until taken
            await k.screen.wait_for(Step.CANCELLED, lambda v: v.get("remind", 0) >= 1)
            k.take_card()
        assert ended["reason"] == "cancel"
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.CANCELLED
    assert k.workflow.history[-1][:2] == (Step.CANCELLED, Outcome.NEXT)
    assert (step, Outcome.CANCEL) in {(s, o) for s, o, _ in k.workflow.history}
    assert k.cashbox.held == 0 and k.cashbox.cash_box == 0
    assert sum(k.cashbox.returned) == (100 if step is Step.PAYMENT else 0)
    assert not k.workflow.context.personal and not k.journal.path.exists()


def test_going_back_from_the_card_to_the_language(terminal: Kiosk, card: Card) -> None:
    k = terminal

    async def resident() -> None:
        await k.reach(card, Step.PLACE_CARD)
        k.screen.press("back")
        await k.screen.wait_for(Step.LANGUAGE)
        k.screen.press("language", "en")
        await k.screen.wait_for(Step.PLACE_CARD)
        k.screen.press("cancel")
        await k.screen.wait_for(Step.CANCELLED)
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.CANCELLED
    assert (Step.PLACE_CARD, Outcome.BACK) in {(s, o) for s, o, _ in k.workflow.history}


WALK_AWAY = [*CANCELLABLE, Step.TAKE_DOCUMENTS]


@pytest.mark.parametrize("step", WALK_AWAY, ids=[s.value for s in WALK_AWAY])
def test_a_resident_who_walks_away_is_timed_out_and_nothing_is_charged_unprinted(
    world: World, card: Card, tmp_path: Path, step: Step
) -> None:
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, timeouts={step: 0.5}) as k:
        paper = step is Step.TAKE_DOCUMENTS  # printed and paid: the session is done, nothing returned
        end = Step.DONE if paper else Step.CANCELLED

        async def resident() -> None:
            await k.reach(card, step, paid=100)
            if not paper:
                ended = await k.screen.wait_for(end, lambda v: "reason" in v)
                assert ended["reason"] == "timeout"
            else:
                await k.screen.wait_for(end)
            if k.reader.card_present():
                k.take_card()
            k.screen.press("ok")

        assert asyncio.run(session(k, resident())) is end
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)
        assert (step, Outcome.TIMEOUT) in {(s, o) for s, o, _ in k.workflow.history}
        assert k.cashbox.held == 0
        assert (k.cashbox.cash_box > 0) is paper
        assert not k.workflow.context.personal


def test_printing_outlasts_the_session_limit_and_every_copy_is_paid(
    world: World, card: Card, tmp_path: Path
) -> None:
    """The resident dawdled: the session's limit passes while three copies are printing. Paper is
    moving: the job is not cut short, every copy comes out and is paid, nothing is refunded, and
    the tray's screen waits for the pages whatever the limit."""
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, seconds_per_page=1.0) as k:

        async def resident() -> None:
            await k.reach(card, Step.PRINTING, copies=3)
            k.workflow.session_limit = 0.0  # the session's time is up from now on
            await k.screen.wait_for(Step.TAKE_DOCUMENTS, timeout=30)
            await asyncio.sleep(0.5)
            assert k.screen.current is Step.TAKE_DOCUMENTS  # the pages wait in the tray
            k.printer.take()
            await k.screen.wait_for(Step.DONE)
            k.screen.press("ok")

        assert asyncio.run(session(k, resident())) is Step.DONE
        assert k.printer.pages_out == 3 and k.printer.jobs == 1
        assert k.cashbox.cash_box == k.paid_in and k.cashbox.held == 0 and not k.cashbox.returned
        assert not books.disagreements(world.stack, [k.enrolled.terminal_id])


def test_the_session_limit_ends_a_session_that_goes_on_too_long(
    world: World, card: Card, tmp_path: Path
) -> None:
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, session_limit=2.0) as k:

        async def resident() -> None:
            await k.reach(card, Step.OPTIONS)
            while k.screen.current is Step.OPTIONS:  # dithering: each touch within the step's timeout
                k.screen.press("flag", "head_and_relationship")
                await asyncio.sleep(0.2)
            ended = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
            assert ended["reason"] == "timeout"
            k.screen.press("ok")

        assert asyncio.run(session(k, resident())) is Step.CANCELLED
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)


BREAKABLE = [Step.IDLE, *CANCELLABLE]


@pytest.mark.parametrize("step", BREAKABLE, ids=[s.value for s in BREAKABLE])
def test_a_screen_that_breaks_fails_the_session_cleanly(terminal: Kiosk, card: Card, step: Step) -> None:
    k = terminal

    async def resident() -> None:
        if step is not Step.IDLE:
            await k.reach(card, step, paid=100)
            await asyncio.sleep(0.1)
        k.screen.broken = step
        k.screen.press("next")
        await k.screen.wait_for(Step.FAILED, lambda v: "refund" in v)
        if k.reader.card_present():
            await k.screen.wait_for(Step.FAILED, lambda v: v.get("remind", 0) >= 1)
            k.take_card()
        k.screen.press("ok")

    if step is Step.IDLE:  # the start screen breaks before it is drawn: the session fails at once
        k.screen.broken = step
    assert asyncio.run(session(k, resident())) is Step.FAILED
    assert (step, Outcome.ERROR) in {(s, o) for s, o, _ in k.workflow.history}
    assert k.cashbox.held == 0 and k.cashbox.cash_box == 0
    assert sum(k.cashbox.returned) == (100 if step is Step.PAYMENT else 0)
    assert not k.workflow.context.personal


@pytest.mark.parametrize("fault", ["paper_out", "jam", "offline"])
def test_a_printer_fault_voids_the_order_and_returns_the_coins(
    terminal: Kiosk, card: Card, fault: str
) -> None:
    k = terminal
    voided: list[str] = []
    void = k.client.void

    def spy(order_id: str, reason: str) -> dict[str, object]:
        voided.append(order_id)
        return void(order_id, reason)

    k.client.void = spy  # type: ignore[method-assign]

    async def resident() -> None:
        await k.reach(card, Step.PAYMENT)
        k.printer.fault = fault
        await k.pay(k.screen.view()["fee"])
        ended = await k.screen.wait_for(Step.FAILED, lambda v: "refund" in v)
        assert ended["refund"] > 0
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.FAILED
    assert (Step.PRINTING, Outcome.ERROR) in {(s, o) for s, o, _ in k.workflow.history}
    assert k.cashbox.cash_box == 0 and k.cashbox.held == 0 and k.printer.tray == []
    assert len(voided) == 1 and order_state(k, voided[0]) == "refunded"
    assert not k.journal.path.exists()


def test_a_fee_the_center_orders_other_than_the_one_paid_voids_and_refunds_everything(
    terminal: Kiosk, card: Card
) -> None:
    """The center answers the order with another fee than the one the resident paid into escrow
    (the municipality's fees changed between the offer and the order): nothing is printed, the
    order is voided and refunded at the center, every coin goes back."""
    k = terminal
    placed: list[str] = []
    place = k.client.place_order

    def dearer(*args: Any, **kwargs: Any) -> OrderResponse:
        answer = place(*args, **kwargs)
        placed.append(answer.order_id)
        return answer.model_copy(update={"fee": (answer.fee or 0) + 100})

    k.client.place_order = dearer  # type: ignore[method-assign]

    async def resident() -> None:
        await k.reach(card, Step.PAYMENT)
        await k.pay(k.screen.view()["fee"])
        ended = await k.screen.wait_for(Step.FAILED, lambda v: "refund" in v)
        assert ended["refund"] > 0
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.FAILED
    assert (Step.PAYMENT, Outcome.ERROR) in {(s, o) for s, o, _ in k.workflow.history}
    assert k.cashbox.cash_box == 0 and k.cashbox.held == 0 and k.printer.tray == []
    assert len(placed) == 1 and order_state(k, placed[0]) == "refunded"
    assert k.client.order(placed[0]).reason == "payment_fee_mismatch"
    assert not k.journal.path.exists()


def test_a_tray_sensor_fault_after_printing_keeps_the_paid_order(terminal: Kiosk, card: Card) -> None:
    k = terminal

    async def resident() -> None:
        await k.reach(card, Step.PRINTING)
        k.printer.tray_fault = "sensor"
        await k.screen.wait_for(Step.FAILED, lambda v: "refund" in v)
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.FAILED
    assert (Step.TAKE_DOCUMENTS, Outcome.ERROR) in {(s, o) for s, o, _ in k.workflow.history}
    assert k.cashbox.cash_box > 0 and sum(k.cashbox.returned) == 0  # printed and settled


def test_a_center_that_cannot_be_reached_fails_the_session_at_the_pin(
    world: World, card: Card, tmp_path: Path
) -> None:
    from devtools.stack import free_port

    with kiosk(
        world, f"T-{next(_terminals) + 600:04d}", tmp_path, center_url=f"https://127.0.0.1:{free_port()}"
    ) as k:

        async def resident() -> None:
            await k.reach(card, Step.PIN)  # the session is opened before the PIN: it fails there
            await k.screen.wait_for(Step.FAILED, lambda v: v.get("remind", 0) >= 1)
            k.take_card()
            k.screen.press("ok")

        assert asyncio.run(session(k, resident())) is Step.FAILED
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)
        assert (Step.PIN, Outcome.ERROR) in {(s, o) for s, o, _ in k.workflow.history}


def test_a_kiosk_that_crashes_mid_order_voids_it_when_it_starts_again(
    world: World, card: Card, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.json"
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, journal=journal, seconds_per_page=30) as k:

        async def crash() -> str:
            run = asyncio.ensure_future(k.run())
            await k.reach(card, Step.PRINTING)
            order_id = k.sessions[-1].order.order_id  # type: ignore[union-attr]
            while not k.printer.jobs:  # the center has heard of the job, the page is printing
                await asyncio.sleep(0.02)
            run.cancel()  # the process dies while the page is printing
            await asyncio.gather(run, return_exceptions=True)
            return order_id

        order_id = asyncio.run(crash())
        assert order_state(k, order_id) == "printing"  # the center never voids it on its own
        assert journal.exists() and order_id in journal.read_text()
        assert card.name not in journal.read_text()
        k.unreconciled = "the kiosk crashed: its restart below ends the order"

    with kiosk(world, "", tmp_path, journal=journal, enrolled=k.enrolled) as again:

        async def start() -> None:
            run = asyncio.ensure_future(again.run())
            await again.screen.wait_for(Step.IDLE)
            for _ in range(100):
                if not journal.exists():
                    break
                await asyncio.sleep(0.05)
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)

        asyncio.run(start())
        assert not journal.exists()
        assert order_state(again, order_id) == "refunded"  # no coin was taken: the page out is void
    k.reconcile(world.stack)


def test_a_printed_order_the_center_did_not_hear_of_is_reported_by_the_next_session(
    world: World, card: Card, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.json"
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, journal=journal) as k:

        async def resident() -> str:
            run = asyncio.ensure_future(k.run())
            await k.reach(card, Step.PAYMENT)
            fee = (await k.screen.wait_for(Step.PAYMENT, lambda v: "fee" in v))["fee"]
            original = k.client.printed

            def center_gone(*args: Any) -> OrderResponse:  # the line drops just after the paper is out
                k.client.printed = original  # type: ignore[method-assign]
                raise httpx.ConnectError("the line to the center dropped")

            k.client.printed = center_gone  # type: ignore[method-assign]
            await k.pay(fee)
            await k.screen.wait_for(Step.TAKE_DOCUMENTS)
            order_id = k.printer.tray[0].document.binding.order_id
            k.printer.take()
            await k.screen.wait_for(Step.DONE)
            k.screen.press("ok")
            await asyncio.wait_for(run, 30)
            return order_id

        order_id = asyncio.run(resident())
        assert order_state(k, order_id) == "printing" and '"paid"' in journal.read_text()
        assert k.cashbox.cash_box > 0  # the paper is out: the coins were accepted

        async def next_resident() -> None:
            run = asyncio.ensure_future(k.run())
            for _ in range(200):
                if not journal.exists():
                    break
                await asyncio.sleep(0.05)
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)

        asyncio.run(next_resident())
        assert not journal.exists() and order_state(k, order_id) == "settled"


def test_a_resident_is_warned_before_the_screen_times_out_and_a_touch_keeps_it(
    world: World, card: Card, tmp_path: Path
) -> None:
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, timeouts={Step.OPTIONS: 3.0}) as k:
        k.workflow.warn_before = 1.5

        async def resident() -> None:
            await k.reach(card, Step.OPTIONS)
            await k.screen.wait_for(Step.OPTIONS, lambda v: v.get("warning") == 1.5)
            k.screen.press("flag", "head_and_relationship")  # still here
            await k.screen.wait_for(
                Step.OPTIONS, lambda v: v.get("warning") is None and v["flags"]["head_and_relationship"]
            )
            await k.screen.wait_for(Step.OPTIONS, lambda v: v.get("warning") == 1.5)
            ended = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)  # walked away
            assert ended["reason"] == "timeout"
            k.screen.press("ok")

        assert asyncio.run(session(k, resident())) is Step.CANCELLED
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)


def test_a_closed_service_is_said_before_the_pin_is_typed(terminal: Kiosk, card: Card, world: World) -> None:
    k = terminal
    suspended = {
        **ALWAYS_OPEN,
        "suspensions": [
            {
                "id": "kiosk-test",
                "since": "2020-01-01T00:00:00+09:00",
                "until": None,
                "municipality": None,
                "certificate_type": None,
            }
        ],
    }

    async def resident() -> None:
        await k.reach(card, Step.WHOSE)
        world.stack.load_calendar(suspended)
        await asyncio.to_thread(wait_until_closed, k)
        k.screen.press("whose", "residence")
        ended = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
        assert ended["refusal"]["code"] == "suspended" and "ja" in ended["refusal"]
        assert [s for s, _, _ in k.workflow.history].count(Step.PIN) == 1
        k.take_card()
        k.screen.press("ok")

    try:
        assert asyncio.run(session(k, resident())) is Step.CANCELLED
    finally:
        world.stack.load_calendar(ALWAYS_OPEN)
        world.stack.wait_until_open(k.client)
    assert (Step.PIN, Outcome.REFUSED) in {(s, o) for s, o, _ in k.workflow.history}
    assert not any(o is Outcome.NEXT for s, o, _ in k.workflow.history if s is Step.PIN)


def wait_until_closed(k: Kiosk, code: str = "suspended") -> None:
    """Until every center process has read the calendar that closes for ``code`` (they re-read the
    calendar every 5 s)."""
    from center.client import CenterRefusal

    for _ in range(100):
        try:
            k.client.open_session()
        except CenterRefusal as refusal:
            if refusal.code == code:
                return
        time.sleep(0.2)
    raise AssertionError("the center did not close")


CHECK = {
    "ja": "設備点検のため、サービスを停止しています",
    "en": "The service is stopped for an equipment check",
}
MIGRATION = {"ja": "住民記録システムの移行中です", "en": "The municipality is moving to a new records system"}


def test_an_operator_s_words_for_a_maintenance_window_and_a_municipal_stop_are_on_the_kiosk_s_screen(
    terminal: Kiosk, card: Card, world: World
) -> None:
    """The calendar the center loads (as ``koufu center calendar load`` stores it) with an
    operator's words: a maintenance window going on now refuses the session, and the kiosk's
    screen says the operator's words and the window's end in the resident's language, not its
    catalog's; a municipal stop of one certificate says its words beside that certificate."""
    k = terminal
    now = dt.datetime.now(JST).replace(second=0, microsecond=0)  # the center's clock, as the kiosk's
    window = {
        "start": (now - dt.timedelta(hours=1)).isoformat(),
        "end": (now + dt.timedelta(hours=2)).isoformat(),
    }
    maintenance = {**ALWAYS_OPEN, "maintenance": [{**window, "message": CHECK}]}
    stop = {
        **ALWAYS_OPEN,
        "municipality_stops": [
            {**window, "municipality": CODE, "certificate_types": ["seal_registration"], "message": MIGRATION}
        ],
    }
    closed = ServiceCalendar.from_dict(maintenance).check(now)
    assert isinstance(closed, Closed) and closed.message_en.startswith(CHECK["en"] + "; available again from")
    stopped = ServiceCalendar.from_dict(stop).check(now, CODE, "seal_registration")
    assert isinstance(stopped, Closed) and stopped.message_ja.startswith(MIGRATION["ja"] + "。")

    def refused_in(language: str) -> object:
        async def resident() -> None:
            await k.start(language)
            k.place(card)
            await k.screen.wait_for(Step.WHOSE)
            k.screen.press("whose", "residence")  # the PIN step asks the center for a session
            ended = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
            assert ended["refusal"] == {
                "code": "maintenance",
                "ja": closed.message_ja,
                "en": closed.message_en,
            }
            words = reason_words(Catalog.load(language), ended["reason"], ended["refusal"])
            assert words == (closed.message_ja + "。" if language == "ja" else closed.message_en + ".")
            assert (
                CHECK[language] in words and Catalog.load(language).text("refusal.maintenance") not in words
            )
            k.take_card()
            k.screen.press("ok")

        return resident()

    async def listed() -> None:
        await k.through_the_card(card)
        seal = next(
            c
            for c in k.screen.view(Step.CERTIFICATE_TYPE)["certificates"]
            if c["type"] == "seal_registration"
        )
        assert not seal["available"] and seal["reason"] == "municipality_stop"
        assert unavailable_words(Catalog.load("ja"), seal) == stopped.message_ja + "。"
        k.screen.press("cancel")
        await k.screen.wait_for(Step.CANCELLED)
        k.screen.press("ok")

    async def residents() -> None:  # one after the other, at the same kiosk
        await asyncio.to_thread(world.stack.load_calendar, maintenance)
        await asyncio.to_thread(wait_until_closed, k, "maintenance")
        for language in ("ja", "en"):
            assert await session(k, refused_in(language)) is Step.CANCELLED
        await asyncio.to_thread(world.stack.load_calendar, stop)
        await asyncio.to_thread(world.stack.wait_until_open, k.client)  # read: open for a session
        assert await session(k, listed()) is Step.CANCELLED

    try:
        asyncio.run(residents())
    finally:
        world.stack.load_calendar(ALWAYS_OPEN)
        world.stack.wait_until_open(k.client)


def test_a_coin_mechanism_fault_fails_the_session_and_gives_back_what_it_held(
    terminal: Kiosk, card: Card
) -> None:
    k = terminal

    async def resident() -> None:
        await k.reach(card, Step.PAYMENT)
        await k.screen.wait_for(Step.PAYMENT, lambda v: "fee" in v)
        k.cashbox.fault = "coin_jam"
        k.cashbox.drop(100)
        ended = await k.screen.wait_for(Step.FAILED, lambda v: "refund" in v)
        assert ended["refund"] == 100
        k.screen.press("ok")

    assert asyncio.run(session(k, resident())) is Step.FAILED
    assert (Step.PAYMENT, Outcome.ERROR) in {(s, o) for s, o, _ in k.workflow.history}
    assert k.cashbox.held == 0 and k.cashbox.cash_box == 0 and k.cashbox.returned == [100]
    assert k.printer.jobs == 0


# -- a card left in the reader is nobody's card ----------------------------------------------------


class CountingReader(InProcessReader):
    """The in-process reader, counting the kiosk's connections to a card (each one a card read)."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0

    def connect(self) -> InProcessConnection:
        self.connections += 1
        return super().connect()


def tries_left(card: Card) -> int:
    """The PIN tries left on ``card``, read from the emulated card itself (no try is spent)."""
    reader = InProcessReader()
    reader.insert(card.virtual())
    return HolderAuthentication(reader.connect()).read().tries_left


def test_a_card_left_at_the_pin_screen_is_nobody_s_until_taken_and_the_next_resident_uses_theirs(
    world: World, tmp_path: Path
) -> None:
    """A walks away at the PIN screen with the card on the reader; B comes. B cannot start a
    session, let alone reach a PIN screen for A's card, while the light and buzzer ask for it;
    once it is taken B's own card works, and A's PIN tries are as A left them."""
    a, b = new_card(world, tmp_path), new_card(world, tmp_path)
    reader = CountingReader()
    timeouts = {Step.PIN: 2.0, Step.CANCELLED: 0.5}  # the end screen too, the card still there
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, reader=reader, timeouts=timeouts) as k:

        async def resident_a() -> None:
            await k.reach(a, Step.PIN)
            view = await k.enter_pin("9999")  # one wrong try, then A walks away
            tries_after_a[:] = [view["tries"]]
            ended = await k.screen.wait_for(Step.CANCELLED, lambda v: v.get("remind", 0) >= 1)
            assert ended["reason"] == "timeout" and k.reminder.active is ReminderKind.TAKE_CARD
            await k.screen.wait_for(Step.IDLE, timeout=10)  # the end screen timed out: the card lies there

        async def resident_b() -> None:
            left = await k.screen.wait_for(Step.LEFT_CARD, lambda v: v.get("remind", 0) >= 1)
            assert left["remind"] >= 1 and k.reminder.active is ReminderKind.TAKE_CARD
            for action in ("start", "cancel", "back", "ok"):  # B touches the screen: no session
                k.screen.press(action)
            await k.screen.wait_for(Step.LEFT_CARD, lambda v: v["remind"] >= 3)  # still reminding
            assert k.screen.current is Step.LEFT_CARD and k.reminder.active is ReminderKind.TAKE_CARD
            assert [reader.connections] == read_by_a  # A's card was not read again
            k.take_card()  # A (or the clerk) takes it
            await k.screen.wait_for(Step.IDLE)
            assert k.reminder.active is None
            await k.through_the_card(b)  # B's own card, B's PIN
            assert k.screen.view(Step.PIN)["tries"] == 3
            k.screen.press("cancel")
            await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
            k.screen.press("ok")

        async def a_then_b() -> None:  # one event loop: the kiosk's screen lives in it
            assert await session(k, resident_a()) is Step.CANCELLED
            assert tries_after_a == [2] and reader.card_present()
            read_by_a[:] = [reader.connections]
            first_session[:] = [len(k.workflow.history)]
            assert await session(k, resident_b()) is Step.CANCELLED

        tries_after_a: list[int] = []
        read_by_a: list[int] = []
        first_session: list[int] = []
        asyncio.run(a_then_b())
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)
        second = [(s, o) for s, o, _ in k.workflow.history[first_session[0] :]]
        assert second[:3] == [
            (Step.IDLE, Outcome.CARD_LEFT),
            (Step.LEFT_CARD, Outcome.NEXT),
            (Step.IDLE, Outcome.NEXT),
        ]
        assert [s for s, _ in second].count(Step.PIN) == 1  # B's PIN screen, for B's card
    assert tries_left(a) == 2  # A's tries: as A left them
    assert tries_left(b) == 3


def test_a_card_placed_before_the_session_is_not_read_until_taken_and_placed_again(
    world: World, card: Card, tmp_path: Path
) -> None:
    reader = CountingReader()
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, reader=reader) as k:

        async def resident() -> None:
            await k.screen.wait_for(Step.IDLE)
            await asyncio.sleep(0.3)  # the start screen has looked for a card left, and waits
            k.place(card)  # on the reader before touching the screen
            await asyncio.sleep(0.3)
            assert k.screen.current is Step.IDLE
            k.screen.press("start")
            await k.screen.wait_for(Step.LANGUAGE)
            k.screen.press("language", "ja")
            view = await k.waiting_for_the_card()
            assert view == {"reading": False, "problem": "place_card.already_there"}
            await asyncio.sleep(0.3)
            assert k.screen.current is Step.PLACE_CARD and reader.connections == 0  # not read
            k.take_card()
            await k.screen.wait_for(Step.PLACE_CARD, lambda v: v["problem"] is None)
            k.place(card)  # placed during the session: read
            await k.screen.wait_for(Step.WHOSE)
            assert reader.connections == 1
            k.screen.press("cancel")
            await k.screen.wait_for(Step.CANCELLED, lambda v: v.get("remind", 0) >= 1)
            k.take_card()
            k.screen.press("ok")

        assert asyncio.run(session(k, resident())) is Step.CANCELLED
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)
        assert (Step.IDLE, Outcome.CARD_LEFT) not in [(s, o) for s, o, _ in k.workflow.history]
    assert tries_left(card) == 3


def test_staff_see_a_card_left_in_the_maintenance_mode_and_the_start_screen_finds_it_again(
    terminal: Kiosk, card: Card
) -> None:
    k = terminal
    k.place(card)  # left there when the kiosk (re)starts

    async def staff() -> None:
        run = asyncio.ensure_future(k.run())
        await k.screen.wait_for(Step.LEFT_CARD, lambda v: v.get("remind", 0) >= 1)
        view = await k.into_maintenance(via=Step.LEFT_CARD)
        assert view["unlocked"] and view["card_left"] is True
        assert k.reminder.active is None  # no buzzer while staff work
        k.screen.press("done")
        await k.screen.wait_for(Step.LEFT_CARD, lambda v: v.get("remind", 0) >= 1)  # still there
        k.take_card()
        await k.screen.wait_for(Step.IDLE)
        await asyncio.sleep(0.2)
        assert k.screen.current is Step.IDLE and k.reminder.active is None
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)

    asyncio.run(staff())
    assert [(s, o) for s, o, _ in k.workflow.history] == [
        (Step.IDLE, Outcome.CARD_LEFT),
        (Step.LEFT_CARD, Outcome.MAINTENANCE),
        (Step.MAINTENANCE, Outcome.NEXT),
        (Step.IDLE, Outcome.CARD_LEFT),
        (Step.LEFT_CARD, Outcome.NEXT),
    ]
    assert tries_left(card) == 3


def test_a_card_left_screen_that_times_out_finds_the_card_again_and_one_that_breaks_fails(
    world: World, card: Card, tmp_path: Path
) -> None:
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, timeouts={Step.LEFT_CARD: 0.5}) as k:
        k.place(card)

        async def nobody() -> None:
            while (Step.LEFT_CARD, Outcome.TIMEOUT) not in [(s, o) for s, o, _ in k.workflow.history]:
                await asyncio.sleep(0.05)
            await k.screen.wait_for(Step.LEFT_CARD)  # the start screen found it again
            k.screen.broken = Step.LEFT_CARD
            await k.screen.wait_for(Step.FAILED, lambda v: "refund" in v)
            k.screen.broken = None
            k.screen.press("ok")

        assert asyncio.run(session(k, nobody())) is Step.FAILED
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)
        assert [(s, o) for s, o, _ in k.workflow.history][:4] == [
            (Step.IDLE, Outcome.CARD_LEFT),
            (Step.LEFT_CARD, Outcome.TIMEOUT),
            (Step.IDLE, Outcome.CARD_LEFT),
            (Step.LEFT_CARD, Outcome.ERROR),
        ]
        assert k.reminder.active is None
    assert tries_left(card) == 3


# -- the store staff's maintenance mode -----------------------------------------------------------


def test_staff_enter_the_maintenance_mode_with_their_code_and_leave_it(terminal: Kiosk) -> None:
    k = terminal
    maintenance = k.terminal.maintenance
    assert isinstance(maintenance, StandInMaintenance)

    async def staff() -> None:
        run = asyncio.ensure_future(k.run())
        view = await k.into_maintenance()
        assert view["unlocked"] and view["alarm"] is None and view["connected"]
        assert view["card_left"] is False
        assert maintenance.active
        k.screen.press("clear_alarm")
        await k.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("refused") is False)
        k.screen.press("done")
        await k.screen.wait_for(Step.IDLE)
        assert not maintenance.active
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)

    asyncio.run(staff())
    TAKEN.update((s, o) for s, o, _ in k.workflow.history)
    assert (Step.MAINTENANCE, Outcome.NEXT, Step.IDLE) in k.workflow.history


def test_three_wrong_staff_codes_end_the_visit_and_cancel_ends_it_too(terminal: Kiosk) -> None:
    k = terminal

    async def stranger() -> None:
        run = asyncio.ensure_future(k.run())
        for _ in range(2):
            view = await k.into_maintenance("12345678")
            assert view["wrong"] and not view.get("unlocked")
            await k.staff_types("11111111")
            await k.staff_types("22222222")  # the third wrong code: back to the start screen
            await k.screen.wait_for(Step.IDLE)
        assert not k.terminal.maintenance.active  # type: ignore[union-attr]
        k.screen.press("maintenance")
        await k.screen.wait_for(Step.MAINTENANCE, lambda v: "entered" in v)
        k.screen.press("cancel")
        await k.screen.wait_for(Step.IDLE)
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)

    asyncio.run(stranger())
    TAKEN.update((s, o) for s, o, _ in k.workflow.history)
    assert [o for s, o, _ in k.workflow.history if s is Step.MAINTENANCE] == [
        Outcome.NEXT,
        Outcome.NEXT,
        Outcome.CANCEL,
    ]


def test_wrong_staff_codes_back_off_doubling_and_five_in_a_row_alarm_the_center(
    terminal: Kiosk, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Each wrong code refuses the next try for twice as long (the clock moved, not waited); the
    fifth in a row is an alarm in the center's audit log; the right code resets and clears it."""
    k = terminal
    caplog.set_level(logging.DEBUG)
    waits: list[int] = []

    async def refused_while_waiting() -> int:
        """A digit during the wait is not taken; the wait shown."""
        k.screen.press("digit", 1)
        await k.screen.wait_for_change()
        view = k.screen.view()
        assert view["entered"] == 0 and view["wait"] > 0
        wait: int = view["wait"]
        return wait

    async def stranger_then_staff() -> None:
        run = asyncio.ensure_future(k.run())
        waits.append((await k.into_maintenance("12345678"))["wait"])
        assert await refused_while_waiting() == 1
        waits.append((await k.staff_types("87654321"))["wait"])
        assert await refused_while_waiting() == 2
        assert await k.staff_types("87654321") == {}  # the visit's third: the start screen
        await k.screen.wait_for(Step.IDLE)
        assert alarms_audited(world.stack, k.enrolled.terminal_id) == []
        waits.append((await k.into_maintenance("11223344"))["wait"])  # the next visit goes on counting
        waits.append((await k.staff_types("11223344"))["wait"])  # the fifth in a row
        assert alarms_audited(world.stack, k.enrolled.terminal_id) == [("raised", "staff_code")]
        k.staff_clock.advance(waits[-1] - 1)  # a second early: still refused
        k.screen.press("delete")
        assert (await k.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("wait") == 1))["entered"] == 0
        assert (await k.staff_types(STAFF_CODE))["unlocked"]
        k.screen.press("done")
        await k.screen.wait_for(Step.IDLE)
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)

    asyncio.run(stranger_then_staff())
    TAKEN.update((s, o) for s, o, _ in k.workflow.history)
    # 1, 2 and 4 s (the third ended the first visit: the next started after it), then 8 and 16
    assert waits == [1, 2, 8, 16]
    assert alarms_audited(world.stack, k.enrolled.terminal_id) == [
        ("raised", "staff_code"),
        ("cleared", "staff_code"),
    ]
    assert k.terminal.staff_backoff is not None and k.terminal.staff_backoff.wait() == 0
    assert "a wrong staff code (5 in a row" in caplog.text
    for typed in ("12345678", "87654321", "11223344", STAFF_CODE):
        assert not holds(caplog.text, typed)
        assert not holds(repr(k.screen.views), typed)


def test_a_maintenance_mode_left_open_times_out_and_a_broken_board_state_ends_it(
    world: World, tmp_path: Path
) -> None:
    with kiosk(world, f"T-{next(_terminals) + 600:04d}", tmp_path, timeouts={Step.MAINTENANCE: 0.5}) as k:
        maintenance = k.terminal.maintenance
        assert isinstance(maintenance, StandInMaintenance)

        async def staff() -> None:
            run = asyncio.ensure_future(k.run())
            assert (await k.into_maintenance())["unlocked"]
            await k.screen.wait_for(Step.IDLE, timeout=10)  # walked away: back to the start screen
            assert not maintenance.active
            maintenance.fault = "the board's state cannot be read"
            k.screen.press("maintenance")
            await k.screen.wait_for(Step.MAINTENANCE, lambda v: "entered" in v)
            for digit in STAFF_CODE:
                k.screen.press("digit", int(digit))
            await k.screen.wait_for(Step.MAINTENANCE, lambda v: v.get("entered") == len(STAFF_CODE))
            k.screen.press("ok")
            await k.screen.wait_for(Step.IDLE, timeout=10)
            assert not maintenance.active  # left on the way out, even so
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)

        asyncio.run(staff())
        TAKEN.update((s, o) for s, o, _ in k.workflow.history)
        outcomes = [o for s, o, _ in k.workflow.history if s is Step.MAINTENANCE]
        assert outcomes == [Outcome.TIMEOUT, Outcome.ERROR]


def test_the_staff_code_never_reaches_a_log_or_the_screen(
    terminal: Kiosk, caplog: pytest.LogCaptureFixture
) -> None:
    k = terminal
    caplog.set_level(logging.DEBUG)

    async def staff() -> None:
        run = asyncio.ensure_future(k.run())
        await k.into_maintenance()
        k.screen.press("done")
        await k.screen.wait_for(Step.IDLE)
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)

    asyncio.run(staff())
    TAKEN.update((s, o) for s, o, _ in k.workflow.history)
    assert "maintenance mode entered" in caplog.text
    assert not holds(caplog.text, STAFF_CODE)
    assert not holds(repr(k.screen.views), STAFF_CODE)


def test_zz_every_transition_of_the_table_was_taken_by_this_module() -> None:
    """Runs last (pytest keeps the file's order): the tests above took every line of the table."""
    assert TAKEN, "run the whole module: this checks what the other tests took"
    missing = sorted(
        f"{step.value}/{outcome.value}"
        for step, outcome in TRANSITIONS
        if (step, outcome) not in TAKEN and not elsewhere(step, outcome)
    )
    assert missing == []


# the registered domicile's and the issuance record's lines: tests/test_kiosk_domicile_steps.py
# takes them (and checks it took every one)
ELSEWHERE = frozenset(DOMICILE_STEPS)


def elsewhere(step: Step, outcome: Outcome) -> bool:
    return step in ELSEWHERE or (step, outcome) in (
        (Step.TAKE_CARD, Outcome.DOMICILE),
        (Step.CERTIFICATE_TYPE, Outcome.RECORD),
    )
