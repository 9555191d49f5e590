"""The verification block at the foot of every page (検証欄): the QR code, the verification code
and how to use them.

The QR code (error correction M, a quiet zone of four modules, black on white over the
background) carries :class:`printing.payload.PagePayload` for the page, about 230 characters of
the alphanumeric alphabet: version 10, 57 modules. A module is 0.34 mm (4 pixels at 300 dpi, 8 at
600), so the code with its quiet zone is 22 mm square.
"""

from __future__ import annotations

import segno
from PIL import Image

from printing.render.fonts import Face
from printing.render.sheet import HAIRLINE, WHITE, Box, Sheet

MODULE = 0.34  # mm
QUIET_ZONE = 4  # modules
CODE_LABEL = "検証コード"
HINT = (
    "真正性の確認：QRコードを読み取るか、検証サイトで交付番号と検証コードを入力してください。",
    "発行した市区町村の電子署名と、この用紙が交付されたことを確かめられます。",
)


def qr_image(payload: str, module_px: int) -> Image.Image:
    """The QR code of ``payload`` with its quiet zone, mode ``L``, ``module_px`` pixels a module."""
    code = segno.make_qr(payload, error="m")
    size = len(code.matrix) + 2 * QUIET_ZONE
    modules = Image.new("L", (size, size), WHITE)
    modules.putdata([0 if dark else WHITE for row in _bordered(code.matrix) for dark in row])
    return modules.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)


def _bordered(matrix: tuple[bytearray, ...]) -> list[list[int]]:
    width = len(matrix[0]) + 2 * QUIET_ZONE
    blank = [0] * width
    rows = [blank] * QUIET_ZONE + [[0] * QUIET_ZONE + list(row) + [0] * QUIET_ZONE for row in matrix]
    return rows + [blank] * QUIET_ZONE


def draw_verification_block(
    sheet: Sheet, area: Box, payload: str, code: str, page_number: str, page_of: str
) -> None:
    """The block in ``area``: white, a rule above, the QR code on the left, the texts beside it."""
    sheet.fill(area)
    sheet.line(area.x, area.y, area.right, area.y, HAIRLINE)
    qr = qr_image(payload, max(1, sheet.px(MODULE)))
    top = area.y + (area.h - sheet.mm(qr.height)) / 2
    sheet.paste(qr, area.x, top)
    x = area.x + sheet.mm(qr.width) + 3.0
    width = area.right - x
    sheet.text(x, area.y + 4.5, CODE_LABEL, Face.GOTHIC, 3.0, fixed=True)
    sheet.text(x + 18.0, area.y + 4.5, code, Face.GOTHIC, 4.6, stroke=0.08)
    sheet.text(area.right, area.y + 4.5, page_of, Face.GOTHIC, 3.0, anchor="rm")
    sheet.text(x, area.y + 10.5, "交付番号", Face.GOTHIC, 3.0, fixed=True)
    sheet.text(x + 18.0, area.y + 10.5, page_number, Face.GOTHIC, 3.2)
    for line, text in enumerate(HINT):
        sheet.text(x, area.y + 16.0 + 4.0 * line, text, Face.MINCHO, 2.6, max_width=width, fixed=True)
