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

from kiosk.workflow.steps import Step
from support.cups_jobs import pdf_pages
from support.fixtures_cups import CupsServer
from support.kiosk_driver import Card, Kiosk, kiosk, new_card
from support.store_printers import cups_printer
from support.world import World, running_world

_terminals = iter(range(800, 900))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-store-printer", 40)


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
    printer = cups_printer(world, cups_server, "ok", tmp_path, monkeypatch)
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
    printer = cups_printer(world, cups_server, "paper-out", tmp_path, monkeypatch)
    with kiosk(world, f"T-{next(_terminals):04d}", tmp_path, printer=printer) as k:  # type: ignore[arg-type]
        assert asyncio.run(session(k, card, ends=Step.FAILED)) is Step.FAILED
        assert k.cashbox.cash_box == 0 and sum(k.cashbox.returned) > 0
        assert ("printing", "error") in {(s.value, o.value) for s, o, _ in k.workflow.history}
