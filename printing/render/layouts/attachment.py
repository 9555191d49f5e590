"""戸籍の附票の写し: the domicile and head (本籍・筆頭者, when asked), then the addresses of each
person of the page in a ruled table — the address, the day it was taken, the day it ended — the
person's name where their lines begin on the page (which lines go on which page:
``printing.page_content``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from printing.render import cells
from printing.render.fonts import Face
from printing.render.sheet import Box, Sheet

HEAD_ROW = 7.5  # mm
ROW = 10.5
COLUMNS = (0.2, 0.48, 0.16, 0.16)
HEADINGS = ("氏　名", "住　所", "住所を定めた年月日", "転出等の年月日")


def draw(page: Mapping[str, Any], sheet: Sheet, area: Box, last: bool) -> None:
    """The body of one page from that page's content."""
    body = page["body"]
    y = area.y
    if "domicile" in body:
        row = Box(area.x, y, area.w, HEAD_ROW)
        cells.side_labelled(sheet, row, "本籍", body["domicile"])
        row = row.below(HEAD_ROW)
        cells.side_labelled(sheet, row, "筆頭者", body.get("head_name"))
        y = row.bottom + 3.0
    heading = Box(area.x, y, area.w, 7.0)
    for box, text in zip(heading.columns(*COLUMNS), HEADINGS, strict=True):
        sheet.frame(box)
        sheet.text(
            box.x + box.w / 2,
            box.y + box.h / 2,
            text,
            Face.GOTHIC,
            2.6,
            anchor="mm",
            max_width=box.w - 2,
            fixed=True,
        )
    row = heading
    for member in body["members"]:
        for line, address in enumerate(member["addresses"] or [None]):
            row = _line(sheet, row.below(ROW), member if line == 0 else None, address)
    sheet.frame(Box(area.x, heading.y, area.w, row.bottom - heading.y), 0.3)
    if last:
        cells.blank_end(sheet, area, row.bottom)


def _line(sheet: Sheet, row: Box, member: Mapping[str, Any] | None, address: Mapping[str, Any] | None) -> Box:
    """One ruled row: the person's name on the first of their lines (``member``), the address."""
    name, place, start, end = row.columns(*COLUMNS)
    for box in (name, place, start, end):
        sheet.frame(box)
    if member is not None:
        sheet.text(
            name.x + 1.5,
            name.y + ROW * (0.4 if member.get("removed") else 0.5),
            member["name"],
            Face.MINCHO,
            3.2,
            max_width=name.w - 3.0,
        )
        if member.get("removed"):
            sheet.text(name.x + 1.5, name.y + ROW * 0.78, "（除籍）", Face.GOTHIC, 2.3, fixed=True)
    if address is not None:
        sheet.text(
            place.x + 1.5, place.y + ROW / 2, address["address"], Face.MINCHO, 3.1, max_width=place.w - 3.0
        )
        sheet.text(
            start.x + 1.2, start.y + ROW / 2, address["from"], Face.MINCHO, 2.8, max_width=start.w - 2.4
        )
        sheet.text(
            end.x + 1.2, end.y + ROW / 2, address.get("to") or "", Face.MINCHO, 2.8, max_width=end.w - 2.4
        )
    return row
