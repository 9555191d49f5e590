"""戸籍全部事項証明書 and 戸籍個人事項証明書 in the computerised register's form: the domicile
(本籍), the head's name (筆頭者) and the register's own entry (戸籍事項), then for each person
recorded (戸籍に記録されている者) the name, birth date, parents and relationship (続柄) and their
civil-status entries (身分事項), for each person of the page
(``printing.page_content.REGISTER_MEMBERS_PER_PAGE`` to a page), their lines closer together when
the page's entries are too long for it. A person who has left the register is marked 除籍."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from printing.render import cells
from printing.render.dates import wareki_of
from printing.render.fonts import Face
from printing.render.sheet import HAIRLINE, Box, Sheet

LABEL_COLUMN = 26.0  # mm
LINE = 4.7  # mm between lines of a person's entry
TEXT = 3.2  # mm
HEAD_ROW = 7.5
EVENTS = {
    "birth": "出生",
    "marriage": "婚姻",
    "entry": "入籍",
    "death": "死亡",
    "divorce": "離婚",
    "separation": "分籍",
    "transfer": "転籍",
}


def draw(page: Mapping[str, Any], sheet: Sheet, area: Box, last: bool) -> None:
    """The body of one page from that page's content."""
    body = page["body"]
    members: Sequence[Mapping[str, Any]] = body["members"]
    row = Box(area.x, area.y, area.w, HEAD_ROW)
    cells.side_labelled(sheet, row, "本籍", body["domicile"], label_width=LABEL_COLUMN)
    row = row.below(HEAD_ROW)
    cells.side_labelled(sheet, row, "氏名", body["head_name"], label_width=LABEL_COLUMN)
    row = row.below(HEAD_ROW)
    cells.side_labelled(
        sheet,
        row,
        "戸籍事項",
        f"戸籍編製　　【編製日】{body['compiled_on']}",
        label_width=LABEL_COLUMN,
        size=TEXT,
    )
    top = row.bottom + 3.0
    lines = [_lines(member) for member in members]
    needed = sum(len(entry) + len(events) for entry, events in lines) * LINE + len(lines) * 3.0
    scale = min(1.0, (area.bottom - top - 6.0) / needed) if needed else 1.0
    y = top
    for member, (entry, events) in zip(members, lines, strict=True):
        y = _member(sheet, Box(area.x, y, area.w, 0.0), member, entry, events, scale) + 3.0 * scale
    if last:
        cells.blank_end(sheet, area, y)


def _lines(member: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    entry = [
        f"【名】{member['name']}",
        f"【生年月日】{member['birth_date']}",
        f"【父】{member.get('father') or ''}",
        f"【母】{member.get('mother') or ''}",
        f"【続柄】{member['relationship']}",
    ]
    events = []
    for event in member.get("events", ()):
        label = EVENTS.get(event["kind"], event["kind"])
        events.append(f"{label}　　【{label}日】{wareki_of(event['date'])}　　{event.get('detail', '')}")
    return entry, events


def _member(
    sheet: Sheet, top: Box, member: Mapping[str, Any], entry: list[str], events: list[str], scale: float
) -> float:
    line, size = LINE * scale, TEXT * scale
    entry_box = Box(top.x, top.y, top.w, line * len(entry) + 1.0)
    events_box = entry_box.below(line * max(1, len(events)) + 1.0)
    for box, label in ((entry_box, "戸籍に記録されている者"), (events_box, "身分事項")):
        sheet.frame(box, HAIRLINE)
        sheet.line(box.x + LABEL_COLUMN, box.y, box.x + LABEL_COLUMN, box.bottom, HAIRLINE)
        sheet.text(
            box.x + LABEL_COLUMN / 2,
            box.y + 0.5 + line / 2,
            label,
            Face.GOTHIC,
            2.5,
            anchor="mm",
            max_width=LABEL_COLUMN - 2.0,
            fixed=True,
        )
    x, width = top.x + LABEL_COLUMN + 2.5, top.w - LABEL_COLUMN - 5.0
    for index, text in enumerate(entry):
        sheet.text(x, entry_box.y + 0.5 + line * (index + 0.5), text, Face.MINCHO, size, max_width=width)
    for index, text in enumerate(events):
        sheet.text(x, events_box.y + 0.5 + line * (index + 0.5), text, Face.MINCHO, size, max_width=width)
    if member.get("removed"):
        mark = Box(top.x + 3.0, entry_box.y + line * 2.0, LABEL_COLUMN - 6.0, line * 1.6)
        sheet.rounded_frame(mark, 1.2, 0.3)
        sheet.text(
            mark.x + mark.w / 2,
            mark.y + mark.h / 2,
            "除　籍",
            Face.GOTHIC,
            3.0 * scale,
            anchor="mm",
            fixed=True,
        )
    sheet.frame(Box(top.x, top.y, top.w, events_box.bottom - top.y), 0.3)
    return events_box.bottom
