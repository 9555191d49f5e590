"""A page being drawn (用紙): an A4 greyscale image addressed in millimetres.

Everything is placed in millimetres from the top-left corner of the paper and converted to
pixels in one place (:meth:`Sheet.px`, rounding half to even as Python does), so a layout is the
same at every resolution and the same pixels come out for the same input.

A page is drawn on white paper and the copy-evident background is laid last, at least
:data:`CLEAR_ZONE` away from anything printed (白抜き), so no dot of it touches a character, a
rule or a seal. What is painted white on purpose (the verification block, the QR code, the
microtext band) stays white.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from printing.render.fonts import Face, font

MM_PER_INCH = 25.4
A4 = (210.0, 297.0)  # mm
BLACK, WHITE = 0, 255
HAIRLINE = 0.18  # mm: ruled lines of tables
RULE = 0.35  # mm: outer borders
CLEAR_ZONE = 0.25  # mm of paper kept free of the background round everything printed
PRINTS_BELOW = 128  # a pixel darker than mid-grey is printed (pages go to the printer cut at half)


@dataclass(frozen=True)
class Box:
    """A rectangle on the paper, in millimetres."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def inset(self, dx: float, dy: float | None = None) -> Box:
        dy = dx if dy is None else dy
        return Box(self.x + dx, self.y + dy, self.w - 2 * dx, self.h - 2 * dy)

    def columns(self, *fractions: float) -> list[Box]:
        """Side by side, widths in proportion to ``fractions``."""
        total, boxes, x = sum(fractions), [], self.x
        for fraction in fractions:
            width = self.w * fraction / total
            boxes.append(Box(x, self.y, width, self.h))
            x += width
        return boxes

    def below(self, height: float, gap: float = 0.0) -> Box:
        """A box of ``height`` just under this one, as wide."""
        return Box(self.x, self.bottom + gap, self.w, height)


class Sheet:
    """One A4 page at ``dpi``, mode ``L`` (0 black … 255 white), to be laid on ``background``
    (an image of the page's size) once drawn: :meth:`lay_background`."""

    def __init__(self, background: Image.Image, dpi: int) -> None:
        self.dpi = dpi
        self.background = background
        self.image = Image.new("L", background.size, WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.kept_white: list[tuple[int, int, int, int]] = []  # pixel boxes painted white on purpose

    def lay_background(self) -> None:
        """The background on the paper, except near the print and where white was painted on
        purpose. Last, once everything is drawn.

        "Near" is worked out on a grid of squares :data:`CLEAR_ZONE` wide: a square holding a
        printed pixel (one darker than :data:`PRINTS_BELOW`, found from the square's mean), and
        the eight round it, stay white, so the background keeps at least :data:`CLEAR_ZONE` (and
        at most twice that) away from every printed pixel. Two passes over the whole page: the
        background lightened where it must not go, then the darker of it and the print."""
        square = max(1, self.px(CLEAR_ZONE))
        clear = _near(self.image, square)
        keep = ImageDraw.Draw(clear)
        for box in self.kept_white:
            keep.rectangle(box, fill=WHITE)
        self.image = ImageChops.darker(self.image, ImageChops.lighter(self.background, clear))
        self.draw = ImageDraw.Draw(self.image)

    def px(self, mm: float) -> int:
        return round(mm * self.dpi / MM_PER_INCH)

    def mm(self, px: int) -> float:
        return px * MM_PER_INCH / self.dpi

    def font_px(self, size_mm: float) -> int:
        return max(1, self.px(size_mm))

    def text_width(self, text: str, face: Face, size_mm: float) -> float:
        return self.mm(round(font(face, self.font_px(size_mm)).getlength(text)))

    def fitted_size(self, text: str, face: Face, size_mm: float, max_width: float) -> float:
        """The largest size up to ``size_mm`` at which ``text`` is at most ``max_width`` wide."""
        return self.mm(_fit_px(text, face, self.font_px(size_mm), self.px(max_width)))

    def text(
        self,
        x: float,
        y: float,
        text: str,
        face: Face = Face.MINCHO,
        size: float = 3.5,
        *,
        anchor: str = "lm",
        fill: int = BLACK,
        max_width: float | None = None,
        stroke: float = 0.0,
        fixed: bool = False,
    ) -> None:
        """``text`` at (x, y) in mm, Pillow's ``anchor`` (default left, vertical middle); shrunk to
        ``max_width`` when given; ``stroke`` thickens the glyphs (a bolder look, in mm).

        ``fixed``: the text is the form's own (a label, a heading), the same on every certificate,
        so its drawing is kept and reused. Never for anything from the content: nothing of a
        resident stays in memory after their pages are drawn.
        """
        if not text:
            return
        if fixed:
            size_px = self.font_px(size)
            if max_width is not None:
                size_px = _fitted_px(text, face, size_px, self.px(max_width))
            mask, left, top = _form_text(text, face, size_px, anchor, self.px(stroke))
            self.ink(mask, self.px(x) + left, self.px(y) + top, fill)
            return
        if max_width is not None:
            size = self.fitted_size(text, face, size, max_width)
        self.draw.text(
            (self.px(x), self.px(y)),
            text,
            fill=fill,
            font=font(face, self.font_px(size)),
            anchor=anchor,
            stroke_width=self.px(stroke),
            stroke_fill=fill,
        )

    def spaced_text(
        self, cx: float, y: float, text: str, face: Face, size: float, spacing: float, fill: int = BLACK
    ) -> None:
        """``text`` centred on ``cx`` with ``spacing`` mm between characters (見出しの字間)."""
        widths = [self.text_width(char, face, size) for char in text]
        total = sum(widths) + spacing * (len(text) - 1)
        x = cx - total / 2
        for char, width in zip(text, widths, strict=True):
            self.text(x, y, char, face, size, anchor="lm", fill=fill, fixed=True)
            x += width + spacing

    def line(
        self, x0: float, y0: float, x1: float, y1: float, width: float = HAIRLINE, fill: int = BLACK
    ) -> None:
        self.draw.line(
            (self.px(x0), self.px(y0), self.px(x1), self.px(y1)), fill=fill, width=max(1, self.px(width))
        )

    def frame(self, box: Box, width: float = HAIRLINE, fill: int = BLACK) -> None:
        pixels, line = self.pixels(box), max(1, self.px(width))
        self.draw.rectangle(pixels, outline=fill, width=line)
        if fill == WHITE:  # a white band (the microtext's): its four sides stay white
            left, top, right, bottom = pixels
            self.kept_white += [
                (left, top, right, top + line - 1),
                (left, bottom - line + 1, right, bottom),
                (left, top, left + line - 1, bottom),
                (right - line + 1, top, right, bottom),
            ]

    def fill(self, box: Box, value: int = WHITE) -> None:
        self.draw.rectangle(self.pixels(box), fill=value)
        if value == WHITE:
            self.kept_white.append(self.pixels(box))

    def rounded_frame(self, box: Box, radius: float, width: float = RULE, fill: int = BLACK) -> None:
        self.draw.rounded_rectangle(
            self.pixels(box), radius=self.px(radius), outline=fill, width=max(1, self.px(width))
        )

    def paste(self, image: Image.Image, x: float, y: float) -> None:
        """``image`` (mode ``L``, opaque: its white stays white) with its top-left corner at (x, y) mm."""
        left, top = self.px(x), self.px(y)
        self.image.paste(image, (left, top))
        self.kept_white.append((left, top, left + image.width - 1, top + image.height - 1))

    def ink(self, mask: Image.Image, left: int, top: int, fill: int = BLACK) -> None:
        """Ink of grey ``fill`` through ``mask`` (255 = ink), its top-left corner at pixel (left, top):
        a seal or a line of microtext over whatever is printed there."""
        self.image.paste(fill, (left, top), mask)

    def pixels(self, box: Box) -> tuple[int, int, int, int]:
        """The box's pixel corners (inclusive, as ImageDraw takes them)."""
        return self.px(box.x), self.px(box.y), self.px(box.right) - 1, self.px(box.bottom) - 1


@functools.lru_cache(maxsize=1024)
def _form_text(
    text: str, face: Face, size_px: int, anchor: str, stroke_px: int
) -> tuple[Image.Image, int, int]:
    """A form's text drawn once as a mask (255 = ink), with its offset from the anchor point."""
    glyphs = font(face, size_px)
    bbox = glyphs.getbbox(text, anchor=anchor, stroke_width=stroke_px)
    left, top, right, bottom = (int(edge) for edge in bbox)
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text(
        (-left, -top), text, fill=255, font=glyphs, anchor=anchor, stroke_width=stroke_px, stroke_fill=255
    )
    return mask, left, top


def _fit_px(text: str, face: Face, size_px: int, limit_px: int) -> int:
    """The largest size up to ``size_px`` at which ``text`` is at most ``limit_px`` long."""
    while size_px > 1 and font(face, size_px).getlength(text) > limit_px:
        size_px -= 1
    return size_px


def _near(page: Image.Image, square: int) -> Image.Image:
    """Where, on ``page``, a ``square``-pixel square of a grid holds a printed pixel or touches one
    that does (255), at the page's size.

    A square's mean is at most ``255 - (255 - p) / n`` with one pixel ``p`` among ``n`` white ones,
    so a printed pixel (``p`` under :data:`PRINTS_BELOW`) always pulls its square's (rounded) mean
    to the limit of :func:`_inked_lut` or under; a square of grey edges alone may count too (more room)."""
    squares = page.reduce(square).point(_inked_lut(square * square))
    squares = squares.filter(ImageFilter.BoxBlur(1)).point(_ANY_LUT)  # the square and its eight
    width, height = page.size
    return squares.resize(
        (width, height), Image.Resampling.NEAREST, box=(0, 0, width / square, height / square)
    )


@functools.lru_cache(maxsize=4)
def _inked_lut(pixels: int) -> list[int]:
    lightest_inked = 255 - (255 - (PRINTS_BELOW - 1)) / pixels  # one pixel just printed, the rest white
    limit = int(lightest_inked + 0.5)  # Image.reduce rounds the mean half up
    return [255 if value <= limit else 0 for value in range(256)]


_ANY_LUT = [0] + [255] * 255

#: the same, kept for the form's own texts (never the content's: see :meth:`Sheet.text`)
_fitted_px = functools.lru_cache(maxsize=1024)(_fit_px)
