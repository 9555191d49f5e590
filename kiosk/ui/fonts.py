"""The Japanese font (IPAex Gothic, IPAexゴシック) as Kivy's default, so every label renders
Japanese (Debian: ``fonts-ipaexfont-gothic``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

KNOWN_PLACES = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/ipaex-gothic/ipaexg.ttf"),
    Path("/usr/local/share/fonts/ipaexg.ttf"),
)
FONTCONFIG_NAME = "IPAexGothic"


class FontMissing(RuntimeError):
    """No IPAex Gothic on this machine."""


def ipaex_gothic() -> Path:
    """The font file: a known place, else what fontconfig finds for the name."""
    for place in KNOWN_PLACES:
        if place.is_file():
            return place
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", FONTCONFIG_NAME], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found and Path(found).resolve().name.lower().startswith("ipaexg"):
            return Path(found)
    raise FontMissing(
        "IPAex Gothic is needed for Japanese text: install fonts-ipaexfont-gothic "
        f"(looked in {', '.join(str(p) for p in KNOWN_PLACES)} and asked fc-match)"
    )


def use_japanese_font() -> Path:
    """Register IPAex Gothic under Kivy's default font name; the file used."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = ipaex_gothic()
    LabelBase.register(DEFAULT_FONT, str(path))
    return path
