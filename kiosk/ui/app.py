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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout

from hardware.cardsim.vpcd_link import DEFAULT_PORT
from kiosk.assembly import Assembled, EmulatedHand, assemble, reader_for
from kiosk.config import KioskConfig
from kiosk.ui.demo import DemoDevices, DemoPanel
from kiosk.ui.fonts import use_japanese_font
from kiosk.ui.screen import KivyScreen
from kiosk.workflow.controller import STEP_TIMEOUTS, Workflow
from kiosk.workflow.states import workflow_for
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
        self.panel: DemoPanel | None = None
        self.started = asyncio.Event()

    def build(self) -> BoxLayout:
        use_japanese_font()
        Window.show_cursor = self.windowed
        if not self.windowed:
            Window.borderless = True
            Window.fullscreen = "auto"
        root = BoxLayout(orientation="horizontal")
        root.add_widget(self.screen.build())
        if self.demo is not None:
            self.panel = DemoPanel(self.demo, self.screen)
            root.add_widget(self.panel)
        return root

    def on_start(self) -> None:
        self.started.set()
        log.info("kiosk ready")  # the start screen is up (start-up is measured to this line)

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
        await self.started.wait()
        try:
            while self.sessions is None or len(self.ended) < self.sessions:
                self.ended.append(await self.workflow.run_session())
                log.info("session ended: %s", self.ended[-1].value)
        except Exception:
            self.stop()
            raise
        self.stop()


def make_app(config: KioskConfig, *, reader: str | None = None, demo_card: Path | None = None,
             windowed: bool = False, timeouts: Mapping[Step, float] | None = None,
             sessions: int | None = None, vpcd_port: int = DEFAULT_PORT) -> tuple[KioskApp, Assembled]:
    """The app of the terminal ``config`` describes, with simulated coins, printer and reminder,
    and the demo panel when ``demo_card`` (an emulated card's file) is given (placed through vpcd's
``vpcd_port`` when the reader is a PC/SC one)."""
    screen = KivyScreen()
    assembled = assemble(config, screen, reader=reader_for(reader or config.reader))
    workflow = workflow_for(assembled.terminal, timeouts={**STEP_TIMEOUTS, **(timeouts or {})})
    demo = None
    if demo_card is not None:
        demo = DemoDevices(EmulatedHand(demo_card, assembled.reader, vpcd_port=vpcd_port), assembled.devices,
                           assembled.peripherals)
    app = KioskApp(screen, workflow, demo=demo, windowed=windowed, sessions=sessions)
    return app, assembled
