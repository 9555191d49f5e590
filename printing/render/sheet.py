"""A page being drawn (用紙): an A4 greyscale image addressed in millimetres.

Everything is placed in millimetres from the top-left corner of the paper and converted to
pixels in one place (:meth:`Sheet.px`, rounding half to even as Python does), so a layout is the
same at every resolution and the same pixels come out for the same input.
"""

from __future__ import annotations

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
        size_px = self.font_px(size_mm)
        limit = self.px(max_width)
        while size_px > 1 and font(face, size_px).getlength(text) > limit:
            size_px -= 1
        return self.mm(size_px)

    def text(self, x: float, y: float, text: str, face: Face = Face.MINCHO, size: float = 3.5, *,
             anchor: str = "lm", fill: int = BLACK, max_width: float | None = None,
             stroke: float = 0.0) -> None:
        """``text`` at (x, y) in mm, Pillow's ``anchor`` (default left, vertical middle); shrunk to
        ``max_width`` when given; ``stroke`` thickens the glyphs (a bolder look, in mm)."""
        if not text:
            return
        if max_width is not None:
            size = self.fitted_size(text, face, size, max_width)
        self.draw.text((self.px(x), self.px(y)), text, fill=fill, font=font(face, self.font_px(size)),
                       anchor=anchor, stroke_width=self.px(stroke), stroke_fill=fill)

    def spaced_text(self, cx: float, y: float, text: str, face: Face, size: float, spacing: float,
                    fill: int = BLACK) -> None:
        """``text`` centred on ``cx`` with ``spacing`` mm between characters (見出しの字間)."""
        widths = [self.text_width(char, face, size) for char in text]
        total = sum(widths) + spacing * (len(text) - 1)
        x = cx - total / 2
        for char, width in zip(text, widths, strict=True):
            self.text(x, y, char, face, size, anchor="lm", fill=fill)
            x += width + spacing

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = HAIRLINE,
             fill: int = BLACK) -> None:
        self.draw.line((self.px(x0), self.px(y0), self.px(x1), self.px(y1)), fill=fill,
                       width=max(1, self.px(width)))

    def frame(self, box: Box, width: float = HAIRLINE, fill: int = BLACK) -> None:
        self.draw.rectangle(self.pixels(box), outline=fill, width=max(1, self.px(width)))

    def fill(self, box: Box, value: int = WHITE) -> None:
        self.draw.rectangle(self.pixels(box), fill=value)

    def paste(self, image: Image.Image, x: float, y: float, mask: Image.Image | None = None) -> None:
        self.image.paste(image, (self.px(x), self.px(y)), mask)

    def pixels(self, box: Box) -> tuple[int, int, int, int]:
        """The box's pixel corners (inclusive, as ImageDraw takes them)."""
        return self.px(box.x), self.px(box.y), self.px(box.right) - 1, self.px(box.bottom) - 1
