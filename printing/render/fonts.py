"""The two typefaces of a printed certificate: IPAex Mincho (明朝, the body) and IPAex Gothic
(ゴシック, headings, labels and the verification block).

Found at their Debian locations first, then through fontconfig (``fc-match``), accepted only if
fontconfig names the very family (it otherwise answers with any fallback). Loaded fonts are kept
per pixel size, so a page draws with fonts opened once per process.
"""

from __future__ import annotations

import enum
import functools
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

from printing.render.errors import FontMissing


class Face(enum.Enum):
    """A typeface: its fontconfig family and where Debian's fonts-ipaexfont puts it."""

    MINCHO = ("IPAexMincho", "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")
    GOTHIC = ("IPAexGothic", "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")

    @property
    def family(self) -> str:
        return self.value[0]

    @property
    def known_path(self) -> Path:
        return Path(self.value[1])


@functools.cache
def font_path(face: Face) -> Path:
    """The file of ``face``; :class:`FontMissing` if neither its known path nor fontconfig has it."""
    if face.known_path.is_file():
        return face.known_path
    fc_match = shutil.which("fc-match")
    if fc_match is not None:
        try:
            answer = subprocess.run(
                [fc_match, "-f", "%{family}\n%{file}", face.family],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            answer = ""
        families, _, file = answer.partition("\n")
        if face.family in families.split(",") and Path(file).is_file():
            return Path(file)
    raise FontMissing(f"the font {face.family} is not installed (Debian: apt-get install fonts-ipaexfont)")


@functools.lru_cache(maxsize=256)
def font(face: Face, size_px: int) -> ImageFont.FreeTypeFont:
    """``face`` at ``size_px`` pixels per em (opened once per size)."""
    return ImageFont.truetype(str(font_path(face)), max(1, size_px))
