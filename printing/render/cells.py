"""Ruled cells, the parts of every certificate's tables (罫線の枠): a small Gothic label in the
corner and the value in Mincho, or the label in a column of its own on the left."""

from __future__ import annotations

from printing.render.fonts import Face
from printing.render.sheet import HAIRLINE, Box, Sheet

LABEL = 1.9  # mm: a corner label
SIDE_LABEL = 2.8  # mm: a label in its own column
VALUE = 3.2  # mm: a value
PADDING = 1.6  # mm


def labelled(
    sheet: Sheet, box: Box, label: str, value: str | None, *, size: float = VALUE, align: str = "l"
) -> None:
    """A ruled cell: ``label`` in the top-left corner, ``value`` below it (left or right aligned)."""
    sheet.frame(box, HAIRLINE)
    sheet.text(box.x + 0.8, box.y + 1.5, label, Face.GOTHIC, LABEL, max_width=box.w - 1.6, fixed=True)
    if value:
        y = (box.y + 2.6 + box.bottom) / 2
        if align == "r":
            sheet.text(
                box.right - PADDING, y, value, Face.MINCHO, size, anchor="rm", max_width=box.w - 2 * PADDING
            )
        else:
            sheet.text(box.x + PADDING, y, value, Face.MINCHO, size, max_width=box.w - 2 * PADDING)


def name(sheet: Sheet, box: Box, label: str, kana: str | None, full_name: str, *, size: float = 4.0) -> None:
    """A name cell: the label, the reading (ふりがな) small above, the name large."""
    sheet.frame(box, HAIRLINE)
    sheet.text(box.x + 0.8, box.y + 1.5, label, Face.GOTHIC, LABEL, fixed=True)
    width = box.w - 2 * PADDING - 6.0
    if kana:
        sheet.text(box.x + 6.0, box.y + 1.6, kana, Face.MINCHO, 2.2, max_width=width)
    sheet.text(box.x + 6.0, box.y + box.h * 0.62, full_name, Face.MINCHO, size, max_width=width)


def side_labelled(
    sheet: Sheet,
    box: Box,
    label: str,
    value: str | None,
    *,
    label_width: float = 24.0,
    size: float = 3.5,
    align: str = "l",
) -> None:
    """A ruled row: ``label`` centred in a column of ``label_width`` on the left, ``value`` beside it."""
    sheet.frame(box, HAIRLINE)
    sheet.line(box.x + label_width, box.y, box.x + label_width, box.bottom, HAIRLINE)
    middle = box.y + box.h / 2
    sheet.text(
        box.x + label_width / 2,
        middle,
        label,
        Face.GOTHIC,
        SIDE_LABEL,
        anchor="mm",
        max_width=label_width - 2 * PADDING,
        fixed=True,
    )
    if value:
        room = box.w - label_width - 2 * PADDING - 1.0
        if align == "r":
            sheet.text(
                box.right - PADDING - 1.0, middle, value, Face.MINCHO, size, anchor="rm", max_width=room
            )
        else:
            sheet.text(box.x + label_width + PADDING + 1.0, middle, value, Face.MINCHO, size, max_width=room)


def blank_end(sheet: Sheet, area: Box, y: float) -> None:
    """「以下余白」 (nothing follows) under the last entry, when there is room for it."""
    if y + 4.0 <= area.bottom:
        sheet.text(area.right - 2.0, y + 3.0, "以下余白", Face.MINCHO, 3.2, anchor="rm", fixed=True)
