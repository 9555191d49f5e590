"""``make bench``: the round trip of a command over the peripheral link, and the firmware's memory
headroom on the MicroPython unix port.

Round trip: ``GET_STATUS`` → ``STATUS`` through the kiosk's driver (its link thread, the pty, the
other end's link), measured side by side against two peers in the same run:

- the real firmware on the MicroPython unix port (``hardware.peripherals.simulator``);
- a stand-in board on CPython: the same ``firmware.link`` in a thread on the pty's other side,
  answering every ``GET_STATUS`` at once — what the link and the pty cost without MicroPython
  and the firmware's main loop.

Memory: the firmware run with a 192 KiB heap (about what MicroPython leaves a program on an
RP2040), its ``gc.mem_free()`` from ``STATUS`` after start, during a payment with coins and the
reminders sounding, and after. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import tty
from pathlib import Path

from firmware import link, messages
from hardware.peripherals import PeripheralController
from hardware.peripherals.simulator import PeripheralSimulator
from hardware.peripherals.transport import FdTransport

HEAP = "192k"
HEAP_BYTES = 192 * 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def round_trips(controller: PeripheralController, runs: int) -> list[float]:
    for _ in range(10):  # warm-up
        controller.request(messages.GET_STATUS, answers={"STATUS"})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        controller.request(messages.GET_STATUS, answers={"STATUS"})
        times.append(time.perf_counter() - start)
    return times


def row(name: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return (
        f"{name:<40} {statistics.median(ms):>10.2f} {percentile(ms, 0.95):>9.2f} {percentile(ms, 0.99):>9.2f}"
    )


class CPythonBoard:
    """A stand-in board: ``firmware.link`` on CPython on the pty's slave side, answering
    ``GET_STATUS`` with a fixed ``STATUS`` (BOOTED first, as the firmware does)."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.transport = FdTransport(self.slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> CPythonBoard:
        self._thread.start()
        return self

    def _run(self) -> None:
        board = link.Link(self.transport, lambda: time.monotonic_ns() // 1_000_000, 7, retry_ms=100)
        booted = False
        status = messages.encode(messages.STATUS, 0, 0, 0, 0, 0, 0, 0, 0)
        while not self._stop.is_set():
            for code, _data in board.poll():
                if code == messages.GET_STATUS:
                    board.send(messages.STATUS, status)
            if board.state == link.UP and not booted:
                board.send(messages.BOOTED, messages.encode(messages.BOOTED, messages.RESET_SOFT, 0))
                booted = True
            time.sleep(0.0005)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self.master)
        os.close(self.slave)


def memory(directory: Path) -> list[tuple[str, int]]:
    """The firmware's free heap at moments of a payment, with a 192 KiB heap."""
    seen: list[tuple[str, int]] = []
    with PeripheralSimulator(directory / "memory", heap=HEAP) as simulator:
        controller = PeripheralController(simulator.transport).start()
        try:
            assert controller.wait_until_up(15), "the firmware did not come up"

            def free(moment: str) -> None:
                answer = controller.request(messages.GET_STATUS, answers={"STATUS"})
                seen.append((moment, answer["heap_free"]))

            free("after start")
            controller.send(messages.OPEN_PAYMENT, 1, 1000)
            controller.send(messages.SET_LIGHT, messages.LIGHT_BLINK)
            controller.send(messages.SET_BUZZER, messages.BUZZER_TAKE_CARD)
            simulator.wait_for(lambda: simulator.output("coin_inhibit") == 0, 5)
            for coin in (100, 500, 10, 50, 100):
                simulator.drop_coin(coin)
                time.sleep(0.3)
                free(f"payment, {coin} yen dropped")
            controller.request(messages.ACCEPT_PAYMENT, 1, 680, answers={"PAYMENT_ACCEPTED"}, timeout=30)
            free("after the payment (change paid)")
            controller.send(messages.SET_LIGHT, messages.LIGHT_OFF)
            controller.send(messages.SET_BUZZER, messages.BUZZER_QUIET)
            time.sleep(0.5)
            free("reminders off")
        finally:
            controller.close()
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="koufu-bench-link-") as directory:
        with PeripheralSimulator(Path(directory) / "board") as simulator:
            controller = PeripheralController(simulator.transport).start()
            assert controller.wait_until_up(15), "the firmware did not come up"
            firmware_times = round_trips(controller, args.runs)
            controller.close()
        stand_in = CPythonBoard().start()
        controller = PeripheralController(FdTransport(stand_in.master)).start()
        assert controller.wait_until_up(15), "the stand-in board did not come up"
        cpython_times = round_trips(controller, args.runs)
        controller.close()
        stand_in.close()
        heap = memory(Path(directory))
    print(f"peripheral link: GET_STATUS -> STATUS round trip, {args.runs} runs each (after 10 warm-up)")
    print(f"{'peer':<40} {'median ms':>10} {'p95 ms':>9} {'p99 ms':>9}")
    print(row("firmware on MicroPython (unix port, pty)", firmware_times))
    print(row("stand-in board on CPython (same link)", cpython_times))
    print(f"firmware heap with {HEAP_BYTES // 1024} KiB (an RP2040's MicroPython heap), free bytes:")
    for moment, free in heap:
        print(f"  {moment:<36} {free:>8,} free ({100 * free / HEAP_BYTES:.0f} % headroom)")
    lowest = min(free for _moment, free in heap)
    print(f"lowest free heap seen: {lowest:,} bytes ({100 * lowest / HEAP_BYTES:.0f} % of the heap)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
