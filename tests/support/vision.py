"""Models of who looks at a copy-evident background (地紋), to judge it without a person's eye.

- **The eye** at reading distance: the page blurred by about 0.25 mm (the detail a reader resolves
  at 30-40 cm), then the grey inside the latent word's cells and outside compared. The word is
  hidden when both the mean grey (the tone) and its spread (the texture) differ by less than
  :data:`EYE_TOLERANCE` of full scale.
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
EYE_TOLERANCE = 0.015  # of full scale, for the mean and for the spread
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
            and abs(self.spread_inside - self.spread_outside) < EYE_TOLERANCE
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


def regions(dpi: int) -> tuple[Image.Image, Image.Image]:
    """The inner cells of the latent word and of the background in the window (masks, 255 in)."""
    cell = CELL * unit(dpi)
    mask = window(latent_mask(dpi), dpi)
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


def by_eye(page: Image.Image, dpi: int) -> EyeView:
    """What a reader sees of ``page`` (mode ``L``, the whole A4 at ``dpi``)."""
    word, rest = regions(dpi)
    seen = window(page, dpi).crop((0, 0, word.width, word.height))
    seen = seen.filter(ImageFilter.GaussianBlur(EYE_BLUR_MM * dpi / MM_PER_INCH))
    inside, outside = ImageStat.Stat(seen, word), ImageStat.Stat(seen, rest)
    return EyeView(
        1 - inside.mean[0] / 255, 1 - outside.mean[0] / 255, inside.stddev[0] / 255, outside.stddev[0] / 255
    )


def by_copier(page: Image.Image, dpi: int) -> CopyView:
    """What a photocopy keeps of ``page``."""
    word, rest = regions(dpi)
    scanned = window(page, dpi).crop((0, 0, word.width, word.height))
    copy = scanned.filter(ImageFilter.GaussianBlur(COPIER_BLUR_MM * dpi / MM_PER_INCH))
    black = copy.point(lambda value: 255 if value < 128 else 0)
    return CopyView(ImageStat.Stat(black, word).mean[0] / 255, ImageStat.Stat(black, rest).mean[0] / 255)


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
