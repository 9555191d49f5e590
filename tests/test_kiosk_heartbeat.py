"""The kiosk's heartbeat end to end, with real authority, center and municipal server processes
over TLS: what a terminal assembled from its settings reports of its devices (the stand-ins, and
the peripheral controller's real firmware on the MicroPython unix port), sent again at once when
a state changes; that nothing about the resident of a whole session is in it or in what the center
keeps of it (canaries: the name, the card's serial, the session, the order, the copies); and that
a center out of reach or silent neither stops the heartbeats nor holds up a session."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from center.config import CenterConfig
from center.fleet import Condition, Status, TerminalView
from center.store.engine import make_engine
from center.store.tables import order_copies, orders, sessions, terminal_history, terminal_states
from documents import Binding
from hardware.card.holder import HolderAuthentication
from hardware.cardsim.inprocess import InProcessReader
from hardware.printer import PrinterCondition
from kiosk.assembly import Assembled, assemble
from kiosk.config import FIRMWARE_SIMULATOR, KioskConfig
from kiosk.devices.stand_ins import StandInMaintenance
from kiosk.headless import HeadlessScreen
from kiosk.heartbeat import HeartbeatSender, build_version, report_of
from kiosk.workflow.steps import Step
from support.canaries import holds
from support.fleet_view import terminal_view
from support.kiosk_driver import Card, kiosk, new_card
from support.tcp_proxy import TcpProxy
from support.waiting import eventually
from support.world import World, running_world

QUICK = 0.05  # seconds from a change to its heartbeat, in these tests
_terminals = iter(range(600, 700))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-heartbeat", 20)


def next_id() -> str:
    return f"T-{next(_terminals):04d}"


@contextlib.contextmanager
def assembled(world: World, **devices: str) -> Iterator[tuple[Assembled, KioskConfig, InProcessReader]]:
    """A terminal put together from its settings file as ``python -m kiosk.ui`` does (the
    stand-ins unless ``devices`` say otherwise), its heartbeats started and quick."""
    config = KioskConfig.load(world.stack.kiosk_config(next_id(), reader="inprocess", **devices))
    reader = InProcessReader()
    parts = assemble(config, HeadlessScreen(), reader=reader)
    try:
        assert parts.heartbeats is not None
        parts.heartbeats.soonest = QUICK
        parts.heartbeats.start()
        yield parts, config, reader
    finally:
        parts.close()


def seen(world: World, terminal_id: str, check: object, what: str) -> TerminalView:
    """The terminal as the console sees it, once ``check(view)`` holds."""
    assert callable(check)

    def view() -> TerminalView | None:
        current = terminal_view(world.stack, terminal_id)
        return current if current.state is not None and check(current) else None

    found: TerminalView = eventually(view, what)
    return found


def test_a_terminal_assembled_from_its_settings_reports_its_devices_and_their_changes(world: World) -> None:
    with assembled(world) as (parts, config, reader):
        terminal_id = parts.client.terminal.terminal_id
        view = seen(world, terminal_id, lambda v: True, "the first heartbeat")
        assert view.status is Status.ONLINE and view.conditions == set()
        assert view.state is not None
        assert (view.state.build, view.state.config_hash) == (build_version(), config.fingerprint())
        assert (view.state.printer, view.state.card_reader, view.state.controller) == (
            "ready",
            True,
            "absent",
        )
        assert (view.state.alarm, view.state.change_owed, view.state.last_session_at) == (None, 0, None)

        parts.devices.printer.state = PrinterCondition.PAPER_OUT
        reader.unplug()
        assert parts.heartbeats is not None
        parts.heartbeats.poke()
        view = seen(world, terminal_id, lambda v: not v.state.card_reader, "the printer and reader's change")
        assert view.conditions == {Condition.PRINTER_FAULT, Condition.NO_CARD_READER}

        parts.terminal.last_session.ended()  # what the workflow does when a session ends: sent at once
        view = seen(world, terminal_id, lambda v: v.state.last_session_at is not None, "the session's end")
        assert view.state is not None and view.state.last_session_at == parts.terminal.last_session.at


def test_the_controllers_alarm_and_its_link_reach_the_center_at_once(world: World) -> None:
    with assembled(world, peripherals=FIRMWARE_SIMULATOR) as (parts, _config, _reader):
        terminal_id = parts.client.terminal.terminal_id
        assert parts.peripherals is not None and parts.peripherals.simulator is not None
        seen(world, terminal_id, lambda v: v.state.controller == "up", "the controller up")
        parts.peripherals.simulator.trip_tamper()  # the case opened: the board latches the alarm
        view = seen(world, terminal_id, lambda v: v.state.alarm == "tamper", "the tamper alarm")
        assert view.conditions == {Condition.ALARM}
        parts.peripherals.simulator.stop()  # the board gone (its cable, its power)
        view = seen(world, terminal_id, lambda v: v.state.controller == "down", "the controller down")
        assert Condition.CONTROLLER_DOWN in view.conditions


def test_a_whole_session_leaves_nothing_of_the_resident_in_the_heartbeat_nor_at_the_center(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    card = new_card(world, tmp_path)
    with kiosk(world, next_id(), tmp_path) as k:
        terminal_id = k.enrolled.terminal_id
        report = functools.partial(report_of, k.terminal, build=build_version(), config_hash="5e" * 32)
        link = world.stack.client(k.enrolled)
        sender = HeartbeatSender(link, report, interval=3600, soonest=QUICK)
        k.terminal.last_session.subscribe(sender.poke)  # as the assembly does
        sender.start()
        try:
            seen(world, terminal_id, lambda v: True, "the first heartbeat")

            async def resident() -> None:
                run = asyncio.ensure_future(k.run())
                await k.reach(card, Step.DONE)
                k.screen.press("ok")
                assert await asyncio.wait_for(run, 30) is Step.DONE

            asyncio.run(resident())
            view = seen(
                world, terminal_id, lambda v: v.state.last_session_at is not None, "the session's end"
            )
            sent = report().model_dump_json()
        finally:
            sender.stop()
            link.close()
    assert view.state is not None and view.state.last_session_at is not None
    assert view.state.last_session_at.second == 0 and view.state.last_session_at.microsecond == 0
    canaries = resident_canaries(world, card, terminal_id)
    assert len(canaries) >= 7  # the name, the serial twice, the holder, a session, an order, a copy
    kept = center_rows(world, terminal_id)
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("kiosk.heartbeat")]
    found = [
        f"{what} in {where}"
        for what, canary in canaries.items()
        for where, text in (
            ("the heartbeat", sent),
            ("the center's rows", kept),
            *(("the log", t) for t in logged),
        )
        if holds(text, canary)
    ]
    assert found == []


def resident_canaries(world: World, card: Card, terminal_id: str) -> dict[str, str]:
    """What would identify the resident or their business: their name, the card's serial and
    holder hash, and the ids the center gave the session, the order and the copies."""
    reader = InProcessReader()
    reader.insert(card.virtual())
    reading = HolderAuthentication(reader.connect()).read()
    assert reading.certificate is not None
    certificate = reading.certificate.certificate
    values = {
        "name": card.name,
        "family name": card.name.split("　")[0],
        "serial": str(certificate.serial_number),
        "serial (hex)": format(certificate.serial_number, "x"),
        "holder": Binding.holder_hash(reading.certificate.der),
    }
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            session_ids = connection.execute(
                sa.select(sessions.c.id).where(sessions.c.terminal_id == terminal_id)
            )
            order_ids = connection.execute(sa.select(orders.c.id).where(orders.c.terminal_id == terminal_id))
            values |= {f"session {i}": value for i, (value,) in enumerate(session_ids)}
            values |= {f"order {i}": value for i, (value,) in enumerate(order_ids)}
            numbers = connection.execute(
                sa.select(order_copies.c.issue_number)
                .join(orders, orders.c.id == order_copies.c.order_id)
                .where(orders.c.terminal_id == terminal_id)
            )
            values |= {f"issue number {i}": value for i, (value,) in enumerate(numbers)}
    finally:
        engine.dispose()
    assert any(name.startswith("order") for name in values), "the session ordered nothing"
    return values


def center_rows(world: World, terminal_id: str) -> str:
    """Every value the center keeps of the terminal's heartbeats, as text."""
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            rows = [
                *connection.execute(
                    sa.select(terminal_states).where(terminal_states.c.terminal_id == terminal_id)
                ),
                *connection.execute(
                    sa.select(terminal_history).where(terminal_history.c.terminal_id == terminal_id)
                ),
            ]
    finally:
        engine.dispose()
    assert rows
    return "\n".join(repr(tuple(row)) for row in rows)


def test_the_heartbeats_go_on_while_the_center_is_out_of_reach(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.heartbeat")
    with (
        kiosk(world, next_id(), tmp_path) as k,
        TcpProxy(int(world.stack.center_url.rsplit(":", 1)[1])) as proxy,
    ):
        link = world.stack.client(k.enrolled, proxy.url())
        link.timeout = 2.0
        report = functools.partial(report_of, k.terminal, build=build_version(), config_hash="5e" * 32)
        sender = HeartbeatSender(link, report, interval=3600, soonest=QUICK)
        proxy.down()  # the center is gone (the store's line, the data center)
        assert sender.send_once() is False
        assert sender.send_once() is False
        assert (sender.sent, sender.failed) == (0, 2)
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 1 and "heartbeat not sent (" in warned[0]  # once, by its kind only
        sender.start()  # the thread goes on trying
        eventually(lambda: sender.failed >= 3, "the thread's own try")
        assert terminal_view(world.stack, k.enrolled.terminal_id).status is Status.NEVER_SEEN
        proxy.up()
        k.printer.state = PrinterCondition.TONER_LOW
        sender.poke()
        seen(world, k.enrolled.terminal_id, lambda v: v.state.printer == "toner_low", "the heartbeat, back")
        assert any("reach the center again" in r.getMessage() for r in caplog.records)
        sender.stop()
        link.close()


def test_a_silent_center_never_holds_up_a_session(world: World, tmp_path: Path) -> None:
    """The heartbeat waits on its own thread for a center that takes the connection and never
    answers; the resident's session goes on meanwhile (here: started and cancelled)."""
    with socket.socket() as silent, kiosk(world, next_id(), tmp_path) as k:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        link = world.stack.client(k.enrolled, f"https://127.0.0.1:{silent.getsockname()[1]}")
        link.timeout = 60.0
        report = functools.partial(report_of, k.terminal, build=build_version(), config_hash="5e" * 32)
        sender = HeartbeatSender(link, report, interval=3600, soonest=QUICK).start()

        async def resident() -> Step:
            run = asyncio.ensure_future(k.run())
            await k.start()
            k.screen.press("cancel")
            await k.screen.wait_for(Step.CANCELLED)
            k.screen.press("ok")
            return await asyncio.wait_for(run, 30)

        assert asyncio.run(resident()) is Step.CANCELLED
        assert (sender.sent, sender.failed) == (0, 0)  # still waiting for its first answer
        sender.stop(timeout=0.1)
        link.close()


class UnnamedAlarm:
    """A guard whose board latched an alarm bit the kiosk has no name for (its driver says
    ``unknown``), with the board's state unreadable at the moment."""

    alarm = "unknown"


def test_an_alarm_the_kiosk_cannot_name_is_still_reported(world: World, tmp_path: Path) -> None:
    with kiosk(world, next_id(), tmp_path) as k:
        k.terminal.guard = UnnamedAlarm()  # type: ignore[assignment]
        assert isinstance(k.terminal.maintenance, StandInMaintenance)
        k.terminal.maintenance.fault = "the board does not answer"
        report = report_of(k.terminal, build="0.1.0", config_hash="5e" * 32)
        assert (report.controller, report.alarm) == ("down", "tamper")
        k.client.heartbeat(report)  # the center takes it
