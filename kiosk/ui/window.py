"""Kivy's window settings, made before the window exists: full screen, borderless and without a
cursor on the terminal; a window of the panel's size (plus the demo panel) for development.

Import and call this before anything imports ``kivy.core.window``.
"""

from __future__ import annotations

KIOSK_SIZE = (1280, 800)  # the terminal's touch panel
SIDE_PANEL_WIDTH = 260  # a panel at the side (the development tools' demo panel)


def configure_window(*, windowed: bool, side_panel: bool = False) -> None:
    from kivy.config import Config

    width, height = KIOSK_SIZE
    Config.set("graphics", "width", str(width + (SIDE_PANEL_WIDTH if side_panel else 0)))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "0" if windowed else "auto")
    Config.set("graphics", "borderless", "0" if windowed else "1")
    Config.set("graphics", "show_cursor", "1" if windowed else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "1" if windowed else "0")
