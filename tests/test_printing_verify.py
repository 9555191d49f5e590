"""Verification of printed pages: reading the signed page codes from scans, photos, photocopies and
PDFs (and refusing what is not one), and the verdicts against real authority, center and
municipality processes over TLS, with copies really ordered, printed and voided: the verdict shows
the content the municipality signed, so a genuine code on forged words shows the issued words; a
code moved from another copy names that copy; a code with a changed byte, signed by an unknown key
or cut short is refused. ``koufu verify`` as a subprocess."""

from __future__ import annotations

import dataclasses
import datetime as dt
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from devtools.stack import free_port
from documents import MunicipalKey, TrustedKey, TrustList, tokyo_day
from documents.errors import MalformedDocument
from printing import qr_reading
from printing.page_code import SignedPageCode
from printing.verify import (
    CenterStatus,
    DamagedCode,
    NoCodeFound,
    NotAnImage,
    Outcome,
    PublishedKeys,
    Reason,
    StatusUnavailable,
    StoreAnswer,
    TooLarge,
    check,
    check_number,
    content_lines,
    issued_page,
    judge,
    load_keys,
    read_codes,
)
from support.forgeries import content_changed, page_with, signed_by, with_name
from support.page_images import (
    KF1_TEXT,
    encoded,
    page_image,
    pdf_of,
    photo_of,
    png_declaring,
    smudged_page,
)
from support.verification import Copies, issue_copies, koufu_verify
from support.vision import photocopy
from support.world import CODE, World, running_world

FORGED_NAME = "偽造　次郎"

# -- the world: real processes, real copies ----------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "printing-verify", 30)


@pytest.fixture(scope="module")
def copies(world: World, tmp_path_factory: pytest.TempPathFactory) -> Copies:
    return issue_copies(world, tmp_path_factory.mktemp("verify-keys"), "T-0601")


@pytest.fixture(scope="module")
def printed_page(world: World, copies: Copies) -> Image.Image:
    """The printed copy's page as the kiosk's printer got it, at 300 dpi (background, seal, code)."""
    [page] = copies.printed.rendered(world.trust)
    return page


@pytest.fixture
def status(world: World) -> Iterator[CenterStatus]:
    with CenterStatus(world.stack.center_url, ca=world.stack.center_tls) as center:
        yield center


def keys_of(copies: Copies) -> PublishedKeys:
    return load_keys(copies.keys_file)


def texts(codes: list[SignedPageCode]) -> list[str]:
    return [code.text for code in codes]


# -- reading -------------------------------------------------------------------------------------------


def test_a_png_scan_gives_the_page_s_code(copies: Copies, tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(encoded(page_image(copies.printed.code)))
    assert read_codes(path) == [copies.printed.code]
    assert read_codes(str(path)) == read_codes(path.read_bytes()) == [copies.printed.code]
    assert read_codes(path)[0].text == copies.printed.document.page_codes[0]


def test_a_jpeg_and_a_tiff_give_it_too(copies: Copies) -> None:
    page = page_image(copies.printed.code)
    assert read_codes(encoded(page, "JPEG", quality=70)) == [copies.printed.code]
    assert read_codes(encoded(page, "TIFF", compression="tiff_lzw")) == [copies.printed.code]


def test_a_pdf_gives_every_page_s_code_in_order_and_leaves_no_files(
    copies: Copies, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    pages = [page_image(copies.voided.code), page_image(None), page_image(copies.printed.code)]
    assert read_codes(pdf_of(*pages)) == [copies.voided.code, copies.printed.code]
    assert list(tmp_path.iterdir()) == []  # the rasterised pages went with their private directory


def test_a_photo_of_a_plain_page_turned_scaled_and_soft_is_read(copies: Copies) -> None:
    assert read_codes(photo_of(page_image(copies.printed.code))) == [copies.printed.code]


@pytest.mark.parametrize("kind", ["PNG", "TIFF", "PDF"])
def test_a_300_dpi_scan_of_a_really_rendered_page_is_read(
    copies: Copies, printed_page: Image.Image, kind: str
) -> None:
    """The renderer's own page (copy-evident background, microtext, seal, the large code)."""
    data = pdf_of(printed_page, dpi=300) if kind == "PDF" else encoded(printed_page, kind, dpi=(300, 300))
    assert read_codes(data) == [copies.printed.code]


@pytest.mark.parametrize("scale", [0.6, 1.2], ids=["2.4px-a-module", "4.8px-a-module"])
def test_a_phone_photo_of_a_really_rendered_page_is_read(
    copies: Copies, printed_page: Image.Image, scale: float
) -> None:
    """Turned 17°, 2.4 pixels a module (a far or cropped shot) and 4.8 (a 12 MP phone over the
    whole A4 page), blurred, dimmed, a JPEG of quality 60."""
    assert read_codes(photo_of(printed_page, scale)) == [copies.printed.code]


def test_a_photocopy_of_a_really_rendered_page_is_read(copies: Copies, printed_page: Image.Image) -> None:
    copied = photocopy(printed_page)
    assert read_codes(encoded(copied)) == [copies.printed.code]
    assert read_codes(photo_of(copied)) == [copies.printed.code]  # and a phone's photo of the copy


def test_a_page_without_a_code_or_with_another_code_has_none(copies: Copies) -> None:
    for page in (
        page_image(None),
        page_image(None, text="https://example.org/not-ours"),
        page_image(None, text=KF1_TEXT),  # an old code: not a signed page code
    ):
        with pytest.raises(NoCodeFound):
            read_codes(encoded(page))
    with pytest.raises(NoCodeFound):
        read_codes(pdf_of(page_image(None)))


def test_a_smudged_truncated_or_corrupted_code_is_damaged(copies: Copies) -> None:
    with pytest.raises(DamagedCode):
        read_codes(encoded(smudged_page(copies.printed.code)))
    text = copies.printed.code.text
    middle = len(text) // 2
    other = "0" if text[middle] != "0" else "1"
    for damaged in (text[:-20], text[:middle] + other + text[middle + 1 :], text + "00"):
        with pytest.raises(DamagedCode, match="not whole") as caught:
            read_codes(encoded(page_image(None, text=damaged)))
        assert copies.printed.name.split("　")[0] not in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is text\n",
        b"GIF89a" + b"\0" * 100,
        encoded(Image.new("RGB", (50, 50)), "BMP"),
        encoded(page_image(None))[:5000],  # a PNG cut short
        b"%PDF-1.7\n not really a pdf\n",
    ],
    ids=["text", "gif", "bmp", "truncated-png", "broken-pdf"],
)
def test_what_is_not_an_image_or_a_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        read_codes(data)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(NotAnImage):
        read_codes(tmp_path / "empty.png")


def test_huge_files_and_decompression_bombs_are_refused_before_decoding(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    with big.open("wb") as file:
        file.truncate(qr_reading.MAX_BYTES + 1)
    with pytest.raises(TooLarge) as bytes_over:
        read_codes(big)
    assert bytes_over.value.limit == qr_reading.MAX_BYTES
    with pytest.raises(TooLarge):
        read_codes(b"%PDF-" + b"\0" * qr_reading.MAX_BYTES)
    for width, height in ((10_000, 10_000), (100_000, 100_000)):  # over ours, over Pillow's own
        with pytest.raises(TooLarge) as pixels:
            read_codes(png_declaring(width, height))
        assert pixels.value.what == "the image"


# -- verdicts, against the real center ---------------------------------------------------------------


def test_a_printed_copy_is_genuine_and_shows_what_was_issued(copies: Copies, status: CenterStatus) -> None:
    [code] = read_codes(encoded(page_image(copies.printed.code)))
    verdict = check(code, keys_of(copies), status)
    number = copies.printed.document.document.issue_number
    assert (verdict.outcome, verdict.reason) == (Outcome.GENUINE, Reason.STANDS) and verdict.genuine
    assert (verdict.issue_number, verdict.page, verdict.pages) == (number.text, 1, 1)
    assert (verdict.municipality, verdict.municipality_name) == (CODE, "千代田区")
    assert verdict.issued_on == number.day.isoformat()
    assert verdict.content_hash == copies.printed.document.document.content_hash()
    assert verdict.claims == copies.printed.code.claims
    assert verdict.claims is not None and verdict.claims.content["body"]["name"] == copies.printed.name
    day = number.day
    assert verdict.statement_ja == (
        f"この内容は、千代田区が{day.year}年{day.month}月{day.day}日に交付番号 {number.text} の写し"
        "（全1頁の1頁目）として交付したものです。お手元の用紙の記載と見比べてください。"
    )
    assert verdict.statement_en == (
        f"This content was issued by 千代田区 ({CODE}) on {day.isoformat()} as page 1 of 1 of copy "
        f"{number.text}. Compare it with the paper in your hand."
    )
    assert ("氏名", copies.printed.name) in content_lines(verdict.claims)
    shown = repr(verdict) + verdict.words_ja + verdict.words_en
    assert copies.printed.name not in shown
    assert copies.printed.name.split("　")[0] not in shown  # not even the family name


def test_a_rendered_page_of_each_copy_gets_its_verdict_and_says_so(
    world: World, copies: Copies, status: CenterStatus
) -> None:
    keys = keys_of(copies)
    verdicts = [
        check(code, keys, status)
        for issued in (copies.printed, copies.voided, copies.not_printed)
        for code in read_codes(encoded(issued.rendered(world.trust, dpi=200)[0], "JPEG"))
    ]
    assert [v.outcome for v in verdicts] == [Outcome.GENUINE, Outcome.VOIDED, Outcome.NOT_PRINTED]
    assert all(v.claims is not None for v in verdicts)
    assert "取り消されています" in str(verdicts[1].statement_ja)
    assert "was voided since" in str(verdicts[1].statement_en)
    assert "印刷されたと報告されていません" in str(verdicts[2].statement_ja)


def test_altered_words_under_a_genuine_code_show_the_issued_words(
    copies: Copies, status: CenterStatus, printed_page: Image.Image
) -> None:
    """A forger prints another name with the renderer's own look and keeps the genuine code: the
    verdict is about the code, and what it shows is the issued name, not the forger's."""
    genuine = copies.printed.code
    forged = page_with(genuine, with_name(genuine.claims.content, FORGED_NAME), qr=genuine.text)
    [code] = read_codes(encoded(forged))
    verdict = check(code, keys_of(copies), status)
    assert verdict.claims is not None
    assert verdict.claims.content["body"]["name"] == copies.printed.name != FORGED_NAME
    lines = dict(content_lines(verdict.claims))
    assert lines["氏名"] == copies.printed.name and FORGED_NAME not in lines.values()
    shown = issued_page(code, dpi=300)
    assert ImageChops.difference(shown, printed_page).getbbox() is None  # the page as issued, exactly
    changed = ImageChops.difference(shown, forged).getbbox()
    assert changed is not None
    _, top, _, bottom = changed  # only the name differs: in the body, above the foot's code
    assert top > printed_page.height * 0.1 and bottom < printed_page.height * 0.8


def test_a_code_from_another_copy_names_that_copy(
    copies: Copies, status: CenterStatus, tmp_path: Path, world: World
) -> None:
    """The printed copy's words with the voided copy's genuine code pasted on."""
    printed, voided = copies.printed.code, copies.voided.code
    pasted = page_with(printed, printed.claims.content, qr=voided.text)
    [code] = read_codes(encoded(pasted))
    verdict = check(code, keys_of(copies), status)
    assert (verdict.outcome, verdict.issue_number) == (Outcome.VOIDED, voided.claims.issue_number)
    assert verdict.claims is not None and verdict.claims.content["body"]["name"] == copies.voided.name
    path = tmp_path / "pasted.png"
    path.write_bytes(encoded(pasted))
    center = ("--center", world.stack.center_url, "--ca", world.stack.center_tls)
    done = koufu_verify(path, *center, "--keys", copies.keys_file, "--show")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"voided       {voided.claims.issue_number} page 1/1")
    assert f"交付番号 {voided.claims.issue_number} の写し" in done.stdout
    assert f"氏名: {copies.voided.name}" in done.stdout and copies.printed.name not in done.stdout


def test_a_changed_byte_under_the_kept_signature_is_altered_and_shows_nothing(
    copies: Copies, status: CenterStatus
) -> None:
    genuine = copies.printed.code

    def rename(content: dict[str, object]) -> None:
        body = content["body"]
        assert isinstance(body, dict)
        body["name"] = FORGED_NAME

    [code] = read_codes(encoded(page_image(None, text=content_changed(genuine, rename))))
    assert code.claims.content["body"]["name"] == FORGED_NAME  # well formed: only the signature tells
    verdict = check(code, keys_of(copies), status)
    assert (verdict.outcome, verdict.reason) == (Outcome.ALTERED, Reason.BAD_SIGNATURE)
    assert (verdict.claims, verdict.statement_ja, verdict.statement_en) == (None, None, None)


def test_a_code_signed_by_an_unknown_key_shows_nothing(copies: Copies, status: CenterStatus) -> None:
    stranger = MunicipalKey.generate(CODE)  # the town's code, but never published
    [code] = read_codes(encoded(page_image(None, text=signed_by(copies.printed.code, stranger))))
    verdict = check(code, keys_of(copies), status)
    assert (verdict.outcome, verdict.reason, verdict.claims) == (Outcome.UNKNOWN, Reason.UNKNOWN_KEY, None)
    assert check(copies.printed.code, TrustList(), status).reason is Reason.UNKNOWN_KEY


def test_the_town_s_key_published_as_another_municipality_s_is_altered(
    copies: Copies, status: CenterStatus
) -> None:
    published = next(iter(keys_of(copies).trust.values()))
    elsewhere = TrustList([TrustedKey("132012", published.public_key)])  # 八王子市's, says the list
    verdict = check(copies.printed.code, elsewhere, status)
    assert (verdict.outcome, verdict.reason, verdict.claims) == (
        Outcome.ALTERED,
        Reason.OTHER_MUNICIPALITY,
        None,
    )


def test_a_key_not_valid_at_issue_or_now_is_not_trusted(copies: Copies, status: CenterStatus) -> None:
    code = copies.printed.code
    published = next(iter(keys_of(copies).trust.values()))
    expired = TrustedKey(CODE, published.public_key, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    verdict = check(code, TrustList([expired]), status)
    assert (verdict.outcome, verdict.reason, verdict.claims) == (Outcome.UNKNOWN, Reason.KEY_NOT_VALID, None)
    until = code.claims.issued_at + dt.timedelta(days=1)
    lapsing = TrustList([TrustedKey(CODE, published.public_key, until)])
    assert check(code, lapsing, status, now=code.claims.issued_at).outcome is Outcome.GENUINE
    later = check(code, lapsing, status, now=until + dt.timedelta(seconds=1))
    assert later.reason is Reason.KEY_NOT_VALID
    # by default the key must have been valid at issue only: an archived page outlives its key
    assert check(code, lapsing, status).outcome is Outcome.GENUINE


def test_without_the_store_a_genuine_code_is_unconfirmed_and_still_shows_its_content(
    copies: Copies,
) -> None:
    verdict = check(copies.printed.code, keys_of(copies), None)
    assert (verdict.outcome, verdict.genuine) == (Outcome.UNCONFIRMED, False)
    assert verdict.claims == copies.printed.code.claims
    assert "照会していません" in str(verdict.statement_ja)


def test_the_store_s_answer_decides_what_the_signature_cannot(copies: Copies, status: CenterStatus) -> None:
    """The store's own answer, then the same answer changed (the store is never wrong in the
    running world, so these are built from the real answer)."""
    code = copies.printed.code
    answer = status(code.claims.issue_number, code.claims.verification_code)
    assert judge(code, answer).outcome is Outcome.GENUINE
    assert judge(code, dataclasses.replace(answer, content_hash=bytes(32))).reason is Reason.HASH_MISMATCH
    assert judge(code, dataclasses.replace(answer, pages=2)).reason is Reason.PAGES_MISMATCH
    assert judge(code, dataclasses.replace(answer, status="voided")).outcome is Outcome.VOIDED
    unknown = judge(code, dataclasses.replace(answer, status="unknown"))
    assert (unknown.outcome, unknown.reason) == (Outcome.UNKNOWN, Reason.NOT_IN_STORE)
    assert "交付記録にありません" in str(unknown.statement_ja)
    moved = judge(code, dataclasses.replace(answer, issue_number=copies.voided.code.claims.issue_number))
    assert moved.outcome is Outcome.UNKNOWN


def test_a_typed_number_and_code_are_judged_by_the_store_and_show_no_content(
    copies: Copies, status: CenterStatus
) -> None:
    claims = copies.printed.code.claims
    typed = check_number(
        status(claims.issue_number + "/01", claims.verification_code.lower()), keys_of(copies).names
    )
    assert (typed.outcome, typed.reason, typed.municipality_name, typed.claims) == (
        Outcome.GENUINE,
        Reason.STANDS_TYPED,
        "千代田区",
        None,
    )
    assert typed.statement_ja is None
    wrong = check_number(status(claims.issue_number, "0000-0000-0000"))
    assert (wrong.outcome, wrong.municipality, wrong.pages) == (Outcome.UNKNOWN, None, None)


def test_a_center_that_cannot_be_asked_is_a_typed_error(copies: Copies, world: World) -> None:
    claims = copies.printed.code.claims
    nowhere = CenterStatus(f"https://127.0.0.1:{free_port()}", ca=world.stack.center_tls)
    with nowhere, pytest.raises(StatusUnavailable):
        check(copies.printed.code, keys_of(copies), nowhere)
    untrusted = CenterStatus(world.stack.center_url)  # the center's CA not given
    with untrusted, pytest.raises(StatusUnavailable):
        untrusted(claims.issue_number, claims.verification_code)
    with pytest.raises(StatusUnavailable):
        StoreAnswer.from_json({"status": "maybe", "issue_number": "x"})


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[1]", b'{"format": "koufu-trust/2", "keys": []}', b'[{"municipality": "131016"}]'],
)
def test_malformed_published_keys_are_refused(content: bytes) -> None:
    with pytest.raises(MalformedDocument):
        load_keys(content)


# -- koufu verify --------------------------------------------------------------------------------------


def test_koufu_verify_prints_a_line_and_the_statement_per_page_and_exits_by_the_verdicts(
    copies: Copies, world: World, tmp_path: Path, printed_page: Image.Image
) -> None:
    center = ("--center", world.stack.center_url, "--ca", world.stack.center_tls)
    genuine = tmp_path / "genuine.png"
    genuine.write_bytes(encoded(page_image(copies.printed.code)))
    done = koufu_verify(genuine, *center, "--keys", copies.keys_file)
    claims = copies.printed.code.claims
    number, day = claims.issue_number, tokyo_day(claims.issued_at)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"genuine      {number} page 1/1  千代田区 {day.isoformat()}",
        f"             この内容は、千代田区が{day.year}年{day.month}月{day.day}日に交付番号 {number} の写し"
        "（全1頁の1頁目）として交付したものです。お手元の用紙の記載と見比べてください。",
        f"             This content was issued by 千代田区 ({CODE}) on {day.isoformat()} as page 1 of 1 "
        f"of copy {number}. Compare it with the paper in your hand.",
    ]
    assert copies.printed.name not in done.stdout  # the content only with --show

    mixed = tmp_path / "mixed.pdf"
    mixed.write_bytes(pdf_of(page_image(copies.printed.code), page_image(copies.voided.code)))
    done = koufu_verify(mixed, *center, "--keys", copies.keys_file)
    assert done.returncode == 1, done.stderr
    firsts = [line.split()[0] for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert firsts == ["genuine", "voided"]
    assert "This copy was voided." in done.stdout

    scan = tmp_path / "scan.png"  # a really rendered page: background, microtext, seal and all
    scan.write_bytes(encoded(printed_page))
    shown = tmp_path / "shown"
    done_scan = koufu_verify(scan, *center, "--keys", copies.keys_file, "--show", "--render", shown)
    assert done_scan.returncode == 0, done_scan.stderr
    assert done_scan.stdout.startswith(f"genuine      {number} page 1/1")
    assert f"  氏名: {copies.printed.name}\n" in done_scan.stdout
    [written] = shown.iterdir()
    assert written.name == number.replace("/", "-") + "-1.png"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    with Image.open(written) as image:
        assert ImageChops.difference(image.convert("L"), issued_page(copies.printed.code)).getbbox() is None

    offline = koufu_verify(genuine, "--keys", copies.keys_file)
    assert offline.returncode == 1 and offline.stdout.startswith("unconfirmed  ")

    for name, data in (("notes.txt", b"a shopping list"), ("blank.png", encoded(page_image(None)))):
        (tmp_path / name).write_bytes(data)
        unreadable = koufu_verify(tmp_path / name, *center, "--keys", copies.keys_file)
        assert (unreadable.returncode, unreadable.stdout) == (2, ""), unreadable.stderr
        assert unreadable.stderr.startswith("koufu verify: ")
    assert koufu_verify(genuine).returncode == 2  # no keys, no center
    every = [copies.printed.name, copies.voided.name]
    assert not any(name in done.stdout + done.stderr for name in every)
