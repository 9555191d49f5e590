"""The frame every page shares (様式): where things are on the A4 sheet, and drawing them.

    ┌ microtext frame (11 mm in from the edges) ───────────────────────────────┐
    │ 東京都千代田区                         交付番号 20261124/131016/…/01    │  header, y 16.5
    │                           住 民 票 の 写 し                             │  title, y 29
    │ body (the certificate's own layout)                   y 40 … 206        │
    │ certification wording, date, mayor and official seal  y 207 … 237       │  (last page)
    │ ┌────────┐ 検証コード · 交付番号 · n / N                                  │
    │ │ signed │ how to verify: the code holds this page's words, signed      │  y 239 … 285
    │ │  code  │                                                              │
    │ └────────┘                                                              │
    └──────────────────────────────────────────────────────────────────────────┘

Every page carries the header, the title, the microtext frame and the verification block; the
certification, with the date, the mayor's name and the electronic official seal (電子公印), is
on the last page, and earlier pages say that the next one follows (次頁に続く). A page is drawn
from its own content (:mod:`printing.page_content`), never from the whole copy's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from printing.render.fonts import Face
from printing.render.layouts import LAYOUTS
from printing.render.microtext import draw_microtext_frame
from printing.render.seals import OFFICIAL_SEAL, draw_official_seal, official_seal_text
from printing.render.sheet import Box, Sheet
from printing.render.verification_block import draw_verification_block

FRAME = Box(11.0, 11.0, 188.0, 275.0)
HEADER_Y = 16.5
TITLE_Y = 29.0
BODY = Box(20.0, 40.0, 170.0, 166.0)
CERTIFICATION = Box(20.0, 207.0, 170.0, 30.0)
VERIFICATION = Box(14.0, 239.0, 182.0, 45.5)  # the page's signed code is up to 43 mm square


@dataclass(frozen=True)
class PageFacts:
    """What one page prints: its content and the facts of its verification block."""

    certificate_type: str
    content: Mapping[str, Any]  # the page's own (printing.page_content), not the whole copy's
    page: int
    pages: int
    page_number: str  # 交付番号 of the page (IssueNumber.page)
    verification_code: str
    payload: str  # the QR code's text: the page's signed code (printing.page_code)

    @property
    def last(self) -> bool:
        return self.page == self.pages

    @property
    def page_of(self) -> str:
        return f"{self.page} / {self.pages}"


def draw_page(sheet: Sheet, facts: PageFacts) -> None:
    """One whole page on ``sheet``, with its certificate type's layout (``KeyError`` for a type
    without one), the copy-evident background laid last."""
    layout = LAYOUTS[facts.certificate_type]
    municipality = facts.content["municipality"]
    draw_microtext_frame(sheet, FRAME, f"{municipality['name']}{facts.page_number}")
    sheet.text(
        16.0, HEADER_Y, f"{municipality['prefecture']}{municipality['name']}", Face.GOTHIC, 3.2, fixed=True
    )  # the municipality's name, mayor and wording are the form's, not a resident's
    sheet.text(194.0, HEADER_Y, f"交付番号　{facts.page_number}", Face.GOTHIC, 2.8, anchor="rm")
    sheet.spaced_text(105.0, TITLE_Y, facts.content["title"], Face.GOTHIC, 7.0, spacing=2.2)
    layout(facts.content, sheet, BODY, facts.last)
    if facts.last:
        _certification(sheet, facts.content)
    else:
        sheet.text(
            CERTIFICATION.right,
            CERTIFICATION.y + 3.0,
            "（次頁に続く）",
            Face.GOTHIC,
            3.0,
            anchor="rm",
            fixed=True,
        )
    draw_verification_block(
        sheet, VERIFICATION, facts.payload, facts.verification_code, facts.page_number, facts.page_of
    )
    sheet.lay_background()


def _certification(sheet: Sheet, content: Mapping[str, Any]) -> None:
    """認証文, the date, the mayor and the official seal."""
    area = CERTIFICATION
    sheet.text(
        area.x + 4.0,
        area.y + 3.0,
        content["certification"],
        Face.MINCHO,
        3.6,
        max_width=area.w - 8.0,
        fixed=True,
    )
    sheet.text(area.x + 10.0, area.y + 11.0, content["certified_on"], Face.MINCHO, 3.6)
    seal_x = area.right + 2.0 - OFFICIAL_SEAL / 2
    seal_y = area.y + 19.5
    name_right = seal_x - OFFICIAL_SEAL / 2 - 1.5
    sheet.text(
        name_right,
        seal_y,
        content["municipality"]["mayor"],
        Face.MINCHO,
        4.6,
        anchor="rm",
        max_width=name_right - area.x - 30.0,
        fixed=True,
    )
    draw_official_seal(sheet, seal_x, seal_y, official_seal_text(content["municipality"]["name"]))
    sheet.text(area.x + 4.0, area.bottom - 1.5, "（公印は電子公印です）", Face.GOTHIC, 2.2, fixed=True)
