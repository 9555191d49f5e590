"""住民票の写し and 住民票記載事項証明書: the household's address and head, then one ruled block
for each person of the page (``printing.page_content.PERSONS_PER_PAGE`` to a page).

A person's block: name with its reading, birth date, sex and relationship (続柄, when asked);
the day they became a resident and the day they took this address, and the My Number (個人番号)
only when the content carries it; the previous address; the registered domicile and its head
(本籍・筆頭者, when asked) or, for a foreign resident, nationality, alias, status of residence,
residence card number and period (国籍・地域, 通称, 在留資格, 在留カード等の番号, 在留期間等の満了の日).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from printing.render import cells
from printing.render.sheet import Box, Sheet

HEAD_ROW = 7.5  # mm
FIRST_ROW = 10.0
ROW = 6.5
GAP = 2.5


def draw(page: Mapping[str, Any], sheet: Sheet, area: Box, last: bool) -> None:
    """The body of one page from that page's content."""
    body = page["body"]
    row = Box(area.x, area.y, area.w, HEAD_ROW)
    cells.side_labelled(sheet, row, "住所", body["address"])
    if "head" in body:
        row = row.below(HEAD_ROW)
        cells.side_labelled(sheet, row, "世帯主", body["head"])
    y = row.bottom + 3.0
    for person in body["persons"]:
        y = _person(sheet, Box(area.x, y, area.w, 0.0), person) + GAP
    if last:
        cells.blank_end(sheet, area, y)


def _person(sheet: Sheet, top: Box, person: Mapping[str, Any]) -> float:
    """One person's block from ``top.y``; the y under it."""
    foreign = person.get("foreign_resident")
    first = Box(top.x, top.y, top.w, FIRST_ROW)
    columns: list[tuple[float, str, str]] = [
        (0.30, "生年月日", person["birth_date"]),
        (0.10, "性別", person["sex"]),
    ]
    if "relationship" in person:
        columns.append((0.16, "続柄", person["relationship"]))
    name_fraction = 1.0 - sum(fraction for fraction, _, _ in columns)
    boxes = first.columns(name_fraction, *(fraction for fraction, _, _ in columns))
    cells.name(sheet, boxes[0], "氏名", person.get("name_kana"), person["name"])
    for box, (_, label, value) in zip(boxes[1:], columns, strict=True):
        cells.labelled(sheet, box, label, value)
    row = first.below(ROW)
    dates = [
        ("住民となった年月日", person["became_resident_on"]),
        ("住所を定めた年月日", person["moved_in_on"]),
    ]
    if "my_number" in person:
        dates.append(("個人番号", person["my_number"]))
    for box, (label, value) in zip(row.columns(*([1.0] * len(dates))), dates, strict=True):
        cells.labelled(sheet, box, label, value)
    row = row.below(ROW)
    cells.labelled(sheet, row, "従前の住所", person.get("previous_address"))
    if "domicile" in person:
        row = row.below(ROW)
        place, head = row.columns(0.66, 0.34)
        cells.labelled(sheet, place, "本籍", person["domicile"])
        cells.labelled(sheet, head, "筆頭者", person.get("domicile_head"))
    if foreign is not None:
        row = row.below(ROW)
        nationality, alias, status = row.columns(0.3, 0.3, 0.4)
        cells.labelled(sheet, nationality, "国籍・地域", foreign.get("nationality"))
        cells.labelled(sheet, alias, "通称", foreign.get("alias"))
        cells.labelled(sheet, status, "在留資格", foreign.get("residence_status"))
        row = row.below(ROW)
        card, period = row.columns(0.5, 0.5)
        cells.labelled(sheet, card, "在留カード等の番号", foreign.get("residence_card_number"))
        cells.labelled(sheet, period, "在留期間等の満了の日", foreign.get("residence_period_until"))
    sheet.frame(Box(top.x, top.y, top.w, row.bottom - top.y), 0.3)
    return row.bottom
