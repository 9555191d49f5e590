"""A resident's issuance record printed as plain pages (交付履歴の印刷).

At the kiosk a resident may see every issuance made with their card in the last 12 months, as each
municipality sealed it to the terminal (``koufu-issuance-record/1``, ``documents/issuance_record.py``),
and have it printed free of charge. :func:`render_issuance_record` draws it as A4 greyscale pages at
a resolution (like :func:`printing.render.render_document`) in Japanese or English: the title, a
line on every page that it is **not a certificate**, the period and when it was printed, then per
municipality its name and a table newest first (date and time in JST, store, certificate type in
words, copies, issue numbers with the voided ones marked), paged with 「n / N」.

It must not look like a certificate: no copy-evident background, no microtext, no verification
block or QR code, no seal: black text and thin rules on white paper
(:mod:`printing.render.record_layout`).

A municipality's record is read strictly into :class:`MunicipalRecord`
(:mod:`printing.render.record_model`). Nothing of a record is kept once its pages are drawn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image

from printing.render.errors import UnfitRecord
from printing.render.record_layout import draw_plain_page, record_pages
from printing.render.record_model import Issuance, MunicipalRecord, plain_text
from printing.render.record_words import LANGUAGES

__all__ = ["Issuance", "MunicipalRecord", "render_issuance_record"]

DEFAULT_DPI = 300
MIN_DPI, MAX_DPI = 150, 600  # what the store printer takes (hardware.printer.PrintJob)
MAX_RECORDS = 16  # municipalities in one record (a residence and a domicile in practice)
MAX_UNAVAILABLE = 16


def render_issuance_record(
    records: Sequence[Mapping[str, Any] | MunicipalRecord],
    *,
    language: str,
    printed_at: dt.datetime,
    dpi: int = DEFAULT_DPI,
    unavailable: Sequence[str] = (),
) -> list[Image.Image]:
    """The record's pages, A4 greyscale images (mode ``L``) at ``dpi`` (150-600).

    ``records``: each municipality's opened content (or its :class:`MunicipalRecord`), in the
    order the resident is to read them (the residence first); ``language``: ``ja`` or ``en``;
    ``printed_at``: the moment printed (the kiosk's clock, injected; any time zone, printed in JST);
    ``unavailable``: the names of the municipalities whose record could not be had, printed in a
    note after the rest (the caller's words, in ``language``).

    Raises :class:`UnfitRecord` for a record or a name that cannot be printed, or a record longer
    than :data:`printing.render.record_layout.MAX_PAGES` pages; :class:`FontMissing` without the
    IPAex fonts; ``ValueError`` for another language, a naive ``printed_at`` or a resolution
    outside 150-600 dpi.
    """
    if language not in LANGUAGES:
        raise ValueError(f"the record is printed in one of {', '.join(LANGUAGES)}")
    if not isinstance(printed_at, dt.datetime) or printed_at.utcoffset() is None:
        raise ValueError("printed_at must be an aware datetime")
    if type(dpi) is not int or not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"the resolution must be {MIN_DPI}-{MAX_DPI} dpi")
    if len(records) > MAX_RECORDS:
        raise UnfitRecord(f"more than {MAX_RECORDS} municipalities")
    read = [
        record if isinstance(record, MunicipalRecord) else MunicipalRecord.of(record) for record in records
    ]
    if len(unavailable) > MAX_UNAVAILABLE:
        raise UnfitRecord(f"more than {MAX_UNAVAILABLE} unavailable municipalities")
    names = [plain_text(name, 100, f"unavailable[{index}]") for index, name in enumerate(unavailable)]
    pages = record_pages(read, language=language, printed_at=printed_at, unavailable=names)
    return [draw_plain_page(page, dpi) for page in pages]
