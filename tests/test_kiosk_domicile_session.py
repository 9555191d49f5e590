"""The registered domicile and the issuance record at the kiosk against the real stack: the real
steps on the headless screen, the emulated card in the in-process reader, the real link
(``KioskSession``) to real authority, center and two municipal server processes (the residence and
the registered domicile) over TLS.

A resident whose family register is kept elsewhere (the town's ``domicile_elsewhere``) chooses the
registered domicile: the residence does not keep the register, no registration is known, the
resident applies to the domicile municipality with a 本籍 and 筆頭者 it does not have, the card
signs with its signing password, and the municipality's answer — 不承認, with its words sealed to
the terminal — is on the registration screen; the next visit finds it again. A resident's own
issuance record lists the certificate they were just issued, newest first, and prints free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.workflow.steps import Step
from support.kiosk_driver import Card, Kiosk, kiosk, new_card
from support.registration_world import DOMICILE, two_towns
from support.world import World

PASSWORD = "ABC123"  # the emulated cards' signing password
_terminals = iter(range(1, 1000))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from two_towns(request, tmp_path_factory, "kiosk-domicile")


@pytest.fixture
def terminal(world: World, tmp_path: Path) -> Iterator[Kiosk]:
    with kiosk(world, f"T-{next(_terminals) + 800:04d}", tmp_path) as k:
        yield k


def sessions(k: Kiosk, *residents: Coroutine[Any, Any, None]) -> list[Step]:
    """One session each, one after another on one event loop (the screen's); how each ended."""

    async def all_of_them() -> list[Step]:
        return [await k.session(resident, timeout=90) for resident in residents]

    return asyncio.run(all_of_them())


async def through_the_pin(k: Kiosk, card: Card, whose: str) -> None:
    await k.start()
    k.place(card)
    await k.screen.wait_for(Step.WHOSE)
    k.screen.press("whose", whose)
    await k.enter_pin("1234")
    await k.screen.wait_for(Step.TAKE_CARD)
    k.take_card()


async def finish(k: Kiosk, end: Step = Step.DONE) -> None:
    await k.screen.wait_for(end, lambda v: v is not None)
    if k.reader.card_present():
        await k.screen.wait_for(end, lambda v: v.get("remind", 0) >= 1)
        k.take_card()
    k.screen.press("ok")


def test_an_application_the_domicile_denies_and_the_next_visit_finds_it(
    terminal: Kiosk, world: World, tmp_path: Path
) -> None:
    k = terminal
    card = new_card(world, tmp_path, "domicile_elsewhere")

    async def applies() -> None:
        s = k.screen
        await through_the_pin(k, card, "domicile")
        view = await s.wait_for(Step.REGISTRATION, lambda v: "status" in v)
        assert view["status"] == "none" and view["can_apply"]
        s.press("apply")
        view = await s.wait_for(Step.PREFECTURE, lambda v: "prefectures" in v)
        assert DOMICILE[:2] in [p["code"] for p in view["prefectures"]]
        s.press("prefecture", DOMICILE[:2])
        view = await s.wait_for(Step.MUNICIPALITY, lambda v: "municipalities" in v)
        assert DOMICILE in [m["code"] for m in view["municipalities"]]
        s.press("municipality", DOMICILE)
        await s.wait_for(Step.DOMICILE_ENTRY, lambda v: "value" in v)
        s.press("next", "大阪府大阪市北区中之島1丁目1番地")
        await s.wait_for(Step.HEAD_ENTRY, lambda v: "value" in v)
        s.press("next", "架空 太郎")  # nobody's register there
        await s.wait_for(Step.APPLICATION, lambda v: "head" in v)
        s.press("next")
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "place")
        k.place(card)
        view = await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "ready", timeout=60)
        assert view["tries"] == 5  # read from the card, none spent
        for char in PASSWORD:
            s.press("char", char)
        s.press("ok")
        view = await s.wait_for(Step.REGISTRATION, lambda v: v.get("applied") is True, timeout=60)
        assert view["status"] == "denied" and view["can_apply"] and view["reason"]
        assert view["municipality"]["code"] == DOMICILE
        assert view["message"] and view["message"]["ja"] and view["message"]["en"]  # the municipality's words
        s.press("finish")
        await finish(k)

    async def comes_back() -> None:
        s = k.screen
        await through_the_pin(k, card, "domicile")
        view = await s.wait_for(Step.REGISTRATION, lambda v: "status" in v)
        assert view["status"] == "denied" and not view["applied"] and view["municipality"]["code"] == DOMICILE
        s.press("finish")
        await finish(k)

    assert sessions(k, applies(), comes_back()) == [Step.DONE, Step.DONE]
    assert not k.workflow.context.personal and not k.reader.card_present()


def test_the_issuance_record_lists_a_certificate_just_issued_and_prints_free(
    terminal: Kiosk, world: World, tmp_path: Path
) -> None:
    k = terminal
    card = new_card(world, tmp_path)

    async def buys() -> None:
        await k.through_the_card(card)
        confirm = await k.choose("seal_registration")
        k.screen.press("next")
        await k.pay(confirm["total"])
        await k.screen.wait_for(Step.TAKE_DOCUMENTS)
        issued.extend(copy.document.issue_number.text for copy in k.printer.take())
        await finish(k)

    issued: list[str] = []

    async def looks() -> None:
        s = k.screen
        await k.through_the_card(card)
        s.press("record")
        view = await s.wait_for(Step.ISSUANCE_RECORD, lambda v: "rows" in v, timeout=60)
        assert view["unavailable"] == []
        [row] = view["rows"]  # this card's only issuance
        assert row["certificate_type"] == "seal_registration" and row["copies"] == 1
        assert row["issue_numbers"] == issued and row["voided"] == []
        assert row["terminal_id"] == k.enrolled.terminal_id
        s.press("print")
        await s.wait_for(Step.ISSUANCE_RECORD, lambda v: bool(v.get("printed")), timeout=60)
        pages.extend(k.printer.plain_tray)
        k.printer.take()
        await s.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
        s.press("record")
        await s.wait_for(Step.ISSUANCE_RECORD, lambda v: "rows" in v)
        s.press("finish")
        await finish(k)

    pages: list[Any] = []
    assert sessions(k, buys(), looks()) == [Step.DONE, Step.DONE]
    assert pages and all(page.size[0] > 1000 for page in pages)  # A4, rendered
    assert not k.workflow.context.personal
