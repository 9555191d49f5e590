"""The Kivy kiosk app's start-up time and memory, measured on the real command on a virtual
display: from the process start until the app reports its start screen up (its log line
``kiosk ready``), and the resident set size of the process then. Used by
:mod:`bench.kiosk_steps`."""

from __future__ import annotations

import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

from devtools.kiosk.xvfb import virtual_display

READY = b"kiosk ready"
TIMEOUT = 120.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_once(config: Path, card: Path, display: str) -> tuple[float, int]:
    """Seconds to ``kiosk ready`` and the RSS (KiB) then."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools",
            "kiosk",
            "--config",
            str(config),
            "--windowed",
            "--card",
            str(card),
        ],
        env={**os.environ, "DISPLAY": display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        seen = b""
        while READY not in seen:
            ready, _, _ = select.select([process.stderr], [], [], TIMEOUT)
            chunk = os.read(process.stderr.fileno(), 65536) if ready else b""
            if not chunk:
                raise RuntimeError(f"the kiosk did not start: {seen[-2000:].decode(errors='replace')}")
            seen += chunk
        elapsed = time.perf_counter() - started
        return elapsed, rss_kib(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def startup_report(config: Path, card: Path, *, runs: int) -> None:
    times, sizes = [], []
    with virtual_display() as display:
        start_once(config, card, display)  # warm-up: the file cache
        for _ in range(runs):
            elapsed, rss = start_once(config, card, display)
            times.append(elapsed)
            sizes.append(rss)
    print(
        f"kiosk app start-up ({runs} starts of koufu-dev kiosk, the app with the demo panel, on Xvfb, "
        f"software OpenGL): "
        f"median {statistics.median(times):.2f} s, max {max(times):.2f} s; "
        f"resident set size at the start screen: median {statistics.median(sizes) / 1024:.0f} MiB"
    )
