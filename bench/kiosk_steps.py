"""``make bench``: the kiosk's own time per session step, and its start-up time and memory.

Per step: headless sessions (the real workflow and steps, an emulated card in an in-process
reader, stand-in coins and printer) against a real authority, center and municipality on
loopback. Each step's time from its screen to the next is split into what the resident and the
devices took (waiting for a touch, a card placed or taken, coins, paper taken), what the card
took (every APDU, timed at the connection), what the printer took, and the rest — the kiosk
software's own time, which includes its calls to the center (shown apart as well).

Start-up: the Kivy app itself (``koufu-dev kiosk``, windowed with the demo panel, on a virtual display), from
the process start until its start screen is up, and its resident set size then and after
sessions. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from bench.kiosk_startup import rss_kib, startup_report
from center.client import CenterClient
from devtools.kiosk.residents import card_for
from devtools.stack import ALWAYS_OPEN, start_stack
from documents import Binding, OpenedDocument
from hardware.card.transport import CardConnection
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.printer import PrinterCondition
from kiosk.assembly import assemble
from kiosk.config import KioskConfig
from kiosk.headless import HeadlessScreen
from kiosk.ports import ShownSession, Touch
from kiosk.workflow.controller import Workflow
from kiosk.workflow.states import workflow_for
from kiosk.workflow.steps import Step

CODE = "131016"


@dataclass
class Ledger:
    """Seconds spent, by kind, since the current step's screen came up."""

    waiting: float = 0.0
    card: float = 0.0
    printer: float = 0.0
    center: float = 0.0

    def reset(self) -> None:
        self.waiting = self.card = self.printer = self.center = 0.0


@dataclass
class StepTimes:
    software: list[float] = field(default_factory=list)
    center: list[float] = field(default_factory=list)
    card: list[float] = field(default_factory=list)
    printer: list[float] = field(default_factory=list)


class TimedScreen(HeadlessScreen):
    """The headless screen, timing each step from its screen to the next and the touches awaited."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger
        self.times: dict[Step, StepTimes] = defaultdict(StepTimes)
        self._since = time.perf_counter()

    async def touch(self, step: Step) -> Touch:
        started = time.perf_counter()
        try:
            return await super().touch(step)
        finally:
            self.ledger.waiting += time.perf_counter() - started

    async def approve(self, current: Step, following: Step, context: ShownSession) -> None:
        now = time.perf_counter()
        ledger, times = self.ledger, self.times[current]
        spent = now - self._since
        times.software.append(spent - ledger.waiting - ledger.card - ledger.printer)
        times.center.append(ledger.center)
        times.card.append(ledger.card)
        times.printer.append(ledger.printer)
        ledger.reset()
        self._since = time.perf_counter()
        await super().approve(current, following, context)


class TimedConnection(CardConnection):
    def __init__(self, inner: CardConnection, ledger: Ledger) -> None:
        self.inner, self.ledger = inner, ledger

    def transceive(self, command: bytes | bytearray) -> bytes:
        started = time.perf_counter()
        try:
            return self.inner.transceive(command)
        finally:
            self.ledger.card += time.perf_counter() - started

    def reset(self) -> None:
        started = time.perf_counter()
        self.inner.reset()
        self.ledger.card += time.perf_counter() - started

    def close(self) -> None:
        self.inner.close()


class TimedReader(InProcessReader):
    def __init__(self, ledger: Ledger) -> None:
        super().__init__()
        self.ledger = ledger

    def wait_for_card(self, timeout: float) -> CardConnection | None:
        started = time.perf_counter()
        connection = super().wait_for_card(timeout)
        self.ledger.waiting += time.perf_counter() - started
        return None if connection is None else TimedConnection(connection, self.ledger)

    def wait_for_removal(self, timeout: float) -> bool:
        started = time.perf_counter()
        try:
            return super().wait_for_removal(timeout)
        finally:
            self.ledger.waiting += time.perf_counter() - started


def time_center(client: CenterClient, ledger: Ledger) -> None:
    """Every request to the center timed (the client's one way out)."""
    request = client.request

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return request(*args, **kwargs)
        finally:
            ledger.center += time.perf_counter() - started

    client.request = timed  # type: ignore[method-assign]


async def one_session(
    screen: TimedScreen, workflow: Workflow, reader: TimedReader, card: Path, devices: Any, ledger: Ledger
) -> Step:
    run = asyncio.ensure_future(workflow.run_session())
    press = screen.press
    await screen.wait_for(Step.IDLE)
    press("start")
    await screen.wait_for(Step.LANGUAGE)
    press("language", "ja")
    await screen.wait_for(Step.PLACE_CARD, lambda v: "reading" in v)
    reader.insert(VirtualCard.open(card))
    await screen.wait_for(Step.WHOSE)
    press("whose", "residence")
    await screen.wait_for(Step.PIN)
    for digit in (1, 2, 3, 4):
        press("digit", digit)
    await screen.wait_for(Step.PIN, lambda v: v["entered"] == 4)
    press("ok")
    await screen.wait_for(Step.TAKE_CARD)
    reader.remove()
    await screen.wait_for(Step.CERTIFICATE_TYPE)
    press("choose", "resident_record")
    await screen.wait_for(Step.OPTIONS)
    press("next")
    await screen.wait_for(Step.COPIES)
    press("next")
    confirm = await screen.wait_for(Step.CONFIRM)
    press("next")
    await screen.wait_for(Step.PAYMENT, lambda v: "fee" in v)
    for _ in range(confirm["total"] // 100):
        devices.cashbox.drop(100)
        await screen.wait_for_change()
    await screen.wait_for(Step.TAKE_DOCUMENTS)
    devices.printer.take()
    await screen.wait_for(Step.DONE)
    press("ok")
    return await run


class TimedPrinter:
    def __init__(self, inner: Any, ledger: Ledger) -> None:
        self.inner, self.ledger = inner, ledger

    async def print(self, documents: Sequence[OpenedDocument], expected: Binding) -> int:
        started = time.perf_counter()
        try:
            pages: int = await self.inner.print(documents, expected)
            return pages
        finally:
            self.ledger.printer += time.perf_counter() - started

    async def print_plain(self, pages: Sequence[Image.Image]) -> int:
        started = time.perf_counter()
        try:
            printed: int = await self.inner.print_plain(pages)
            return printed
        finally:
            self.ledger.printer += time.perf_counter() - started

    def stop(self) -> None:
        self.inner.stop()

    def condition(self) -> PrinterCondition:
        condition: PrinterCondition = self.inner.condition()
        return condition

    async def wait_until_taken(self) -> None:
        started = time.perf_counter()
        try:
            await self.inner.wait_until_taken()
        finally:
            self.ledger.waiting += time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def steps_report(times: dict[Step, StepTimes]) -> None:
    print(
        f"{'step':<18} {'n':>4} {'own median':>11} {'p95':>8} {'p99':>8} {'center med':>11} "
        f"{'card med':>9} {'printer med':>12}   (ms)"
    )
    for step in Step:
        if step not in times:
            continue
        t = times[step]
        ms = [value * 1000 for value in t.software]
        print(
            f"{step.value:<18} {len(ms):>4} {statistics.median(ms):>11.2f} {percentile(ms, 0.95):>8.2f} "
            f"{percentile(ms, 0.99):>8.2f} {statistics.median(t.center) * 1000:>11.2f} "
            f"{statistics.median(t.card) * 1000:>9.2f} {statistics.median(t.printer) * 1000:>12.2f}"
        )
    total = [sum(values) for values in zip(*(times[s].software for s in times), strict=False)]
    print(
        f"{'whole session':<18} {len(total):>4} {statistics.median(total) * 1000:>11.2f} "
        f"{percentile(total, 0.95) * 1000:>8.2f} {percentile(total, 0.99) * 1000:>8.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kiosk_steps", description=__doc__)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--startups", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-kiosk-") as temporary:
        root = Path(temporary)
        stack = start_stack(root / "stack", towns={CODE: ("千代田区", 120)})
        try:
            stack.load_calendar(ALWAYS_OPEN)
            config_path = stack.kiosk_config("T-BENCH", reader="inprocess")
            card = card_for(stack, stack.towns[CODE], root, set())
            ledger = Ledger()
            screen = TimedScreen(ledger)
            reader = TimedReader(ledger)
            assembled = assemble(KioskConfig.load(config_path), screen, reader=reader)
            time_center(assembled.client, ledger)
            assembled.terminal.printer = TimedPrinter(assembled.devices.printer, ledger)
            stack.wait_until_open(assembled.client)
            workflow = workflow_for(assembled.terminal)

            async def sessions() -> None:
                await one_session(screen, workflow, reader, card, assembled.devices, ledger)  # warm-up
                screen.times.clear()
                memory.append(rss_kib(os.getpid()))
                for _ in range(args.sessions):
                    ended = await one_session(screen, workflow, reader, card, assembled.devices, ledger)
                    assert ended is Step.DONE, ended

            memory: list[int] = []
            asyncio.run(sessions())
            memory.append(rss_kib(os.getpid()))
            assembled.close()
            print(
                f"kiosk session steps: {args.sessions} headless sessions (a household copy, paid, "
                "printed), against a real center and municipality on loopback; 'own' excludes the "
                "resident, the card and the printer and includes the center calls"
            )
            steps_report(screen.times)
            print(
                f"headless kiosk process: resident set {memory[0] / 1024:.0f} MiB after the first session, "
                f"{memory[1] / 1024:.0f} MiB after {args.sessions} more"
            )

            startup_report(config_path, card, runs=args.startups)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
