"""The resident's issuance record (交付履歴) as plain pages: its words in Japanese and English, paged
with 「n / N」 and 'not a certificate' on every page, drawn where the page's plan puts them and
nothing else inked (no copy-evident background, no code, no seal); every bad record a typed error.

There is no OCR here: a page is planned (every text and rule in millimetres) and then drawn, so the
words are read from the plan, and each text of the plan is checked to be drawn in its own box (the
page's pixels there are those of that text drawn alone), the boxes apart, and every pixel outside
them white.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw

from documents.basics import JST, CertificateType
from printing.render import FontMissing, RenderError, record_layout
from printing.render.errors import UnfitRecord
from printing.render.fonts import font
from printing.render.issuance_record import MunicipalRecord, render_issuance_record
from printing.render.record_layout import PlainPage, Rule, Text, draw_plain_page, record_pages
from printing.render.record_words import CERTIFICATE_TYPES, WORDS, certificate_type, word
from printing.render.sheet import MM_PER_INCH
from support.issuance_records import PRINTED_AT, TYPES, record_content

DPI = 150
MESSAGES = Path(__file__).resolve().parent.parent / "kiosk" / "messages"


def domicile(rows: int = 0) -> dict[str, Any]:
    """The record of a second municipality (the domicile's)."""
    return record_content(rows=rows, municipality="152064", name="新発田市", name_en="Shibata City")


def plan(records: list[dict[str, Any]], language: str, unavailable: tuple[str, ...] = ()) -> list[PlainPage]:
    read = [MunicipalRecord.of(record) for record in records]
    return record_pages(read, language=language, printed_at=PRINTED_AT, unavailable=unavailable)


def joined(page: PlainPage) -> str:
    return "\n".join(page.texts)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_long_record_is_paged_and_every_page_says_it_is_not_a_certificate(language: str) -> None:
    long, empty = record_content(rows=40), domicile()
    pages = plan([long, empty], language)
    assert (
        len(pages) == 3
        and len(render_issuance_record([long, empty], language=language, printed_at=PRINTED_AT, dpi=DPI)) == 3
    )
    period = "2025年12月1日～2026年12月1日" if language == "ja" else "2025-12-01 to 2026-12-01"
    printed = "2026年12月1日 10:15" if language == "ja" else "2026-12-01 10:15 (JST)"
    for page in pages:
        texts = page.texts
        assert texts[0] == word("title", language)
        assert texts.count(word("not_certificate", language)) == 2  # in the notice and at the foot
        assert f"{page.number} / 3" in texts
        assert any(period in text for text in texts) and any(printed in text for text in texts)
    numbers = [number for row in long["issuances"] for number in row["issue_numbers"]]
    every = [text.split()[0] for page in pages for text in page.texts if text.count("/") == 4]
    assert every == numbers  # each once, newest first, across the pages
    marked = [text for page in pages for text in page.texts if text.endswith(word("voided", language))]
    assert [text.split()[0] for text in marked] == [n for row in long["issuances"] for n in row["voided"]]
    heading = "千代田区（131016）" if language == "ja" else "Chiyoda City (131016)"
    assert heading in pages[0].texts and heading + word("continued", language) in pages[1].texts
    for kind in TYPES:
        words = certificate_type(kind, language)  # over two lines where it is long
        assert any(words in " ".join(page.texts) or words in "".join(page.texts) for page in pages)
    assert word("none", language) in pages[1].texts + pages[2].texts  # the domicile: nothing
    assert word("legend", language) in pages[-1].texts
    assert [word("end", language) in joined(page) for page in pages] == [False, False, True]
    other = "en" if language == "ja" else "ja"
    assert not any(word(key, other) in joined(page) for page in pages for key in ("title", "none", "store"))


def test_a_record_with_no_issuances_says_so_and_no_record_at_all_too() -> None:
    for language in ("ja", "en"):
        (page,) = plan([record_content(rows=0)], language)
        assert word("none", language) in page.texts and word("numbers", language) not in page.texts
        (page,) = plan([], language)
        assert word("nothing", language) in page.texts
        assert not any(text.startswith(word("period", language)) for text in page.texts)  # no period known
        assert "1 / 1" in page.texts and word("not_certificate", language) in page.texts


def test_unavailable_municipalities_are_named_in_a_note() -> None:
    (page,) = plan([record_content(rows=1)], "ja", ("横浜市", "新発田市"))
    assert word("unavailable", "ja") + "横浜市、新発田市" in page.texts
    (page,) = plan([record_content(rows=1)], "en", ("Yokohama City",))
    assert word("unavailable", "en") + "Yokohama City" in page.texts


def test_times_are_printed_in_jst_and_rows_newest_first_whatever_their_order() -> None:
    record = record_content(rows=3)
    record["issuances"][0]["issued_at"] = "2026-11-30T15:30:00+00:00"  # 00:30 on 1 December in Japan
    record["issuances"].reverse()
    pages = plan([record], "ja")
    utc_printed = record_pages(
        [MunicipalRecord.of(record)], language="ja", printed_at=PRINTED_AT.astimezone(dt.UTC), unavailable=()
    )
    texts = pages[0].texts
    assert texts.index("2026年12月1日") < texts.index("00:30") < texts.index("2026年11月29日")
    assert utc_printed == pages  # the moment printed is shown in JST whatever its zone


def test_a_row_with_more_numbers_than_a_page_holds_goes_on_without_losing_one() -> None:
    record = record_content(rows=2, copies=90, voided_every=1)
    pages = plan([record], "en")
    numbers = [n for row in record["issuances"] for n in row["issue_numbers"]]
    assert [text.split()[0] for page in pages for text in page.texts if text.count("/") == 4] == numbers
    assert len(pages) >= 3
    assert sum(text == "90" for page in pages for text in page.texts) == 2  # the copies, once a row


def test_the_certificate_words_are_the_kiosk_screens_words() -> None:
    assert set(CERTIFICATE_TYPES) == {kind.value for kind in CertificateType}
    for index, language in enumerate(("ja", "en")):
        messages = json.loads((MESSAGES / f"{language}.json").read_text())
        for kind, names in CERTIFICATE_TYPES.items():
            assert messages[f"certificate.{kind}"] == names[index]
    assert certificate_type("a_future_type", "en") == "a_future_type"
    assert all(len(words) == 2 and all(words) for words in WORDS.values())


def pixel_box(item: Text | Rule, dpi: int) -> tuple[int, int, int, int]:
    """Where ``item`` can ink at ``dpi`` (pixels, exclusive right and bottom), a pixel to spare."""

    def px(mm: float) -> int:
        return round(mm * dpi / MM_PER_INCH)

    if isinstance(item, Rule):
        half = max(1, px(item.width))
        return (
            min(px(item.x0), px(item.x1)) - half,
            min(px(item.y0), px(item.y1)) - half,
            max(px(item.x0), px(item.x1)) + half + 1,
            max(px(item.y0), px(item.y1)) + half + 1,
        )
    glyphs = font(item.face, max(1, px(item.size)))
    left, top, right, bottom = glyphs.getbbox(item.text, anchor=item.anchor, stroke_width=px(item.stroke))
    x, y = px(item.x), px(item.y)
    return int(x + left) - 1, int(y + top) - 1, int(x + right) + 2, int(y + bottom) + 2


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_each_text_is_drawn_in_its_own_box_and_nothing_else_is_inked(language: str) -> None:
    pages = plan([record_content(rows=40), domicile()], language, ("横浜市",))
    for page in (pages[0], pages[-1]):
        image = draw_plain_page(page, DPI)
        assert image.mode == "L" and image.size == (1240, 1754)  # A4 at 150 dpi
        texts = [item for item in page.items if isinstance(item, Text)]
        boxes = [pixel_box(item, DPI) for item in texts]
        for index, box in enumerate(boxes):  # apart: no text drawn over another
            assert not any(overlap(box, other) for other in boxes[index + 1 :]), texts[index].text
        for item, box in zip(texts, boxes, strict=True):  # the page holds that text there
            alone = draw_plain_page(PlainPage(1, 1, (item,)), DPI)
            assert ImageChops.difference(alone.crop(box), image.crop(box)).getbbox() is None, item.text
            assert ImageChops.invert(alone).getbbox() is not None, item.text  # it drew something
        inked = Image.new("L", image.size, 0)
        for drawn in page.items:
            ImageDraw.Draw(inked).rectangle(pixel_box(drawn, DPI), fill=255)
        outside = ImageChops.lighter(image, inked)  # the page, white wherever the plan draws
        assert outside.getextrema() == (255, 255)  # plain white paper: no background, no dots, no frame
        assert zxingcpp.read_barcodes(image) == []  # no code of any kind
        dark = sum(image.histogram()[:128]) / (image.width * image.height)
        assert dark < 0.06  # text and thin rules only


def test_the_same_record_draws_the_same_pixels_at_each_resolution() -> None:
    records = [record_content(rows=5)]
    first = render_issuance_record(records, language="ja", printed_at=PRINTED_AT, dpi=DPI)
    again = render_issuance_record(records, language="ja", printed_at=PRINTED_AT, dpi=DPI)
    assert [page.tobytes() for page in first] == [page.tobytes() for page in again]
    (finer,) = render_issuance_record(records, language="ja", printed_at=PRINTED_AT, dpi=300)
    assert finer.size == (2480, 3508)


def broken(change: Any) -> dict[str, Any]:
    record = record_content(rows=2)
    change(record)
    return record


def row(key: str, value: object) -> Any:
    return lambda record: record["issuances"][1].__setitem__(key, value)


def top(key: str, value: object) -> Any:
    return lambda record: record.__setitem__(key, value)


def without(key: str) -> Any:
    return lambda record: record.pop(key)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (without("municipality"), "municipality"),
        (top("municipality", "13101"), "municipality"),
        (top("name", 131016), "name"),
        (top("name", ""), "name"),
        (top("name", "千代田区\n横浜市"), "name"),
        (top("name_en", "<b>Chiyoda</b>"), "name_en"),
        (top("since", "last year"), "since"),
        (top("until", "2026-13-01"), "until"),
        (top("until", "2026-12-01T10:15:00"), "until"),  # no offset
        (top("issuances", {"0": {}}), "issuances"),
        (lambda record: record["issuances"].__setitem__(0, "a row"), "issuances[0]"),
        (row("issued_at", "2026-11-30T10:00:00"), "issuances[1].issued_at"),
        (row("issued_at", 1764547200), "issuances[1].issued_at"),
        (row("store", "店" * 201), "issuances[1].store"),
        (lambda record: record["issuances"][1].pop("terminal_id"), "issuances[1].terminal_id"),
        (row("certificate_type", "Resident-Record"), "issuances[1].certificate_type"),
        (row("copies", 0), "issuances[1].copies"),
        (row("copies", True), "issuances[1].copies"),
        (row("issue_numbers", []), "issuances[1].issue_numbers"),
        (row("issue_numbers", ["20261129/131016/T-0002/01/000003", 7]), "issuances[1].issue_numbers[1]"),
        (row("voided", ["20261129/131016/T-0009/01/000999"]), "issuances[1].voided"),
        (row("voided", None), "issuances[1].voided"),
    ],
)
def test_a_record_that_cannot_be_printed_is_a_typed_error_naming_the_field(change: Any, field: str) -> None:
    record = broken(change)
    with pytest.raises(UnfitRecord) as raised:
        render_issuance_record([record], language="ja", printed_at=PRINTED_AT, dpi=DPI)
    assert raised.value.code == "unfit_record" and isinstance(raised.value, RenderError)
    assert raised.value.message.startswith(field + " ")
    assert "コンビニ" not in raised.value.message and "千代田" not in raised.value.message


def test_bad_arguments_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [record_content(rows=40)]
    with pytest.raises(ValueError, match="ja, en"):
        render_issuance_record(records, language="fr", printed_at=PRINTED_AT)
    with pytest.raises(ValueError, match="aware"):
        render_issuance_record(records, language="ja", printed_at=PRINTED_AT.replace(tzinfo=None))
    for dpi in (100, 1200, 300.0):
        with pytest.raises(ValueError, match="150-600"):
            render_issuance_record(records, language="ja", printed_at=PRINTED_AT, dpi=dpi)  # type: ignore[arg-type]
    with pytest.raises(UnfitRecord, match=r"^unavailable\[1\] "):
        render_issuance_record(records, language="ja", printed_at=PRINTED_AT, unavailable=["横浜市", "<i>"])
    with pytest.raises(UnfitRecord, match="municipalities"):
        render_issuance_record(records * 17, language="ja", printed_at=PRINTED_AT)
    with pytest.raises(UnfitRecord, match=r"^the record is not a map"):
        render_issuance_record(["a record"], language="ja", printed_at=PRINTED_AT)  # type: ignore[list-item]
    monkeypatch.setattr(record_layout, "MAX_PAGES", 1)
    with pytest.raises(UnfitRecord, match="more than 1 pages"):
        render_issuance_record(records, language="ja", printed_at=PRINTED_AT, dpi=DPI)


def test_a_model_record_prints_as_its_content_does() -> None:
    content = record_content(rows=4)
    model = MunicipalRecord.of(content)
    assert model.issuances[0].issued_at.tzinfo == JST and model.since == dt.date(2025, 12, 1)
    assert dataclasses.is_dataclass(model) and model == MunicipalRecord.of(dict(content))
    assert plan([content], "en") == record_pages(
        [model], language="en", printed_at=PRINTED_AT, unavailable=()
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.name = "横浜市"  # type: ignore[misc]
    assert issubclass(FontMissing, RenderError)
