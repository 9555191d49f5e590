"""``python -m bench.render``: the page renderer's time and memory per page, beside a PDF route.

Our route: :func:`printing.render.render_document` (checks, layout, background, QR) to images in
memory. The PDF route draws the same pages with the same layout code into a reportlab canvas —
IPAex Mincho and Gothic registered as TrueType fonts, the same texts and ruled lines as vector
drawing, the QR code, seals and microtext as embedded images — then rasterises the file with
``pdftoppm -r DPI -gray``; timed end to end (PDF built and written, pdftoppm run to its files).
The PDF route has no copy-evident background unless ``+地紋`` (then the background is one embedded
image per page, as a PDF-based printer would have to do it).

Printed per resolution and certificate: median and p95 time per page for each route and the
ratio (ours / PDF); then memory: the peak resident set of a fresh process rendering each way
(for the PDF route, its own process plus pdftoppm's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

from documents import Document, OpenedDocument, TrustList, b64url_decode, b64url_encode
from printing.page_content import page_contents
from printing.render import render_document
from printing.render.background import background
from printing.render.fonts import Face, font_path
from printing.render.page import PageFacts, draw_page
from printing.render.sheet import A4, BLACK, MM_PER_INCH, WHITE, Box, Sheet

TYPES = ("resident_record", "seal_registration", "tax_combined", "family_register_full")
POINTS_PER_MM = 72 / MM_PER_INCH
_ANCHOR_X = {"l": 0.0, "m": 0.5, "r": 1.0}


class PdfSheet(Sheet):
    """The :class:`Sheet` drawing primitives on a reportlab canvas page, in the same millimetres
    (text measured and fitted with the same fonts as the renderer, so the layout is the same)."""

    def __init__(self, pdf: canvas.Canvas, dpi: int) -> None:
        self.dpi = dpi
        self.pdf = pdf

    def lay_background(self) -> None:
        """Nothing: the PDF route's background, if any, is an image under the page, drawn first."""

    def _x(self, mm: float) -> float:
        return mm * POINTS_PER_MM

    def _y(self, mm: float) -> float:
        return (A4[1] - mm) * POINTS_PER_MM

    def _grey(self, value: int) -> None:
        self.pdf.setFillGray(value / 255)
        self.pdf.setStrokeGray(value / 255)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        face: Face = Face.MINCHO,
        size: float = 3.5,
        *,
        anchor: str = "lm",
        fill: int = BLACK,
        max_width: float | None = None,
        stroke: float = 0.0,
        fixed: bool = False,
    ) -> None:
        if not text:
            return
        if max_width is not None:
            size = self.fitted_size(text, face, size, max_width)
        points = size * POINTS_PER_MM
        width = pdfmetrics.stringWidth(text, face.family, points)
        ascent, descent = pdfmetrics.getAscentDescent(face.family, points)
        baseline = {"m": (ascent + descent) / 2, "s": 0.0, "t": ascent, "b": descent}[anchor[1]]
        self._grey(fill)
        self.pdf.setFont(face.family, points)
        self.pdf.drawString(self._x(x) - width * _ANCHOR_X[anchor[0]], self._y(y) - baseline, text)

    def line(
        self, x0: float, y0: float, x1: float, y1: float, width: float = 0.18, fill: int = BLACK
    ) -> None:
        self._grey(fill)
        self.pdf.setLineWidth(width * POINTS_PER_MM)
        self.pdf.line(self._x(x0), self._y(y0), self._x(x1), self._y(y1))

    def frame(self, box: Box, width: float = 0.18, fill: int = BLACK) -> None:
        inner = box.inset(width / 2)  # the raster frame is drawn inwards from the box
        self._grey(fill)
        self.pdf.setLineWidth(width * POINTS_PER_MM)
        self.pdf.rect(
            self._x(inner.x), self._y(inner.bottom), inner.w * POINTS_PER_MM, inner.h * POINTS_PER_MM
        )

    def rounded_frame(self, box: Box, radius: float, width: float = 0.35, fill: int = BLACK) -> None:
        self._grey(fill)
        self.pdf.setLineWidth(width * POINTS_PER_MM)
        self.pdf.roundRect(
            self._x(box.x),
            self._y(box.bottom),
            box.w * POINTS_PER_MM,
            box.h * POINTS_PER_MM,
            radius * POINTS_PER_MM,
        )

    def fill(self, box: Box, value: int = WHITE) -> None:
        self._grey(value)
        self.pdf.rect(
            self._x(box.x),
            self._y(box.bottom),
            box.w * POINTS_PER_MM,
            box.h * POINTS_PER_MM,
            stroke=0,
            fill=1,
        )

    def paste(self, image: Image.Image, x: float, y: float) -> None:
        width, height = self.mm(image.width), self.mm(image.height)
        self.pdf.drawImage(
            ImageReader(image), self._x(x), self._y(y + height), width * POINTS_PER_MM, height * POINTS_PER_MM
        )

    def ink(self, mask: Image.Image, left: int, top: int, fill: int = BLACK) -> None:
        inked = Image.new("RGB", mask.size, (WHITE, WHITE, WHITE))
        inked.paste((fill, fill, fill), (0, 0), mask)
        width, height = self.mm(mask.width), self.mm(mask.height)
        self.pdf.drawImage(
            ImageReader(inked),
            self._x(self.mm(left)),
            self._y(self.mm(top) + height),
            width * POINTS_PER_MM,
            height * POINTS_PER_MM,
            mask=[255, 255, 255, 255, 255, 255],
        )


def register_fonts() -> None:
    for face in Face:
        if face.family not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(face.family, str(font_path(face))))


def pdf_route(opened: OpenedDocument, dpi: int, folder: Path, with_background: bool) -> int:
    """The document's pages by reportlab and pdftoppm; the number of pages rasterised."""
    document = opened.document
    path = folder / "copy.pdf"
    pdf = canvas.Canvas(str(path), pagesize=(A4[0] * POINTS_PER_MM, A4[1] * POINTS_PER_MM), pageCompression=1)
    contents = page_contents(document.certificate_type, document.content)
    ground = ImageReader(background(dpi)) if with_background else None
    for page, content in enumerate(contents, start=1):
        if ground is not None:
            pdf.drawImage(ground, 0, 0, A4[0] * POINTS_PER_MM, A4[1] * POINTS_PER_MM)
        facts = PageFacts(
            document.certificate_type,
            content,
            page,
            document.pages,
            document.issue_number.page(page, document.pages),
            opened.verification_code,
            opened.page_codes[page - 1],
        )
        draw_page(PdfSheet(pdf, dpi), facts)
        pdf.showPage()
    pdf.save()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(path), str(folder / "page")], check=True)
    return len(contents)


@dataclass(frozen=True)
class Copies:
    """The specimen copies the bench renders, with what verifies them (kept as JSON for the
    memory measurements, so a fresh process need not issue them)."""

    copies: dict[str, OpenedDocument]
    trust: TrustList
    now: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "trust": self.trust.to_json(),
            "copies": {
                name: {
                    "document": opened.document.to_map(),
                    "key_id": opened.key_id,
                    "signature": b64url_encode(opened.signature),
                    "verification_code": opened.verification_code,
                    "page_codes": list(opened.page_codes),
                }
                for name, opened in self.copies.items()
            },
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Copies:
        copies = {
            name: OpenedDocument(
                Document.from_map(entry["document"]),
                entry["key_id"],
                b64url_decode(entry["signature"]),
                entry["verification_code"],
                tuple(entry["page_codes"]),
            )
            for name, entry in value["copies"].items()
        }
        return cls(copies, TrustList.from_json(value["trust"]), dt.datetime.fromisoformat(value["now"]))


def our_route(town: Copies, name: str, dpi: int) -> int:
    opened = town.copies[name]
    pages = render_document(opened, trust=town.trust, expected=opened.document.binding, now=town.now, dpi=dpi)
    return len(pages)


@dataclass
class Timing:
    per_page: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.per_page)

    @property
    def p95(self) -> float:
        ordered = sorted(self.per_page)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(run: Callable[[], int], runs: int) -> Timing:
    per_page = []
    for _ in range(runs):
        start = time.perf_counter()
        pages = run()
        per_page.append((time.perf_counter() - start) / pages)
    return Timing(per_page)


def child_memory(copies: Path, route: str, dpi: int) -> dict[str, float]:
    """Peak resident set (MiB) of a fresh process rendering every type once one way: the
    process's own before and after, and its children's (pdftoppm)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.render", "--child", route, "--dpi", str(dpi), "--copies", str(copies)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.splitlines()[-1])
    return result


def child(copies: Path, route: str, dpi: int) -> None:
    town = Copies.from_json(json.loads(copies.read_text()))
    register_fonts()
    baseline = _peak_rss_kib()
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        for name in TYPES:
            if route == "ours":
                our_route(town, name, dpi)
            else:
                pdf_route(town.copies[name], dpi, Path(folder), with_background=route == "pdf+background")
    peak = _peak_rss_kib()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"baseline": baseline / 1024, "peak": peak / 1024, "children": children / 1024}))


def _peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="renders per type and resolution (default 9)")
    parser.add_argument("--child", choices=("ours", "pdf", "pdf+background"), help=argparse.SUPPRESS)
    parser.add_argument("--dpi", type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument("--copies", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.copies, args.child, args.dpi)
        return
    from devtools.specimens import specimens  # the municipal server's code: not in the children

    issued = specimens()
    town = Copies({name: issued.copies[name] for name in TYPES}, issued.trust, issued.now)
    register_fonts()
    print(
        f"page rendering, {args.runs} runs per certificate and resolution (time per page; "
        "PDF route = reportlab + pdftoppm -gray, end to end)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        for dpi in (300, 600):
            background(dpi)  # built once per process and resolution, as in a running printer
            print(
                f"\n{dpi} dpi               ours med / p95      PDF med / p95       ratio   "
                "PDF+地紋 med   ratio"
            )
            all_ours, all_pdf = [], []
            for name in TYPES:
                opened = town.copies[name]
                ours = timed(functools.partial(our_route, town, name, dpi), args.runs)
                pdf = timed(functools.partial(pdf_route, opened, dpi, Path(folder), False), args.runs)
                full = timed(
                    functools.partial(pdf_route, opened, dpi, Path(folder), True), max(3, args.runs // 3)
                )
                all_ours += ours.per_page
                all_pdf += pdf.per_page
                print(
                    f"{name:26} {ours.median * 1000:6.0f} / {ours.p95 * 1000:4.0f} ms   "
                    f"{pdf.median * 1000:6.0f} / {pdf.p95 * 1000:4.0f} ms   "
                    f"{ours.median / pdf.median:5.2f}   "
                    f"{full.median * 1000:8.0f} ms   {ours.median / full.median:5.2f}"
                )
            ratio = statistics.median(all_ours) / statistics.median(all_pdf)
            verdict = "met" if ratio <= 0.5 else "NOT met"
            print(
                f"{'all pages':26} {statistics.median(all_ours) * 1000:6.0f} ms          "
                f"{statistics.median(all_pdf) * 1000:6.0f} ms          {ratio:5.2f}   "
                f"target (at most half the PDF route's time): {verdict}"
            )
    print(
        "\npeak resident set of a fresh process rendering the four certificates once (MiB, over its "
        "size with everything imported and the copies read)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        copies = Path(folder) / "copies.json"
        copies.write_text(json.dumps(town.to_json(), ensure_ascii=False))
        for dpi, route in itertools.product((300, 600), ("ours", "pdf", "pdf+background")):
            memory = child_memory(copies, route, dpi)
            extra = f", pdftoppm peak {memory['children']:.0f}" if route != "ours" else ""
            print(
                f"  {dpi} dpi {route:15} +{memory['peak'] - memory['baseline']:5.0f} over "
                f"{memory['baseline']:.0f}{extra}"
            )


if __name__ == "__main__":
    main()
