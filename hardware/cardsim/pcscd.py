"""Make sure a ``pcscd`` with vsmartcard's vpcd reader is running (demo and benchmarks).

On a kiosk pcscd is a system service; on a development machine or in CI there may be none, so
the demo starts one in the foreground and stops it afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import time

from hardware.card.pcsc import list_readers

VPCD_READER = "Virtual PCD"


def vpcd_reader_present() -> bool:
    return any(name.startswith(VPCD_READER) for name in list_readers())


def ensure_pcscd(timeout: float = 10.0) -> subprocess.Popen[bytes] | None:
    """Start ``pcscd`` in the foreground unless one with the vpcd reader already answers.

    Returns the process this call started (to stop afterwards), or ``None`` if one was running.
    """
    if vpcd_reader_present():
        return None
    binary = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    if binary is None:
        raise OSError("pcscd is not installed (make setup installs it)")
    process = subprocess.Popen([binary, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not vpcd_reader_present():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise OSError("pcscd did not start with the vpcd reader (is vsmartcard-vpcd installed?)")
        time.sleep(0.1)
    return process
