"""A virtual X display (Xvfb) for the rehearsals and the screenshots: Kivy renders there through
SDL2 and Mesa's software OpenGL, no screen needed. Xvfb picks a free display number itself
(``-displayfd``)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

SIZE = (1600, 900)  # room for the 1280x800 panel and the demo strip beside it
STARTUP = 15.0  # seconds Xvfb may take to open its display


class NoXvfb(RuntimeError):
    """Xvfb is not installed or did not start."""


@contextmanager
def virtual_display(size: tuple[int, int] = SIZE) -> Iterator[str]:
    """A running Xvfb for as long as the block lasts; its ``DISPLAY`` value (``:N``)."""
    program = shutil.which("Xvfb")
    if program is None:
        raise NoXvfb("Xvfb is needed for the kiosk UI's rehearsals: install the xvfb package")
    read, write = os.pipe()
    process = subprocess.Popen(
        [program, "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], STARTUP)
        number = os.read(read, 16).decode().strip() if ready else ""
        if not number.isdigit():
            raise NoXvfb(f"Xvfb did not open a display: {_stderr(process)}")
        yield f":{number}"
    finally:
        os.close(read)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _stderr(process: subprocess.Popen[bytes]) -> str:
    if process.poll() is None:
        process.kill()
    _out, err = process.communicate(timeout=5)
    return err.decode(errors="replace")[-1000:]
