"""The verification block at the foot of every page (検証欄): the QR code, the verification code
and how to use them.

The QR code (error correction M, a quiet zone of four modules, black on white over the
background) carries the page's signed code (:mod:`printing.page_code`: the page's words, signed by
the municipality), 900-1,400 characters of the alphanumeric alphabet: version 19-25, up to 117
modules. A module is 0.34 mm (4 pixels at 300 dpi, 8 at 600), so the code with its quiet zone is
at most 43 mm square.
"""

from __future__ import annotations

import zxingcpp
from PIL import Image, ImageOps

from printing.render.fonts import Face
from printing.render.sheet import HAIRLINE, WHITE, Box, Sheet

MODULE = 0.34  # mm
QUIET_ZONE = 4  # modules
EC_LEVEL = "M"  # error correction: about 15 % of the code may be lost
CODE_LABEL = "検証コード"
HINT = (
    "真正性の確認：左のQRコードには、このページの記載内容が発行した市区町村の電子署名とともに",
    "収められています。読み取ると交付された内容が表示されますので、この用紙の記載と見比べてください。",
    "検証サイトでは、QRコードの画像または交付番号と検証コードから、この写しが有効かを確かめられます。",
)


def qr_image(payload: str, module_px: int) -> Image.Image:
    """The QR code of ``payload`` with its quiet zone, mode ``L``, ``module_px`` pixels a module.

    Encoded by zxing-cpp's writer (C++: the mask chosen by the standard's penalty rules in about
    2 ms, where a pure-Python encoder took 40 ms for a version-25 code), error correction M, the
    alphanumeric mode for a page code's text."""
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=EC_LEVEL)
    image = zxingcpp.write_barcode_to_image(code, scale=1, add_quiet_zones=False)
    height, width = image.shape  # one pixel a module: 0 dark, 255 light
    modules = Image.frombytes("L", (width, height), bytes(image))  # type: ignore[call-overload]
    bordered = ImageOps.expand(modules, QUIET_ZONE, fill=WHITE)
    size = (bordered.width * module_px, bordered.height * module_px)
    return bordered.resize(size, Image.Resampling.NEAREST)


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
