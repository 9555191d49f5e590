"""Microtext (マイクロ文字): the page's frame is a line of text about 0.45 mm high.

To the eye the frame is a thin grey rule; under a loupe it reads, over and over, the issuing
municipality and the page's issue number. A copier cannot resolve characters this small, so on a
copy the frame becomes a smudged line. The text runs clockwise around the page on a white band,
drawn once per page through a mask (the band's characters only, in black).
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from printing.render.fonts import Face, font
from printing.render.sheet import HAIRLINE, WHITE, Box, Sheet

HEIGHT = 0.45  # mm: the characters' size (1 em)
BAND = 0.9  # mm: the white band the text runs in
SEPARATOR = "　"


def draw_microtext_frame(sheet: Sheet, frame: Box, text: str) -> None:
    """``text`` repeated along the four sides of ``frame`` (its centre line), clockwise."""
    half = BAND / 2
    outer, inner = Box(frame.x - half, frame.y - half, frame.w + BAND, frame.h + BAND), frame.inset(half)
    sheet.frame(outer, BAND, fill=WHITE)
    sides = (
        (Box(outer.x, outer.y, outer.w, BAND), 0),  # top, left to right
        (Box(outer.right - BAND, outer.y, BAND, outer.h), 270),  # right, downwards
        (Box(outer.x, outer.bottom - BAND, outer.w, BAND), 180),  # bottom, right to left
        (Box(outer.x, outer.y, BAND, outer.h), 90),  # left, upwards
    )
    for box, angle in sides:
        length = box.w if angle in (0, 180) else box.h
        strip = _strip(sheet, text, length)
        if angle:
            strip = strip.rotate(angle, expand=True)
        sheet.ink(strip, sheet.px(box.x), sheet.px(box.y))
    for box in (outer, inner):
        sheet.frame(box, HAIRLINE / 2)


def _strip(sheet: Sheet, text: str, length: float) -> Image.Image:
    """A mask (255 = ink) ``length`` mm long and one band high, ``text`` repeated along it (drawn
    once, then placed end to end)."""
    glyphs = font(Face.GOTHIC, sheet.font_px(HEIGHT))
    unit = text + SEPARATOR
    width, height = sheet.px(length), sheet.px(BAND)
    step = max(1, math.ceil(glyphs.getlength(unit)))
    tile = Image.new("L", (step, height), 0)
    ImageDraw.Draw(tile).text((0, height // 2), unit, fill=255, font=glyphs, anchor="lm")
    strip = Image.new("L", (width, height), 0)
    for left in range(0, width, step):
        strip.paste(tile, (left, 0))
    return strip
