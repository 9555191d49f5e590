"""Verification of printed pages: reading the codes from scans, photos and PDFs (and refusing what
is not one), and the verdicts against real authority, center and municipality processes over TLS,
with copies really ordered, printed and voided; ``koufu verify`` as a subprocess."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import secrets
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import segno
from PIL import Image, ImageDraw, ImageFilter

from center.client import CenterClient
from center.enrolment import EnrolledTerminal
from center.municipal import service as municipal_service
from devtools.stack import free_port
from documents import (
    Binding,
    MunicipalKey,
    OpenedDocument,
    TrustedKey,
    TrustList,
    hash_signature_message,
    verification_code,
)
from documents.errors import MalformedDocument
from printing import verify_read
from printing.payload import PagePayload
from printing.render import render_document
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
from support.world import CODE, SEAL, World, authenticate, opened, running_world

A4_200DPI = (1654, 2339)
REPO = Path(__file__).resolve().parent.parent


# -- pages as a printer would give them ------------------------------------------------------------

def qr_image(text: str, scale: int = 6) -> Image.Image:
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return Image.open(io.BytesIO(out.getvalue())).convert("L")


def page_image(payload: PagePayload | None, *, text: str | None = None) -> Image.Image:
    """A white A4 page at 200 dpi with some lines and the page's code at the bottom right (or
    ``text`` in a QR code, or no code)."""
    page = Image.new("L", A4_200DPI, 255)
    draw = ImageDraw.Draw(page)
    for line in range(12):
        draw.text((150, 300 + 60 * line), f"line {line} of a certificate " * 3, fill=0)
    if payload is not None or text is not None:
        code = qr_image(payload.encode() if payload is not None else str(text))
        page.paste(code, (A4_200DPI[0] - code.width - 120, A4_200DPI[1] - code.height - 120))
    return page


def smudged_page(payload: PagePayload) -> Image.Image:
    """The page with a black smear across its code: the code is found, and cannot be read."""
    page = page_image(payload)
    code = qr_image(payload.encode())
    left, top = A4_200DPI[0] - code.width - 120, A4_200DPI[1] - code.height - 120
    ImageDraw.Draw(page).rectangle((left + 60, top + 150, left + code.width - 60, top + 250), fill=0)
    return page


def encoded(image: Image.Image, kind: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def pdf_of(*pages: Image.Image) -> bytes:
    first, *rest = pages
    return encoded(first, "PDF", save_all=True, append_images=rest, resolution=200.0)


def photo_of(page: Image.Image) -> bytes:
    """A phone's picture of the page: turned on a grey table, smaller, soft, dim, JPEG."""
    turned = page.convert("RGB").rotate(17, expand=True, fillcolor=(120, 110, 100))
    small = turned.resize((turned.width * 6 // 10, turned.height * 6 // 10))
    small = small.filter(ImageFilter.GaussianBlur(1.0))
    return encoded(Image.eval(small, lambda v: 70 + v // 2), "JPEG", quality=60)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


# -- the world: real processes, real copies ----------------------------------------------------------

@dataclass(frozen=True)
class Issued:
    payload: PagePayload
    document: OpenedDocument
    binding: Binding  # the order's, as the kiosk checks it before printing
    name: str  # the resident's, as printed: a canary

    def rendered(self, trust: TrustList, dpi: int = 300) -> list[Image.Image]:
        """The pages as the kiosk's printer gets them."""
        return render_document(self.document, trust=trust, expected=self.binding,
                               now=dt.datetime.now(dt.UTC), dpi=dpi)


@dataclass(frozen=True)
class Copies:
    printed: Issued
    voided: Issued
    not_printed: Issued
    keys_file: Path  # the published keys, with the municipality's name


def issue(world: World, terminal: EnrolledTerminal, client: CenterClient, *, printed: bool = False,
          void: bool = False) -> Issued:
    """A resident's seal registration certificate, ordered at a kiosk and opened as it would print it."""
    resident = world.resident()
    session_id = authenticate(world, client, resident)
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL])
    copy = order["copies"][0]
    document = opened(world, copy, terminal, order["order_id"], session_id, resident)
    if printed:
        assert client.printed(order["order_id"], [copy["issue_number"]])["state"] == "printed"
    if void:
        assert client.void(order["order_id"], "cancelled")["state"] == "voided"
    assert document.document.content["body"]["name"] == resident.name
    binding = Binding(order["order_id"], session_id, terminal.terminal_id,
                      Binding.holder_hash(resident.certificate))
    return Issued(PagePayload.of(document, 1), document, binding, resident.name)


def issue_copies(world: World, directory: Path, terminal_id: str) -> Copies:
    terminal, client = world.terminal(terminal_id)
    try:
        copies = [issue(world, terminal, client, printed=True), issue(world, terminal, client, void=True),
                  issue(world, terminal, client)]
    finally:
        client.close()
    published = json.loads((world.town.directory / municipal_service.PUBLIC_KEY_FILE).read_text())
    keys_file = directory / "municipal-keys.json"
    keys_file.write_text(json.dumps([{**published, "name": "千代田区"}], ensure_ascii=False))
    return Copies(*copies, keys_file)


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


def test_a_pdf_gives_every_page_s_payload_and_leaves_no_files(copies: Copies, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    pages = [page_image(copies.voided.payload), page_image(None), page_image(copies.printed.payload)]
    found = read_payloads(pdf_of(*pages))
    assert sorted(found, key=lambda p: p.issue_number) == sorted(
        [copies.printed.payload, copies.voided.payload], key=lambda p: p.issue_number)
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


@pytest.mark.parametrize("data", [
    b"hello, this is text\n",
    b"GIF89a" + b"\0" * 100,
    encoded(Image.new("RGB", (50, 50)), "BMP"),
    encoded(page_image(None))[:5000],  # a PNG cut short
    b"%PDF-1.7\n not really a pdf\n",
], ids=["text", "gif", "bmp", "truncated-png", "broken-pdf"])
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
        file.truncate(verify_read.MAX_BYTES + 1)
    with pytest.raises(TooLarge) as bytes_over:
        read_payloads(big)
    assert bytes_over.value.limit == verify_read.MAX_BYTES
    with pytest.raises(TooLarge):
        read_payloads(b"%PDF-" + b"\0" * verify_read.MAX_BYTES)
    for width, height in ((10_000, 10_000), (100_000, 100_000)):  # over ours, over Pillow's own
        with pytest.raises(TooLarge) as pixels:
            read_payloads(png_declaring(width, height))
        assert pixels.value.what == "the image"


# -- verdicts, against the real center ---------------------------------------------------------------

def keys_of(copies: Copies) -> PublishedKeys:
    return load_keys(copies.keys_file)


def test_a_printed_copy_is_genuine_and_the_verdict_says_nothing_of_the_person(
        copies: Copies, status: CenterStatus) -> None:
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
        world: World, copies: Copies, status: CenterStatus) -> None:
    keys = keys_of(copies)
    outcomes = [check(payload, keys, status).outcome
                for issued in (copies.printed, copies.voided, copies.not_printed)
                for payload in read_payloads(encoded(issued.rendered(world.trust, dpi=200)[0], "JPEG"))]
    assert outcomes == [Outcome.GENUINE, Outcome.VOIDED, Outcome.NOT_PRINTED]


def test_a_voided_copy_and_a_copy_never_printed_are_not_genuine(copies: Copies, status: CenterStatus) -> None:
    keys = keys_of(copies)
    voided = check(copies.voided.payload, keys, status)
    assert (voided.outcome, voided.reason, voided.genuine) == (Outcome.VOIDED, Reason.VOIDED, False)
    unprinted = check(copies.not_printed.payload, keys, status)
    assert (unprinted.outcome, unprinted.genuine) == (Outcome.NOT_PRINTED, False)


def test_a_changed_content_hash_under_the_kept_signature_is_altered(
        copies: Copies, status: CenterStatus) -> None:
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
    under_its_own_id = dataclasses.replace(payload, key_id=hachioji.key_id, signature=signature,
                                           verification_code=verification_code(signature))
    verdict = check(under_its_own_id, trust, status)
    assert (verdict.outcome, verdict.reason) == (Outcome.ALTERED, Reason.OTHER_MUNICIPALITY)
    under_chiyoda_s_id = dataclasses.replace(under_its_own_id, key_id=payload.key_id)
    assert check(under_chiyoda_s_id, trust, status).reason is Reason.BAD_SIGNATURE


def test_an_unknown_key_or_a_copy_the_store_does_not_know_is_unknown(
        copies: Copies, status: CenterStatus) -> None:
    payload = copies.printed.payload
    assert check(payload, TrustList(), status).reason is Reason.UNKNOWN_KEY
    # a well-formed code, signed by a key trusted for the town, for a copy nobody issued
    extra = MunicipalKey.generate(CODE)
    content_hash = hashlib.sha256(b"never issued").digest()
    signature = extra.private_key.sign(hash_signature_message(content_hash))
    never = PagePayload(payload.issue_number[:-6] + "999999", 1, 1, verification_code(signature),
                        extra.key_id, content_hash, signature)
    verdict = check(never, TrustList([*keys_of(copies).trust.values(), extra.trusted()]), status)
    assert (verdict.outcome, verdict.reason) == (Outcome.UNKNOWN, Reason.NOT_IN_STORE)
    # a genuine code whose page was cut from one copy, with another copy's issue number
    moved = dataclasses.replace(payload, issue_number=copies.voided.payload.issue_number)
    assert check(moved, keys_of(copies), status).outcome is Outcome.UNKNOWN


def test_a_key_past_its_validity_on_the_day_of_issue_is_not_trusted(
        copies: Copies, status: CenterStatus) -> None:
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
    typed = check_number(status(payload.issue_number + "/01", payload.verification_code.lower()),
                         keys_of(copies).names)
    assert (typed.outcome, typed.reason, typed.municipality_name) == (Outcome.GENUINE, Reason.STANDS_TYPED,
                                                                      "千代田区")
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


@pytest.mark.parametrize("content", [b"not json", b"[1]", b'{"format": "koufu-trust/2", "keys": []}',
                                     b'[{"municipality": "131016"}]'])
def test_malformed_published_keys_are_refused(content: bytes) -> None:
    with pytest.raises(MalformedDocument):
        load_keys(content)


# -- koufu verify --------------------------------------------------------------------------------------

def koufu_verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "koufu", "verify", *map(str, args)], capture_output=True,
                          text=True, env=environment, timeout=120, check=False)


def test_koufu_verify_prints_a_line_per_page_and_exits_by_the_verdicts(
        copies: Copies, world: World, tmp_path: Path) -> None:
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
