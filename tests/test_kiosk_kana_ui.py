"""The kana keyboard (``kiosk/ui/kana_keyboard.py``) for real: Kivy on a virtual display (Xvfb),
its keys and candidates touched through Kivy's input path by
:mod:`devtools.kiosk.kana_keyboard`, the field read back; a 本籍 and a name typed with conversion
from the installed SKK dictionaries, in Japanese and English, and without any dictionary. With
``KOUFU_KANA_SCREENSHOTS=DIR`` its two pictures are kept in ``DIR`` (``docs/screenshots``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devtools.kiosk.xvfb import virtual_display
from kiosk.kana.letters import GRID, Mark, marked

SCREENSHOTS = "KOUFU_KANA_SCREENSHOTS"
PLAIN = {letter for column in GRID for letter in column if letter}
# a marked kana → the plain kana and the mark that make it (が → か, ゛)
MARKED = {marked(letter, mark): (letter, mark) for letter in PLAIN for mark in Mark if marked(letter, mark)}


def keys(reading: str) -> list[str]:
    """The taps that type ``reading``: a marked kana is its plain kana, then the mark."""
    taps = []
    for letter in reading:
        if letter in PLAIN:
            taps.append(f"kana-{letter}")
        else:
            plain, mark = MARKED[letter]
            taps += [f"kana-{plain}", f"mark-{mark.value}"]
    return taps


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display() as name:  # no Xvfb: an error, not a skip
        yield name


def run_keyboard(display: str, home: Path, taps: list[str], *more: str) -> dict[str, str]:
    home.mkdir(exist_ok=True)
    env = {**os.environ, "DISPLAY": display, "HOME": str(home)}
    env.pop("KIVY_HOME", None)
    done = subprocess.run(
        [sys.executable, "-m", "devtools.kiosk.kana_keyboard", "--taps", json.dumps(taps), *more],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    said = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert float(said["smallest"]) >= 90  # every key at least 15 mm each way
    assert said["wiped"] == "[]"  # nothing typed is left on the keyboard
    assert not (home / ".kivy").exists()
    return said


def picture(path: Path) -> None:
    """The screenshot checked, made small (32 colours) and kept where ``KOUFU_KANA_SCREENSHOTS`` says."""
    with Image.open(path) as image:
        assert image.size == (1280, 800)
        small = image.convert("RGB").quantize(colors=32)
    small.save(path, optimize=True)
    kept = os.environ.get(SCREENSHOTS)
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        small.save(Path(kept) / path.name, optimize=True)


def test_the_taps_of_a_reading() -> None:
    assert keys("ちょうめ") == ["kana-ち", "kana-よ", "mark-small", "kana-う", "kana-め"]
    assert keys("ぱが") == ["kana-は", "mark-handakuten", "kana-か", "mark-dakuten"]


def test_a_registered_domicile_typed_segment_by_segment(display: str, tmp_path: Path) -> None:
    taps = [
        *keys("とうきょうと"),
        "word:東京都",
        *keys("ちよだく"),
        "word:千代田区",
        *keys("ちよだ"),
        "word:千代田",
        "numbers",
        "literal-1",
        "literal-番地",
        "numbers",
        *keys("やまだ"),  # composing, shown in the picture with its candidates
    ]
    shot = tmp_path / "kiosk-kana-keyboard-ja.png"
    said = run_keyboard(display, tmp_path / "home", taps, "--field", "address", "--screenshot", str(shot))
    assert said["value"] == "東京都千代田区千代田1番地"
    assert said["field"] == "東京都千代田区千代田1番地やまだ"
    assert "山田" in json.loads(said["candidates"])
    picture(shot)


def test_a_name_with_a_space_backspace_and_clear_in_english(display: str, tmp_path: Path) -> None:
    taps = [
        *keys("すずき"),
        "clear",  # everything typed goes
        *keys("やまだ"),
        "word:山田",
        "space",
        *keys("たろうく"),
        "backspace",  # a kana of the reading
        "word:太郎",
        "numbers",
        "backspace",  # a committed character: 郎
        "backspace",  # 太
        "numbers",
        *keys("たろう"),
        "word:太郎",
        *keys("た"),  # composing, shown in the picture with its candidates
    ]
    shot = tmp_path / "kiosk-kana-keyboard-en.png"
    said = run_keyboard(
        display, tmp_path / "home", taps, "--field", "name", "--language", "en", "--screenshot", str(shot)
    )
    assert said["value"] == "山田 太郎"
    assert said["field"] == "山田 太郎た"
    picture(shot)


def test_without_dictionaries_the_kana_are_the_candidates(display: str, tmp_path: Path) -> None:
    taps = [*keys("やまだ"), "word:ヤマダ", *keys("じょーんず")]
    said = run_keyboard(display, tmp_path / "home", taps, "--field", "name", "--dictionaries", str(tmp_path))
    assert said["value"] == "ヤマダ"
    assert json.loads(said["candidates"]) == ["じょーんず", "ジョーンズ"]
