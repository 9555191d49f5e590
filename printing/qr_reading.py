"""Reading the QR codes of printed pages from a scan, a photo or a PDF (検証用QRコードの読み取り).

An image (PNG, JPEG or TIFF, through Pillow) is tried as it is, then, if no koufu code is found,
as variants a photo may need: grayscale with the contrast stretched, upscaled, sharpened. Where
zxing-cpp finds a code it cannot decode (a phone photo of a 300 dpi page can leave two or three
pixels a module, soft and dim), that spot is cut out and read again close up: its own contrast
stretched, upscaled and sharpened, or upscaled with a local threshold. A PDF is rasterised page
by page with ``pdftoppm -r 200 -gray`` in a private temporary directory, removed afterwards.
Codes are decoded with zxing-cpp.

Everything arrives from strangers, so everything is bounded before it is decoded: the bytes, the
pixels (a small PNG can declare a gigapixel image: a decompression bomb), the pages of a PDF, the
size of a rasterised page, and the time ``pdftoppm`` may take. Each refusal is a typed error.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

import zxingcpp
from PIL import Image, ImageChops, ImageFilter, ImageOps

from documents.errors import DocumentError
from printing.page_code import PREFIX, BadPageCode, SignedPageCode, read_page_code
from printing.payload import FORMAT, BadPayload, PagePayload

MAX_BYTES = 20 * 1024 * 1024  # a phone photo is a few MB, a scanned A4 page in PDF far less
MAX_PIXELS = 50_000_000  # per image: an A4 page at 600 dpi is 35 MP, a phone photo up to 48 MP
MAX_PAGES = 20  # of a PDF, or frames of a TIFF
PDF_DPI = 200
PDF_MAX_SIDE = 4000  # pixels: an A3 page at 200 dpi is 3308; a larger page is cut, never rendered whole
PDF_TIMEOUT = 60.0  # seconds for pdftoppm, against a PDF made to keep it busy
PDFTOPPM = "/usr/bin/pdftoppm"
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF")
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_UPSCALE_BELOW = 2500  # a photo whose longer side is smaller than this is also tried at twice the size
_SHARPEN = ImageFilter.UnsharpMask(radius=2, percent=150, threshold=3)
_CLOSE_UPS = 6  # spots of a page, at most, where a code was seen but not read, that are read close up
_CLOSE_UP_MARGIN = 0.25  # around the spot, of its size: the quiet zone and more, should the spot be short
_CLOSE_UP_SIDE = 2000  # pixels: a close-up is upscaled only while its longer side stays within this


class UnreadableInput(DocumentError):
    """The input cannot be read as printed pages with a koufu code (the base of the errors below)."""

    code = "unreadable_input"


class NotAnImage(UnreadableInput):
    """Neither a PNG, JPEG or TIFF image nor a PDF, or a damaged one."""

    code = "not_an_image"


class TooLarge(UnreadableInput):
    """Over a limit (bytes or pixels), refused before it is decoded."""

    code = "too_large"

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what} is too large: {size:,} over the limit of {limit:,}")
        self.what = what
        self.size = size
        self.limit = limit


class NoCodeFound(UnreadableInput):
    """The pages were read, and none carries a koufu QR code."""

    code = "no_code_found"


class DamagedCode(UnreadableInput):
    """A QR code is there but cannot be read whole (torn, smudged, covered), or its text is not a
    koufu page's complete payload."""

    code = "damaged_code"


def read_payloads(source: str | Path | bytes) -> list[PagePayload]:
    """The payloads of every koufu code on every page of ``source`` (a path, or the file's bytes),
    each once, in issue-number and page order.

    :class:`DamagedCode` when a page shows a code that cannot be read and no page gives a payload,
    :class:`NoCodeFound` when there is no code at all; :class:`NotAnImage`, :class:`TooLarge`.
    """
    found = _read_source(source, _payload_of)
    return sorted(found.values(), key=lambda p: (p.issue_number, p.page))


# --- stand-in (branch verifypage) for the verifier's read_codes, until printing/ brings its own ---


@dataclass(frozen=True)
class ReadPageCode(SignedPageCode):
    """A page code as read, with the code's text beside it (stand-in for ``SignedPageCode.text``)."""

    text: str = field(default="", repr=False)


def read_codes(source: str | Path | bytes) -> list[SignedPageCode]:
    """The signed page codes (``KF2``) on every page of ``source``, each once, in issue-number and
    page order; the errors of :func:`read_payloads`."""
    found = _read_source(source, _page_code_of)
    ordered = sorted(found.items(), key=lambda item: (item[1].claims.issue_number, item[1].claims.page))
    return [
        ReadPageCode(c.claims, c.key_id, c.algorithm, c.cose, c.protected, c.payload, c.signature, text)
        for text, c in ordered
    ]


def _page_code_of(text: str) -> SignedPageCode | None:
    if not text.startswith(PREFIX):
        return None
    try:
        return read_page_code(text)
    except BadPageCode as error:
        raise _NotWhole(str(error)) from None


# --- end of stand-in ---


def _payload_of(text: str) -> PagePayload | None:
    try:
        return PagePayload.decode(text)
    except BadPayload as error:
        if text.startswith(FORMAT + ":"):
            raise _NotWhole(str(error)) from None
        return None


class _NotWhole(Exception):
    """A code of ours whose text is not whole."""


_T = TypeVar("_T")


def _read_source(source: str | Path | bytes, decode: Callable[[str], _T | None]) -> dict[str, _T]:
    """What ``decode`` makes of the koufu codes on every page, by the code's text."""
    data = _bytes_of(source)
    found: dict[str, _T] = {}
    damaged: list[str] = []
    for image in _pages(data):
        decoded, trouble = _read_page(image, decode)
        for text, item in decoded:
            found.setdefault(text, item)
        if not decoded and trouble:
            damaged.append(trouble)
    if not found:
        if damaged:
            raise DamagedCode(damaged[0])
        raise NoCodeFound("no koufu verification code was found on the pages")
    return found


def _bytes_of(source: str | Path | bytes) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise TooLarge("the file", size, MAX_BYTES)
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise TooLarge("the file", len(data), MAX_BYTES)
    if not data:
        raise NotAnImage("the file is empty")
    return data


def _pages(data: bytes) -> Iterator[Image.Image]:
    if data.startswith(b"%PDF-"):
        yield from _pdf_pages(data)
    else:
        yield from _image_frames(data)


def _open_image(data: bytes) -> Image.Image:
    """Pillow's lazy open: the header only, so the size is known before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("the image", MAX_PIXELS + 1, MAX_PIXELS) from None
    except (OSError, ValueError, SyntaxError):
        raise NotAnImage("not a PNG, JPEG or TIFF image, nor a PDF") from None


def _image_frames(data: bytes) -> Iterator[Image.Image]:
    image = _open_image(data)
    frames = getattr(image, "n_frames", 1)
    for index in range(min(frames, MAX_PAGES)):
        try:
            image.seek(index)
            pixels = image.size[0] * image.size[1]
            if pixels > MAX_PIXELS:
                raise TooLarge("the image", pixels, MAX_PIXELS)
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                frame = image.copy()  # loads the pixels
                frame = ImageOps.exif_transpose(frame) or frame  # a photo's orientation
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning):
            raise NotAnImage("the image is damaged and cannot be decoded") from None
        yield frame.convert("RGB") if frame.mode not in ("L", "RGB") else frame


def _pdf_pages(data: bytes) -> Iterator[Image.Image]:
    with tempfile.TemporaryDirectory(prefix="koufu-verify-") as private:  # mode 0700, removed after
        source = Path(private) / "input.pdf"
        source.write_bytes(data)
        try:
            done = subprocess.run(
                [
                    PDFTOPPM,
                    "-r",
                    str(PDF_DPI),
                    "-gray",
                    "-f",
                    "1",
                    "-l",
                    str(MAX_PAGES),
                    "-W",
                    str(PDF_MAX_SIDE),
                    "-H",
                    str(PDF_MAX_SIDE),
                    str(source),
                    str(Path(private) / "page"),
                ],
                capture_output=True,
                timeout=PDF_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise NotAnImage("the PDF takes too long to render") from None
        rendered = sorted(Path(private).glob("page*.pgm"))
        if done.returncode != 0 or not rendered:
            raise NotAnImage("not a readable PDF")
        for page in rendered:
            with Image.open(page, formats=["PPM"]) as image:
                yield image.convert("L")


class _Box(NamedTuple):
    """A spot of the page, in its pixels."""

    left: int
    top: int
    right: int
    bottom: int

    def holds(self, other: _Box) -> bool:
        """Whether ``other`` is much the same spot: its centre inside this one, of a like size."""
        x, y = (other.left + other.right) / 2, (other.top + other.bottom) / 2
        area, others = max(1, self.area), max(1, other.area)
        return self.left <= x <= self.right and self.top <= y <= self.bottom and 0.5 <= others / area <= 2

    @property
    def area(self) -> int:
        return (self.right - self.left) * (self.bottom - self.top)


def _read_page(
    image: Image.Image, decode: Callable[[str], _T | None]
) -> tuple[list[tuple[str, _T]], str | None]:
    """The koufu payloads on one page, and why a code seen there could not be read (or None).

    Each variant of the page is read; where a code is seen in one but not decoded, the spot is
    read close up (each spot once) before the next variant."""
    trouble: str | None = None
    grey = image.convert("L")
    tried: list[_Box] = []
    for variant, scale in _variants(image):
        payloads, trouble, seen = _read(variant, trouble, decode)
        if payloads:
            return payloads, None
        for spot in seen:
            box = _page_box(spot, scale, grey.size)
            if (
                len(tried) >= _CLOSE_UPS
                or box.right <= box.left
                or box.bottom <= box.top
                or any(old.holds(box) for old in tried)
            ):
                continue
            tried.append(box)
            for close_up in _close_ups(grey.crop(box)):
                payloads, trouble, _ = _read(close_up, trouble, decode)
                if payloads:
                    return payloads, None
    return [], trouble


def _read(
    image: Image.Image, trouble: str | None, decode: Callable[[str], _T | None]
) -> tuple[list[tuple[str, _T]], str | None, list[_Box]]:
    """The koufu payloads zxing-cpp reads in ``image``, the trouble so far (the first kept), and
    where it saw codes it could not decode (in ``image``'s pixels, QR codes before the smaller
    Micro and rectangular ones its finder also reports)."""
    payloads: list[tuple[str, _T]] = []
    seen: list[tuple[bool, _Box]] = []
    for barcode in zxingcpp.read_barcodes(image, formats=_QR, return_errors=True):
        if not barcode.valid:
            trouble = trouble or "a QR code is there but cannot be read (damaged or covered)"
            seen.append((barcode.format != zxingcpp.BarcodeFormat.QRCode, _box_of(barcode.position)))
            continue
        try:
            decoded = decode(barcode.text)
        except _NotWhole as error:
            trouble = f"the page's code is not whole: {error}"
            continue
        if decoded is not None:
            payloads.append((barcode.text, decoded))
    seen.sort(key=lambda other: (other[0], -other[1].area))
    return payloads, trouble, [box for _, box in seen]


def _box_of(position: zxingcpp.Position) -> _Box:
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    xs, ys = [corner.x for corner in corners], [corner.y for corner in corners]
    return _Box(min(xs), min(ys), max(xs), max(ys))


def _page_box(spot: _Box, scale: int, size: tuple[int, int]) -> _Box:
    """The spot seen in a variant ``scale`` times the page's size, as a box of the page with a margin."""
    margin = _CLOSE_UP_MARGIN * max(spot.right - spot.left, spot.bottom - spot.top) / scale
    return _Box(
        max(0, int(spot.left / scale - margin)),
        max(0, int(spot.top / scale - margin)),
        min(size[0], int(spot.right / scale + margin) + 1),
        min(size[1], int(spot.bottom / scale + margin) + 1),
    )


def _close_ups(spot: Image.Image) -> Iterator[Image.Image]:
    """A spot where a code was seen and not read, as what helps a code of few pixels a module: its
    own contrast stretched (the page's stretch is set by the whole page), upscaled so that the
    binarizer's edges fall between the pixels, and that sharpened or thresholded against the
    neighbourhood's mean (a local threshold: a blurred light module between dark ones stays
    lighter than its surroundings, though darker than the paper)."""
    spot = ImageOps.autocontrast(spot)
    yield spot
    for factor in (2, 3, 4):
        if max(spot.size) * factor > _CLOSE_UP_SIDE:
            return
        large = spot.resize((spot.width * factor, spot.height * factor), Image.Resampling.BICUBIC)
        if factor == 2:
            yield large.filter(_SHARPEN)
        else:
            yield _local_threshold(large, radius=4 * factor)
            yield large.filter(ImageFilter.UnsharpMask(radius=factor, percent=150, threshold=3))


def _local_threshold(image: Image.Image, radius: int) -> Image.Image:
    """Black where a pixel is darker than the mean of the box of ``radius`` around it, else white."""
    mean = image.filter(ImageFilter.BoxBlur(radius))
    return ImageChops.subtract(image, mean, 1.0, 128).point(lambda value: 255 if value >= 128 else 0)


def _variants(image: Image.Image) -> Iterator[tuple[Image.Image, int]]:
    """The image as it is, then what helps a photo: grey with the contrast stretched, twice the
    size if it is small, and that sharpened (a soft photo's modules of two or three pixels run
    into each other; an unsharp mask separates them again); each with its scale to the page.

    The stretch clips the lightest percent only: clipping the darkest too would set black at the
    level of a small code's own light modules (they are the darkest percent of a page, and blurred
    between dark ones they stay grey), turning the code into a black square."""
    yield image, 1
    grey = ImageOps.autocontrast(image.convert("L"), cutoff=(0, 1))
    yield grey, 1
    scale = 1
    if max(grey.size) < _UPSCALE_BELOW and grey.size[0] * grey.size[1] * 4 <= MAX_PIXELS:
        grey = grey.resize((grey.size[0] * 2, grey.size[1] * 2), Image.Resampling.BICUBIC)
        scale = 2
        yield grey, scale
    yield grey.filter(_SHARPEN), scale
    yield grey.point(lambda value: 255 if value >= 128 else 0), scale
