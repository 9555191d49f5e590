"""A virtual X display (Xvfb) for the rehearsals, the screenshots and ``make run`` without a
screen: Kivy renders there through SDL2 and Mesa's software OpenGL. Started through PyVirtualDisplay,
which lets Xvfb pick a free display number itself (``-displayfd``); this process's own ``DISPLAY``
is left alone, the value is handed to the children that need it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from pyvirtualdisplay.abstractdisplay import XStartError, XStartTimeoutError
from pyvirtualdisplay.display import Display

SIZE = (1600, 900)  # room for the 1280x800 panel and the demo strip beside it


class NoXvfb(RuntimeError):
    """Xvfb is not installed or did not start."""


@contextmanager
def virtual_display(size: tuple[int, int] = SIZE) -> Iterator[str]:
    """A running Xvfb for as long as the block lasts; its ``DISPLAY`` value (``:N``)."""
    if shutil.which("Xvfb") is None:
        raise NoXvfb("Xvfb is needed for the kiosk UI's rehearsals: install the xvfb package")
    display = Display(backend="xvfb", size=size, color_depth=24, manage_global_env=False)
    try:
        display.start()
    except (XStartError, XStartTimeoutError) as error:
        raise NoXvfb(f"Xvfb did not open a display: {error}") from error
    try:
        yield display.new_display_var
    finally:
        display.stop()
