"""The copy-evident background (複写防止地紋): 「複写」 appears on a photocopy of the page.

The whole page is covered with black dots on a grid of square cells, ``CELL`` dot units wide
(one unit is one pixel at 300 dpi, two at 600: 1/300 inch, about 85 µm), one figure per cell,
centred on the cell's middle:

- the latent image (潜像), the word 「複写」 set large in Gothic and repeated over the page: in
  each of its cells one solid dot of ``LARGE_DOT``×``LARGE_DOT`` units;
- the background (地): in every other cell a cross (×) of single-unit dots on the two diagonals,
  ``CROSS_ARM`` units each way from the middle, the dots touching corner to corner only.

Both ink the same share of the paper, 9 units in a cell of 64 (14 %), so the tone is the same.
They also make the same texture where the eye is most sensitive: a figure every 0.68 mm, each a
blob of the same ink about 0.25-0.4 mm across, so at reading distance both read as one even fine
grain and the word cannot be seen (a dot here against a field of finer dots there would be a
coarser grain, and the word would show). A copier smooths what it scans and then decides black
or white: a solid dot keeps a black core, while the cross's single dots, touching only at their
corners, become a grey under half and are gone; on the copy the word stands out in dots on
white paper. Whether a cell is latent is decided per cell (never half a dot), so nothing marks
the word's edges on the original.

The cell grid, and so the latent image, is the same in millimetres at every resolution. The
background of a resolution is drawn once and kept (it is the same for every page); the sheet
lays it on the paper left bare once the page is drawn, keeping clear of the print
(:meth:`printing.render.sheet.Sheet.lay_background`).
"""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw

from printing.render.fonts import Face, font
from printing.render.sheet import A4, BLACK, MM_PER_INCH, WHITE

BASE_DPI = 300  # one dot unit is one pixel at this resolution
CELL = 8  # units: a cell of the pattern (0.68 mm), one figure in each
LARGE_DOT = 3  # units: the side of a latent dot (0.25 mm), the smallest a copier keeps
CROSS_ARM = 2  # units from the middle to the end of each diagonal of the background's cross
LATENT_WORD = "複写"
LATENT_EM = 44.0  # mm: the size of the latent characters
LATENT_ROW_PITCH = 60.0  # mm between rows of the word
LATENT_COLUMNS = (12.0, 110.0)  # mm: where the word starts on even rows; odd rows are shifted
LATENT_SHIFT = 49.0  # mm
LATENT_STROKE = 0.5  # mm added around the strokes (a bolder word)
SUPERSAMPLE = 4  # the word is drawn at 4×4 points per cell, then read per cell


def unit(dpi: int) -> int:
    """Pixels per dot unit at ``dpi`` (1 at 300 dpi, 2 at 600)."""
    return max(1, round(dpi / BASE_DPI))


def page_size(dpi: int) -> tuple[int, int]:
    """A4 in pixels at ``dpi``."""
    return round(A4[0] * dpi / MM_PER_INCH), round(A4[1] * dpi / MM_PER_INCH)


@functools.lru_cache(maxsize=2)
def background(dpi: int) -> Image.Image:
    """The page's background at ``dpi`` (mode ``L``), laid on every page's bare paper. Built one
    row of cells at a time, so no more than the page itself is ever held at full size."""
    width, height = page_size(dpi)
    cell = CELL * unit(dpi)
    cells = _latent_cells(dpi)
    ground, dots = _tiled(_cross_cell(dpi), (width, cell)), _tiled(_dot_cell(dpi), (width, cell))
    page = Image.new("L", (width, height))
    for row in range(cells.height):
        latent = cells.crop((0, row, cells.width, row + 1)).resize(
            (cells.width * cell, cell), Image.Resampling.NEAREST
        )
        page.paste(Image.composite(dots, ground, latent.crop((0, 0, width, cell))), (0, row * cell))
    return page


def latent_mask(dpi: int, cell: int = CELL) -> Image.Image:
    """Where the latent word is at ``dpi``: mode ``L``, 255 in its cells, 0 elsewhere (whole cells
    of ``cell`` units: the pattern's own unless another grid is asked for)."""
    width, height = page_size(dpi)
    side = cell * unit(dpi)
    cells = _latent_cells(dpi, cell)
    return cells.resize((cells.width * side, cells.height * side), Image.Resampling.NEAREST).crop(
        (0, 0, width, height)
    )


def _latent_cells(dpi: int, cell_units: int = CELL) -> Image.Image:
    """The latent word with one pixel per cell of the pattern (255: a latent cell)."""
    width, height = page_size(dpi)
    cell = cell_units * unit(dpi)
    cell_mm = cell * MM_PER_INCH / dpi
    columns, rows = -(-width // cell), -(-height // cell)
    fine = SUPERSAMPLE / cell_mm  # pixels per mm of the drawing the cells are read from
    drawing = Image.new("L", (columns * SUPERSAMPLE, rows * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(drawing)
    glyphs = font(Face.GOTHIC, round(LATENT_EM * fine))
    stroke = round(LATENT_STROKE * fine)
    row, top = 0, 6.0
    while top < A4[1]:
        for left in LATENT_COLUMNS:
            x = left - (LATENT_SHIFT if row % 2 else 0.0)
            draw.text(
                (round(x * fine), round(top * fine)),
                LATENT_WORD,
                fill=255,
                font=glyphs,
                stroke_width=stroke,
                stroke_fill=255,
            )
        row, top = row + 1, top + LATENT_ROW_PITCH
    # a cell is latent when the word covers at least a third of it
    return drawing.reduce(SUPERSAMPLE).point(lambda value: 255 if value >= 85 else 0)


def _middle() -> int:
    """The unit at the middle of a cell, where every figure is centred."""
    return (CELL - LARGE_DOT) // 2 + LARGE_DOT // 2


def _cross_cell(dpi: int) -> Image.Image:
    """A background cell: a cross (×) of single-unit dots on the two diagonals."""
    step, middle = unit(dpi), _middle()
    tile = Image.new("L", (CELL * step, CELL * step), WHITE)
    draw = ImageDraw.Draw(tile)
    for offset in range(-CROSS_ARM, CROSS_ARM + 1):
        for x, y in ((middle + offset, middle + offset), (middle + offset, middle - offset)):
            draw.rectangle((x * step, y * step, (x + 1) * step - 1, (y + 1) * step - 1), fill=BLACK)
    return tile


def _dot_cell(dpi: int) -> Image.Image:
    """A latent cell: one solid dot of ``LARGE_DOT`` units a side."""
    step = unit(dpi)
    tile = Image.new("L", (CELL * step, CELL * step), WHITE)
    start = (_middle() - LARGE_DOT // 2) * step
    end = start + LARGE_DOT * step - 1
    ImageDraw.Draw(tile).rectangle((start, start, end, end), fill=BLACK)
    return tile


def _tiled(tile: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``tile`` repeated over ``size`` from the top-left corner: a row first, then rows of rows."""
    width, height = size
    row = Image.new("L", (width, tile.height))
    for x in range(0, width, tile.width):
        row.paste(tile, (x, 0))
    page = Image.new("L", size)
    for y in range(0, height, tile.height):
        page.paste(row, (0, y))
    return page
