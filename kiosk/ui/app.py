"""The kiosk app (キオスク端末アプリ): Kivy on asyncio, with the workflow's sessions running beside
it one after another, full screen and without a cursor on the terminal, in a window for
development, and with a side panel beside the screen when one is given (the development tools'
demo panel, which plays the resident's hands and the store's devices).

The app is a thin shell: the screens are :class:`~kiosk.ui.screen.KivyScreen`'s, the sessions
are :class:`~kiosk.workflow.controller.Workflow`'s; the app only puts them in one window and runs
them together.
"""

# mypy: allow-subclassing-any

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from kivy.app import App
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.assembly import Assembled, assemble, reader_for
from kiosk.config import KioskConfig
from kiosk.ui.fonts import use_japanese_font
from kiosk.ui.kana_loading import LEXICON
from kiosk.ui.screen import KivyScreen
from kiosk.workflow.controller import Workflow
from kiosk.workflow.states import workflow_for
from kiosk.workflow.steps import Step

log = logging.getLogger(__name__)

# a widget beside the screen, made of the terminal's parts
SidePanel = Callable[[Assembled, KivyScreen], Widget]


class KioskApp(App):
    title = "koufu kiosk"

    def __init__(
        self,
        screen: KivyScreen,
        workflow: Workflow,
        *,
        side_panel: Callable[[KivyScreen], Widget] | None = None,
        windowed: bool = False,
        sessions: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.screen = screen
        self.workflow = workflow
        self.side_panel = side_panel
        self.panel: Widget | None = None  # made with the screens (it may show what they show)
        self.windowed = windowed
        self.sessions = sessions  # how many sessions before the app stops (None: for ever)
        self.ended: list[Step] = []
        self.started = asyncio.Event()

    def build(self) -> BoxLayout:
        use_japanese_font()
        Window.show_cursor = self.windowed
        if not self.windowed:
            Window.borderless = True
            Window.fullscreen = "auto"
        root = BoxLayout(orientation="horizontal")
        root.add_widget(self.screen.build())
        if self.side_panel is not None:
            self.panel = self.side_panel(self.screen)
            root.add_widget(self.panel)
        return root

    def on_start(self) -> None:
        LEXICON.start()  # the kana keyboard's, in the background (kana alone until it is ready)
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


def make_app(
    config: KioskConfig,
    *,
    reader: str | None = None,
    windowed: bool = False,
    timeouts: Mapping[Step, float] | None = None,
    sessions: int | None = None,
    side_panel: SidePanel | None = None,
) -> tuple[KioskApp, Assembled]:
    """The app of the terminal ``config`` describes, with ``side_panel`` made of its parts beside
    the screen when one is given."""
    screen = KivyScreen()
    assembled = assemble(config, screen, reader=reader_for(reader or config.reader))
    workflow = workflow_for(assembled.terminal, timeouts=timeouts or {})
    panel = functools.partial(side_panel, assembled) if side_panel is not None else None
    app = KioskApp(screen, workflow, side_panel=panel, windowed=windowed, sessions=sessions)
    return app, assembled
