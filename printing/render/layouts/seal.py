"""印鑑登録証明書: the registered seal's impression (印影) in its box, beside the holder's name,
birth date, sex, registration number and the day the seal was registered. One page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from printing.render import cells
from printing.render.fonts import Face
from printing.render.seals import draw_registered_seal
from printing.render.sheet import HAIRLINE, Box, Sheet

IMPRESSION_BOX = 56.0  # mm square
SEAL_DIAMETER = 18.0  # mm: a common registered seal (they are 8-25 mm)


def draw(page: Mapping[str, Any], sheet: Sheet, area: Box, last: bool) -> None:
    """The body of the (one) page from its content."""
    body = page["body"]
    top = Box(area.x, area.y + 4.0, area.w, IMPRESSION_BOX)
    impression, details = top.columns(IMPRESSION_BOX, area.w - IMPRESSION_BOX)
    sheet.frame(impression, 0.3)
    sheet.line(impression.x, impression.y + 7.0, impression.right, impression.y + 7.0, HAIRLINE)
    sheet.text(
        impression.x + impression.w / 2,
        impression.y + 3.5,
        "印　影",
        Face.GOTHIC,
        3.0,
        anchor="mm",
        fixed=True,
    )
    draw_registered_seal(
        sheet,
        impression.x + impression.w / 2,
        impression.y + 7.0 + (impression.h - 7.0) / 2,
        body["impression"],
        SEAL_DIAMETER,
    )
    heights = (16.0, 10.0, 10.0, 10.0, 10.0)
    rows, y = [], details.y
    for height in heights:
        rows.append(Box(details.x, y, details.w, height))
        y += height
    cells.name(sheet, rows[0], "氏名", body.get("name_kana"), body["name"], size=4.6)
    cells.labelled(sheet, rows[1], "生年月日", body["birth_date"])
    cells.labelled(sheet, rows[2], "性別", body["sex"])
    cells.labelled(sheet, rows[3], "登録番号", body["registration_number"])
    cells.labelled(sheet, rows[4], "登録年月日", body["registered_on"])
    sheet.frame(Box(area.x, top.y, area.w, top.h), 0.3)
    if last:
        cells.blank_end(sheet, area, top.bottom + 2.0)
