"""The document protocol (documents/): canonical JSON, issue numbers, the document model, signing,
sealing to a terminal and opening at the kiosk, with every refusal path and its code.

The envelope is also built and opened here by an independent implementation of the written spec
(HPKE by ``pyhpke``, not ``cryptography``'s), so the wire format is pinned and interoperates,
not just self-consistent.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey

from documents import (
    JST,
    MAX_DOCUMENT_BYTES,
    BadIssueNumber,
    BadSignature,
    BadVerificationCode,
    Binding,
    BindingMismatch,
    Document,
    DocumentError,
    IssueNumber,
    MalformedDocument,
    MunicipalKey,
    NotForThisTerminal,
    OpenedDocument,
    SignedDocument,
    TrustedKey,
    TrustList,
    UndecryptableDocument,
    UntrustedSigner,
    b64url_decode,
    b64url_encode,
    key_id_of,
    open_sealed,
    parse_verification_code,
    seal,
    tokyo_day,
    verification_code,
)
from documents import sign as sign_document
from support.sample_documents import (
    CANARY,
    CHIYODA,
    EXPECTED,
    HOLDER_DER,
    ISSUE,
    ISSUED_AT,
    TERMINAL,
    make_document,
    with_page_codes,
)

OSAKA = "271004"  # 大阪市
OTHER_TERMINAL = "T-0002"
NOW = ISSUED_AT + dt.timedelta(seconds=3)
CODES: dict[type[DocumentError], str] = {
    MalformedDocument: "malformed_document",
    NotForThisTerminal: "wrong_recipient",
    UndecryptableDocument: "undecryptable",
    UntrustedSigner: "untrusted_signer",
    BadSignature: "bad_signature",
    BindingMismatch: "binding_mismatch",
    BadIssueNumber: "bad_issue_number",
    BadVerificationCode: "bad_verification_code",
}
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)


# ------------------------------------------------------------------------------------------- helpers


@dataclasses.dataclass(frozen=True)
class World:
    chiyoda: MunicipalKey
    osaka: MunicipalKey
    terminal: ec.EllipticCurvePrivateKey
    other_terminal: ec.EllipticCurvePrivateKey
    trust: TrustList


@pytest.fixture(scope="module")
def world() -> World:
    chiyoda, osaka = MunicipalKey.generate(CHIYODA), MunicipalKey.generate(OSAKA)
    return World(
        chiyoda,
        osaka,
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
        TrustList([chiyoda.trusted(), osaka.trusted()]),
    )


@pytest.fixture(scope="module")
def good(world: World) -> bytes:
    """One correctly sealed document for TERMINAL."""
    return seal(sign(make_document(), world.chiyoda), TERMINAL, world.terminal.public_key())


def open_(
    sealed: bytes,
    world: World,
    *,
    terminal_id: str = TERMINAL,
    terminal_key: ec.EllipticCurvePrivateKey | None = None,
    trust: TrustList | None = None,
    expected: Binding = EXPECTED,
    now: dt.datetime = NOW,
) -> OpenedDocument:
    return open_sealed(
        sealed,
        terminal_id=terminal_id,
        terminal_key=terminal_key or world.terminal,
        trust=world.trust if trust is None else trust,
        expected=expected,
        now=now,
    )


def refused(error_type: type[DocumentError], call: Callable[[], object]) -> DocumentError:
    """``call`` raises exactly ``error_type`` (not a sibling, not a subclass), with its stable code."""
    with pytest.raises(DocumentError) as info:
        call()
    assert type(info.value) is error_type, f"{type(info.value).__name__}: {info.value}"
    assert info.value.code == CODES[error_type]
    return info.value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def spec_cbor(value: Any) -> bytes:
    """RFC 8949 §4.2.1 core deterministic encoding, as cbor2 writes it for these maps."""
    return bytes(cbor2.dumps(value, canonical=True))


def point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


SPEC_HPKE = CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
HEADER = ("format", "issue_number", "recipient")


def spec_seal(
    plaintext: bytes,
    recipient_key: ec.EllipticCurvePublicKey,
    *,
    recipient: str = TERMINAL,
    issue_number: str = ISSUE.text,
    info: bytes | None = None,
    suite: CipherSuite = SPEC_HPKE,
) -> bytes:
    """The envelope as the written spec describes it, built without the documents package: HPKE's
    info is the header's deterministic CBOR (unless another ``info`` is given), no associated data."""
    header = {"format": "koufu-sealed/3", "issue_number": issue_number, "recipient": recipient}
    enc, sender = suite.create_sender_context(
        KEMKey.from_pyca_cryptography_key(recipient_key), info=spec_cbor(header) if info is None else info
    )
    ciphertext = sender.seal(plaintext)  # the first message of the context: single-shot
    return spec_cbor({**header, "enc": enc, "ciphertext": ciphertext})


def spec_open(sealed: bytes, terminal_key: ec.EllipticCurvePrivateKey) -> bytes:
    envelope = cbor2.loads(sealed)
    header = {name: envelope[name] for name in HEADER}
    recipient = SPEC_HPKE.create_recipient_context(
        envelope["enc"], KEMKey.from_pyca_cryptography_key(terminal_key), info=spec_cbor(header)
    )
    return bytes(recipient.open(envelope["ciphertext"]))


def spec_sign1(document: dict[str, Any], key_id: str, private_key: ed25519.Ed25519PrivateKey) -> bytes:
    """A document's COSE_Sign1 as the written spec describes it, without the documents package."""
    protected = spec_cbor({1: -8, 4: bytes.fromhex(key_id)})
    payload = spec_cbor(document)
    signature = private_key.sign(spec_cbor(["Signature1", protected, b"", payload]))
    return spec_cbor(cbor2.CBORTag(18, [protected, {}, payload, signature]))


def inner(signed: SignedDocument) -> dict[str, Any]:
    """A sealed copy's plaintext, as a map."""
    return {
        "document": cbor2.dumps(
            cbor2.CBORTag(18, [signed.cose().protected, {}, signed.document.canonical(), signed.signature]),
            canonical=True,
        ),
        "page_codes": list(signed.page_codes),
    }


def doc(inner_map: dict[str, Any]) -> dict[str, Any]:
    """The document map inside a sealed copy's plaintext."""
    value: dict[str, Any] = cbor2.loads(cbor2.loads(inner_map["document"]).value[2])
    return value


def cose_with(inner_map: dict[str, Any], **parts: Any) -> bytes:
    """The copy's COSE_Sign1 with some of its parts (``protected``, ``payload``, ``signature``) replaced."""
    protected, unprotected, payload, signature = cbor2.loads(inner_map["document"]).value
    value = {"protected": protected, "payload": payload, "signature": signature, **parts}
    return spec_cbor(
        cbor2.CBORTag(18, [value["protected"], unprotected, value["payload"], value["signature"]])
    )


def envelope_of(sealed: bytes) -> dict[str, Any]:
    value = cbor2.loads(sealed)
    assert isinstance(value, dict)
    return value


def reenvelope(envelope: dict[str, Any]) -> bytes:
    return spec_cbor(envelope)


def flip(data: bytes, index: int) -> bytes:
    """The same bytes with one bit of byte ``index`` flipped."""
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


@given(st.binary(max_size=80))
@settings(deadline=None, derandomize=True, database=None)
def test_b64url_round_trip_and_uniqueness(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text and b64url_decode(text) == data
    if text:
        for other in (text + "=", text.replace(text[-1], "+", 1)):
            with pytest.raises(ValueError):
                b64url_decode(other)


@pytest.mark.parametrize("text", ["QR", "QUJ", "QQ==", "A", "ab/c", "ab c", "ab+c"])
def test_b64url_decode_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


# ----------------------------------------------------------------------------------- issue numbers


def test_issue_number_text_forms() -> None:
    assert ISSUE.text == str(ISSUE) == "20261123/131016/T-0001/01/000042"
    assert ISSUE.page(1, 2) == "20261123/131016/T-0001/01/000042/01"
    assert ISSUE.page(2, 2) == "20261123/131016/T-0001/01/000042/02"
    assert IssueNumber.parse("20261123/131016/T-0001/01/000042") == ISSUE
    assert IssueNumber.parse_page("20261123/131016/T-0001/01/000042/02") == (ISSUE, 2)
    top = IssueNumber(dt.date(9, 1, 2), "000000", "A" * 32, 99, 999_999)
    assert top.text == "00090102/000000/" + "A" * 32 + "/99/999999"
    assert IssueNumber.parse(top.text) == top


@pytest.mark.parametrize("n, of", [(0, 2), (3, 2), (1, 0), (1, 100), (100, 100), (True, 2)])
def test_issue_number_page_range(n: int, of: int) -> None:
    refused(BadIssueNumber, lambda: ISSUE.page(n, of))


@pytest.mark.parametrize(
    "text",
    [
        "20261123/131016/T-0001/1/000042",
        "20261123/131016/T-0001/01/42",
        "2026112/131016/T-0001/01/000042",
        "20261123/13101/T-0001/01/000042",
        "20261123/131016/t-0001/01/000042",
        "20261123/131016//01/000042",
        "20261123/131016/" + "T" * 33 + "/01/000042",
        "20261123/131016/T-0001/00/000042",
        "20261123/131016/T-0001/01/000000",
        "20260230/131016/T-0001/01/000042",
        "00000101/131016/T-0001/01/000042",
        " 20261123/131016/T-0001/01/000042",
        "20261123/131016/T-0001/01/000042\n",
        "20261123/131016/T 0001/01/000042",
        "20261123-131016-T-0001-01-000042",
        "２０２６1123/131016/T-0001/01/000042",
        "20261123/131016/T-0001/01/000042/01",
        "20261123/131016/T_0001/01/000042",
        "",
    ],
)
def test_issue_number_parse_refuses(text: str) -> None:
    refused(BadIssueNumber, lambda: IssueNumber.parse(text))


@pytest.mark.parametrize(
    "text",
    [
        "20261123/131016/T-0001/01/000042",
        "20261123/131016/T-0001/01/000042/00",
        "20261123/131016/T-0001/01/000042/1",
        "20261123/131016/T-0001/01/000042/001",
    ],
)
def test_issue_number_parse_page_refuses(text: str) -> None:
    refused(BadIssueNumber, lambda: IssueNumber.parse_page(text))


@pytest.mark.parametrize(
    "changes",
    [
        {"municipality": "13101"},
        {"municipality": 131016},
        {"terminal_id": "t-1"},
        {"terminal_id": ""},
        {"printer": 0},
        {"printer": 100},
        {"printer": True},
        {"sequence": 0},
        {"sequence": 1_000_000},
        {"day": dt.datetime(2026, 11, 23, tzinfo=JST)},
        {"day": "2026-11-23"},
    ],
)
def test_issue_number_fields_are_checked(changes: dict[str, Any]) -> None:
    refused(BadIssueNumber, lambda: dataclasses.replace(ISSUE, **changes))


issue_numbers = st.builds(
    IssueNumber,
    day=st.dates(),
    municipality=st.from_regex(r"[0-9]{6}", fullmatch=True),
    terminal_id=st.from_regex(r"[A-Z0-9-]{1,32}", fullmatch=True),
    printer=st.integers(1, 99),
    sequence=st.integers(1, 999_999),
)


@given(issue_numbers, st.integers(1, 99), st.integers(0, 98))
@settings(deadline=None, derandomize=True, database=None)
def test_issue_number_round_trip(number: IssueNumber, of: int, before: int) -> None:
    assert IssueNumber.parse(number.text) == number
    page = max(1, of - before)
    assert IssueNumber.parse_page(number.page(page, of)) == (number, page)
    assert len(number.text) == 8 + 1 + 6 + 1 + len(number.terminal_id) + 1 + 2 + 1 + 6


def test_tokyo_day() -> None:
    late_utc = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)  # 00:30 on the 23rd in Japan
    assert tokyo_day(late_utc) == dt.date(2026, 11, 23)
    with pytest.raises(ValueError):
        tokyo_day(dt.datetime(2026, 11, 23))


# ------------------------------------------------------------------------------------ the document


def test_document_map_round_trip_and_canonical_form() -> None:
    document = make_document()
    assert Document.from_map(document.to_map()) == document
    assert Document.from_map(cbor2.loads(document.canonical())) == document
    canonical = document.canonical()
    assert canonical == cbor2.dumps(cbor2.loads(canonical), canonical=True)
    assert cbor2.loads(canonical)["format"] == "koufu-document/2"
    assert cbor2.loads(canonical)["issue_number"] == "20261123/131016/T-0001/01/000042"
    assert cbor2.loads(canonical)["binding"] == {
        "order_id": EXPECTED.order_id,
        "session_id": EXPECTED.session_id,
        "terminal_id": TERMINAL,
        "holder_certificate": hashlib.sha256(HOLDER_DER).hexdigest(),
    }
    assert document.content_hash() == hashlib.sha256(canonical).hexdigest()
    assert make_document(pages=3).content_hash() != document.content_hash()


def test_document_issued_at_in_another_zone_is_the_same_day_in_japan() -> None:
    issued_utc = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)
    document = make_document(issued_at=issued_utc)
    assert document.to_map()["issued_at"] == "2026-11-22T15:30:00+00:00"
    assert Document.from_map(document.to_map()) == document
    refused(MalformedDocument, lambda: make_document(issued_at=dt.datetime(2026, 11, 22, 23, 59, tzinfo=JST)))


def test_document_keeps_its_own_copy_of_the_content() -> None:
    content: dict[str, Any] = {"name": CANARY, "rows": [1, 2]}
    document = make_document(content=content)
    content["rows"].append(3)
    document.to_map()["content"]["rows"].append(4)
    assert document.content == {"name": CANARY, "rows": [1, 2]}


@pytest.mark.parametrize(
    "changes",
    [
        {"municipality": OSAKA},
        {"municipality": "1310"},
        {"certificate_type": ""},
        {"certificate_type": "Resident"},
        {"certificate_type": "住民票"},
        {"pages": 0},
        {"pages": 100},
        {"pages": True},
        {"pages": "2"},
        {"issued_at": dt.datetime(2026, 11, 23, 10, 15)},
        {"issued_at": "2026-11-23T10:15:30+09:00"},
        {"content": {"fee": 200.5}},
        {"content": [1]},
        {"content": {"a": (1,)}},
        {"content": {"blob": "a" * MAX_DOCUMENT_BYTES}},
        {"issue": dataclasses.replace(ISSUE, day=dt.date(2026, 11, 24))},
        {"issue": dataclasses.replace(ISSUE, terminal_id=OTHER_TERMINAL)},
        {"issue": ISSUE.text},
        {"binding": EXPECTED.to_map()},
    ],
)
def test_document_fields_are_checked(changes: dict[str, Any]) -> None:
    refused(MalformedDocument, lambda: make_document(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"order_id": ""},
        {"order_id": "a b"},
        {"order_id": "x" * 129},
        {"session_id": "注文"},
        {"terminal_id": "t-0001"},
        {"holder_certificate": "AB" * 32},
        {"holder_certificate": "ab" * 31},
        {"holder_certificate": b"\x00" * 32},
    ],
)
def test_binding_fields_are_checked(changes: dict[str, Any]) -> None:
    refused(MalformedDocument, lambda: dataclasses.replace(EXPECTED, **changes))


def mutate_map(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        if value is KeyError:
            del data[key]
        else:
            data[key] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        mutate_map("format", "koufu-document/1"),
        mutate_map("format", KeyError),
        mutate_map("pages", KeyError),
        mutate_map("extra", 1),
        mutate_map("pages", 2.0),
        mutate_map("pages", True),
        mutate_map("content", []),
        mutate_map("issued_at", "2026-11-23T10:15:30"),
        mutate_map("issued_at", "2026-11-23T01:15:30Z"),
        mutate_map("issued_at", "2026-11-23 10:15:30+09:00"),
        mutate_map("issued_at", 1795392930),
        mutate_map("issue_number", "20261123/131016/T-0001/01/42"),
        mutate_map("issue_number", None),
        mutate_map("binding", {}),
        mutate_map("binding", [EXPECTED.order_id]),
        mutate_map("binding", {**EXPECTED.to_map(), "extra": "x"}),
        mutate_map("municipality", 131016),
        mutate_map("issued_at", "9999-12-31T23:00:00-05:00"),
    ],
)
def test_document_from_map_is_strict(change: Callable[[dict[str, Any]], None]) -> None:
    data = make_document().to_map()
    change(data)
    refused(MalformedDocument, lambda: Document.from_map(data))
    refused(MalformedDocument, lambda: Document.from_map([data]))


# --------------------------------------------------------------------------- keys and trust lists


def test_key_ids_and_trust_list_round_trip(world: World) -> None:
    raw = world.chiyoda.public_key.public_bytes_raw()
    assert world.chiyoda.key_id == hashlib.sha256(raw).hexdigest()[:16] == key_id_of(world.chiyoda.public_key)
    expiring = world.osaka.trusted(not_after=dt.datetime(2027, 3, 31, 23, 59, 59, tzinfo=JST))
    trust = TrustList([world.chiyoda.trusted(), expiring])
    data = trust.to_json()
    assert data["format"] == "koufu-trust/1"
    assert [entry["key_id"] for entry in data["keys"]] == sorted(trust)
    chiyoda_entry = next(entry for entry in data["keys"] if entry["municipality"] == CHIYODA)
    assert chiyoda_entry == {
        "municipality": CHIYODA,
        "key_id": world.chiyoda.key_id,
        "public_key": b64(raw),
        "not_after": None,
    }
    again = TrustList.from_json(json.loads(json.dumps(data)))
    assert dict(again) == dict(trust) and again[world.osaka.key_id].not_after == expiring.not_after
    restored = MunicipalKey.from_private_bytes(CHIYODA, world.chiyoda.private_bytes())
    assert restored.key_id == world.chiyoda.key_id
    assert world.chiyoda.private_bytes().hex() not in repr(world.chiyoda)
    assert "Ed25519PrivateKey" not in repr(world.chiyoda)


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.update(key_id="0" * 16),
        lambda e: e.update(public_key=e["public_key"][:-2]),
        lambda e: e.update(public_key=e["public_key"] + "="),
        lambda e: e.update(municipality="13101"),
        lambda e: e.update(not_after="2027-03-31"),
        lambda e: e.update(extra=1),
        lambda e: e.pop("not_after"),
        lambda e: e.update(public_key=None),
    ],
)
def test_trust_list_from_json_is_strict(world: World, change: Callable[[dict[str, Any]], object]) -> None:
    data = TrustList([world.chiyoda.trusted()]).to_json()
    change(data["keys"][0])
    refused(MalformedDocument, lambda: TrustList.from_json(data))


def test_trust_list_refuses_duplicates_and_other_shapes(world: World) -> None:
    entry = world.chiyoda.trusted().to_json()
    for data in (
        {"format": "koufu-trust/1", "keys": [entry, entry]},
        {"format": "koufu-trust/2", "keys": []},
        {"format": "koufu-trust/1", "keys": {}},
        [entry],
    ):
        refused(MalformedDocument, functools.partial(TrustList.from_json, data))
    naive = dt.datetime(2027, 3, 31)
    refused(MalformedDocument, lambda: TrustedKey(CHIYODA, world.chiyoda.public_key, naive))
    refused(MalformedDocument, lambda: TrustedKey("1310", world.chiyoda.public_key))


# ------------------------------------------------------------------------------ verification codes


def spec_code(signature: bytes) -> str:
    bits = format(int.from_bytes(hashlib.sha256(b"koufu-verify/1" + signature).digest()[:8], "big"), "064b")
    symbols = "".join("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[int(bits[i : i + 5], 2)] for i in range(0, 60, 5))
    return f"{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


@given(st.binary(min_size=64, max_size=64))
@settings(deadline=None, derandomize=True, database=None)
def test_verification_code_format_and_parsing(signature: bytes) -> None:
    code = verification_code(signature)
    assert code == spec_code(signature)
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert set(code.replace("-", "")) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert parse_verification_code(code) == code
    assert parse_verification_code(code.lower()) == code
    assert parse_verification_code(code.replace("-", "")) == code
    typed = code.replace("1", "l").replace("0", "O")
    assert parse_verification_code(typed) == code


def test_verification_code_reads_crockford_aliases() -> None:
    assert parse_verification_code("iiii-oooo-LLLL") == "1111-0000-1111"
    assert parse_verification_code("0123456789ab") == "0123-4567-89AB"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0123-4567-89A",
        "0123-4567-89ABC",
        "0123-4567-89AU",
        "0123 4567 89AB",
        "０１２３-4567-89AB",
        "0123-4567-89A!",
        "0" * 65,
    ],
)
def test_verification_code_parse_refuses(text: str) -> None:
    refused(BadVerificationCode, lambda: parse_verification_code(text))


# ------------------------------------------------------------------------------ signing and sealing


def sign(document: Document, key: MunicipalKey) -> SignedDocument:
    """A copy signed and given a stand-in code for each page, as the issuer seals it."""
    return with_page_codes(sign_document(document, key))


def test_seal_and_open_round_trip(world: World, good: bytes) -> None:
    signed = sign(make_document(), world.chiyoda)
    opened = open_(seal(signed, TERMINAL, world.terminal.public_key()), world)
    assert opened.document == signed.document and opened.document.content["name"] == CANARY
    assert opened.key_id == world.chiyoda.key_id and opened.signature == signed.signature
    assert opened.verification_code == verification_code(signed.signature) == signed.verification_code
    assert opened.signed == signed
    assert open_(good, world).document == make_document()
    # the signature is a COSE_Sign1's over the document's deterministic CBOR
    protected = spec_cbor({1: -8, 4: bytes.fromhex(world.chiyoda.key_id)})
    structure = spec_cbor(["Signature1", protected, b"", signed.document.canonical()])
    world.chiyoda.public_key.verify(signed.signature, structure)
    assert (
        spec_sign1(signed.document.to_map(), world.chiyoda.key_id, world.chiyoda.private_key)
        == (inner(signed)["document"])
    )


def test_page_codes_travel_with_the_document_unread(world: World) -> None:
    signed = sign_document(make_document(), world.chiyoda)
    assert signed.page_codes == ()  # the pages are signed after the document (printing.page_signing)
    codes = tuple(f"KF2:PAGE {n}" for n in range(1, signed.document.pages + 1))
    with_codes = SignedDocument(signed.document, signed.key_id, signed.signature, codes)
    opened = open_(seal(with_codes, TERMINAL, world.terminal.public_key()), world)
    assert opened.page_codes == codes and opened.signed == with_codes
    with pytest.raises(ValueError, match="one page code per page"):  # a copy is sealed with them all
        seal(signed, TERMINAL, world.terminal.public_key())
    other = codes[1:]
    for last in ("kf2:lower", "", "A" * 4097):
        with pytest.raises(MalformedDocument):
            SignedDocument(signed.document, signed.key_id, signed.signature, (*other, last))
    with pytest.raises(MalformedDocument):
        SignedDocument(signed.document, signed.key_id, signed.signature, codes + codes)
    with pytest.raises(MalformedDocument):
        SignedDocument(signed.document, signed.key_id, signed.signature, list(codes))  # type: ignore[arg-type]


def test_sealed_envelope_follows_the_written_spec(world: World, good: bytes) -> None:
    envelope = envelope_of(good)
    assert set(envelope) == {"format", "recipient", "issue_number", "enc", "ciphertext"}
    assert envelope["format"] == "koufu-sealed/3" and envelope["recipient"] == TERMINAL
    assert envelope["issue_number"] == ISSUE.text
    assert len(envelope["enc"]) == 65 and envelope["enc"][0] == 4
    assert good == spec_cbor(envelope)
    plaintext = spec_open(good, world.terminal)
    assert plaintext == spec_cbor(cbor2.loads(plaintext))
    assert cbor2.loads(plaintext) == inner(sign(make_document(), world.chiyoda))  # Ed25519 is deterministic
    # and the other way: an envelope built from the spec alone opens
    again = spec_seal(spec_cbor(inner(sign(make_document(), world.chiyoda))), world.terminal.public_key())
    assert open_(again, world).document == make_document()


def test_each_seal_is_fresh(world: World, good: bytes) -> None:
    signed = sign(make_document(), world.chiyoda)
    other = seal(signed, TERMINAL, world.terminal.public_key())
    assert envelope_of(other)["enc"] != envelope_of(good)["enc"]
    assert envelope_of(other)["ciphertext"] != envelope_of(good)["ciphertext"]


def test_the_center_cannot_read_a_sealed_document(world: World, good: bytes) -> None:
    """The relaying center sees the recipient and the issue number, never the content."""
    for form in (
        CANARY.encode(),
        json.dumps(CANARY).encode(),
        "山田花子".encode(),
        b"CANARY",
        EXPECTED.holder_certificate.encode(),
        EXPECTED.order_id.encode(),
    ):
        assert form not in good
    envelope = envelope_of(good)
    assert set(envelope) - {"format", "recipient", "issue_number"} == {"enc", "ciphertext"}
    assert b"CANARY" not in envelope["ciphertext"]
    # with every key but the terminal's, it does not open: another terminal's key under this id
    refused(UndecryptableDocument, lambda: open_(good, world, terminal_key=world.other_terminal))


@pytest.mark.parametrize(
    "field, changed",
    [
        ("order_id", {"order_id": "ORD-20261123-000018"}),
        ("session_id", {"session_id": "0d3e0f7a-1111-4b7e-9d2a-0c5e1f3b7a91"}),
        ("terminal_id", {"terminal_id": OTHER_TERMINAL}),
        ("holder_certificate", {"holder_certificate": Binding.holder_hash(HOLDER_DER + b"another card")}),
        ("order_id", {"order_id": "ORD-1", "session_id": "S-1", "holder_certificate": "0" * 64}),
        ("session_id", {"session_id": "S-1", "terminal_id": OTHER_TERMINAL}),
    ],
)
def test_document_for_another_binding_is_refused(world: World, field: str, changed: dict[str, str]) -> None:
    """Another order, session, terminal or card: the first differing field is named, no value is told."""
    binding = dataclasses.replace(EXPECTED, **changed)
    issue = dataclasses.replace(ISSUE, terminal_id=binding.terminal_id)
    document = make_document(binding=binding, issue=issue)
    plaintext = spec_cbor(inner(sign(document, world.chiyoda)))
    sealed = spec_seal(plaintext, world.terminal.public_key(), issue_number=document.issue_number.text)
    error = refused(BindingMismatch, lambda: open_(sealed, world))
    assert isinstance(error, BindingMismatch) and error.field == field
    for value in (*changed.values(), *EXPECTED.to_map().values()):
        assert value not in str(error)


def test_seal_refuses_a_terminal_other_than_the_binding(world: World) -> None:
    signed = sign(make_document(), world.chiyoda)
    with pytest.raises(ValueError):
        seal(signed, OTHER_TERMINAL, world.other_terminal.public_key())
    with pytest.raises(ValueError):
        seal(signed, "t-0001", world.terminal.public_key())
    with pytest.raises(ValueError):
        seal(signed, TERMINAL, ec.generate_private_key(ec.SECP384R1()).public_key())


def test_sealed_for_another_terminal_is_refused(world: World) -> None:
    binding = dataclasses.replace(EXPECTED, terminal_id=OTHER_TERMINAL)
    document = make_document(binding=binding, issue=dataclasses.replace(ISSUE, terminal_id=OTHER_TERMINAL))
    sealed = seal(sign(document, world.chiyoda), OTHER_TERMINAL, world.other_terminal.public_key())
    refused(NotForThisTerminal, lambda: open_(sealed, world))
    # relabelled for this terminal, it still does not open here (key and associated data differ)
    relabelled = reenvelope({**envelope_of(sealed), "recipient": TERMINAL})
    refused(UndecryptableDocument, lambda: open_(relabelled, world))
    # and it does open where it belongs
    opened = open_(
        sealed, world, terminal_id=OTHER_TERMINAL, terminal_key=world.other_terminal, expected=binding
    )
    assert opened.document == document


def test_signer_not_in_the_trust_list_is_refused(world: World) -> None:
    stranger = MunicipalKey.generate(CHIYODA)
    sealed = seal(sign(make_document(), stranger), TERMINAL, world.terminal.public_key())
    refused(UntrustedSigner, lambda: open_(sealed, world))
    refused(UntrustedSigner, lambda: open_(sealed, world, trust=TrustList()))


def test_another_municipalitys_trusted_key_is_refused(world: World) -> None:
    document = make_document()
    with pytest.raises(ValueError):
        sign(document, world.osaka)
    signed = cbor2.loads(spec_sign1(document.to_map(), world.osaka.key_id, world.osaka.private_key))
    forged = with_page_codes(SignedDocument(document, world.osaka.key_id, signed.value[3]))
    sealed = seal(forged, TERMINAL, world.terminal.public_key())
    refused(UntrustedSigner, lambda: open_(sealed, world))
    refused(UntrustedSigner, lambda: forged.verify(world.trust, now=NOW))


def test_expired_key_is_refused(world: World, good: bytes) -> None:
    expired_before = TrustList([world.chiyoda.trusted(not_after=ISSUED_AT - dt.timedelta(seconds=1))])
    refused(UntrustedSigner, lambda: open_(good, world, trust=expired_before))
    expires_between = TrustList([world.chiyoda.trusted(not_after=ISSUED_AT + dt.timedelta(seconds=1))])
    refused(UntrustedSigner, lambda: open_(good, world, trust=expires_between))  # a backdated document
    assert open_(good, world, trust=expires_between, now=ISSUED_AT).document == make_document()
    assert open_(good, world, trust=TrustList([world.chiyoda.trusted(not_after=NOW)])).key_id


def test_bad_signature_is_refused(world: World) -> None:
    signed = sign(make_document(), world.chiyoda)
    flipped = bytes([signed.signature[0] ^ 0x80]) + signed.signature[1:]
    for signature in (flipped, sign(make_document(pages=3), world.chiyoda).signature, bytes(64)):
        forged = SignedDocument(signed.document, signed.key_id, signature, signed.page_codes)
        sealed = seal(forged, TERMINAL, world.terminal.public_key())
        refused(BadSignature, functools.partial(open_, sealed, world))
    # a document changed after signing (one field) fails in the same way
    changed = with_page_codes(sign(make_document(pages=3), world.chiyoda))
    resigned = spec_cbor(
        {**inner(changed), "document": cose_with(inner(changed), signature=signed.signature)}
    )
    refused(BadSignature, lambda: open_(spec_seal(resigned, world.terminal.public_key()), world))
    # and signed under another alg's header: EdDSA only
    es256 = spec_cbor({1: -7, 4: bytes.fromhex(world.chiyoda.key_id)})
    other_alg = spec_cbor({**inner(signed), "document": cose_with(inner(signed), protected=es256)})
    error = refused(BadSignature, lambda: open_(spec_seal(other_alg, world.terminal.public_key()), world))
    assert "EdDSA" in error.message


@pytest.mark.parametrize("index", [0, 100, -1, -16])
def test_flipped_bit_in_the_ciphertext_is_refused(world: World, good: bytes, index: int) -> None:
    envelope = envelope_of(good)
    envelope["ciphertext"] = flip(envelope["ciphertext"], index)
    refused(UndecryptableDocument, lambda: open_(reenvelope(envelope), world))


def test_changed_enc_is_refused(world: World, good: bytes) -> None:
    envelope = envelope_of(good)
    another = point(ec.generate_private_key(ec.SECP256R1()).public_key())
    refused(UndecryptableDocument, lambda: open_(reenvelope({**envelope, "enc": another}), world))
    off_curve = reenvelope({**envelope, "enc": flip(envelope["enc"], 40)})
    refused(MalformedDocument, lambda: open_(off_curve, world))
    compressed = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), envelope["enc"])
    short = compressed.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    refused(MalformedDocument, lambda: open_(reenvelope({**envelope, "enc": short}), world))
    # the enc of another envelope to the same terminal: another shared secret, the tag fails
    other = envelope_of(seal(sign(make_document(), world.chiyoda), TERMINAL, world.terminal.public_key()))
    refused(UndecryptableDocument, lambda: open_(reenvelope({**envelope, "enc": other["enc"]}), world))


@pytest.mark.parametrize(
    "info",
    [
        b"",
        b"koufu-sealed/3 T-0001",
        spec_cbor({"format": "koufu-sealed/1", "issue_number": ISSUE.text, "recipient": TERMINAL}),
        spec_cbor({"format": "koufu-offer/3", "recipient": TERMINAL}),
        spec_json_header := (
            b'{"format":"koufu-sealed/3","issue_number":"' + ISSUE.text.encode() + b'","recipient":"T-0001"}'
        ),
        spec_cbor({"format": "koufu-sealed/3", "issue_number": ISSUE.text, "recipient": TERMINAL}) + b"\n",
    ],
)
def test_sealed_under_another_info_is_refused(world: World, info: bytes) -> None:
    """The same header on the wire, but the key derived from another info: it does not open."""
    plaintext = spec_cbor(inner(sign(make_document(), world.chiyoda)))
    assert open_(spec_seal(plaintext, world.terminal.public_key()), world).document == make_document()
    sealed = spec_seal(plaintext, world.terminal.public_key(), info=info)
    refused(UndecryptableDocument, lambda: open_(sealed, world))


@pytest.mark.parametrize(
    "suite",
    [
        CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES128_GCM),
        CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.CHACHA20_POLY1305),
        CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA512, AEADId.AES256_GCM),
    ],
)
def test_sealed_with_another_hpke_suite_is_refused(world: World, suite: CipherSuite) -> None:
    plaintext = spec_cbor(inner(sign(make_document(), world.chiyoda)))
    sealed = spec_seal(plaintext, world.terminal.public_key(), suite=suite)
    refused(UndecryptableDocument, lambda: open_(sealed, world))


def test_changed_issue_number_is_refused(world: World, good: bytes) -> None:
    other = dataclasses.replace(ISSUE, sequence=43).text
    # in the envelope only: HPKE's info, and so the key, no longer matches
    relabelled = reenvelope({**envelope_of(good), "issue_number": other})
    refused(UndecryptableDocument, lambda: open_(relabelled, world))
    # sealed (by anyone: the terminal's key is public) under another issue number than the signed document's
    plaintext = spec_cbor(inner(sign(make_document(), world.chiyoda)))
    sealed = spec_seal(plaintext, world.terminal.public_key(), issue_number=other)
    error = refused(MalformedDocument, lambda: open_(sealed, world))
    assert "issue number" in error.message


@pytest.mark.parametrize(
    "change",
    [
        *[
            mutate_map(name, KeyError)
            for name in ("format", "recipient", "enc", "issue_number", "ciphertext")
        ],
        mutate_map("extra", "x"),
        mutate_map("signature", "x"),
        mutate_map("ephemeral", "x"),
        mutate_map("nonce", "x"),
        mutate_map("format", "koufu-sealed/1"),
        mutate_map("format", "koufu-sealed/2"),
        mutate_map("format", "koufu-offer/3"),
        mutate_map("format", b"koufu-sealed/3"),
        mutate_map("enc", 12),
        mutate_map("recipient", None),
        mutate_map("issue_number", "42"),
        mutate_map("enc", bytes(16)),
        mutate_map("enc", bytes(65)),
        mutate_map("enc", bytes(66)),
        mutate_map("ciphertext", bytes(15)),
        mutate_map("enc", "QUJDREVGR0hJSktM"),
        mutate_map("ciphertext", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"),
    ],
)
def test_envelope_fields_are_checked(
    world: World, good: bytes, change: Callable[[dict[str, Any]], None]
) -> None:
    envelope = envelope_of(good)
    change(envelope)
    refused(MalformedDocument, lambda: open_(reenvelope(envelope), world))


def test_envelope_must_be_deterministic_cbor(world: World, good: bytes) -> None:
    envelope = envelope_of(good)
    duplicate = b"\xa6" + spec_cbor({"format": "koufu-sealed/3"})[1:] + good[1:]
    assert cbor2.loads(duplicate) == envelope  # a lenient parser would take it
    as_json = {k: b64(v) if isinstance(v, bytes) else v for k, v in envelope.items()}
    for sealed in (
        duplicate,
        good + b"\x00",
        b"\x00" + good,
        cbor2.dumps(dict(reversed(list(envelope.items())))),
        good.replace(b"\x66T-0001", b"\x78\x06T-0001"),  # a text length not in its shortest form
        b"\xbf" + good[1:] + b"\xff",  # an indefinite-length map
        cbor2.dumps([envelope], canonical=True),
        json.dumps(as_json, sort_keys=True, separators=(",", ":")).encode(),  # the old form
        b"\xf6",
        b"",
        "壊れた".encode(),
    ):
        refused(MalformedDocument, functools.partial(open_, sealed, world))


def test_oversize_is_refused(world: World, good: bytes) -> None:
    padded = reenvelope({**envelope_of(good), "padding": b"x" * MAX_DOCUMENT_BYTES})
    error = refused(MalformedDocument, lambda: open_(padded, world))
    assert "bytes" in error.message
    big = make_document(content={"name": CANARY, "blob": "x" * (MAX_DOCUMENT_BYTES - 100)})  # over it sealed
    refused(MalformedDocument, lambda: seal(sign(big, world.chiyoda), TERMINAL, world.terminal.public_key()))
    # inside: a plaintext over the limit is refused after decryption
    huge = spec_cbor({**inner(sign(make_document(), world.chiyoda)), "pad": "x" * MAX_DOCUMENT_BYTES})
    refused(MalformedDocument, lambda: open_(spec_seal(huge, world.terminal.public_key()), world))


@pytest.mark.parametrize(
    "make_plaintext",
    [
        lambda i: b"not cbor",
        lambda i: spec_cbor([i]),
        lambda i: spec_cbor({**i, "extra": 1}),
        lambda i: spec_cbor({k: v for k, v in i.items() if k != "document"}),
        lambda i: spec_cbor({**i, "document": cbor2.loads(i["document"])}),  # embedded, not its bytes
        lambda i: spec_cbor(
            {**i, "document": cose_with(i, signature=cbor2.loads(i["document"]).value[3][:63])}
        ),
        lambda i: spec_cbor({**i, "document": cose_with(i, protected=spec_cbor({1: -8}))}),
        lambda i: spec_cbor({**i, "document": cose_with(i, protected=spec_cbor({1: -8, 4: b"short"}))}),
        lambda i: spec_cbor({**i, "document": cose_with(i, payload=spec_cbor({**doc(i), "colour": "red"}))}),
        lambda i: spec_cbor({**i, "document": cose_with(i, payload=spec_cbor({**doc(i), "pages": 2.0}))}),
        lambda i: spec_cbor(
            {**i, "document": cose_with(i, payload=cbor2.dumps(dict(reversed(doc(i).items()))))}
        ),
        lambda i: spec_cbor({**i, "document": cose_with(i, payload=spec_cbor({**doc(i), "format": "x"}))}),
        lambda i: spec_cbor({**i, "document": i["document"] + b"\x00"}),
        lambda i: json.dumps({**i, "document": b64(i["document"])}).encode(),
        lambda i: cbor2.dumps(dict(reversed(list(i.items())))),
        lambda i: spec_cbor({k: v for k, v in i.items() if k != "page_codes"}),
        lambda i: spec_cbor({**i, "page_codes": "KF2:ABC"}),
        lambda i: spec_cbor({**i, "page_codes": []}),  # a copy without its page codes
        lambda i: spec_cbor({**i, "page_codes": ["KF2:ABC"] * (doc(i)["pages"] + 1)}),
        # not the QR's alphanumeric alphabet, empty, too long, not text
        *(
            (lambda i, code=code: spec_cbor({**i, "page_codes": [code] * doc(i)["pages"]}))
            for code in ("kf2:abc", "", "A" * 4097, 7, b"KF2:ABC")
        ),
    ],
)
def test_inner_content_is_checked(world: World, make_plaintext: Callable[[dict[str, Any]], bytes]) -> None:
    plaintext = make_plaintext(inner(sign(make_document(), world.chiyoda)))
    refused(MalformedDocument, lambda: open_(spec_seal(plaintext, world.terminal.public_key()), world))


def test_open_refuses_a_naive_clock(world: World, good: bytes) -> None:
    with pytest.raises(ValueError):
        open_(good, world, now=dt.datetime(2026, 11, 23, 10, 15))


def test_documents_imports_no_framework_and_nothing_of_the_other_packages() -> None:
    forbidden = [
        "center",
        "kiosk",
        "hardware",
        "fastapi",
        "starlette",
        "uvicorn",
        "httpx",
        "aiohttp",
        "sqlalchemy",
        "kivy",
        "pydantic",
    ]
    probe = (
        "import sys, documents, documents.sealing;"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({forbidden!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------ never anything but refusal


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "extend", "swap"]))
    at = draw(st.integers(0, len(original) - 1))
    data = bytearray(original)
    if kind == "flip":
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif kind == "set":
        data[at] = draw(st.integers(0, 255))
    elif kind == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=8))
    elif kind == "delete":
        del data[at : at + draw(st.integers(1, 64))]
    elif kind == "truncate":
        del data[at:]
    elif kind == "extend":
        data += draw(st.binary(min_size=1, max_size=8))
    else:
        other = draw(st.integers(0, len(original) - 1))
        data[at], data[other] = data[other], data[at]
    return bytes(data)


@given(data=st.data())
@FUZZ
def test_any_mutation_of_a_sealed_document_is_refused(world: World, good: bytes, data: st.DataObject) -> None:
    """The envelope is canonical and authenticated: any other bytes raise a DocumentError (and only that)."""
    sealed = data.draw(mutated(good))
    assume(sealed != good)
    try:
        opened = open_(sealed, world)
    except DocumentError as error:
        assert error.code in CODES.values()
    else:
        pytest.fail(f"a mutated sealed document opened: {opened.document.issue_number}")


@given(data=st.data())
@FUZZ
def test_mutated_header_fields_are_refused(world: World, good: bytes, data: st.DataObject) -> None:
    """Deterministic CBOR, every field of the right kind, one of them replaced."""
    envelope = envelope_of(good)
    name = data.draw(st.sampled_from(sorted(envelope)))
    envelope[name] = data.draw(
        st.text(max_size=90) | st.binary(max_size=80) | st.just(envelope[name]).map(lambda value: value[::-1])
    )
    assume(envelope != envelope_of(good))
    with pytest.raises(DocumentError) as info:
        open_(reenvelope(envelope), world)
    assert info.value.code in CODES.values()


plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(max_size=12)
    | st.binary(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=24,
)


@given(st.binary(max_size=400) | plain_values.map(spec_cbor))
@FUZZ
def test_garbage_is_refused(world: World, garbage: bytes) -> None:
    with pytest.raises(DocumentError) as info:
        open_(garbage, world)
    assert info.value.code == "malformed_document"


@given(data=st.data())
@FUZZ
def test_mutated_inner_content_is_refused(world: World, data: st.DataObject) -> None:
    """Whatever a sender (anyone: the terminal's key is public) encrypts, only DocumentError comes
    out, or the signed copy itself: the page codes are carried unread here (the kiosk checks each
    against its page, printing.page_signing), so a changed code may open, the document never."""
    signed = sign(make_document(), world.chiyoda)
    original = spec_cbor(inner(signed))
    plaintext = data.draw(mutated(original))
    assume(plaintext != original)
    try:
        opened = open_(spec_seal(plaintext, world.terminal.public_key()), world)
    except DocumentError as error:
        assert error.code in CODES.values()
    else:
        assert (opened.document, opened.signature) == (signed.document, signed.signature)
        assert opened.page_codes != signed.page_codes
