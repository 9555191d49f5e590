"""The :class:`~kiosk.ports.Screen` port on Kivy: one screen per step in a ScreenManager.

The workflow and Kivy share one asyncio event loop (the app runs Kivy with ``async_run``), so
``show`` and the touches need no thread hand-over: a button's touch goes into a queue the step's
``touch()`` reads; touches made on a screen that has gone away are dropped. ``approve`` switches to
the next screen, in the session's language, and starts it from an empty view.
"""

# mypy: allow-subclassing-any

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.messages import Catalog
from kiosk.ports import ShownSession, Touch, Touches
from kiosk.ui.screens import SCREENS
from kiosk.ui.screens.base import StepScreen
from kiosk.workflow.steps import Step

# the start and the language screens are in Japanese whatever the last resident chose
BEFORE_LANGUAGE = frozenset({Step.IDLE, Step.LANGUAGE})
DEFAULT_LANGUAGE = "ja"

Leaving = Callable[[StepScreen], Awaitable[None]]


class KivyScreen:
    def __init__(self) -> None:
        self.current = Step.IDLE
        self.shown: list[Step] = [Step.IDLE]  # the screens shown, steps only: nothing personal
        self.screens: dict[Step, StepScreen] = {}
        self.manager: ScreenManager | None = None
        self.leaving: Leaving | None = None  # told before a screen goes away (the rehearsal's pictures)
        self._catalogs = {DEFAULT_LANGUAGE: Catalog.load(DEFAULT_LANGUAGE)}
        self._touches = Touches()
        self._changed = asyncio.Event()

    def build(self) -> ScreenManager:
        """The screens, made once the app's window exists."""
        manager = ScreenManager(transition=NoTransition())
        for step, screen_class in SCREENS.items():
            screen = screen_class(self._pressed, self._catalogs[DEFAULT_LANGUAGE])
            self.screens[step] = screen
            manager.add_widget(screen)
        manager.current = self.current.value
        self.manager = manager
        return manager

    # -- the Screen port -------------------------------------------------------------------
    def show(self, step: Step, view: Mapping[str, Any]) -> None:
        self.screens[step].show(view)
        self._pulse()

    async def touch(self, step: Step) -> Touch:
        return await self._touches.next(step)

    async def approve(self, current: Step, following: Step, context: ShownSession) -> None:
        if self.leaving is not None:
            await self.leaving(self.screens[current])
        if following is Step.IDLE:
            self._drop_views()
        self._switch(following, DEFAULT_LANGUAGE if following in BEFORE_LANGUAGE else context.language)

    def warn(self, step: Step, seconds: float | None) -> None:
        self.screens[step].warn(seconds)
        self._pulse()

    def forget(self) -> None:
        """The session is over, however it ended: no view of it stays on any screen, and the start
        screen is shown (after a crash the workflow starts again from there)."""
        self._drop_views()
        if self.current is not Step.IDLE:
            self._switch(Step.IDLE, DEFAULT_LANGUAGE)
        self._pulse()

    def _switch(self, following: Step, language: str) -> None:
        screen = self.screens[following]
        screen.catalog = self.catalog(language)
        screen.view = {}
        self._touches.drop()  # touches made on the screen that is going away
        self.current = following
        self.shown.append(following)
        if self.manager is not None:
            self.manager.current = following.value
        self._pulse()

    def _drop_views(self) -> None:
        for screen in self.screens.values():
            screen.view = {}

    # -- for the app and the rehearsal -----------------------------------------------------
    def catalog(self, language: str) -> Catalog:
        if language not in self._catalogs:
            self._catalogs[language] = Catalog.load(language)
        return self._catalogs[language]

    def on_screen(self) -> StepScreen:
        return self.screens[self.current]

    def view(self, step: Step | None = None) -> dict[str, Any]:
        return dict(self.screens[self.current if step is None else step].view)

    async def changed(self) -> None:
        """Until the screen or what it shows changes."""
        await self._changed.wait()

    def _pressed(self, touch: Touch) -> None:
        if touch.step is self.current:  # a touch on a screen that has gone away is dropped
            self._touches.put(touch)

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
