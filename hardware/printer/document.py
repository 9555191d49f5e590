"""The job's file: every page in one multi-page PDF, in a private directory that is removed as
soon as the job is over (the kiosk keeps no copy of a certificate once it is printed or cancelled).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from hardware.printer.job import PrintJob

PREFIX = "koufu-job-"


def bilevel(page: Image.Image) -> Image.Image:
    """The page as the printer lays toner: black or white, thresholded at mid-grey, never
    dithered. Kept lossless in the PDF (CCITT G4); a grey page would be stored as JPEG, whose
    blur fills in the copy-evident background's fine dots."""
    if page.mode == "1":
        return page
    black_or_white = page.convert("L").point(lambda value: 255 if value >= 128 else 0)
    return black_or_white.convert("1", dither=Image.Dither.NONE)


@contextmanager
def job_file(job: PrintJob, parent: Path | None = None) -> Iterator[Path]:
    """``job`` written as one PDF (a page per image, sized by the job's dpi) in a new directory only
    this user can open (0700) under ``parent`` (the system's temporary directory by default); the
    directory and the file are removed when the block ends, whatever happened."""
    directory = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))  # mkdtemp makes it 0700
    try:
        path = directory / "job.pdf"
        first, *rest = (bilevel(page) for page in job.pages)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            first.save(file, "PDF", save_all=True, append_images=rest, resolution=float(job.dpi))
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)
