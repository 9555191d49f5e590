"""A page being drawn (用紙): an A4 greyscale image addressed in millimetres.

Everything is placed in millimetres from the top-left corner of the paper and converted to
pixels in one place (:meth:`Sheet.px`, rounding half to even as Python does), so a layout is the
same at every resolution and the same pixels come out for the same input.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw

from printing.render.fonts import Face, font

MM_PER_INCH = 25.4
A4 = (210.0, 297.0)  # mm
BLACK, WHITE = 0, 255
HAIRLINE = 0.18  # mm: ruled lines of tables
RULE = 0.35  # mm: outer borders


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
    """One A4 page at ``dpi``, mode ``L`` (0 black … 255 white), on a given background."""

    def __init__(self, background: Image.Image, dpi: int) -> None:
        self.dpi = dpi
        self.image = background.copy()
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
        self.draw.rectangle(self.pixels(box), outline=fill, width=max(1, self.px(width)))

    def fill(self, box: Box, value: int = WHITE) -> None:
        self.draw.rectangle(self.pixels(box), fill=value)

    def rounded_frame(self, box: Box, radius: float, width: float = RULE, fill: int = BLACK) -> None:
        self.draw.rounded_rectangle(
            self.pixels(box), radius=self.px(radius), outline=fill, width=max(1, self.px(width))
        )

    def paste(self, image: Image.Image, x: float, y: float) -> None:
        """``image`` (mode ``L``, opaque) with its top-left corner at (x, y) mm."""
        self.image.paste(image, (self.px(x), self.px(y)))

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


#: the same, kept for the form's own texts (never the content's: see :meth:`Sheet.text`)
_fitted_px = functools.lru_cache(maxsize=1024)(_fit_px)
