"""戸籍の附票の写し: the domicile and head (本籍・筆頭者, when asked), then each recorded
person's addresses in a ruled table — the address, the day it was taken, the day it ended —
``ADDRESS_LINES_PER_PAGE`` address lines to a page, the person's name where their lines begin on
a page."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from printing.render import cells
from printing.render.fonts import Face
from printing.render.layouts.common import PageBody
from printing.render.sheet import Box, Sheet

ADDRESS_LINES_PER_PAGE = 12  # as center.municipal.certificates
HEAD_ROW = 7.5  # mm
ROW = 10.5
COLUMNS = (0.2, 0.48, 0.16, 0.16)
HEADINGS = ("氏　名", "住　所", "住所を定めた年月日", "転出等の年月日")

Line = tuple[Mapping[str, Any], Mapping[str, Any] | None]  # (person, address line or None)


def pages(content: Mapping[str, Any]) -> list[PageBody]:
    body = content["body"]
    parts = paginate(body["members"])
    return [functools.partial(_page, body, part, index == len(parts) - 1) for index, part in enumerate(parts)]


def paginate(members: Sequence[Mapping[str, Any]]) -> list[list[Line]]:
    """The rows of each page: only address lines count towards a page's twelve (a person with
    none still gets a row, on the page where they come)."""
    parts: list[list[Line]] = [[]]
    counted = 0
    for member in members:
        addresses = member["addresses"] or [None]
        for address in addresses:
            if address is not None:
                if counted == ADDRESS_LINES_PER_PAGE:
                    parts.append([])
                    counted = 0
                counted += 1
            parts[-1].append((member, address))
    return parts


def _page(body: Mapping[str, Any], lines: list[Line], last: bool, sheet: Sheet, area: Box) -> None:
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
    previous: Mapping[str, Any] | None = None
    for member, address in lines:
        row = row.below(ROW)
        name, place, start, end = row.columns(*COLUMNS)
        for box in (name, place, start, end):
            sheet.frame(box)
        if member is not previous:
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
        previous = member
        if address is not None:
            sheet.text(
                place.x + 1.5,
                place.y + ROW / 2,
                address["address"],
                Face.MINCHO,
                3.1,
                max_width=place.w - 3.0,
            )
            sheet.text(
                start.x + 1.2, start.y + ROW / 2, address["from"], Face.MINCHO, 2.8, max_width=start.w - 2.4
            )
            sheet.text(
                end.x + 1.2, end.y + ROW / 2, address.get("to") or "", Face.MINCHO, 2.8, max_width=end.w - 2.4
            )
    sheet.frame(Box(area.x, heading.y, area.w, row.bottom - heading.y), 0.3)
    if last:
        cells.blank_end(sheet, area, row.bottom)
