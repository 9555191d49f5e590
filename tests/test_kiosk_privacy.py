"""Nothing personal stays at the kiosk after a session, however it ends.

Canary values are planted: the card's PIN (an unusual one), the resident's name and My Number
(the municipality is set to print My Number on a resident record, and the resident asks for it).
After each kind of end — done, cancelled, timed out, failed, and a crash followed by a restart —
none of them is found in the kiosk's files, in anything logged (every logger, at DEBUG), or in
the objects the kiosk keeps (everything reachable from its workflow, terminal, screen and
devices). Each test first checks that its canaries were really used (the document printed
carried the name and the My Number), so a canary that never reached the kiosk cannot pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from center.municipal import schema as municipal_schema
from center.municipal.issuer import load_settings, store_settings
from center.store.engine import make_engine
from hardware.card.holder import HolderAuthentication
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from kiosk.workflow.steps import Step
from koufu.cards import issue_card
from support.canaries import holds
from support.kiosk_driver import Card, Kiosk, kiosk
from support.world import CODE, World, running_world

PIN = "7391"
_terminals = iter(range(700, 800))


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in running_world(request, tmp_path_factory, "kiosk-privacy", 60):
        engine = make_engine(world.town.database_url)
        try:
            with engine.begin() as connection:
                settings = load_settings(connection)
                record = settings.offers[next(k for k in settings.offers if k.value == "resident_record")]
                offers = {
                    **settings.offers,
                    record.certificate_type: dataclasses.replace(record, my_number=True),
                }
                store_settings(
                    connection, dataclasses.replace(settings, offers=offers), dt.datetime.now(dt.UTC)
                )
        finally:
            engine.dispose()
        yield world


@dataclasses.dataclass
class Canaries:
    card: Card
    my_number: str

    @property
    def values(self) -> dict[str, str]:
        return {
            "PIN": PIN,
            "name": self.card.name,
            "My Number": self.my_number,
            "family name": self.card.name.split("　")[0],
        }


@pytest.fixture
def canaries(world: World, tmp_path: Path) -> Canaries:
    person = next(p for p in world.town.people.ordinary if p.resident_id not in world.used)
    world.used.add(person.resident_id)
    path = tmp_path / "card" / "card.json"
    path.parent.mkdir()
    issue_card(
        path,
        authority_dir=world.stack.authority_dir,
        authority_db=world.stack.authority_db,
        holder=Holder(municipality=CODE),
        pin=PIN,
    )
    reader = InProcessReader()
    reader.insert(VirtualCard.open(path))
    reading = HolderAuthentication(reader.connect()).read()
    assert reading.certificate is not None
    world.town.link_card(reading.certificate.certificate.serial_number, person.resident_id)
    engine = make_engine(world.town.database_url)
    try:
        with engine.connect() as connection:
            residents = municipal_schema.residents
            my_number = connection.execute(
                sa.select(residents.c.my_number).where(residents.c.id == person.resident_id)
            ).scalar_one()
    finally:
        engine.dispose()
    return Canaries(Card(path, person.resident_id, world.town.name_of(person.resident_id)), my_number)


# -- where the kiosk could keep something --------------------------------------------------------

_SKIP = (
    "httpx",
    "httpcore",
    "ssl",
    "cryptography",
    "asyncio",
    "threading",
    "logging",
    "_thread",
    "selectors",
    "socket",
)


def strings_kept(**roots: object) -> Iterator[tuple[str, str]]:
    """Every text and binary value reachable from ``roots`` through attributes and containers,
    with the path to it (network clients, keys, locks and event loops are not walked: they hold
    no session data)."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = list(roots.items())
    while stack:
        where, value = stack.pop()
        if id(value) in seen or value is None or isinstance(value, (int, float, bool)):
            continue
        seen.add(id(value))
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, (bytes, bytearray, memoryview)):
            yield where, bytes(value).decode("utf-8", "replace")
            yield where, bytes(value).decode("latin-1")
        elif isinstance(value, dict):
            stack.extend((f"{where}[{key!r}]", key) for key in value)
            stack.extend((f"{where}[{key!r}]", item) for key, item in value.items())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
        elif type(value).__module__.split(".")[0] in _SKIP:
            continue
        else:
            if hasattr(value, "__dict__"):
                stack.extend((f"{where}.{name}", item) for name, item in vars(value).items())
            for slot in getattr(type(value), "__slots__", ()):
                stack.append((f"{where}.{slot}", getattr(value, slot, None)))
            if hasattr(value, "__closure__") and value.__closure__:
                stack.extend((f"{where}<closure>", cell.cell_contents) for cell in value.__closure__)


def files_kept(directory: Path) -> Iterator[tuple[Path, str]]:
    for path in directory.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            yield path, raw.decode("utf-8", "replace")


def assert_nothing_personal(
    k: Kiosk, canaries: Canaries, kiosk_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    found: list[str] = []
    terminal = k.terminal
    kept = list(
        strings_kept(
            workflow=k.workflow,
            screen=terminal.screen,
            slot=terminal.slot,
            cashbox=terminal.cashbox,
            printer=terminal.printer,
            reminder=terminal.reminder,
            journal=terminal.journal,
        )
    )
    logged = [record.getMessage() for record in caplog.records]
    logged += [repr(record.args) for record in caplog.records]
    files = list(files_kept(kiosk_dir))
    for what, canary in canaries.values.items():
        found += [f"{what} in a kept object: {where}" for where, text in kept if holds(text, canary)]
        found += [f"{what} in the log" for text in logged if holds(text, canary)]
        found += [f"{what} in {path.name}" for path, text in files if holds(text, canary)]
    assert found == []
    assert not k.workflow.context.personal


def printed_with_canaries(k: Kiosk, canaries: Canaries) -> None:
    """The kiosk really handled the canaries: the household copy it printed has both."""
    texts = [json.dumps(copy.document.content, ensure_ascii=False) for copy in k.printer.tray]
    assert any(canaries.card.name in text and canaries.my_number in text for text in texts)


async def to_confirm_with_my_number(k: Kiosk, canaries: Canaries) -> dict[str, Any]:
    await k.start()
    k.place(canaries.card)
    await k.screen.wait_for(Step.WHOSE)
    k.screen.press("whose", "residence")
    await k.enter_pin(PIN)
    await k.screen.wait_for(Step.TAKE_CARD)
    k.take_card()
    await k.screen.wait_for(Step.CERTIFICATE_TYPE)
    k.screen.press("choose", "resident_record")
    options = await k.screen.wait_for(Step.OPTIONS)
    assert "my_number" in options["flags"]
    assert any(m["name"] == canaries.card.name for m in options["members"])
    k.screen.press("flag", "my_number")
    await k.screen.wait_for(Step.OPTIONS, lambda v: v["flags"]["my_number"])
    k.screen.press("next")
    await k.screen.wait_for(Step.COPIES)
    k.screen.press("next")
    confirm = await k.screen.wait_for(Step.CONFIRM)
    k.screen.press("next")
    return confirm


ENDINGS = ["done", "cancelled", "timeout", "failed", "crash"]


@pytest.mark.parametrize("ending", ENDINGS)
def test_no_canary_survives_the_end_of_a_session(
    world: World, canaries: Canaries, tmp_path: Path, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    caplog.set_level(logging.DEBUG)
    kiosk_dir = tmp_path / "kiosk"
    kiosk_dir.mkdir()
    timeouts = {Step.TAKE_DOCUMENTS: 1.0} if ending == "timeout" else {}
    with kiosk(
        world,
        f"T-{next(_terminals):04d}",
        kiosk_dir,
        timeouts=timeouts,
        seconds_per_page=30 if ending == "crash" else 0,
    ) as k:

        async def resident() -> None:
            run = asyncio.ensure_future(k.run())
            confirm = await to_confirm_with_my_number(k, canaries)
            if ending == "cancelled":
                await k.screen.wait_for(Step.PAYMENT, lambda v: "fee" in v)
                k.cashbox.drop(100)
                await k.screen.wait_for_change()
                k.screen.press("cancel")
            else:
                if ending == "failed":
                    k.printer.tray_fault = "sensor"
                await k.pay(confirm["total"])
                if ending == "crash":
                    await k.screen.wait_for(Step.PRINTING)
                    await asyncio.sleep(0.2)
                    run.cancel()  # the process dies while printing
                    await asyncio.gather(run, return_exceptions=True)
                    return
                await k.screen.wait_for(Step.TAKE_DOCUMENTS)
                printed_with_canaries(k, canaries)
                if ending == "done":
                    k.printer.take()
            await k.screen.wait_for_any((Step.DONE, Step.CANCELLED, Step.FAILED))
            k.screen.press("ok")
            await asyncio.wait_for(run, 30)

        asyncio.run(resident())
        k.printer.take()  # the resident who walked away: the next customer hands the papers in
        if ending == "crash":
            with kiosk(world, "", kiosk_dir, enrolled=k.enrolled, journal=k.journal.path) as again:

                async def restart() -> None:
                    run = asyncio.ensure_future(again.run())
                    await again.screen.wait_for(Step.IDLE)
                    while again.journal.path.exists():
                        await asyncio.sleep(0.05)
                    run.cancel()
                    await asyncio.gather(run, return_exceptions=True)

                asyncio.run(restart())
                assert_nothing_personal(again, canaries, kiosk_dir, caplog)
        assert_nothing_personal(k, canaries, kiosk_dir, caplog)


def test_the_search_finds_a_canary_left_behind(
    world: World, canaries: Canaries, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The checks above can fail: a name kept on a screen, in a file or in a log is found."""
    caplog.set_level(logging.DEBUG)
    kiosk_dir = tmp_path / "kiosk"  # the kiosk's own files (the card's file is the resident's)
    kiosk_dir.mkdir()
    with kiosk(world, f"T-{next(_terminals):04d}", kiosk_dir) as k:
        assert_nothing_personal(k, canaries, kiosk_dir, caplog)  # nothing yet
        k.screen.views[Step.DONE] = {"left": canaries.card.name}
        with pytest.raises(AssertionError, match="name in a kept object"):
            assert_nothing_personal(k, canaries, kiosk_dir, caplog)
        k.screen.views.clear()
        (kiosk_dir / "notes.txt").write_text(f"PIN {PIN}")
        with pytest.raises(AssertionError, match=r"PIN in notes\.txt"):
            assert_nothing_personal(k, canaries, kiosk_dir, caplog)
        (kiosk_dir / "notes.txt").unlink()
        logging.getLogger("kiosk").info("served %s", canaries.my_number)
        with pytest.raises(AssertionError, match="My Number in the log"):
            assert_nothing_personal(k, canaries, kiosk_dir, caplog)
