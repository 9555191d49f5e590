"""The kana keyboard shown on its own, under a screen's header at the panel's size, with a script
of taps through Kivy's input path (:mod:`kiosk.ui.touches`), for its UI test and its screenshots::

    python -m devtools.kiosk.kana_keyboard --field address --language ja \\
        --taps '["kana-ち", "kana-よ", "mark-dakuten", "word:千代田", "numbers", "literal-1"]' \\
        --screenshot kana-ja.png

A tap names a key's target (``kana-や``, ``mark-small``, ``literal-番地``, ``space``, ``shorten``,
``backspace``…), or ``word:千代田`` for the candidate with that text (paging on to it). Each key
tapped must be shown, enabled and at least 90 px (15 mm) each way. It prints the field (the
synthetic text the script typed), the candidates shown at the end, the smallest key, and the field
after :meth:`~kiosk.ui.kana_keyboard.KanaKeyboard.wipe`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.kana.lexicon import DEFAULT_DIRECTORY
from kiosk.ui.environment import quiet_kivy

if TYPE_CHECKING:  # Kivy is imported only once its environment is set (in main)
    from kiosk.ui.kana_keyboard import KanaKeyboard
    from kiosk.ui.widgets import KioskButton

SMALLEST_TARGET = 90  # px: 15 mm on the 1280x800 panel
WAIT = 30.0


class TapFailed(AssertionError):
    """A key the script taps is not there to tap."""


def pressable(keyboard: KanaKeyboard) -> list[KioskButton]:
    """The keys a finger could press now: shown and enabled."""
    from kiosk.ui.widgets import KioskButton

    found = []
    for widget in keyboard.walk(restrict=True):
        if not isinstance(widget, KioskButton) or widget.disabled:
            continue
        shown: Any = widget
        while shown is not None and shown is not keyboard and shown.opacity > 0:
            shown = shown.parent
        if shown is keyboard:
            found.append(widget)
    return found


async def play(keyboard: KanaKeyboard, taps: list[str]) -> None:
    from kiosk.ui.touches import frames, tap

    await frames(3)
    for name in taps:
        if name.startswith("word:"):
            await tap(await _candidate(keyboard, name.removeprefix("word:")))
        else:
            await tap(_key(keyboard, name))
        await frames(1)


def _key(keyboard: KanaKeyboard, name: str) -> KioskButton:
    for button in pressable(keyboard):
        if button.target == name:
            if min(button.size) < SMALLEST_TARGET:
                raise TapFailed(f"{name} is {button.size}, smaller than 15 mm")
            return button
    raise TapFailed(f"no key {name} to tap")


async def _candidate(keyboard: KanaKeyboard, word: str) -> KioskButton:
    from kiosk.ui.touches import frames, tap

    for _ in range(keyboard.entry.pages):
        for button in pressable(keyboard):
            if button.action == "candidate" and button.text == word:
                return button
        await tap(_key(keyboard, "next_page"))
        await frames(1)
    raise TapFailed(f"{word} is not among the candidates")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.kiosk.kana_keyboard", description=__doc__)
    parser.add_argument("--field", choices=("address", "name"), default="address")
    parser.add_argument("--language", choices=("ja", "en"), default="ja")
    parser.add_argument("--taps", default="[]", help="a JSON list of taps")
    parser.add_argument("--screenshot", type=Path, help="a picture of the keyboard after the taps (PNG)")
    parser.add_argument("--dictionaries", type=Path, default=DEFAULT_DIRECTORY)
    parser.add_argument("--cache", type=Path, help="the lexicon's cache directory (default: none)")
    args = parser.parse_args(argv)
    taps = json.loads(args.taps)
    with tempfile.TemporaryDirectory(prefix="kana-keyboard-") as runtime:
        quiet_kivy(Path(runtime))
        from kiosk.ui.window import configure_window

        configure_window(windowed=True)
        return asyncio.run(_show(args, taps))


async def _show(args: argparse.Namespace, taps: list[str]) -> int:
    from kivy.app import App
    from kivy.factory import Factory
    from kivy.uix.boxlayout import BoxLayout

    from kiosk.kana import Field, load_lexicon
    from kiosk.messages import Catalog
    from kiosk.ui.fonts import use_japanese_font
    from kiosk.ui.kana_keyboard import KanaKeyboard
    from kiosk.ui.widgets import KioskButton  # noqa: F401  (its rules, the Header among them)

    catalog = Catalog.load(args.language)
    lexicon = load_lexicon(args.dictionaries, args.cache)
    field = Field(args.field)
    started = asyncio.Event()

    class KeyboardApp(App):  # type: ignore[misc]
        title = "koufu kana keyboard"

        def build(self) -> BoxLayout:
            use_japanese_font()
            root = BoxLayout(orientation="vertical")
            root.add_widget(Factory.Header(text=catalog.text("kana.title")))
            self.keyboard = KanaKeyboard(catalog, lexicon, field, prompt=f"kana.prompt.{field.value}")
            root.add_widget(self.keyboard)
            return root

        def on_start(self) -> None:
            started.set()

    app = KeyboardApp()
    running = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    failure: BaseException | None = None
    try:
        waiting = asyncio.ensure_future(started.wait())
        await asyncio.wait({waiting, running}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            waiting.cancel()
            raise TimeoutError("the keyboard did not start")
        keyboard = app.keyboard
        await asyncio.wait_for(play(keyboard, taps), WAIT * max(1, len(taps)))
        print(f"field: {keyboard.entry.text}")
        print(f"value: {keyboard.value}")
        print(f"candidates: {json.dumps([c.text for c in keyboard.entry.shown()], ensure_ascii=False)}")
        print(f"smallest: {min(min(button.size) for button in pressable(keyboard))}")
        if args.screenshot is not None:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            app.root.export_to_png(str(args.screenshot))
        keyboard.wipe()
        print(f"wiped: [{keyboard.entry.text}{keyboard.value}{keyboard.ids.field.text}]")
    except (TapFailed, TimeoutError) as error:
        failure = error
    finally:
        app.stop()
        await running
    if failure is not None:
        print(f"keyboard failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
