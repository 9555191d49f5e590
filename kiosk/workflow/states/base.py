"""What every step's state class shares: showing its view, waiting for a touch or a device, and
calling the center off the UI's event loop with a progress indicator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from kiosk.errors import CardUnreadable, NotMyNumberCard, Refusal
from kiosk.ports import Touch
from kiosk.terminal import Terminal
from kiosk.workflow.context import SessionContext
from kiosk.workflow.steps import Outcome, Step

T = TypeVar("T")

log = logging.getLogger(__name__)

CANCEL = "cancel"
BACK = "back"


class State:
    """One step of the session (``run`` answers its :class:`Outcome`): the step it is, how long its
    screen may be left untouched, and whether the resident is warned before it times out."""

    step: ClassVar[Step]
    timeout: ClassVar[float | None] = None  # seconds from the resident's last action (None: no limit)
    warned: ClassVar[bool] = True  # a screen the resident works on; not one that waits for a device

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal

    async def run(self, context: SessionContext) -> Outcome:
        raise NotImplementedError

    def show(self, **view: Any) -> None:
        self.terminal.screen.show(self.step, view)

    async def touch(self, *actions: str) -> Touch:
        """The next touch on this screen whose action is one of ``actions``, ``cancel`` or ``back``."""
        wanted = {*actions, CANCEL, BACK}
        while True:
            touch = await self.terminal.screen.touch(self.step)
            self.terminal.activity.mark()
            if touch.step is self.step and touch.action in wanted:
                return touch

    async def center(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A blocking call to the center (or the card), in a worker thread, with the progress
        indicator on while it lasts."""
        self.show(busy="progress.center")
        try:
            return await asyncio.to_thread(call, *args, **kwargs)
        finally:
            self.show(busy=None)


def ending(touch: Touch) -> Outcome | None:
    """``cancel`` and ``back`` as outcomes (``None`` for any other touch)."""
    return {CANCEL: Outcome.CANCEL, BACK: Outcome.BACK}.get(touch.action)


async def first(*waits: Awaitable[Any]) -> tuple[int, Any]:
    """Wait for whichever of ``waits`` finishes first; the others are cancelled. Returns its index
    and result (its exception is raised)."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        winner = next(task for task in tasks if task in done)
        return tasks.index(winner), winner.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def shown(refusal: Refusal | None) -> dict[str, str] | None:
    """A refusal as a screen's view takes it (``None``: there is none)."""
    return None if refusal is None else refusal.view()


def unread_problem(error: CardUnreadable) -> str:
    """The problem a card placed but not read is shown as: not a My Number Card, or unreadable
    (moved during reading; logged by what the card layer said)."""
    if isinstance(error, NotMyNumberCard):
        return "place_card.not_my_number_card"
    log.info("card not read: %s", error)
    return "place_card.unreadable"
