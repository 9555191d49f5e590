"""The headless screen: the workflow without Kivy, for the tests and load runs (and any tool that
drives a terminal by program).

:class:`HeadlessScreen` keeps what each screen would show (its view) and takes touches from code:
``await screen.wait_for(Step.PIN)``, then ``screen.press("digit", 1)``. It approves every change
at once, and keeps the list of screens shown (steps only, nothing personal).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from kiosk.ports import ShownSession, Touch, Touches
from kiosk.workflow.steps import Step

WAIT = 30.0  # seconds a driver waits for a screen before it gives up


class ScreenNotReached(AssertionError):
    """The screen a driver waited for did not come (the workflow went elsewhere)."""


class HeadlessScreen:
    def __init__(self) -> None:
        self.current = Step.IDLE
        self.views: dict[Step, dict[str, Any]] = {}
        self.shown: list[Step] = [Step.IDLE]
        self._touches = Touches()
        self._changed = asyncio.Event()

    # -- the Screen port -------------------------------------------------------------------
    def show(self, step: Step, view: Mapping[str, Any]) -> None:
        self.views.setdefault(step, {}).update(view)
        self._pulse()

    async def touch(self, step: Step) -> Touch:
        return await self._touches.next(step)

    async def approve(self, current: Step, following: Step, context: ShownSession) -> None:
        self.current = following
        if following is Step.IDLE:  # the session is over: nothing of it stays on any screen
            self.views.clear()
        self.views[following] = {}
        self.shown.append(following)
        self._touches.drop()  # touches made on the screen that is going away
        self._pulse()

    def warn(self, step: Step, seconds: float | None) -> None:
        self.show(step, {"warning": seconds})

    def forget(self) -> None:
        self.views = {step: {} for step in self.views if step is self.current}
        self._pulse()

    # -- the driver's side -----------------------------------------------------------------
    def press(self, action: str, value: Any = None) -> None:
        self._touches.put(Touch(self.current, action, value))

    def view(self, step: Step | None = None) -> dict[str, Any]:
        return self.views.get(self.current if step is None else step, {})

    async def wait_for(
        self,
        step: Step,
        until: Callable[[dict[str, Any]], bool] = lambda view: True,
        *,
        timeout: float = WAIT,
    ) -> dict[str, Any]:
        """Until ``step``'s screen is shown and its view satisfies ``until``; the view."""

        def satisfied() -> bool:
            try:
                return self.current is step and until(self.view())
            except (KeyError, IndexError, TypeError):  # the view is still being filled
                return False

        async def reached() -> dict[str, Any]:
            while not satisfied():
                await self._changed.wait()
            return self.view()

        try:
            return await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            raise ScreenNotReached(
                f"waited for {step.value}; the screens were {[s.value for s in self.shown[-8:]]}, "
                f"now {self.current.value} showing {sorted(self.view())}"
            ) from None

    async def wait_for_any(self, steps: tuple[Step, ...], *, timeout: float = WAIT) -> Step:
        """Until one of ``steps`` is shown; that step."""

        async def reached() -> Step:
            while self.current not in steps:
                await self._changed.wait()
            return self.current

        try:
            return await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            raise ScreenNotReached(
                f"waited for one of {[s.value for s in steps]}; now {self.current.value}"
            ) from None

    async def wait_for_change(self, *, timeout: float = WAIT) -> None:
        """Until the screen or its view changes."""
        await asyncio.wait_for(self._changed.wait(), timeout)

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
