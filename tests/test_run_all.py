"""``make run`` (``koufu-dev run``) on a machine without a display: it starts the authority, the
center, the towns, pcscd and the kiosk app on a virtual display, says so, and on SIGTERM stops
every process it started."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

from support.fixtures_pcscd import Pcscd

STARTUP = 180.0


def test_make_run_starts_everything_says_there_is_no_display_and_stops_cleanly(pcscd: Pcscd) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    said = b""
    try:
        deadline = time.monotonic() + STARTUP
        while b"kiosk ready" not in said:
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(process.stdout.fileno(), 65536) if ready else b""
            assert chunk, f"koufu-dev run stopped or hung before the kiosk was up:\n{said.decode()[-3000:]}"
            said += chunk
        text = said.decode()
        assert "no display here" in text and "Xvfb" in text
        assert "PIN 1234" in text and "center https://127.0.0.1:" in text
        assert "MicroPython unix port" in text
        group = os.getpgid(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
        for _ in range(100):  # every process it started (servers, Xvfb, the kiosk) is gone
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("processes of koufu-dev run survived it")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
