"""The issuance record's page (交付履歴の様式): plain, so that nobody takes it for a certificate.

    交付履歴                                                                  title, y 20
    ┌────────────────────────────────────────────────────────────────────┐
    │ この用紙は証明書ではありません                                     │  notice, y 26 … 39
    │ あなたのマイナンバーカードで交付された証明書の記録を…               │
    └────────────────────────────────────────────────────────────────────┘
    対象期間 2025年12月1日～2026年12月1日           印刷日時 2026年12月1日 10:15   y 45
    千代田区（131016）                                                      a heading per municipality
    交付日時 │ 店舗 │ 証明書 │ 通数 │ 交付番号                                a table, newest first
    …                                                                       y 52 … 279
    この用紙は証明書ではありません                       1 / 2               footer, y 287

Black text in IPAex Gothic and thin rules on white paper, nothing else: no copy-evident background,
no microtext frame, no verification block or QR code, no seal. The page is planned first
(:func:`record_pages`: every text and rule in millimetres, a :class:`PlainPage`), then drawn
(:func:`draw_plain_page`), so a page's words can be checked where they are drawn. A section that
goes on to the next page is headed again, with 「（続き）」; a row is never split, except one with
more issue numbers than a page holds, whose numbers go on in rows of their own. Widths are measured
at one resolution (:data:`MEASURED_AT`) with room to spare, so the paging is the same at every
resolution.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from documents.basics import JST
from printing.render.background import page_size
from printing.render.errors import UnfitRecord
from printing.render.fonts import Face, font
from printing.render.record_model import Issuance, MunicipalRecord
from printing.render.record_words import certificate_type, day, moment, period, word
from printing.render.sheet import HAIRLINE, MM_PER_INCH, RULE, WHITE, Sheet

MAX_PAGES = 200
MEASURED_AT = 600  # dpi at which widths are measured for wrapping
SLACK = 1.0  # mm left free in every cell (a lower resolution's glyphs may round wider)

LEFT, RIGHT = 20.0, 190.0
TITLE_Y = 20.0
NOTICE_TOP, NOTICE_BOTTOM = 26.0, 39.0
FACTS_Y = 45.0
BODY_TOP, BODY_BOTTOM = 52.0, 279.0
FOOTER_Y = 287.0

TEXT = 2.7  # mm: a table's text
NUMBER = 2.5  # mm: an issue number
LABEL = 2.4  # mm: a column's heading
LINE = 3.9  # mm between lines of a row
ROW_PAD = 1.1  # mm above and below a row's lines
HEADER_H = 6.0
HEADING = 3.6
HEADING_H = 8.0
NOTE = 2.7
NOTE_LINE = 4.5
SECTION_GAP = 5.0
CELL_PAD = 1.5
MAX_CELL_LINES = 3  # a store's name or a type's words: more is cut with …
MAX_ROW_NUMBERS = 40  # issue-number lines of one row; more go on in rows of their own

#: the table's columns: (word, width in mm)
COLUMNS = (("when", 26.0), ("store", 34.0), ("type", 33.0), ("copies", 10.0), ("numbers", 67.0))


@dataclass(frozen=True)
class Text:
    """A text at (x, y) mm, Pillow's ``anchor``; ``form``: the page's own words (kept drawn for the
    next page), never a record's."""

    x: float
    y: float
    text: str
    size: float
    anchor: str = "lm"
    stroke: float = 0.0
    form: bool = False
    face: Face = Face.GOTHIC


@dataclass(frozen=True)
class Rule:
    """A straight rule from (x0, y0) to (x1, y1) mm, ``width`` mm thick."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: float = HAIRLINE


@dataclass(frozen=True)
class PlainPage:
    """Everything one page prints, in millimetres."""

    number: int
    count: int
    items: tuple[Text | Rule, ...]

    @property
    def texts(self) -> list[str]:
        return [item.text for item in self.items if isinstance(item, Text)]


def record_pages(
    records: Sequence[MunicipalRecord], *, language: str, printed_at: dt.datetime, unavailable: Sequence[str]
) -> list[PlainPage]:
    """The record's pages, planned: each municipality's section, then the notes and 「以上」,
    each page framed by the title, the notice, the period, the moment printed (``printed_at``, aware,
    shown in JST) and 「n / N」.
    :class:`UnfitRecord` beyond :data:`MAX_PAGES` pages."""
    pager = _Pager()
    if not records:
        pager.note(word("nothing", language))
    for record in records:
        _section(pager, record, language)
    if unavailable:
        pager.note(word("unavailable", language) + ("、" if language == "ja" else ", ").join(unavailable))
    if any(issuance.voided for record in records for issuance in record.issuances):
        pager.note(word("legend", language))
    pager.note(word("end", language), right=True)
    bodies = pager.pages
    if len(bodies) > MAX_PAGES:
        raise UnfitRecord(f"the record makes more than {MAX_PAGES} pages")
    facts = _facts(records, language, printed_at.astimezone(JST))
    return [
        PlainPage(number, len(bodies), (*facts, *_footer(number, len(bodies), language), *body))
        for number, body in enumerate(bodies, start=1)
    ]


def draw_plain_page(page: PlainPage, dpi: int) -> Image.Image:
    """``page`` drawn: an A4 greyscale image (mode ``L``) at ``dpi``, black on white only."""
    sheet = Sheet(_paper(dpi), dpi)
    for item in page.items:
        if isinstance(item, Rule):
            sheet.line(item.x0, item.y0, item.x1, item.y1, item.width)
        else:
            sheet.text(
                item.x,
                item.y,
                item.text,
                item.face,
                item.size,
                anchor=item.anchor,
                stroke=item.stroke,
                fixed=item.form,
            )
    return sheet.image


@functools.lru_cache(maxsize=2)
def _paper(dpi: int) -> Image.Image:
    """A white A4 sheet: the sheet's size only; nothing is laid on the page from it."""
    return Image.new("L", page_size(dpi), WHITE)


# -- planning ------------------------------------------------------------------------------------


@dataclass
class _Pager:
    """Pages filled from the top of the body down; a block that does not fit starts a new page."""

    pages: list[list[Text | Rule]] = field(default_factory=lambda: [[]])
    y: float = BODY_TOP

    def room(self, height: float) -> bool:
        return self.y + height <= BODY_BOTTOM

    def keep(self, height: float) -> None:
        """A new page unless ``height`` fits below (a page already empty takes it as it is)."""
        if not self.room(height) and self.y > BODY_TOP:
            self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = BODY_TOP

    def put(self, *items: Text | Rule) -> None:
        self.pages[-1].extend(items)

    def note(self, text: str, *, right: bool = False) -> None:
        if not text:
            return
        lines = _wrap(text, NOTE, RIGHT - LEFT - SLACK, 10)
        self.keep(NOTE_LINE * len(lines) + 1.0)
        for line in lines:
            self.put(
                Text(RIGHT if right else LEFT, self.y + NOTE_LINE / 2, line, NOTE, "rm" if right else "lm")
            )
            self.y += NOTE_LINE
        self.y += 1.0


def _section(pager: _Pager, record: MunicipalRecord, language: str) -> None:
    """A municipality's heading and its table (or the words that it has nothing)."""
    if not record.issuances:
        pager.keep(HEADING_H + NOTE_LINE + 1.0)
        _heading(pager, record, language, continued=False)
        pager.note(word("none", language))
        pager.y += SECTION_GAP
        return
    rows = [row for issuance in record.issuances for row in _rows(issuance, language)]
    pager.keep(HEADING_H + HEADER_H + rows[0].height)
    _heading(pager, record, language, continued=False)
    _header(pager, language)
    for row in rows:
        if not pager.room(row.height):
            pager.new_page()  # a row fits an empty page: at most MAX_ROW_NUMBERS lines
            _heading(pager, record, language, continued=True)
            _header(pager, language)
        row.put(pager)
    pager.y += SECTION_GAP


def _heading(pager: _Pager, record: MunicipalRecord, language: str, *, continued: bool) -> None:
    if language == "ja":
        text = f"{record.name}（{record.municipality}）"
    else:
        text = f"{record.name_en or record.name} ({record.municipality})"
    if continued:
        text += word("continued", language)
    pager.put(Text(LEFT, pager.y + HEADING_H / 2, text, HEADING, stroke=0.04))
    pager.y += HEADING_H


def _header(pager: _Pager, language: str) -> None:
    top, x = pager.y, LEFT
    pager.put(Rule(LEFT, top, RIGHT, top, RULE))
    for key, width in COLUMNS:
        pager.put(Text(x + CELL_PAD, top + HEADER_H / 2, word(key, language), LABEL, form=True))
        x += width
    pager.put(Rule(LEFT, top + HEADER_H, RIGHT, top + HEADER_H))
    pager.y += HEADER_H


@dataclass(frozen=True)
class _Row:
    """One row of a table: the lines of each column."""

    cells: tuple[tuple[str, ...], ...]

    @property
    def height(self) -> float:
        return max(len(lines) for lines in self.cells) * LINE + 2 * ROW_PAD

    def put(self, pager: _Pager) -> None:
        top, x = pager.y, LEFT
        for (key, width), lines in zip(COLUMNS, self.cells, strict=True):
            size = NUMBER if key == "numbers" else TEXT
            for index, line in enumerate(lines):
                y = top + ROW_PAD + LINE * (index + 0.5)
                if key == "copies":
                    pager.put(Text(x + width - CELL_PAD - 2.0, y, line, size, "rm"))
                else:
                    pager.put(Text(x + CELL_PAD, y, line, size))
            x += width
        pager.y += self.height
        pager.put(Rule(LEFT, pager.y, RIGHT, pager.y))


def _rows(issuance: Issuance, language: str) -> list[_Row]:
    """The issuance's row; more rows of its numbers alone when they are more than a row holds."""
    widths = {key: width - 2 * CELL_PAD - SLACK for key, width in COLUMNS}
    when = (day(issuance.issued_at.date(), language), f"{issuance.issued_at:%H:%M}")
    store = tuple(_wrap(issuance.store, TEXT, widths["store"], MAX_CELL_LINES))
    kind = tuple(
        _wrap(certificate_type(issuance.certificate_type, language), TEXT, widths["type"], MAX_CELL_LINES)
    )
    mark = word("voided", language)
    numbers: list[str] = []
    for number in issuance.issue_numbers:
        text = f"{number} {mark}" if number in issuance.voided else number
        numbers += _wrap(text, NUMBER, widths["numbers"], MAX_CELL_LINES)
    chunks = [numbers[start : start + MAX_ROW_NUMBERS] for start in range(0, len(numbers), MAX_ROW_NUMBERS)]
    first = _Row((when, store, kind, (str(issuance.copies),), tuple(chunks[0])))
    more = [_Row(((), (), (), (), tuple(chunk))) for chunk in chunks[1:]]
    return [first, *more]


def _facts(records: Sequence[MunicipalRecord], language: str, printed_at: dt.datetime) -> list[Text | Rule]:
    """What heads every page: the title, the notice that it is not a certificate, the period and
    the moment printed."""
    items: list[Text | Rule] = [Text(LEFT, TITLE_Y, word("title", language), 6.0, stroke=0.05, form=True)]
    for y in (NOTICE_TOP, NOTICE_BOTTOM):
        items.append(Rule(LEFT, y, RIGHT, y, RULE))
    for x in (LEFT, RIGHT):
        items.append(Rule(x, NOTICE_TOP, x, NOTICE_BOTTOM, RULE))
    items += [
        Text(LEFT + 3.0, 30.2, word("not_certificate", language), 4.2, stroke=0.06, form=True),
        Text(LEFT + 3.0, 35.4, word("explanation", language), 2.5, form=True),
    ]
    if records:
        since = min(record.since for record in records)
        until = max(record.until for record in records)
        items.append(
            Text(LEFT, FACTS_Y, f"{word('period', language)}  {period(since, until, language)}", 2.8)
        )
    printed = f"{word('printed', language)}  {moment(printed_at, language)}"
    items.append(Text(RIGHT, FACTS_Y, printed, 2.8, "rm"))
    return items


def _footer(number: int, count: int, language: str) -> list[Text | Rule]:
    return [
        Text(LEFT, FOOTER_Y, word("not_certificate", language), 3.0, stroke=0.03, form=True),
        Text(RIGHT, FOOTER_Y, f"{number} / {count}", 3.0, "rm"),
    ]


# -- measuring -----------------------------------------------------------------------------------


def _width(text: str, size: float) -> float:
    """The width of ``text`` in mm at ``size`` mm (Gothic), measured at :data:`MEASURED_AT`."""
    glyphs = font(Face.GOTHIC, round(size * MEASURED_AT / MM_PER_INCH))
    return glyphs.getlength(text) * MM_PER_INCH / MEASURED_AT


def _wrap(text: str, size: float, width: float, most: int) -> list[str]:
    """``text`` in lines at most ``width`` mm wide, broken after a space where a line has one, else
    between any two characters; at most ``most`` lines, the last cut with 「…」."""
    lines: list[str] = []
    rest = text
    while rest:
        cut = _fitting(rest, size, width)
        if cut < len(rest):
            space = rest.rfind(" ", 1, cut + 1)
            if space > 0:
                cut = space + 1
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if len(lines) > most:
        last = lines[most - 1]
        while last and _width(last + "…", size) > width:
            last = last[:-1]
        lines = [*lines[: most - 1], last + "…"]
    return lines


def _fitting(text: str, size: float, width: float) -> int:
    """How many of ``text``'s first characters fit in ``width`` mm (at least one)."""
    if _width(text, size) <= width:
        return len(text)
    low, high = 1, len(text) - 1  # low fits (or is the least), high + 1 does not
    while low < high:
        middle = (low + high + 1) // 2
        if _width(text[:middle], size) <= width:
            low = middle
        else:
            high = middle - 1
    return low
