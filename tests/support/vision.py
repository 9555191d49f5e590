"""Models of who looks at a copy-evident background (地紋), to judge it without a person's eye.

- **The eye** at reading distance: the page blurred by about 0.25 mm (the detail a reader resolves
  at 30-40 cm), then the grey inside the latent word's cells and outside compared. The word is
  hidden when the mean grey (the tone) differs by less than :data:`EYE_TOLERANCE` of full scale
  and its spread (the texture left after the blur) by less than :data:`TEXTURE_TOLERANCE`. The
  texture is held to the tighter figure because what is left of it after the blur is a ripple at
  the pattern's pitch, 0.7-0.8 mm: about 8 cycles a degree at reading distance, where the eye's
  contrast sensitivity peaks and a ripple of under 1 % contrast is seen. A spread of 0.5 % of
  full scale is a ripple of about 0.7 % on light-grey paper; the tone, spread over the word's
  centimetres, is judged at the coarser 1.5 %.
- **A copier**: the page blurred by about 0.08 mm (its scan), then cut at 50 % (black or white).
  The word appears when its cells keep more ink than the rest by more than :data:`COPY_CONTRAST`.

Both look at the inner cells of each region (a cell away from the word's edge), so the edge's own
mixing is not counted. Pure PIL: the page is large, the statistics are sums.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from printing.render.background import CELL, latent_mask, page_size, unit
from printing.render.sheet import MM_PER_INCH

EYE_BLUR_MM = 0.25
COPIER_BLUR_MM = 0.08
EYE_TOLERANCE = 0.015  # of full scale, for the mean (the tone)
TEXTURE_TOLERANCE = 0.005  # of full scale, for the spread (the texture at the pattern's pitch)
COPY_CONTRAST = 0.04  # ink share, word over background
WINDOW_MM = (
    10.0,
    5.0,
    110.0,
    55.0,
)  # a window over the first 「複写」 of the page (left, top, right, bottom)


@dataclass(frozen=True)
class EyeView:
    mean_inside: float  # 0 white … 1 black
    mean_outside: float
    spread_inside: float
    spread_outside: float

    @property
    def hidden(self) -> bool:
        return (
            abs(self.mean_inside - self.mean_outside) < EYE_TOLERANCE
            and abs(self.spread_inside - self.spread_outside) < TEXTURE_TOLERANCE
        )


@dataclass(frozen=True)
class CopyView:
    ink_inside: float  # share of black after the copier's threshold
    ink_outside: float

    @property
    def shown(self) -> bool:
        return self.ink_inside - self.ink_outside > COPY_CONTRAST


def window(image: Image.Image, dpi: int) -> Image.Image:
    left, top, right, bottom = (round(mm * dpi / MM_PER_INCH) for mm in WINDOW_MM)
    return image.crop((left, top, right, bottom))


def regions(dpi: int, cell_units: int = CELL) -> tuple[Image.Image, Image.Image]:
    """The inner cells of the latent word and of the background in the window (masks, 255 in),
    on a grid of ``cell_units`` (the pattern's own unless told)."""
    cell = cell_units * unit(dpi)
    mask = window(latent_mask(dpi, cell_units), dpi)
    cells = (
        mask.reduce(cell)
        if mask.width % cell == 0
        else mask.resize((mask.width // cell, mask.height // cell), Image.Resampling.BOX)
    )
    cells = cells.point(lambda value: 255 if value >= 128 else 0)
    inner_word = cells.filter(ImageFilter.MinFilter(3))
    inner_rest = ImageChops.invert(cells).filter(ImageFilter.MinFilter(3))
    size = (cells.width * cell, cells.height * cell)
    return (
        inner_word.resize(size, Image.Resampling.NEAREST),
        inner_rest.resize(size, Image.Resampling.NEAREST),
    )


def by_eye(page: Image.Image, dpi: int, cell: int = CELL) -> EyeView:
    """What a reader sees of ``page`` (mode ``L``, the whole A4 at ``dpi``; its latent word drawn
    in cells of ``cell`` units)."""
    word, rest = regions(dpi, cell)
    seen = window(page, dpi).crop((0, 0, word.width, word.height))
    seen = seen.filter(ImageFilter.GaussianBlur(EYE_BLUR_MM * dpi / MM_PER_INCH))
    inside, outside = ImageStat.Stat(seen, word), ImageStat.Stat(seen, rest)
    return EyeView(
        1 - inside.mean[0] / 255, 1 - outside.mean[0] / 255, inside.stddev[0] / 255, outside.stddev[0] / 255
    )


def photocopy(page: Image.Image, dpi: int = 300) -> Image.Image:
    """The copier's copy of ``page`` (at ``dpi``): its scan's blur, then black or white at half."""
    blurred = page.filter(ImageFilter.GaussianBlur(COPIER_BLUR_MM * dpi / MM_PER_INCH))
    return blurred.point(lambda value: 0 if value < 128 else 255)


def by_copier(page: Image.Image, dpi: int, cell: int = CELL) -> CopyView:
    """What a photocopy keeps of ``page``."""
    word, rest = regions(dpi, cell)
    scanned = window(page, dpi).crop((0, 0, word.width, word.height))
    black = ImageChops.invert(photocopy(scanned, dpi))  # 255 where the copy is black
    return CopyView(ImageStat.Stat(black, word).mean[0] / 255, ImageStat.Stat(black, rest).mean[0] / 255)


def big_dot_little_dot(dpi: int, cell: int, pitch: int, dot: int) -> Image.Image:
    """The plainest kind of background, for comparison: in the latent word's cells (``cell``
    units) one solid dot of ``dot`` units a side, in the others a single-unit dot every ``pitch``
    units. With ``(20, 4, 5)`` it is the background koufu first printed (1/16 inked either way),
    with ``(9, 3, 3)`` a finer one (1/9)."""
    step = unit(dpi)
    little = Image.new("L", (cell * step, cell * step), 255)
    for y in range(0, cell, pitch):
        for x in range(0, cell, pitch):
            ImageDraw.Draw(little).rectangle(
                (x * step, y * step, (x + 1) * step - 1, (y + 1) * step - 1), fill=0
            )
    big = Image.new("L", little.size, 255)
    start = (cell - dot) // 2 * step
    ImageDraw.Draw(big).rectangle((start, start, start + dot * step - 1, start + dot * step - 1), fill=0)
    size = page_size(dpi)
    return Image.composite(_tiled(big, size), _tiled(little, size), latent_mask(dpi, cell))


def _tiled(tile: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``tile`` repeated over ``size`` from the top-left corner: a row first, then rows of rows."""
    row = Image.new("L", (size[0], tile.height))
    for x in range(0, size[0], tile.width):
        row.paste(tile, (x, 0))
    page = Image.new("L", size)
    for y in range(0, size[1], tile.height):
        page.paste(row, (0, y))
    return page


def even_dots(dpi: int, pitch: int = 4, dot: int = 1) -> Image.Image:
    """A page of ``dot``-unit dots every ``pitch`` units and nothing else: no latent word at all."""
    step = unit(dpi)
    tile = Image.new("L", (pitch * step, pitch * step), 255)
    ImageDraw.Draw(tile).rectangle((0, 0, dot * step - 1, dot * step - 1), fill=0)
    width, height = page_size(dpi)
    page = Image.new("L", (width, height))
    for y in range(0, height, tile.height):
        for x in range(0, width, tile.width):
            page.paste(tile, (x, y))
    return page
