"""The kiosk app started on this machine: Kivy's environment set first, one instance only, the
terminal's heartbeat sent beside it (``kiosk/heartbeat.py``), the terminal's parts closed at the
end. ``python -m kiosk.ui`` calls it; so do the development tools, with their demo panel beside
the screen."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.ui.environment import default_runtime_dir, quiet_kivy
from kiosk.ui.single import AlreadyRunning, only_instance

if TYPE_CHECKING:  # Kivy is imported only once its environment is set
    from kiosk.ui.app import SidePanel


def launch(
    config_file: Path,
    *,
    reader: str | None = None,
    windowed: bool = False,
    side_panel: Callable[[], SidePanel] | None = None,
) -> int:
    """Run the app of the terminal ``config_file`` describes until its window closes; the exit
    status. ``side_panel`` is called once Kivy may be imported."""
    runtime = default_runtime_dir()
    quiet_kivy(runtime)
    from kiosk.config import ConfigError, KioskConfig
    from kiosk.ui.window import configure_window

    try:
        config = KioskConfig.load(config_file)
    except ConfigError as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 2
    configure_window(windowed=windowed, side_panel=side_panel is not None)
    try:
        with only_instance(runtime):
            from kiosk.ui.app import make_app

            app, assembled = make_app(
                config,
                reader=reader,
                windowed=windowed,
                side_panel=side_panel() if side_panel is not None else None,
            )
            if assembled.heartbeats is not None:
                assembled.heartbeats.start()
            try:
                asyncio.run(app.serve())
            finally:
                assembled.close()
    except AlreadyRunning as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 1
    return 0
