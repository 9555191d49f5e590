"""The pictures of the verification page's result (確認結果の画像): the uploaded paper, downscaled,
and each page as issued, drawn from its signed content with the printing renderer; each as a
``data:`` URI, so nothing is stored or served again.

Both run in a worker thread (they take a second or two). The upload was already read and bounded
by :func:`printing.verify.read_codes`: here an image's first frame is downscaled (JPEG), and a
PDF's pages are rasterised at the width shown, with ``pdftoppm`` in a private temporary directory,
removed afterwards. At most :data:`MAX_DRAWN` pages are drawn per upload. Failures are typed and
quote nothing of the page.
"""

from __future__ import annotations

import base64
import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps

from printing.page_code import SignedPageCode
from printing.render import RenderError
from printing.verify import issued_page

WIDTH = 800  # pixels: the width of both pictures as sent (the page shows them smaller)
MAX_DRAWN = 6  # pages drawn as issued per upload (and upload pages shown): each takes about a second
ISSUED_DPI = 150  # the renderer's lowest; downscaled to WIDTH afterwards
PDFTOPPM = "/usr/bin/pdftoppm"
PDF_TIMEOUT = 60.0  # seconds
JPEG_QUALITY = 80
SMOOTHING = 1.2  # pixels at ISSUED_DPI: the background's grid evened out before downscaling


@dataclass(frozen=True)
class Picture:
    """An image ready for the page: its ``data:`` URI and its size in pixels."""

    uri: str
    width: int
    height: int


def uploaded_pictures(data: bytes, wanted: int) -> list[Picture]:
    """The uploaded file's pages (at most ``wanted`` and :data:`MAX_DRAWN`), downscaled to
    :data:`WIDTH`; ``[]`` if they cannot be drawn (the verdicts stand without them)."""
    wanted = max(0, min(wanted, MAX_DRAWN))
    if wanted == 0:
        return []
    try:
        pages = _pdf_pages(data, wanted) if data.startswith(b"%PDF-") else [_first_frame(data)]
    except (OSError, ValueError, SyntaxError, EOFError, subprocess.SubprocessError):
        return []
    return [_jpeg(page) for page in pages]


def issued_picture(code: SignedPageCode) -> Picture | None:
    """The page as issued (PNG), or ``None`` when it cannot be drawn (the content lines stand)."""
    try:
        page = issued_page(code, dpi=ISSUED_DPI)
    except (RenderError, ValueError):
        return None
    # the copy-evident background's dot grid, downscaled, would beat into a moiré: smoothed first
    small = _downscaled(page.convert("L").filter(ImageFilter.GaussianBlur(SMOOTHING)))
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return Picture(_uri("image/png", out.getvalue()), small.width, small.height)


def _first_frame(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "TIFF")) as image:
        image.draft("RGB", (WIDTH, WIDTH * 2))  # a JPEG is decoded at a fraction of its size
        frame = ImageOps.exif_transpose(image) or image
        return frame.convert("RGB")


def _pdf_pages(data: bytes, wanted: int) -> list[Image.Image]:
    with tempfile.TemporaryDirectory(prefix="koufu-verify-page-") as private:  # 0700, removed after
        source = Path(private) / "upload.pdf"
        source.write_bytes(data)
        done = subprocess.run(
            [
                PDFTOPPM,
                "-f",
                "1",
                "-l",
                str(wanted),
                "-scale-to",
                str(WIDTH),
                "-gray",
                str(source),
                f"{private}/page",
            ],
            capture_output=True,
            timeout=PDF_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            return []
        pages = []
        for path in sorted(Path(private).glob("page*.pgm")):
            with Image.open(path, formats=["PPM"]) as image:
                pages.append(image.convert("L"))
        return pages


def _downscaled(image: Image.Image) -> Image.Image:
    if image.width <= WIDTH:
        return image
    height = round(image.height * WIDTH / image.width)
    return image.resize((WIDTH, height), Image.Resampling.LANCZOS)


def _jpeg(image: Image.Image) -> Picture:
    small = _downscaled(image)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return Picture(_uri("image/jpeg", out.getvalue()), small.width, small.height)


def _uri(kind: str, data: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
