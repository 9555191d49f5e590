"""Synthetic fingers for the rehearsal: a touch down and up at a widget's place in the window,
through Kivy's own input path (the event loop dispatches it to the window, the window to the
widget tree), just as the touch panel's driver would — no widget callback is called directly."""

# mypy: allow-subclassing-any

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

_fingers = itertools.count(1)


class Finger(MotionEvent):
    """One finger on the panel at window coordinates ``(x, y)`` (pixels, origin bottom left)."""

    def __init__(self, x: float, y: float) -> None:
        window = EventLoop.window
        where = {"x": x / (window.width - 1.0), "y": y / (window.height - 1.0)}
        super().__init__("rehearsal", next(_fingers), where, is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict[str, Any]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


async def frames(count: int = 2) -> None:
    """Until Kivy has run ``count`` more frames (layout and drawing caught up)."""
    loop = asyncio.get_running_loop()
    for _ in range(count):
        ticked: asyncio.Future[None] = loop.create_future()
        Clock.schedule_once(lambda _dt, f=ticked: f.done() or f.set_result(None), 0)
        await ticked


async def tap(widget: Widget) -> None:
    """Touch the middle of ``widget`` and lift the finger a frame later."""
    x, y = widget.to_window(*widget.center)
    finger = Finger(x, y)
    EventLoop.post_dispatch_input("begin", finger)
    await frames(1)
    EventLoop.post_dispatch_input("end", finger)
    await frames(1)
