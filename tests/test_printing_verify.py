"""Verification of printed pages: reading the codes from scans, photos and PDFs (and refusing what
is not one), and the verdicts against real authority, center and municipality processes over TLS,
with copies really ordered, printed and voided; ``koufu verify`` as a subprocess."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devtools.stack import free_port
from documents import (
    MunicipalKey,
    TrustedKey,
    TrustList,
    hash_signature_message,
    verification_code,
)
from documents.errors import MalformedDocument
from printing import qr_reading
from printing.payload import PagePayload
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
    judge,
    load_keys,
    read_payloads,
)
from support.page_images import encoded, page_image, pdf_of, photo_of, png_declaring, smudged_page
from support.verification import Copies, issue_copies, koufu_verify
from support.world import CODE, World, running_world

# -- the world: real processes, real copies ----------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "printing-verify", 30)


@pytest.fixture(scope="module")
def copies(world: World, tmp_path_factory: pytest.TempPathFactory) -> Copies:
    return issue_copies(world, tmp_path_factory.mktemp("verify-keys"), "T-0601")


@pytest.fixture
def status(world: World) -> Iterator[CenterStatus]:
    with CenterStatus(world.stack.center_url, ca=world.stack.center_tls) as center:
        yield center


# -- reading -------------------------------------------------------------------------------------------


def test_a_png_scan_gives_the_page_s_payload(copies: Copies, tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(encoded(page_image(copies.printed.payload)))
    assert read_payloads(path) == [copies.printed.payload]
    assert read_payloads(str(path)) == read_payloads(path.read_bytes()) == [copies.printed.payload]


def test_a_jpeg_and_a_tiff_give_it_too(copies: Copies) -> None:
    page = page_image(copies.printed.payload)
    assert read_payloads(encoded(page, "JPEG", quality=70)) == [copies.printed.payload]
    assert read_payloads(encoded(page, "TIFF", compression="tiff_lzw")) == [copies.printed.payload]


def test_a_pdf_gives_every_page_s_payload_and_leaves_no_files(
    copies: Copies, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    pages = [page_image(copies.voided.payload), page_image(None), page_image(copies.printed.payload)]
    found = read_payloads(pdf_of(*pages))
    assert sorted(found, key=lambda p: p.issue_number) == sorted(
        [copies.printed.payload, copies.voided.payload], key=lambda p: p.issue_number
    )
    assert list(tmp_path.iterdir()) == []  # the rasterised pages went with their private directory


def test_a_photo_turned_scaled_and_soft_is_read(copies: Copies) -> None:
    assert read_payloads(photo_of(page_image(copies.printed.payload))) == [copies.printed.payload]


def test_a_really_rendered_page_is_read_from_png_pdf_and_a_photo(world: World, copies: Copies) -> None:
    """The renderer's own page (copy-evident background, microtext, seal) at the printer's 300 dpi."""
    [page] = copies.printed.rendered(world.trust)
    assert read_payloads(encoded(page)) == [copies.printed.payload]
    assert read_payloads(pdf_of(page)) == [copies.printed.payload]
    assert read_payloads(photo_of(page)) == [copies.printed.payload]


def test_a_page_without_a_code_or_with_another_code_has_none(copies: Copies) -> None:
    with pytest.raises(NoCodeFound):
        read_payloads(encoded(page_image(None)))
    with pytest.raises(NoCodeFound):
        read_payloads(encoded(page_image(None, text="https://example.org/not-ours")))
    with pytest.raises(NoCodeFound):
        read_payloads(pdf_of(page_image(None)))


def test_a_damaged_code_is_said_to_be_damaged(copies: Copies) -> None:
    with pytest.raises(DamagedCode):
        read_payloads(encoded(smudged_page(copies.printed.payload)))
    torn = copies.printed.payload.encode()[:-20]  # a code that reads, but is not a whole payload
    with pytest.raises(DamagedCode, match="not whole"):
        read_payloads(encoded(page_image(None, text=torn)))


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
        read_payloads(data)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(NotAnImage):
        read_payloads(tmp_path / "empty.png")


def test_huge_files_and_decompression_bombs_are_refused_before_decoding(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    with big.open("wb") as file:
        file.truncate(qr_reading.MAX_BYTES + 1)
    with pytest.raises(TooLarge) as bytes_over:
        read_payloads(big)
    assert bytes_over.value.limit == qr_reading.MAX_BYTES
    with pytest.raises(TooLarge):
        read_payloads(b"%PDF-" + b"\0" * qr_reading.MAX_BYTES)
    for width, height in ((10_000, 10_000), (100_000, 100_000)):  # over ours, over Pillow's own
        with pytest.raises(TooLarge) as pixels:
            read_payloads(png_declaring(width, height))
        assert pixels.value.what == "the image"


# -- verdicts, against the real center ---------------------------------------------------------------


def keys_of(copies: Copies) -> PublishedKeys:
    return load_keys(copies.keys_file)


def test_a_printed_copy_is_genuine_and_the_verdict_says_nothing_of_the_person(
    copies: Copies, status: CenterStatus
) -> None:
    payload = read_payloads(encoded(page_image(copies.printed.payload)))[0]
    verdict = check(payload, keys_of(copies), status)
    number = copies.printed.document.document.issue_number
    assert (verdict.outcome, verdict.reason) == (Outcome.GENUINE, Reason.STANDS) and verdict.genuine
    assert (verdict.issue_number, verdict.page, verdict.pages) == (number.text, 1, 1)
    assert (verdict.municipality, verdict.municipality_name) == (CODE, "千代田区")
    assert verdict.issued_on == number.day.isoformat()
    assert verdict.content_hash == copies.printed.document.document.content_hash()
    shown = repr(verdict) + verdict.words_ja + verdict.words_en
    assert copies.printed.name not in shown
    assert copies.printed.name.split("　")[0] not in shown  # not even the family name


def test_a_rendered_page_of_each_copy_gets_its_verdict(
    world: World, copies: Copies, status: CenterStatus
) -> None:
    keys = keys_of(copies)
    outcomes = [
        check(payload, keys, status).outcome
        for issued in (copies.printed, copies.voided, copies.not_printed)
        for payload in read_payloads(encoded(issued.rendered(world.trust, dpi=200)[0], "JPEG"))
    ]
    assert outcomes == [Outcome.GENUINE, Outcome.VOIDED, Outcome.NOT_PRINTED]


def test_a_voided_copy_and_a_copy_never_printed_are_not_genuine(copies: Copies, status: CenterStatus) -> None:
    keys = keys_of(copies)
    voided = check(copies.voided.payload, keys, status)
    assert (voided.outcome, voided.reason, voided.genuine) == (Outcome.VOIDED, Reason.VOIDED, False)
    unprinted = check(copies.not_printed.payload, keys, status)
    assert (unprinted.outcome, unprinted.genuine) == (Outcome.NOT_PRINTED, False)


def test_a_changed_content_hash_under_the_kept_signature_is_altered(
    copies: Copies, status: CenterStatus
) -> None:
    payload = copies.printed.payload
    changed = dataclasses.replace(payload, content_hash=hashlib.sha256(b"another text").digest())
    verdict = check(changed, keys_of(copies), status)
    assert (verdict.outcome, verdict.reason) == (Outcome.ALTERED, Reason.BAD_SIGNATURE)
    other_code = dataclasses.replace(payload, verification_code=copies.voided.payload.verification_code)
    assert check(other_code, keys_of(copies), status).reason is Reason.CODE_MISMATCH


def test_a_signature_from_another_municipality_s_key_is_altered(copies: Copies, status: CenterStatus) -> None:
    payload = copies.printed.payload
    hachioji = MunicipalKey.generate("132012")
    keys = keys_of(copies)
    trust = TrustList([*keys.trust.values(), hachioji.trusted()])
    signature = hachioji.private_key.sign(hash_signature_message(payload.content_hash))
    under_its_own_id = dataclasses.replace(
        payload, key_id=hachioji.key_id, signature=signature, verification_code=verification_code(signature)
    )
    verdict = check(under_its_own_id, trust, status)
    assert (verdict.outcome, verdict.reason) == (Outcome.ALTERED, Reason.OTHER_MUNICIPALITY)
    under_chiyoda_s_id = dataclasses.replace(under_its_own_id, key_id=payload.key_id)
    assert check(under_chiyoda_s_id, trust, status).reason is Reason.BAD_SIGNATURE


def test_an_unknown_key_or_a_copy_the_store_does_not_know_is_unknown(
    copies: Copies, status: CenterStatus
) -> None:
    payload = copies.printed.payload
    assert check(payload, TrustList(), status).reason is Reason.UNKNOWN_KEY
    # a well-formed code, signed by a key trusted for the town, for a copy nobody issued
    extra = MunicipalKey.generate(CODE)
    content_hash = hashlib.sha256(b"never issued").digest()
    signature = extra.private_key.sign(hash_signature_message(content_hash))
    never = PagePayload(
        payload.issue_number[:-6] + "999999",
        1,
        1,
        verification_code(signature),
        extra.key_id,
        content_hash,
        signature,
    )
    verdict = check(never, TrustList([*keys_of(copies).trust.values(), extra.trusted()]), status)
    assert (verdict.outcome, verdict.reason) == (Outcome.UNKNOWN, Reason.NOT_IN_STORE)
    # a genuine code whose page was cut from one copy, with another copy's issue number
    moved = dataclasses.replace(payload, issue_number=copies.voided.payload.issue_number)
    assert check(moved, keys_of(copies), status).outcome is Outcome.UNKNOWN


def test_a_key_past_its_validity_on_the_day_of_issue_is_not_trusted(
    copies: Copies, status: CenterStatus
) -> None:
    payload = copies.printed.payload
    published = next(iter(keys_of(copies).trust.values()))
    expired = TrustedKey(CODE, published.public_key, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    verdict = check(payload, TrustList([expired]), status)
    assert (verdict.outcome, verdict.reason) == (Outcome.UNKNOWN, Reason.KEY_NOT_VALID)


def test_without_the_store_a_genuine_code_is_only_unconfirmed(copies: Copies) -> None:
    verdict = check(copies.printed.payload, keys_of(copies), None)
    assert (verdict.outcome, verdict.genuine) == (Outcome.UNCONFIRMED, False)


def test_the_store_s_answer_decides_what_the_signature_cannot(copies: Copies, status: CenterStatus) -> None:
    """The store's own answer, then the same answer with its hash or its page count changed (the
    store is never wrong in the running world, so these are built from the real answer)."""
    payload = copies.printed.payload
    answer = status(payload.issue_number, payload.verification_code)
    assert judge(payload, answer).outcome is Outcome.GENUINE
    other_hash = dataclasses.replace(answer, content_hash=bytes(32))
    assert judge(payload, other_hash).reason is Reason.HASH_MISMATCH
    assert judge(payload, dataclasses.replace(answer, pages=2)).reason is Reason.PAGES_MISMATCH
    assert judge(payload, dataclasses.replace(answer, status="voided")).outcome is Outcome.VOIDED


def test_a_typed_number_and_code_are_judged_by_the_store(copies: Copies, status: CenterStatus) -> None:
    payload = copies.printed.payload
    typed = check_number(
        status(payload.issue_number + "/01", payload.verification_code.lower()), keys_of(copies).names
    )
    assert (typed.outcome, typed.reason, typed.municipality_name) == (
        Outcome.GENUINE,
        Reason.STANDS_TYPED,
        "千代田区",
    )
    wrong = check_number(status(payload.issue_number, "0000-0000-0000"))
    assert (wrong.outcome, wrong.municipality, wrong.pages) == (Outcome.UNKNOWN, None, None)


def test_a_center_that_cannot_be_asked_is_a_typed_error(copies: Copies, world: World) -> None:
    nowhere = CenterStatus(f"https://127.0.0.1:{free_port()}", ca=world.stack.center_tls)
    with nowhere, pytest.raises(StatusUnavailable):
        check(copies.printed.payload, keys_of(copies), nowhere)
    untrusted = CenterStatus(world.stack.center_url)  # the center's CA not given
    with untrusted, pytest.raises(StatusUnavailable):
        untrusted(copies.printed.payload.issue_number, copies.printed.payload.verification_code)
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


def test_koufu_verify_prints_a_line_per_page_and_exits_by_the_verdicts(
    copies: Copies, world: World, tmp_path: Path
) -> None:
    center = ("--center", world.stack.center_url, "--ca", world.stack.center_tls)
    genuine = tmp_path / "genuine.png"
    genuine.write_bytes(encoded(page_image(copies.printed.payload)))
    done = koufu_verify(genuine, *center, "--keys", copies.keys_file)
    number = copies.printed.payload.issue_number
    day = copies.printed.document.document.issue_number.day.isoformat()
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"genuine      {number} page 1/1  千代田区 {day}\n"

    mixed = tmp_path / "mixed.pdf"
    mixed.write_bytes(pdf_of(page_image(copies.printed.payload), page_image(copies.voided.payload)))
    done = koufu_verify(mixed, *center, "--keys", copies.keys_file)
    assert done.returncode == 1, done.stderr
    assert sorted(line.split()[0] for line in done.stdout.splitlines()) == ["genuine", "voided"]
    assert "This copy was voided." in done.stdout

    scan = tmp_path / "scan.png"  # a really rendered page: background, microtext, seal and all
    scan.write_bytes(encoded(copies.printed.rendered(world.trust)[0]))
    done_scan = koufu_verify(scan, *center, "--keys", copies.keys_file)
    assert done_scan.returncode == 0, done_scan.stderr
    assert done_scan.stdout.startswith(f"genuine      {number} page 1/1")

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
