"""A whole session printed on the store's printer: the real renderer, the real CUPS server of the
tests (tests/support/fixtures_cups.py) and the printer the kiosk's settings name (``print_to``),
with the real center and municipality; a printer out of paper fails the session, voids the order
and returns the coins."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.printer import Timeouts
from kiosk.assembly import printer_for
from kiosk.config import KioskConfig
from kiosk.workflow.steps import Step
from support.cups_jobs import pdf_pages
from support.fixtures_cups import CupsServer
from support.kiosk_driver import Card, Kiosk, kiosk, new_card
from support.world import World, running_world

FAST = Timeouts(start=10.0, per_page=5.0, fault_grace=0.3, cancel=10.0, poll=0.05)
_terminals = iter(range(800, 900))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-store-printer", 40)


def store_printer(
    world: World, cups_server: CupsServer, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> object:
    monkeypatch.setenv("CUPS_SERVER", cups_server.server)  # the kiosk's libcups finds the tests' cupsd
    queue = cups_server.add_printer(mode)
    config = KioskConfig(
        center_url="https://unused",
        center_ca=tmp_path,
        terminal=tmp_path,
        trust=tmp_path,
        journal=tmp_path / "journal.json",
        print_to=f"cups:{queue}",
        peripherals="stand-in",
    )
    printer = printer_for(config, world.trust, work_dir=tmp_path)
    printer.backend.timeouts = FAST  # type: ignore[attr-defined]
    printer.assume_taken_after = 0.2
    return printer


async def session(k: Kiosk, card: Card, *, ends: Step) -> Step:
    run = asyncio.ensure_future(k.run())
    try:
        await k.reach(card, Step.CONFIRM)
        fee = k.screen.view()["total"]
        k.screen.press("next")
        await k.pay(fee)
        await k.screen.wait_for(ends, timeout=60)
        if k.reader.card_present():
            k.take_card()
        k.screen.press("ok")
        return await asyncio.wait_for(run, 60)
    finally:
        run.cancel()


def test_a_session_prints_on_the_store_printer(
    world: World, cups_server: CupsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = new_card(world, tmp_path)
    printer = store_printer(world, cups_server, "ok", tmp_path, monkeypatch)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:  # type: ignore[arg-type]
        settled: list[str] = []
        settle = k.client.settle

        def spy(order_id: str, paid: int) -> dict[str, object]:
            settled.append(order_id)
            return settle(order_id, paid)

        k.client.settle = spy  # type: ignore[method-assign]
        assert asyncio.run(session(k, card, ends=Step.DONE)) is Step.DONE
        assert k.client.order(settled[0]).state == "settled"
    printed = sorted(cups_server.outputs.glob("*.pdf"), key=os.path.getmtime)
    assert printed and pdf_pages(printed[-1]) >= 1
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".pdf", ".png")]  # pages deleted


def test_a_printer_out_of_paper_fails_the_session_and_returns_the_coins(
    world: World, cups_server: CupsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = new_card(world, tmp_path)
    printer = store_printer(world, cups_server, "paper-out", tmp_path, monkeypatch)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:  # type: ignore[arg-type]
        assert asyncio.run(session(k, card, ends=Step.FAILED)) is Step.FAILED
        assert k.cashbox.cash_box == 0 and sum(k.cashbox.returned) > 0
        assert ("printing", "error") in {(s.value, o.value) for s, o, _ in k.workflow.history}
