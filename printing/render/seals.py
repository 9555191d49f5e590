"""Seals drawn on a certificate: the municipality's electronic official seal (電子公印) beside
the mayor's name, and on a seal registration certificate the registered seal's impression (印影).

Both are built the same way: the characters set in a grid of columns read right to left and top
to bottom (as a seal is read), each character stretched to fill its cell, inside a border; the
drawing is a mask, so the seal is inked over whatever is beneath it. Deterministic: the same text
and size give the same pixels.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from printing.render.fonts import Face, font
from printing.render.sheet import BLACK, Sheet

OFFICIAL_SEAL = 21.0  # mm square (the real ones are at most 25 mm)
IMPRESSION_INK = 60  # the registered seal's ink: red on the original, a dark grey here


def official_seal_text(municipality_name: str) -> str:
    """The official seal's legend: 「千代田区長之印」 for 千代田区 (the mayor's seal, 長之印)."""
    return f"{municipality_name}長之印"


def draw_official_seal(sheet: Sheet, cx: float, cy: float, text: str, side: float = OFFICIAL_SEAL) -> None:
    """The square official seal (角印) centred on (cx, cy), in black."""
    size = sheet.px(side)
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    border = max(2, round(size * 0.06))
    draw.rectangle((0, 0, size - 1, size - 1), outline=255, width=border)
    inner = round(size * 0.1)
    _characters(mask, text, (inner, inner, size - inner, size - inner), gap=round(size * 0.02))
    sheet.ink(mask, sheet.px(cx) - size // 2, sheet.px(cy) - size // 2, BLACK)


def draw_registered_seal(sheet: Sheet, cx: float, cy: float, impression: str, diameter: float) -> None:
    """A round registered seal (丸印) with ``impression``'s characters, centred on (cx, cy)."""
    size = sheet.px(diameter)
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    ring = max(2, round(size * 0.065))
    draw.ellipse((0, 0, size - 1, size - 1), outline=255, width=ring)
    columns = _column_count(len(impression))
    half_w = size * (0.3 if columns == 1 else 0.34)
    half_h = size * 0.37 if columns == 1 else size * 0.32
    centre = size / 2
    box = (round(centre - half_w), round(centre - half_h), round(centre + half_w), round(centre + half_h))
    _characters(mask, impression, box, gap=round(size * 0.015))
    sheet.ink(mask, sheet.px(cx) - size // 2, sheet.px(cy) - size // 2, IMPRESSION_INK)


def _column_count(count: int) -> int:
    return 1 if count <= 3 else math.ceil(math.sqrt(count))


def _characters(mask: Image.Image, text: str, box: tuple[int, int, int, int], gap: int) -> None:
    """``text`` in columns from the right inside ``box``; the first columns take the extra characters,
    and every character is stretched to its cell (篆書 seals fill their space)."""
    if not text:
        return
    columns = _column_count(len(text))
    per_column = [
        len(text) // columns + (1 if index < len(text) % columns else 0) for index in range(columns)
    ]
    left, top, right, bottom = box
    column_width = (right - left) / columns
    position = 0
    for index, count in enumerate(per_column):
        x0 = right - (index + 1) * column_width
        cell_height = (bottom - top) / count
        for row in range(count):
            y0 = top + row * cell_height
            cell = (
                round(x0) + gap,
                round(y0) + gap,
                round(x0 + column_width) - gap,
                round(y0 + cell_height) - gap,
            )
            _glyph(mask, text[position], cell)
            position += 1


def _glyph(mask: Image.Image, char: str, cell: tuple[int, int, int, int]) -> None:
    """One character stretched over ``cell`` of ``mask``."""
    width, height = cell[2] - cell[0], cell[3] - cell[1]
    if width < 1 or height < 1:
        return
    em = max(8, max(width, height))
    glyph = Image.new("L", (em * 2, em * 2), 0)
    ImageDraw.Draw(glyph).text(
        (em // 2, em // 2),
        char,
        fill=255,
        font=font(Face.MINCHO, em),
        stroke_width=max(1, em // 28),
        stroke_fill=255,
    )
    ink = glyph.getbbox()
    if ink is None:
        return
    stretched = glyph.crop(ink).resize((width, height), Image.Resampling.BILINEAR)
    mask.paste(255, (cell[0], cell[1]), stretched)
