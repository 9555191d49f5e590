"""The registered domicile's and the issuance record's screens, each shown on its own with a
synthetic view at the panel's size, for their UI test and ``make screenshots``::

    python -m devtools.kiosk.gallery --language ja --out DIR

The screens are the kiosk's own (:class:`~kiosk.ui.screen.KivyScreen`, every step's), switched to
as the workflow switches them and given a view as its states give one (nobody's: made-up
values). On the 本籍 and 筆頭者 screens the kana keyboard is typed on through Kivy's input path
(:mod:`kiosk.ui.touches`), with the lexicon the app loads at its start, and their OK is touched:
what the screen sent the workflow is printed (``sent-<step>: text``). Every button a finger could
press must be at least 90 px (15 mm) each way. Each picture is ``DIR/NN-<name>.png``; the output
names them (``shown: NN-name``), the smallest button (``smallest:``) and, after the screens
forgot every view, what is left on the keyboards (``wiped: []``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from center.municipal.domicile_match import DenialReason
from devtools.kiosk.kana_keyboard import TapFailed
from kiosk.ui.environment import quiet_kivy
from kiosk.workflow.steps import Step

if TYPE_CHECKING:
    from kiosk.ui.screen import KivyScreen

SMALLEST_TARGET = 90  # px: 15 mm on the 1280x800 panel
WAIT = 60.0
CHIYODA = {"code": "131016", "name": "千代田区", "name_en": "Chiyoda City"}
SAPPORO = {"code": "011002", "name": "札幌市", "name_en": "Sapporo City"}

# what is typed on the two fields (a reading, then the candidate to choose, or a literal key)
DOMICILE_TAPS = [
    "とうきょうと",
    "word:東京都",
    "ちよだく",
    "word:千代田区",
    "ちよだ",
    "word:千代田",
    "numbers",
    "literal-1",
    "literal-番地",
    "numbers",
]
HEAD_TAPS = ["やまだ", "word:山田", "space", "たろう", "word:太郎"]


def _row(
    when: str, certificate: str, copies: int, numbers: list[str], voided: list[str], **more: Any
) -> dict[str, Any]:
    return {
        "issued_at": when,
        "municipality": CHIYODA,
        "store": "ファミリーストア丸の内店",
        "terminal_id": "T-0001",
        "certificate_type": certificate,
        "copies": copies,
        "issue_numbers": numbers,
        "voided": voided,
        **more,
    }


# (picture name, step, view): the states' views (kiosk/workflow/states/{domicile,record,choice}.py)
PICTURES: list[tuple[str, Step, dict[str, Any]]] = [
    (
        "certificate_type",
        Step.CERTIFICATE_TYPE,
        {
            "certificates": [
                {"type": "family_register", "fee": 450, "available": True, "reason": None, "refusal": None},
                {
                    "type": "family_register_attachment",
                    "fee": 300,
                    "available": True,
                    "reason": None,
                    "refusal": None,
                },
            ],
            "basket": 0,
            "refusal": None,
            "record": True,
        },
    ),
    (
        "registration-none",
        Step.REGISTRATION,
        {
            "status": "none",
            "municipality": None,
            "applied_at": None,
            "approves_at": None,
            "reason": None,
            "message": None,
            "applied": False,
            "can_apply": True,
        },
    ),
    (
        "prefecture",
        Step.PREFECTURE,
        {
            "prefectures": [
                {"code": "01", "name": "北海道"},
                {"code": "13", "name": "東京都"},
                {"code": "27", "name": "大阪府"},
            ],
            "chosen": None,
        },
    ),
    (
        "municipality",
        Step.MUNICIPALITY,
        {
            "prefecture": "13",
            "chosen": None,
            "municipalities": [CHIYODA, {"code": "132012", "name": "八王子市", "name_en": "Hachioji City"}],
        },
    ),
    (
        "domicile_entry",
        Step.DOMICILE_ENTRY,
        {"municipality": CHIYODA, "value": "", "most": 100, "problem": None},
    ),
    ("head_entry", Step.HEAD_ENTRY, {"municipality": CHIYODA, "value": "", "most": 40, "problem": None}),
    (
        "application",
        Step.APPLICATION,
        {"municipality": CHIYODA, "domicile": "東京都千代田区千代田1番地", "head": "山田 太郎"},
    ),
    ("signing-place", Step.SIGNING, {"card": "place", "problem": None, "entered": 0}),
    (
        "signing-password",
        Step.SIGNING,
        {"card": "ready", "problem": None, "entered": 4, "least": 6, "most": 16, "tries": 4, "wrong": True},
    ),
    (
        "signing-locked",
        Step.SIGNING,
        {"card": "locked", "problem": None, "entered": 0, "tries": 0, "wrong": False},
    ),
    (
        "registration-pending",
        Step.REGISTRATION,
        {
            "status": "pending",
            "municipality": CHIYODA,
            "applied_at": "2026-12-07",
            "approves_at": "2026-12-14",
            "reason": None,
            "message": None,
            "applied": True,
            "can_apply": False,
        },
    ),
    (
        "registration-denied",
        Step.REGISTRATION,
        {
            "status": "denied",
            "municipality": CHIYODA,
            "applied_at": "2026-12-07",
            "approves_at": None,
            "reason": DenialReason.NOT_MATCHED.value,  # the municipality's own words, as it answers them
            "message": {"ja": DenialReason.NOT_MATCHED.message_ja, "en": DenialReason.NOT_MATCHED.message_en},
            "applied": False,
            "can_apply": True,
        },
    ),
    (
        "registration-suspended",
        Step.REGISTRATION,
        {
            "status": "suspended",
            "municipality": CHIYODA,
            "applied_at": "2026-01-07",
            "approves_at": None,
            "reason": None,
            "message": None,
            "applied": False,
            "can_apply": False,
        },
    ),
    (
        "issuance_record",
        Step.ISSUANCE_RECORD,
        {
            "rows": [
                _row(
                    "2026-12-05T15:00",
                    "family_register",
                    2,
                    ["011002-2026-000007", "011002-2026-000008"],
                    ["011002-2026-000008"],
                    municipality=SAPPORO,
                ),
                _row("2026-11-27T09:41", "tax", 1, ["131016-2026-000311"], []),
                _row(
                    "2026-10-28T18:02", "resident_record", 1, ["131016-2026-000102"], ["131016-2026-000102"]
                ),
                _row(
                    "2026-06-02T12:15", "resident_record", 2, ["131016-2026-000040", "131016-2026-000041"], []
                ),
            ],
            "unavailable": [{"code": "132012", "name": "八王子市", "name_en": "Hachioji City"}],
            "printing": False,
            "printed": False,
            "remind": 0,
            "problem": None,
        },
    ),
]


def taps_of(script: list[str]) -> list[str]:
    """A script's taps: a reading becomes its kana keys (a marked kana: the plain one and its mark)."""
    from kiosk.kana.letters import GRID, Mark, marked

    plain = {letter for column in GRID for letter in column if letter}
    marks = {
        marked(letter, mark): (letter, mark) for letter in plain for mark in Mark if marked(letter, mark)
    }
    taps: list[str] = []
    for item in script:
        if item.startswith(("word:", "literal-")) or item in ("numbers", "space"):
            taps.append(item)
            continue
        for letter in item:
            if letter in plain:
                taps.append(f"kana-{letter}")
            else:
                base, mark = marks[letter]
                taps += [f"kana-{base}", f"mark-{mark.value}"]
    return taps


def smallest(screen: Any) -> float:
    pressable = [b for b in screen.buttons() if screen.visible(b) and not b.disabled]
    return float(min(min(button.size) for button in pressable))


async def show_all(kiosk: KivyScreen, language: str, out: Path) -> None:
    from devtools.kiosk.kana_keyboard import play
    from kiosk.ui.kana_loading import LEXICON
    from kiosk.ui.touches import frames, tap

    await asyncio.to_thread(LEXICON.ready.wait, WAIT)
    session = SimpleNamespace(language=language)
    least = float("inf")
    for number, (name, step, view) in enumerate(PICTURES, start=1):
        await kiosk.approve(kiosk.current, step, session)
        kiosk.show(step, view)
        await frames(3)
        screen = kiosk.screens[step]
        title = screen.catalog.text(f"{step.value}.title")
        if not any(getattr(widget, "text", None) == title for widget in screen.walk()):
            raise TapFailed(f"{name} does not show its title")
        if step in (Step.DOMICILE_ENTRY, Step.HEAD_ENTRY):
            keyboard = screen.keyboard
            await play(keyboard, taps_of(DOMICILE_TAPS if step is Step.DOMICILE_ENTRY else HEAD_TAPS))
            await frames(2)
            screen.export_to_png(str(out / f"{number:02d}-{name}.png"))
            button = screen.target("next")
            if button is None:
                raise TapFailed(f"no OK on {name}")
            await tap(button)
            while (touch := await asyncio.wait_for(kiosk.touch(step), WAIT)).action != "next":
                pass  # each key told the workflow "typing"
            print(f"sent-{step.value}: {touch.value}")
        else:
            screen.export_to_png(str(out / f"{number:02d}-{name}.png"))
        least = min(least, smallest(screen))
        print(f"shown: {number:02d}-{name}")
    print(f"smallest: {least}")
    kiosk.forget()
    await frames(2)
    left = [kiosk.screens[step].keyboard.entry.text for step in (Step.DOMICILE_ENTRY, Step.HEAD_ENTRY)]
    print(f"wiped: {json.dumps([text for text in left if text], ensure_ascii=False)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.kiosk.gallery", description=__doc__)
    parser.add_argument("--language", choices=("ja", "en"), default="ja")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiosk-gallery-") as runtime:
        quiet_kivy(Path(runtime))
        from kiosk.ui.window import configure_window

        configure_window(windowed=True)
        return asyncio.run(_run(args.language, args.out))


async def _run(language: str, out: Path) -> int:
    from kivy.app import App

    from kiosk.ui.fonts import use_japanese_font
    from kiosk.ui.kana_loading import LEXICON
    from kiosk.ui.screen import KivyScreen

    kiosk = KivyScreen()
    started = asyncio.Event()

    class GalleryApp(App):  # type: ignore[misc]
        title = "koufu kiosk screens"

        def build(self) -> Any:
            use_japanese_font()
            return kiosk.build()

        def on_start(self) -> None:
            LEXICON.start()  # as the kiosk app does
            started.set()

    app = GalleryApp()
    running = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    failure: BaseException | None = None
    try:
        await asyncio.wait_for(started.wait(), WAIT)
        await asyncio.wait_for(show_all(kiosk, language, out), WAIT * 4)
    except (TapFailed, TimeoutError) as error:
        failure = error
    finally:
        app.stop()
        await running
    if failure is not None:
        print(f"gallery failed: {type(failure).__name__}: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
