"""Print jobs for the printer tests and what became of them on the private CUPS server
(:mod:`support.fixtures_cups`): numbered A4 pages, a job of them, the pages of the PDF the test
backend kept, the jobs a queue has not completed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image, ImageDraw

from hardware.printer import PrintJob
from support.fixtures_cups import CupsServer

DPI = 100


def pages(count: int, mode: str = "L") -> list[Image.Image]:
    """``count`` A4 pages at 100 dpi, each with its number drawn on it."""
    result = []
    for number in range(1, count + 1):
        page = Image.new(mode, (827, 1170), "white")
        ImageDraw.Draw(page).text((100, 100), f"page {number} of {count}", fill="black")
        result.append(page)
    return result


def job(name: str, count: int = 2) -> PrintJob:
    return PrintJob(name, pages(count), dpi=DPI)


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def pending(cups_server: CupsServer, queue: str) -> str:
    return cups_server.run("lpstat", "-W", "not-completed", "-o", queue).strip()
