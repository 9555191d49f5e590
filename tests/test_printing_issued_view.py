"""The page as issued, from its signed code alone: for every specimen copy (every certificate type
and option shape) the verifier's picture is the printed page, pixel for pixel, and its text lines
label every field in Japanese; a code from another page of the same copy shows that page; a code
whose content fits no layout is said to be unrenderable."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from PIL import ImageChops

from devtools.specimens import NAMES, SPECIMEN_KEY, Specimens, specimens
from printing.page_code import read_page_code, sign_page
from printing.render import UnrenderableDocument, render_document
from printing.verify import Outcome, check, content_lines, issued_page, read_codes
from support.forgeries import page_with
from support.page_images import encoded
from support.verification import koufu_verify

DPI = 150
ASCII_WORD = re.compile(r"[A-Za-z_]")


@pytest.fixture(scope="module")
def town() -> Specimens:
    return specimens()


@pytest.mark.parametrize("name", NAMES)
def test_the_page_as_issued_is_the_printed_page_and_its_lines_are_labelled(
    town: Specimens, name: str
) -> None:
    opened = town.copies[name]
    printed = render_document(opened, trust=town.trust, expected=town.binding(name), now=town.now, dpi=DPI)
    for page, text in zip(printed, opened.page_codes, strict=True):
        code = read_page_code(text)
        assert ImageChops.difference(issued_page(code, dpi=DPI), page).getbbox() is None
        lines = content_lines(code.claims)
        assert lines and not [label for label, _ in lines if ASCII_WORD.search(label)]
        assert ("表題", code.claims.content["title"]) in lines


def test_a_code_from_another_page_of_the_same_copy_shows_that_page(town: Specimens, tmp_path: Path) -> None:
    opened = town.copies["resident_record_multi_page"]
    first, second = (read_page_code(text) for text in opened.page_codes)
    pasted = page_with(first, first.claims.content, qr=second.text)  # page 1's words, page 2's code
    [code] = read_codes(encoded(pasted))
    verdict = check(code, town.trust, None, now=town.now)
    assert verdict.outcome is Outcome.UNCONFIRMED and verdict.claims is not None
    assert (verdict.page, verdict.pages, verdict.claims.content) == (2, 2, second.claims.content)
    assert verdict.claims.content != first.claims.content
    assert "（全2頁の2頁目）" in str(verdict.statement_ja)

    keys = tmp_path / "keys.json"
    published = [{**SPECIMEN_KEY.trusted().to_json(), "name": "千代田区"}]
    keys.write_text(json.dumps(published, ensure_ascii=False))
    path = tmp_path / "pasted.png"
    path.write_bytes(encoded(pasted))
    done = koufu_verify(path, "--keys", keys)
    assert done.returncode == 1, done.stderr  # unconfirmed: the store was not asked
    assert done.stdout.startswith(f"unconfirmed  {first.claims.issue_number} page 2/2  千代田区")
    assert "（全2頁の2頁目）" in done.stdout and "as page 2 of 2 of copy" in done.stdout
    assert "1 of its 2 pages found (missing 1)" in done.stdout


def test_a_content_that_fits_no_layout_is_unrenderable(town: Specimens) -> None:
    claims = read_page_code(town.copies["seal_registration"].page_codes[0]).claims
    unfit = dataclasses.replace(claims, content={"title": "印鑑登録証明書"})
    code = read_page_code(sign_page(unfit, SPECIMEN_KEY))
    with pytest.raises(UnrenderableDocument):
        issued_page(code)
    assert content_lines(code.claims) == [("表題", "印鑑登録証明書")]
