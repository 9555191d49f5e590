"""The verification block at the foot of every page (検証欄): the QR code, the verification code
and how to use them.

The QR code (error correction M, a quiet zone of four modules, black on white over the
background) carries the page's signed code (:mod:`printing.page_code`: the page's words, signed by
the municipality), 900-1,400 characters of the alphanumeric alphabet: version 19-25, up to 117
modules. A module is 0.34 mm (4 pixels at 300 dpi, 8 at 600), so the code with its quiet zone is
at most 43 mm square.
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
    "真正性の確認：左のQRコードには、このページの記載内容が発行した市区町村の電子署名とともに",
    "収められています。読み取ると交付された内容が表示されますので、この用紙の記載と見比べてください。",
    "検証サイトでは、QRコードの画像または交付番号と検証コードから、この写しが有効かを確かめられます。",
)


def qr_image(payload: str, module_px: int) -> Image.Image:
    """The QR code of ``payload`` with its quiet zone, mode ``L``, ``module_px`` pixels a module."""
    code = segno.make_qr(payload, error="m", mode="alphanumeric" if _alphanumeric(payload) else None)
    size = len(code.matrix) + 2 * QUIET_ZONE
    modules = Image.new("L", (size, size), WHITE)
    modules.putdata([0 if dark else WHITE for row in _bordered(code.matrix) for dark in row])
    return modules.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)


def _alphanumeric(text: str) -> bool:
    return all(c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" for c in text)


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
    sheet.text(x, area.y + 7.0, CODE_LABEL, Face.GOTHIC, 3.0, fixed=True)
    sheet.text(x + 18.0, area.y + 7.0, code, Face.GOTHIC, 4.6, stroke=0.08)
    sheet.text(area.right, area.y + 7.0, page_of, Face.GOTHIC, 3.0, anchor="rm")
    sheet.text(x, area.y + 14.0, "交付番号", Face.GOTHIC, 3.0, fixed=True)
    sheet.text(x + 18.0, area.y + 14.0, page_number, Face.GOTHIC, 3.2)
    for line, text in enumerate(HINT):
        sheet.text(x, area.y + 24.0 + 4.5 * line, text, Face.MINCHO, 2.6, max_width=width, fixed=True)
