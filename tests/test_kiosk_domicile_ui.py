"""The registered domicile's and the issuance record's screens for real: the kiosk's Kivy screens on
a virtual display (Xvfb), each shown with a view as its state gives one, in Japanese and English
(:mod:`devtools.kiosk.gallery`); a 本籍 and a 筆頭者 typed on the kana keyboard through Kivy's input
path with the lexicon the app loads at its start, and what the screens sent the workflow read back;
every button at least 15 mm; nothing typed left once the screens forgot the session."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devtools.kiosk.gallery import PICTURES
from devtools.kiosk.xvfb import virtual_display


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display() as name:  # no Xvfb: an error, not a skip
        yield name


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_new_screen_shown_and_the_application_typed(
    language: str, display: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "pictures"
    env = {**os.environ, "DISPLAY": display, "HOME": str(home), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("KIVY_HOME", None)
    done = subprocess.run(
        [sys.executable, "-m", "devtools.kiosk.gallery", "--language", language, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    said = [line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line]
    shown = [value for label, value in said if label == "shown"]
    assert shown == [f"{number:02d}-{name}" for number, (name, _step, _view) in enumerate(PICTURES, start=1)]
    told = dict(said)
    assert told["sent-domicile_entry"] == "東京都千代田区千代田1番地"  # converted with the lexicon
    assert told["sent-head_entry"] == "山田 太郎"
    assert float(told["smallest"]) >= 90  # every button a finger could press: 15 mm
    assert told["wiped"] == "[]"  # nothing typed left on the keyboards
    digests = set()
    for name in shown:
        with Image.open(out / f"{name}.png") as image:
            assert image.size == (1280, 800)
            colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
            assert colours is None or len(colours) > 8, f"{name} is blank"
            digests.add(hashlib.sha256(image.convert("RGB").tobytes()).hexdigest())
    assert len(digests) == len(shown)  # every screen looks like itself
    assert (tmp_path / "cache" / "koufu" / "kana-lexicon.txt").exists()  # the lexicon loaded at start
    assert not (home / ".kivy").exists()
