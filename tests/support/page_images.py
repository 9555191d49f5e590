"""Pages as a printer, a scanner or a phone would give them, for the verification tests: a white
A4 page with a certificate's QR code (or another code, or none), smudged, photographed, encoded as
PNG, JPEG, TIFF or PDF, and a file that only claims to be a huge image.
"""

from __future__ import annotations

import io
import struct
import zlib

import segno
from PIL import Image, ImageDraw, ImageFilter

from printing.payload import PagePayload

A4_200DPI = (1654, 2339)


def qr_image(text: str, scale: int = 6) -> Image.Image:
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return Image.open(io.BytesIO(out.getvalue())).convert("L")


def page_image(payload: PagePayload | None, *, text: str | None = None) -> Image.Image:
    """A white A4 page at 200 dpi with some lines and the page's code at the bottom right (or
    ``text`` in a QR code, or no code)."""
    page = Image.new("L", A4_200DPI, 255)
    draw = ImageDraw.Draw(page)
    for line in range(12):
        draw.text((150, 300 + 60 * line), f"line {line} of a certificate " * 3, fill=0)
    if payload is not None or text is not None:
        code = qr_image(payload.encode() if payload is not None else str(text))
        page.paste(code, (A4_200DPI[0] - code.width - 120, A4_200DPI[1] - code.height - 120))
    return page


def smudged_page(payload: PagePayload) -> Image.Image:
    """The page with a black smear across its code: the code is found, and cannot be read."""
    page = page_image(payload)
    code = qr_image(payload.encode())
    left, top = A4_200DPI[0] - code.width - 120, A4_200DPI[1] - code.height - 120
    ImageDraw.Draw(page).rectangle((left + 60, top + 150, left + code.width - 60, top + 250), fill=0)
    return page


def encoded(image: Image.Image, kind: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def pdf_of(*pages: Image.Image) -> bytes:
    first, *rest = pages
    return encoded(first, "PDF", save_all=True, append_images=rest, resolution=200.0)


def photo_of(page: Image.Image) -> bytes:
    """A phone's picture of the page: turned on a grey table, smaller, soft, dim, JPEG."""
    turned = page.convert("RGB").rotate(17, expand=True, fillcolor=(120, 110, 100))
    small = turned.resize((turned.width * 6 // 10, turned.height * 6 // 10))
    small = small.filter(ImageFilter.GaussianBlur(1.0))
    return encoded(Image.eval(small, lambda v: 70 + v // 2), "JPEG", quality=60)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
