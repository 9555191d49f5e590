"""税証明書 (所得証明書, 課税証明書, 所得・課税証明書, 納税証明書): the tax year and the person,
then the figures the kind carries in a ruled table, in yen. One page.

The rows are those present in the content, in a fixed order; the local taxes are named after
the municipality and the prefecture (特別区民税 and 都民税 in a Tokyo ward, 市民税 and 県民税…).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from printing.render import cells
from printing.render.dates import yen
from printing.render.fonts import Face
from printing.render.sheet import Box, Sheet

ROW = 9.0  # mm


def municipal_tax_name(municipality: str) -> str:
    """住民税の市町村分の名前: 特別区民税 (a Tokyo ward), 市民税, 町民税 or 村民税."""
    return {"区": "特別区民税", "町": "町民税", "村": "村民税"}.get(municipality[-1:], "市民税")


def prefectural_tax_name(prefecture: str) -> str:
    """都民税, 道民税, 府民税 or 県民税."""
    return f"{prefecture[-1:]}民税" if prefecture[-1:] in ("都", "道", "府") else "県民税"


def _rows(body: Mapping[str, Any], municipality: Mapping[str, Any]) -> list[tuple[str, int]]:
    names = {
        "total_income": "総所得金額等",
        "deductions": "所得控除額合計",
        "taxable_income": "課税標準額",
        "municipal_tax": municipal_tax_name(municipality["name"]),
        "prefectural_tax": prefectural_tax_name(municipality["prefecture"]),
        "assessed": "年税額",
        "paid": "納付済額",
        "outstanding": "未納額",
    }
    rows = [(label, int(body[key])) for key, label in names.items() if key in body]
    if "municipal_tax" in body and "prefectural_tax" in body:
        rows.append(("税額合計", int(body["municipal_tax"]) + int(body["prefectural_tax"])))
    return rows


def draw(page: Mapping[str, Any], sheet: Sheet, area: Box, last: bool) -> None:
    """The body of the (one) page from its content; the local taxes are named after the page's
    municipality."""
    body, municipality = page["body"], page["municipality"]
    row = Box(area.x, area.y + 2.0, area.w, ROW)
    cells.side_labelled(sheet, row, "年度", f"{body['tax_year']}（{body['income_year']}）", label_width=30.0)
    row = row.below(12.0)
    cells.side_labelled(sheet, row, "氏名", None, label_width=30.0)
    sheet.text(row.x + 32.6, row.y + 3.0, body.get("name_kana", ""), Face.MINCHO, 2.2)
    sheet.text(row.x + 32.6, row.y + 7.6, body["name"], Face.MINCHO, 4.2)
    row = row.below(ROW)
    cells.side_labelled(sheet, row, "生年月日", body["birth_date"], label_width=30.0)
    row = row.below(ROW, gap=6.0)
    heading_label, heading_value = row.columns(0.6, 0.4)
    for box, heading in ((heading_label, "区　分"), (heading_value, "金　額（円）")):
        sheet.frame(box)
        sheet.text(box.x + box.w / 2, box.y + box.h / 2, heading, Face.GOTHIC, 3.0, anchor="mm", fixed=True)
    for label, amount in _rows(body, municipality):
        row = row.below(ROW)
        name_box, amount_box = row.columns(0.6, 0.4)
        sheet.frame(name_box)
        sheet.frame(amount_box)
        sheet.text(name_box.x + 4.0, name_box.y + ROW / 2, label, Face.MINCHO, 3.4, fixed=True)
        sheet.text(amount_box.right - 4.0, amount_box.y + ROW / 2, yen(amount), Face.MINCHO, 3.6, anchor="rm")
    top = area.y + 2.0 + ROW + 12.0 + ROW + 6.0
    sheet.frame(Box(area.x, top, area.w, row.bottom - top), 0.3)
    if last:
        cells.blank_end(sheet, area, row.bottom)
