"""Pages as a printer, a scanner, a copier or a phone would give them, for the verification tests:
a white A4 page with a certificate's QR code (or another code, or none), smudged, photographed,
photocopied, encoded as PNG, JPEG, TIFF or PDF, and a file that only claims to be a huge image.
"""

from __future__ import annotations

import io
import struct
import zlib

import segno
from PIL import Image, ImageDraw, ImageFilter

from printing.page_code import SignedPageCode

A4_200DPI = (1654, 2339)
#: what an old page's code (KF1, before the signed page codes) looked like: not a page code
KF1_TEXT = (
    "KF1:20261123/131016/T-0001/01/000042:01:01:7K3M-Q0ZD-X4AT:3F2A0B1C4D5E6F70:" + "A" * 52 + ":" + "B" * 103
)


def qr_image(text: str, scale: int = 6) -> Image.Image:
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return Image.open(io.BytesIO(out.getvalue())).convert("L")


def page_image(code: SignedPageCode | None, *, text: str | None = None) -> Image.Image:
    """A white A4 page at 200 dpi with some lines and the page's code at the bottom right (or
    ``text`` in a QR code, or no code)."""
    page = Image.new("L", A4_200DPI, 255)
    draw = ImageDraw.Draw(page)
    for line in range(12):
        draw.text((150, 300 + 60 * line), f"line {line} of a certificate " * 3, fill=0)
    if code is not None or text is not None:
        qr = qr_image(code.text if code is not None else str(text))
        page.paste(qr, (A4_200DPI[0] - qr.width - 120, A4_200DPI[1] - qr.height - 120))
    return page


def smudged_page(code: SignedPageCode) -> Image.Image:
    """The page with a black smear across the middle third of its code (its finder patterns
    untouched): the code is found, and cannot be read."""
    page = page_image(code)
    qr = qr_image(code.text)
    left, top = A4_200DPI[0] - qr.width - 120, A4_200DPI[1] - qr.height - 120
    box = (left + qr.width // 6, top + qr.height // 3, left + qr.width * 5 // 6, top + qr.height * 2 // 3)
    ImageDraw.Draw(page).rectangle(box, fill=0)
    return page


def encoded(image: Image.Image, kind: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def pdf_of(*pages: Image.Image, dpi: int = 200) -> bytes:
    """The pages in a PDF, each an image of ``dpi`` (200 for the plain pages, 300 for a scan of the
    renderer's pages: an A4 page either way)."""
    first, *rest = pages
    return encoded(first, "PDF", save_all=True, append_images=rest, resolution=float(dpi))


def photo_of(page: Image.Image, scale: float = 0.6) -> bytes:
    """A phone's picture of the page: turned on a grey table, ``scale`` of its size, soft (a blur
    of 1 pixel of the photo), dim, JPEG. A 300 dpi page (4 pixels a module) at 0.6 is 2.4 pixels
    a module; a 12 MP phone's picture of a whole A4 page is about 1.2 (4.8)."""
    turned = page.convert("RGB").rotate(17, expand=True, fillcolor=(120, 110, 100))
    small = turned.resize((round(turned.width * scale), round(turned.height * scale)))
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
