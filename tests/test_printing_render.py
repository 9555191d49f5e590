"""Rendering signed certificates into printed pages (printing/render): golden pages of every
certificate type, the copy-evident background under a simulated photocopy, the QR code read back
with zxing-cpp, the microtext frame, the checks made again before drawing, and 600 dpi.

The documents are real: a synthetic town issues them through the municipal issuer and the kiosk's
``open_sealed`` opens them (``devtools.specimens``, fixed seed, day and key).

Golden values: the SHA-256 of each page's pixels. When a change to the layout is deliberate,
run ``.venv/bin/pytest tests/test_printing_render.py -k golden``; each failing test names the
folder where it saved its pages and the new hashes: look at the pages, and only then paste the
hashes into ``GOLDEN`` below.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import itertools
import unittest.mock
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter, ImageStat

from center.municipal import certificates
from devtools.specimens import NAMES, SPECIMEN_KEY, Specimens, specimens
from documents import DocumentError, MunicipalKey, OpenedDocument, TrustList, sign
from printing.page_code import read_page_code
from printing.page_signing import page_claims, sign_pages
from printing.render import RenderRefused, UnrenderableDocument, render_document
from printing.render.background import CELL, background, latent_mask, page_size, unit
from printing.render.dates import wareki, wareki_of
from printing.render.microtext import BAND
from printing.render.page import FRAME
from printing.render.sheet import CLEAR_ZONE, PRINTS_BELOW
from support.vision import photocopy

GOLDEN: dict[str, tuple[str, ...]] = {
    "resident_record": ("003529bdfa6abd0e64b5c0e9feacb87916c112b682e3d275c06dd182b9a18e18",),
    "resident_record_my_number": ("62c9425989a8b6b50149af366bd4388f8ed692091b459b3a2ac6b052ee94eeb3",),
    "resident_record_plain": ("8f51a991ea889e015d2d9617b73bf58f18e9a63e19978b9c3e52243a3293cd1b",),
    "resident_record_multi_page": (
        "a09a1e0403348d6e710db030c845029fffb74288ecbeac0823db048dbca194c3",
        "ca29eff2eac9d266f4c93fad23d46080458bfd669d12ff714e12b08297c55be1",
    ),
    "resident_record_foreign": ("e3aa28f5ec66ae3e9b445fd99f658c621346a81e7921732b730e2c1d13d3c971",),
    "resident_record_entries": ("ba7eb6053b997e879e7ec3bffac1a97593b9e8dde38380a082855c133ba2fcda",),
    "seal_registration": ("9f18324ba00ae158f3127ddc90a9fb1859a2c71d9f4728a9b3d3796145e4548b",),
    "tax_income": ("724edd3cc352d524f99e6a6a99661edbaca7fda9909f872f65484712aa9bff1a",),
    "tax_taxation": ("430ffd9d149cf78b565c7d4ab670426754dab287fc1cb2fc6c6265ae55372cf5",),
    "tax_combined": ("7bcd4e2570e40854bb5cc99bb07096cdf69e352b54945b3301a9e191c0bc73dd",),
    "tax_payment": ("e926e3f5c5d4fe957b352aa111dc413f98c3aa2880cb756ded6dc290d868e71b",),
    "family_register_full": (
        "471e1937632053d0e6b5f25719ae0b1827a786530da57194c7e6339083cc4260",
        "a1b50ac0051d68aadec34d4bceea0f47ec49fb2c03f8c415ae8633b686a10ed7",
    ),
    "family_register_individual": ("c773cb10cc4c10ce6344cc55209ac3796404593bfe17337bf6ed1625dabd82e2",),
    "attachment": (
        "09f030c10d952c83b87c63d304900c83299d3eb06c9a57ae364f3674f37a772e",
        "f75ecf19f50d1c282b07b25059c0ff8ee84ac01fd393faaafc878160f35e75ec",
    ),
    "attachment_plain": ("95dee2df56744a30db48a10e4a10d40b1b66ac1ccbee9683ff872d1c1d0c4730",),
}


Pages = dict[str, list[Image.Image]]


@pytest.fixture(scope="module")
def town() -> Specimens:
    return specimens()


@pytest.fixture(scope="module")
def rendered(town: Specimens) -> dict[str, list[Image.Image]]:
    """Every specimen at 300 dpi, rendered once for the module."""
    return {name: render(town, name) for name in NAMES}


def render(town: Specimens, name: str, dpi: int = 300) -> list[Image.Image]:
    return render_document(
        town.copies[name], trust=town.trust, expected=town.binding(name), now=town.now, dpi=dpi
    )


def pixels_hash(image: Image.Image) -> str:
    header = f"{image.mode} {image.width}x{image.height}\n".encode()
    return hashlib.sha256(header + image.tobytes()).hexdigest()


def darkness(image: Image.Image, mask: Image.Image) -> float:
    """Mean ink (0 white … 1 black) of ``image`` where ``mask`` is set."""
    return 1.0 - ImageStat.Stat(image, mask).mean[0] / 255.0


def signed_copy(
    opened: OpenedDocument, key: MunicipalKey = SPECIMEN_KEY, **changes: object
) -> OpenedDocument:
    """``opened`` with its document changed as given and signed again (a document the renderer trusts)."""
    document = dataclasses.replace(opened.document, **changes)  # type: ignore[arg-type]
    signed = sign(document, key)
    with contextlib.suppress(DocumentError):  # a content that makes no pages has no page codes
        signed = sign_pages(signed, key)
    return OpenedDocument(
        document, signed.key_id, signed.signature, signed.verification_code, signed.page_codes
    )


# -- every certificate type, page by page -----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_golden_pages(name: str, rendered: Pages, town: Specimens, tmp_path: Path) -> None:
    pages = rendered[name]
    for number, page in enumerate(pages, start=1):
        page.save(tmp_path / f"{name}-{number}.png", compress_level=1)
    assert all(page.mode == "L" and page.size == page_size(300) == (2480, 3508) for page in pages)
    assert len(pages) == town.copies[name].document.pages
    hashes = tuple(pixels_hash(page) for page in pages)
    assert hashes == GOLDEN.get(name), f"pages saved in {tmp_path}; new hashes: {name!r}: {hashes!r},"


def test_the_specimens_cover_every_type_and_option_shape(town: Specimens) -> None:
    types = {opened.document.certificate_type for opened in town.copies.values()}
    assert types == {
        "resident_record",
        "resident_record_entries",
        "seal_registration",
        "tax",
        "family_register",
        "family_register_attachment",
    }
    bodies = {name: opened.document.content["body"] for name, opened in town.copies.items()}
    household = bodies["resident_record"]
    assert "head" in household and all("relationship" in p and "domicile" in p for p in household["persons"])
    assert all("my_number" not in p for p in household["persons"])
    assert all("my_number" in p for p in bodies["resident_record_my_number"]["persons"])
    assert all("foreign_resident" in p for p in bodies["resident_record_foreign"]["persons"])
    assert {
        town.copies[f"tax_{kind}"].document.content["title"]
        for kind in ("income", "taxation", "combined", "payment")
    } == set(certificates.TAX_TITLES.values())
    multi = [name for name, opened in town.copies.items() if opened.document.pages > 1]
    assert {"resident_record_multi_page", "family_register_full", "attachment"} <= set(multi)
    assert "domicile" in bodies["attachment"] and "domicile" not in bodies["attachment_plain"]


def test_register_event_dates_are_printed_in_the_era_calendar_or_as_they_are() -> None:
    assert wareki_of("1989-01-07") == "昭和６４年１月７日" == wareki(dt.date(1989, 1, 7))
    assert wareki_of("1989-01-08") == "平成元年１月８日"
    assert wareki_of("2019-05-01") == "令和元年５月１日"
    assert wareki_of("不詳") == "不詳"  # an event whose date the register does not know


def test_every_page_carries_its_own_qr_payload(rendered: Pages, town: Specimens) -> None:
    for name in ("resident_record_multi_page", "seal_registration"):
        opened = town.copies[name]
        for number, page in enumerate(rendered[name], start=1):
            codes = [
                code for code in zxingcpp.read_barcodes(page) if code.format == zxingcpp.BarcodeFormat.QRCode
            ]
            assert len(codes) == 1
            assert codes[0].text == opened.page_codes[number - 1]
            assert read_page_code(codes[0].text).claims == page_claims(opened.signed)[number - 1]


def test_the_same_document_gives_the_same_pixels(rendered: Pages, town: Specimens) -> None:
    first = rendered["family_register_full"]
    background.cache_clear()
    render(town, "seal_registration")
    again = render(town, "family_register_full")
    assert [page.tobytes() for page in again] == [page.tobytes() for page in first]
    other = render(town, "resident_record_my_number")
    assert pixels_hash(other[0]) != pixels_hash(rendered["resident_record"][0])


# -- anti-forgery -------------------------------------------------------------------------------------


class Cells:
    """A page read cell by cell of the background pattern (``CELL`` dot units): the cells where
    nothing but the background is printed, inside the latent word and outside it."""

    def __init__(self, page: Image.Image, dpi: int) -> None:
        self.size = CELL * unit(dpi)
        self.box = (0, 0, page.width // self.size * self.size, page.height // self.size * self.size)
        drawn = ImageChops.difference(page, background(dpi)).point(lambda value: 255 if value else 0)
        untouched = self.cells(ImageChops.invert(drawn)).point(lambda value: 255 if value == 255 else 0)
        latent = self.cells(latent_mask(dpi))
        self.inside = ImageChops.multiply(untouched, latent)
        self.outside = ImageChops.multiply(untouched, ImageChops.invert(latent))

    def cells(self, image: Image.Image) -> Image.Image:
        return image.crop(self.box).reduce(self.size)

    def contrast(self, page: Image.Image) -> tuple[float, float]:
        """Mean ink of ``page`` in the latent cells and in the others."""
        cells = self.cells(page)
        return darkness(cells, self.inside), darkness(cells, self.outside)


def test_a_photocopy_shows_the_latent_word(rendered: Pages) -> None:
    page = rendered["resident_record"][0]
    cells = Cells(page, 300)
    assert ImageStat.Stat(cells.inside).mean[0] > 20 and ImageStat.Stat(cells.outside).mean[0] > 60
    # the original: one even grey (9/64 of the paper inked) in and out of the word
    inside, outside = cells.contrast(page)
    assert abs(inside - outside) < 0.001 and abs(outside - 9 / 64) < 0.001
    inside, outside = cells.contrast(photocopy(page))
    assert outside < 0.001  # the crosses are gone
    assert inside > 0.08  # the word's dots are not


def test_the_latent_word_is_drawn_in_whole_cells_over_the_page() -> None:
    latent = latent_mask(300)
    share = ImageStat.Stat(latent).mean[0] / 255
    assert 0.08 < share < 0.35  # the word is large and repeated, not everywhere
    # a cell is all latent or all not: sampling at cell corners and centres agrees
    for x in range(0, 2472, CELL):
        for y in (400, 1600, 2800):
            corners = latent.getpixel((x, y)), latent.getpixel((x + CELL - 1, y + CELL - 1))
            assert corners[0] == corners[1] == latent.getpixel((x + CELL // 2, y + CELL // 2))


def test_the_frame_is_microtext(rendered: Pages) -> None:
    page = rendered["tax_income"][0]
    px = 300 / 25.4
    top = round((FRAME.y - BAND / 2) * px) + 1
    band = page.crop((round(60 * px), top, round(150 * px), round((FRAME.y + BAND / 2) * px) - 1))
    ink = 1.0 - ImageStat.Stat(band).mean[0] / 255
    assert 0.1 < ink < 0.8  # characters: neither blank nor a solid rule
    middle_row = [band.getpixel((x, band.height // 2)) for x in range(band.width)]
    changes = sum(1 for a, b in itertools.pairwise(middle_row) if (a < 128) != (b < 128))
    assert changes > 200  # hundreds of tiny strokes across 90 mm
    assert band.height * 25.4 / 300 < 1.0  # under a millimetre high


@pytest.mark.parametrize("dpi", (300, 600))
def test_no_dot_of_the_background_comes_near_the_print(town: Specimens, dpi: int) -> None:
    name = "seal_registration"
    opened, binding = town.copies[name], town.binding(name)
    page = render_document(opened, trust=town.trust, expected=binding, now=town.now, dpi=dpi)[0]
    blank = Image.new("L", page.size, 255)
    with unittest.mock.patch("printing.render.document.background", lambda dpi: blank):
        bare = render_document(opened, trust=town.trust, expected=binding, now=town.now, dpi=dpi)[0]
    printed = bare.point(lambda value: 255 if value < PRINTS_BELOW else 0)  # what the printer prints
    reach = round(CLEAR_ZONE * dpi / 25.4)
    zone = printed.filter(ImageFilter.MaxFilter(2 * reach + 1))
    assert ImageStat.Stat(printed).mean[0] > 5  # text, rules, the seal, the QR code
    # within the clear zone of the print the page is the print alone: no background dot
    assert ImageChops.difference(page, bare).getbbox() is not None  # the background is there
    assert ImageChops.multiply(ImageChops.difference(page, bare), zone).getbbox() is None


def test_the_verification_block_is_clean_white_around_the_code(rendered: Pages) -> None:
    page = rendered["seal_registration"][0]
    px = 300 / 25.4
    quiet = page.crop((round(14.2 * px), round(259.5 * px), round(15.2 * px), round(283 * px)))
    assert ImageStat.Stat(quiet).extrema[0] == (255, 255)


# -- refusals -----------------------------------------------------------------------------------------


def test_a_document_for_another_order_is_refused(town: Specimens) -> None:
    name = "resident_record"
    for field in ("order_id", "session_id", "holder_certificate"):
        value = "0" * 64 if field == "holder_certificate" else "ANOTHER-1"
        expected = dataclasses.replace(town.binding(name), **{field: value})
        with pytest.raises(RenderRefused) as refused:
            render_document(town.copies[name], trust=town.trust, expected=expected, now=town.now)
        assert refused.value.reason == "binding_mismatch" and refused.value.field == field
        assert refused.value.code == "render_refused"
        person = town.copies[name].document.content["body"]["persons"][0]["name"]
        assert person not in str(refused.value) and value not in str(refused.value)


def test_an_untrusted_or_expired_key_is_refused(town: Specimens) -> None:
    name = "seal_registration"
    stranger = MunicipalKey.from_private_bytes("131016", hashlib.sha256(b"someone else").digest())
    expired = TrustList([SPECIMEN_KEY.trusted(not_after=town.now - dt.timedelta(seconds=1))])
    for trust in (TrustList([]), TrustList([stranger.trusted()]), expired):
        with pytest.raises(RenderRefused) as refused:
            render_document(town.copies[name], trust=trust, expected=town.binding(name), now=town.now)
        assert refused.value.reason == "untrusted_signer"
    forged = signed_copy(town.copies[name], key=stranger)
    with pytest.raises(RenderRefused) as refused:
        render_document(forged, trust=town.trust, expected=town.binding(name), now=town.now)
    assert refused.value.reason == "untrusted_signer"


def test_a_copy_whose_page_codes_do_not_state_its_pages_is_refused(town: Specimens) -> None:
    """Each page's code must be the municipality's and state exactly that page of this copy."""
    opened = town.copies["resident_record_multi_page"]
    binding = opened.document.binding
    first, second = opened.page_codes
    other = town.copies["resident_record"].page_codes[0]  # another copy's genuine code
    stranger = MunicipalKey.from_private_bytes("131016", hashlib.sha256(b"someone else").digest())
    strangers = sign_pages(dataclasses.replace(opened.signed, key_id=stranger.key_id), stranger).page_codes
    forged = sign_pages(signed_copy(opened, content=_renamed(opened.document.content)).signed, SPECIMEN_KEY)
    cases = {
        "bad_page_code": [()],  # none
        "malformed_document": [(first,)],  # not one a page: not even a signed document
        "page_code_mismatch": [
            (second, first),  # swapped
            (first, other),
            (first, forged.page_codes[1]),  # genuinely signed, other words
            strangers,  # signed by another key than the copy's
        ],
    }
    for reason, variants in cases.items():
        for codes in variants:
            copy = dataclasses.replace(opened, page_codes=tuple(codes))
            with pytest.raises(RenderRefused) as refused:
                render_document(copy, trust=town.trust, expected=binding, now=town.now)
            assert refused.value.reason == reason, codes
    damaged = dataclasses.replace(opened, page_codes=(first, second[:-9] + "ABCDEFGHI"))
    with pytest.raises(RenderRefused) as refused:
        render_document(damaged, trust=town.trust, expected=binding, now=town.now)
    assert refused.value.reason in ("bad_page_code", "bad_signature")


def _renamed(content: dict[str, Any]) -> dict[str, Any]:
    persons = [{**person, "name": "偽造　太郎"} for person in content["body"]["persons"]]
    return {**content, "body": {**content["body"], "persons": persons}}


def test_a_bad_signature_or_changed_content_is_refused(town: Specimens) -> None:
    opened = town.copies["tax_income"]
    binding = opened.document.binding
    flipped = bytes([opened.signature[0] ^ 1]) + opened.signature[1:]
    bad = dataclasses.replace(opened, signature=flipped)
    content = {**opened.document.content, "body": {**opened.document.content["body"], "total_income": 1}}
    changed = dataclasses.replace(opened, document=dataclasses.replace(opened.document, content=content))
    for document in (bad, changed):
        with pytest.raises(RenderRefused) as refused:
            render_document(document, trust=town.trust, expected=binding, now=town.now)
        assert refused.value.reason == "bad_signature"
    wrong_code = dataclasses.replace(opened, verification_code="0000-0000-0000")
    with pytest.raises(RenderRefused) as refused:
        render_document(wrong_code, trust=town.trust, expected=binding, now=town.now)
    assert refused.value.reason == "bad_verification_code"


def test_a_verified_document_that_does_not_fit_its_layout_is_not_rendered(town: Specimens) -> None:
    opened = town.copies["resident_record_multi_page"]
    binding = opened.document.binding
    cases: list[OpenedDocument] = [
        signed_copy(opened, certificate_type="driving_licence"),
        signed_copy(opened, pages=3),
        signed_copy(opened, content={**opened.document.content, "body": {"address": "x"}}),
        signed_copy(
            opened,
            content={key: value for key, value in opened.document.content.items() if key != "certification"},
        ),
    ]
    for document in cases:
        with pytest.raises(UnrenderableDocument) as unfit:
            render_document(document, trust=town.trust, expected=binding, now=town.now)
        assert "x" not in unfit.value.message.split() and unfit.value.code == "unrenderable_document"
    with pytest.raises(ValueError):
        render_document(opened, trust=town.trust, expected=binding, now=town.now, dpi=72)


# -- 600 dpi --------------------------------------------------------------------------------------------


def test_600_dpi(town: Specimens, tmp_path: Path) -> None:
    pages = render(town, "seal_registration", dpi=600)
    assert len(pages) == 1 and pages[0].size == page_size(600) == (4961, 7016) and pages[0].mode == "L"
    pages[0].save(tmp_path / "seal_registration-600dpi.png", compress_level=1)
    codes = zxingcpp.read_barcodes(pages[0])
    assert [code.text for code in codes] == list(town.copies["seal_registration"].page_codes)
    cells = Cells(pages[0], 600)
    inside, outside = cells.contrast(pages[0])
    assert abs(inside - outside) < 0.001
    inside, outside = cells.contrast(photocopy(pages[0], 600))
    assert outside < 0.001 and inside > 0.08
    assert pixels_hash(pages[0]) == GOLDEN_600, f"saved in {tmp_path}; new hash: {pixels_hash(pages[0])!r}"


GOLDEN_600 = "2d1e4d8f954d1a89a5a1966bcf8d6c4df5b9c9aa4c8f3d019f2283af9eacdadb"
