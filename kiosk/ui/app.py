"""The kiosk app (キオスク端末アプリ): Kivy on asyncio, with the workflow's sessions running beside
it one after another, full screen and without a cursor on the terminal, in a window for
development, and with the demo panel when an emulated card is given.

The app is a thin shell: the screens are :class:`~kiosk.ui.screen.KivyScreen`'s, the sessions
are :class:`~kiosk.workflow.controller.Workflow`'s; the app only puts them in one window and runs
them together.
"""

# mypy: allow-subclassing-any

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kivy.app import App  # type: ignore[import-untyped]
from kivy.core.window import Window  # type: ignore[import-untyped]
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]

from kiosk.ui.demo import DemoDevices, DemoPanel
from kiosk.ui.screen import KivyScreen
from kiosk.workflow.controller import Workflow
from kiosk.workflow.steps import Step

log = logging.getLogger(__name__)

class KioskApp(App):
    title = "koufu kiosk"

    def __init__(self, screen: KivyScreen, workflow: Workflow, *, demo: DemoDevices | None = None,
                 windowed: bool = False, sessions: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.screen = screen
        self.workflow = workflow
        self.demo = demo
        self.windowed = windowed
        self.sessions = sessions  # how many sessions before the app stops (None: for ever)
        self.ended: list[Step] = []
        self._started = asyncio.Event()

    def build(self) -> BoxLayout:
        Window.show_cursor = self.windowed
        if not self.windowed:
            Window.borderless = True
            Window.fullscreen = "auto"
        root = BoxLayout(orientation="horizontal")
        root.add_widget(self.screen.build())
        if self.demo is not None:
            root.add_widget(DemoPanel(self.demo, self.screen))
        return root

    def on_start(self) -> None:
        self._started.set()

    async def serve(self) -> None:
        """Kivy's loop and the sessions together, until the window closes (or ``sessions`` have
        ended); a crash of the sessions stops the app and is raised."""
        sessions = asyncio.ensure_future(self._run_sessions())
        try:
            await self.async_run(async_lib="asyncio")
        finally:
            sessions.cancel()
            results = await asyncio.gather(sessions, return_exceptions=True)
        if isinstance(results[0], Exception):
            raise results[0]

    async def _run_sessions(self) -> None:
        await self._started.wait()
        try:
            while self.sessions is None or len(self.ended) < self.sessions:
                self.ended.append(await self.workflow.run_session())
                log.info("session ended: %s", self.ended[-1].value)
        except Exception:
            self.stop()
            raise
        self.stop()
