"""The signed page code (KF2): a page's claims round trip, are the same bytes each time, and are
trusted only under a key of their own municipality valid at issue and now; every damaged, forged,
oversized or foreign code is refused with a typed error that quotes nothing of the page.

The COSE layer is checked against the COSE working group's published example EdDSA-sig-02
(COSE_Sign1 with Ed448): its to-be-signed bytes are our ``sig_structure``'s, and its signature
verifies over them.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from typing import Any

import base45
import cbor2
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric import ed448
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.specimens import SPECIMEN_KEY, specimens
from documents import (
    JST,
    BadSignature,
    DocumentError,
    MunicipalKey,
    SignedDocument,
    TrustList,
    UntrustedSigner,
    sign,
)
from documents.cose import sig_structure
from printing.page_code import (
    ALPHANUMERIC,
    MAX_COSE_BYTES,
    MAX_TEXT,
    PREFIX,
    BadPageCode,
    PageClaims,
    SignedPageCode,
    read_page_code,
    sign_page,
)
from support.page_images import KF1_TEXT
from support.sample_documents import CANARY, CHIYODA, ISSUED_AT, make_document

OSAKA = "271004"
CONTENT: dict[str, Any] = {
    "title": "住民票の写し",
    "body": {
        "persons": [{"name": CANARY, "born": "昭和55年4月1日", "relation": "世帯主", "my_number": None}],
        "address": "東京都千代田区九段南1-2-1",
    },
    "fee_yen": 300,
    "certified": True,
}


@pytest.fixture(scope="module")
def chiyoda() -> MunicipalKey:
    return MunicipalKey.generate(CHIYODA)


@pytest.fixture(scope="module")
def signed(chiyoda: MunicipalKey) -> SignedDocument:
    return sign(make_document(), chiyoda)


@pytest.fixture(scope="module")
def claims(signed: SignedDocument) -> PageClaims:
    return PageClaims.of(signed, 1, CONTENT)


@pytest.fixture(scope="module")
def text(claims: PageClaims, chiyoda: MunicipalKey) -> str:
    return sign_page(claims, chiyoda)


@pytest.fixture(scope="module")
def trust(chiyoda: MunicipalKey) -> TrustList:
    return TrustList([chiyoda.trusted()])


NOW = ISSUED_AT + dt.timedelta(days=30)


# -- building codes by hand, to forge and to damage them -------------------------------------------


def parts(text: str) -> tuple[bytes, Any, bytes, bytes]:
    """The COSE_Sign1's four parts of a (good) code."""
    cose = zlib.decompress(base45.b45decode(text[len(PREFIX) :]))
    protected, unprotected, payload, signature = cbor2.loads(cose).value
    return protected, unprotected, payload, signature


def wrap(cose: bytes) -> str:
    return PREFIX + base45.b45encode(zlib.compress(cose, 9)).decode()


def assemble(
    protected: bytes,
    payload: bytes,
    signature: bytes,
    *,
    unprotected: Any = None,
    tag: int | None = 18,
    canonical: bool = True,
) -> str:
    message = [protected, {} if unprotected is None else unprotected, payload, signature]
    item: Any = message if tag is None else cbor2.CBORTag(tag, message)
    return wrap(cbor2.dumps(item, canonical=canonical))


def resign(key: MunicipalKey, payload: bytes, protected: bytes | None = None, **kwargs: Any) -> str:
    """A code over any payload bytes, genuinely signed with ``key``."""
    if protected is None:
        protected = cbor2.dumps({1: -8, 4: bytes.fromhex(key.key_id)}, canonical=True)
    signature = key.private_key.sign(sig_structure(protected, payload))
    return assemble(protected, payload, signature, **kwargs)


def claims_map(claims: PageClaims) -> dict[int, Any]:
    return claims.to_cbor()


def refused(error: DocumentError) -> DocumentError:
    """Messages are safe to log: nothing of the page's content in them."""
    assert CANARY not in str(error) and CANARY not in repr(error)
    assert "九段南" not in str(error)
    return error


# -- the round trip --------------------------------------------------------------------------------


def test_a_page_code_round_trips_and_verifies_under_its_municipality_s_key(
    text: str, claims: PageClaims, chiyoda: MunicipalKey, trust: TrustList
) -> None:
    assert text.startswith("KF2:")
    assert set(text) <= set(ALPHANUMERIC)
    code = read_page_code(text)
    assert code.claims == claims
    assert code.claims.content == CONTENT and code.claims.content is not CONTENT
    assert code.claims.issued_at == ISSUED_AT and code.claims.issued_at.tzinfo == JST
    assert code.key_id == chiyoda.key_id and code.algorithm == -8
    assert code.claims.printed_issue_number.endswith("/000042/01")
    assert code.verify(trust, now=NOW) == trust[chiyoda.key_id]
    protected, unprotected, payload, signature = parts(text)
    assert cbor2.loads(protected) == {1: -8, 4: bytes.fromhex(chiyoda.key_id)}
    assert unprotected == {} and len(signature) == 64
    assert cbor2.loads(payload).keys() == {1, 6, -65537}
    assert zlib.decompress(base45.b45decode(text[4:])) == code.cose


def test_the_claims_carry_the_signed_document_s_facts(signed: SignedDocument, claims: PageClaims) -> None:
    document = signed.document
    assert claims.issue_number == document.issue_number.text
    assert (claims.page, claims.pages) == (1, 2)
    assert claims.municipality == CHIYODA and claims.certificate_type == "resident_record"
    assert claims.verification_code == signed.verification_code
    assert claims.content_hash.hex() == document.content_hash()


def test_the_same_claims_give_the_same_bytes(signed: SignedDocument, chiyoda: MunicipalKey) -> None:
    shuffled = {key: CONTENT[key] for key in reversed(list(CONTENT))}
    first = sign_page(PageClaims.of(signed, 2, CONTENT), chiyoda)
    assert sign_page(PageClaims.of(signed, 2, shuffled), chiyoda) == first
    assert sign_page(PageClaims.of(signed, 2, CONTENT), chiyoda) == first
    assert sign_page(PageClaims.of(signed, 1, CONTENT), chiyoda) != first


def test_the_encoding_is_core_deterministic_bytewise_key_order(text: str) -> None:
    """RFC 8949 §4.2.1 orders map keys by their encoded bytes; cbor2's canonical order is
    length-first (§4.2.3), the same for the keys these maps hold: checked on the bytes."""
    protected, _, payload, _ = parts(text)

    def check(value: Any) -> None:
        if isinstance(value, dict):
            keys = [cbor2.dumps(key) for key in value]
            assert keys == sorted(keys)
            for element in value.values():
                check(element)
        elif isinstance(value, list):
            for element in value:
                check(element)

    for data in (protected, payload):
        check(cbor2.loads(data))


def test_sig_structure_is_rfc_9052_s_as_the_cose_working_group_s_example_shows() -> None:
    """EdDSA-sig-02 (Ed448, COSE_Sign1): the published ToBeSign bytes and signature."""
    x = bytes.fromhex(
        "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e5"
        "0f6cd1fa1abeafe8256180"
    )
    message = bytes.fromhex(
        "D28443A10127A10445336434343854546869732069732074686520636F6E74656E742E5872988240A3A2F189BD"
        "486DE14AA77F54686C576A09F2E7ED9BAE910DF9139C2AC3BE7C27B7E10A20FA17C9D57D3510A2CF1F634BC034"
        "5AB9BE00849842171D1E9E98B2674C0E38BFCF6C557A1692B01B71015A47AC9F7748840CAD1DA80CBB5B349309"
        "FEBB912672B377C8B2072AF1598B3700"
    )
    protected, unprotected, payload, signature = cbor2.loads(message).value
    assert unprotected == {4: b"3d448"}
    to_be_signed = sig_structure(protected, payload)
    assert to_be_signed == bytes.fromhex(
        "846A5369676E61747572653143A101274054546869732069732074686520636F6E74656E742E"
    )
    ed448.Ed448PublicKey.from_public_bytes(x).verify(signature, to_be_signed)


# -- trust -----------------------------------------------------------------------------------------


def test_a_changed_content_byte_fails_the_signature(text: str, trust: TrustList) -> None:
    protected, _, payload, signature = parts(text)
    at = payload.index("九段南".encode())
    altered = payload[:at] + "九段北".encode() + payload[at + len("九段南".encode()) :]
    forged = assemble(protected, altered, signature)
    code = read_page_code(forged)  # well formed: only the signature tells
    assert code.claims.content["body"]["address"] == "東京都千代田区九段北1-2-1"
    with pytest.raises(BadSignature) as caught:
        code.verify(trust, now=NOW)
    refused(caught.value)


def test_a_genuine_code_pasted_onto_other_claims_fails(
    signed: SignedDocument, chiyoda: MunicipalKey, trust: TrustList, text: str
) -> None:
    other = sign_page(PageClaims.of(signed, 1, {**CONTENT, "fee_yen": 0}), chiyoda)
    protected, _, payload, _ = parts(other)
    _, _, _, genuine_signature = parts(text)
    with pytest.raises(BadSignature):
        read_page_code(assemble(protected, payload, genuine_signature)).verify(trust, now=NOW)


def test_a_key_not_in_the_trust_list_is_untrusted(claims: PageClaims, trust: TrustList) -> None:
    stranger = MunicipalKey.generate(CHIYODA)
    with pytest.raises(UntrustedSigner, match="not in the trust list"):
        read_page_code(sign_page(claims, stranger)).verify(trust, now=NOW)


def test_a_key_of_another_municipality_is_untrusted(claims: PageClaims, chiyoda: MunicipalKey) -> None:
    elsewhere = TrustList([MunicipalKey(OSAKA, chiyoda.private_key).trusted()])
    with pytest.raises(UntrustedSigner, match="another municipality"):
        read_page_code(sign_page(claims, chiyoda)).verify(elsewhere, now=NOW)
    with pytest.raises(ValueError, match="only its own"):
        sign_page(claims, MunicipalKey.generate(OSAKA))


def test_a_forged_issuer_under_another_municipality_s_genuine_key_is_refused(
    claims: PageClaims,
) -> None:
    """Osaka signs a page claiming Osaka as issuer of a Chiyoda issue number: not a page."""
    osaka = MunicipalKey.generate(OSAKA)
    values = claims_map(claims)
    values[1] = OSAKA
    with pytest.raises(BadPageCode, match="another municipality"):
        read_page_code(resign(osaka, cbor2.dumps(values, canonical=True)))


def test_an_expired_key_is_untrusted_at_issue_or_now(text: str, chiyoda: MunicipalKey) -> None:
    code = read_page_code(text)
    before_issue = TrustList([chiyoda.trusted(ISSUED_AT - dt.timedelta(seconds=1))])
    with pytest.raises(UntrustedSigner, match="expired"):
        code.verify(before_issue, now=ISSUED_AT)
    with pytest.raises(UntrustedSigner, match="expired"):  # dated after its key's end, whatever now
        code.verify(before_issue, now=ISSUED_AT - dt.timedelta(days=1))
    after_issue = TrustList([chiyoda.trusted(ISSUED_AT + dt.timedelta(days=1))])
    with pytest.raises(UntrustedSigner, match="expired"):
        code.verify(after_issue, now=NOW)
    assert code.verify(after_issue, now=ISSUED_AT).key_id == chiyoda.key_id  # an archived copy
    with pytest.raises(ValueError, match="aware"):
        code.verify(after_issue, now=dt.datetime(2026, 12, 1))


@pytest.mark.parametrize("alg", [-7, -35, 5, -9])
def test_another_algorithm_is_refused_even_over_a_good_ed25519_signature(
    text: str, chiyoda: MunicipalKey, trust: TrustList, alg: int
) -> None:
    _, _, payload, _ = parts(text)
    protected = cbor2.dumps({1: alg, 4: bytes.fromhex(chiyoda.key_id)}, canonical=True)
    code = read_page_code(resign(chiyoda, payload, protected))
    assert code.algorithm == alg
    with pytest.raises(BadSignature, match="EdDSA"):
        code.verify(trust, now=NOW)


# -- damaged and foreign codes ---------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0, 4, 5, 10, 100, -1, -2, -3])
def test_a_truncated_code_is_refused(text: str, keep: int) -> None:
    with pytest.raises(BadPageCode) as caught:
        read_page_code(text[:keep])
    refused(caught.value)


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:10] + "a" + t[11:],  # lower case is not Base45
        lambda t: t[:10] + "!" + t[11:],
        lambda t: t[:4] + "GGW" + t[7:],  # 65535 < the triple's value
        lambda t: t + "Z",  # a length of 3n + 1
        lambda t: t + "\n",
        lambda t: t[:4] + t[5:6] + t[4:5] + t[6:],
        lambda t: t.replace("KF2:", "KF3:"),
        lambda t: t.replace("KF2:", "kf2:"),
        lambda t: " " + t,
    ],
)
def test_corrupted_base45_or_prefix_is_refused(text: str, damage: Callable[[str], str]) -> None:
    with pytest.raises(BadPageCode) as caught:
        read_page_code(damage(text))
    refused(caught.value)


def test_a_kf1_code_is_not_a_page_code() -> None:
    with pytest.raises(BadPageCode, match="not a koufu page code"):
        read_page_code(KF1_TEXT)


def test_a_zlib_bomb_stops_at_the_limit() -> None:
    bomb = PREFIX + base45.b45encode(zlib.compress(b"\0" * 2**21, 9)).decode()
    assert len(bomb) < MAX_TEXT  # it fits a code: only the inflated size stops it
    with pytest.raises(BadPageCode, match=f"over {MAX_COSE_BYTES} bytes"):
        read_page_code(bomb)


@pytest.mark.parametrize(
    "stream",
    [
        zlib.compress(b"\xd2\x84", 9)[:-2],  # cut short
        zlib.compress(b"\xd2\x84", 9) + b"\0",  # followed by more
        b"\x78\x9c not deflate",
        zlib.compress(b"", 9),
    ],
)
def test_damaged_zlib_streams_are_refused(stream: bytes) -> None:
    with pytest.raises(BadPageCode):
        read_page_code(PREFIX + base45.b45encode(stream).decode())


def test_too_large_a_text_is_refused_before_any_decoding(text: str) -> None:
    with pytest.raises(BadPageCode, match="not a koufu page code"):
        read_page_code(PREFIX + "0" * MAX_TEXT)


def test_deep_nesting_is_refused(claims: PageClaims, chiyoda: MunicipalKey) -> None:
    deep: Any = "leaf"
    for _ in range(200):
        deep = [deep]
    values = claims_map(claims)
    values[-65537][7] = {"deep": deep}
    with pytest.raises(BadPageCode) as caught:
        read_page_code(resign(chiyoda, cbor2.dumps(values, canonical=True)))
    assert "within the limits" in caught.value.message
    with pytest.raises(BadPageCode, match="deeper"):
        PageClaims(**{**vars(claims), "content": {"deep": deep}})
    protected, _, payload, signature = parts(sign_page(claims, chiyoda))
    with pytest.raises(BadPageCode):
        read_page_code(assemble(protected, payload, signature, unprotected={1: deep}))


@pytest.mark.parametrize(
    "change",
    [
        lambda values: values.update({4: 1_900_000_000}),  # exp: not a claim of ours
        lambda values: values.update({"note": CANARY}),
        lambda values: values[-65537].update({8: CANARY}),
        lambda values: values.pop(6),
        lambda values: values[-65537].pop(6),
        lambda values: values.update({-65538: values.pop(-65537)}),
    ],
)
def test_unknown_or_missing_claims_are_refused(
    claims: PageClaims, chiyoda: MunicipalKey, change: Callable[[dict[Any, Any]], None]
) -> None:
    values: Any = claims_map(claims)
    values[-65537] = dict(values[-65537])
    change(values)
    with pytest.raises(BadPageCode, match="claim") as caught:
        read_page_code(resign(chiyoda, cbor2.dumps(values, canonical=True)))
    refused(caught.value)


@pytest.mark.parametrize(
    "field, value",
    [
        (1, 131016),  # iss as an integer
        (6, "2026-11-23T10:15:30+09:00"),  # iat as text
        (6, -1),
        (6, True),
    ],
)
def test_wrong_claim_types_are_refused(
    claims: PageClaims, chiyoda: MunicipalKey, field: int, value: Any
) -> None:
    values = claims_map(claims)
    values[field] = value
    with pytest.raises(BadPageCode):
        read_page_code(resign(chiyoda, cbor2.dumps(values, canonical=True)))


@pytest.mark.parametrize(
    "key, value",
    [
        (1, "20261123/131016/T-0001/01/000042/01"),  # the page form, not the copy's
        (2, 0),
        (2, 3),  # beyond the page count
        (3, 100),
        (2, True),
        (4, "passport"),
        (5, "7k3m-q0zd-x4at"),  # not the printed form
        (6, b"\0" * 31),
        (6, "00" * 32),
        (7, [CANARY]),
        (7, {"amount": 1.5}),
        (7, {"big": 2**53}),
        (7, {"when": cbor2.CBORTag(1, 0)}),
        (7, {"raw": b"bytes"}),
    ],
)
def test_wrong_page_claims_are_refused(
    claims: PageClaims, chiyoda: MunicipalKey, key: int, value: Any
) -> None:
    values = claims_map(claims)
    values[-65537] = {**values[-65537], key: value}
    with pytest.raises(BadPageCode) as caught:
        read_page_code(resign(chiyoda, cbor2.dumps(values, canonical=True)))
    refused(caught.value)


def test_non_canonical_cbor_is_refused_even_when_genuinely_signed(
    claims: PageClaims, chiyoda: MunicipalKey, text: str
) -> None:
    """One page, one code: the reader takes only the bytes the signer writes."""
    values = claims_map(claims)
    length_first = cbor2.dumps(values, canonical=True)
    reordered = cbor2.dumps(dict(reversed(list(values.items()))))  # keys out of order
    assert reordered != length_first and cbor2.loads(reordered) == cbor2.loads(length_first)
    with pytest.raises(BadPageCode, match="deterministic"):
        read_page_code(resign(chiyoda, reordered))
    long_int = bytearray(length_first)
    at = long_int.index(b"\x06\x1a")  # iat: 1a + 4 bytes; as 1b + 8 bytes it is the same number
    wide = bytes(long_int[: at + 1]) + b"\x1b\0\0\0\0" + bytes(long_int[at + 2 :])
    assert cbor2.loads(wide) == cbor2.loads(length_first)
    with pytest.raises(BadPageCode, match="deterministic"):
        read_page_code(resign(chiyoda, wide))
    protected, _, payload, signature = parts(text)
    with pytest.raises(BadPageCode, match="tagged"):
        read_page_code(assemble(protected, payload, signature, tag=None))
    with pytest.raises(BadPageCode, match="tagged"):
        read_page_code(assemble(protected, payload, signature, tag=17))
    header = cbor2.dumps({4: bytes.fromhex(chiyoda.key_id), 1: -8})
    with pytest.raises(BadPageCode, match="deterministic"):
        read_page_code(resign(chiyoda, payload, header))


@pytest.mark.parametrize(
    "protected",
    [
        {1: -8},
        {1: -8, 4: b"\1" * 16},
        {1: "EdDSA", 4: b"\1" * 8},
        {1: -8, 4: b"\1" * 8, 3: 0},
    ],
)
def test_the_protected_header_is_exactly_alg_and_an_8_byte_kid(
    chiyoda: MunicipalKey, text: str, protected: dict[int, Any]
) -> None:
    _, _, payload, _ = parts(text)
    with pytest.raises(BadPageCode):
        read_page_code(resign(chiyoda, payload, cbor2.dumps(protected, canonical=True)))


def test_an_unprotected_header_or_a_short_signature_is_refused(text: str) -> None:
    protected, _, payload, signature = parts(text)
    with pytest.raises(BadPageCode, match="unprotected"):
        read_page_code(assemble(protected, payload, signature, unprotected={4: b"\0" * 8}))
    with pytest.raises(BadPageCode, match="64 bytes"):
        read_page_code(assemble(protected, payload, signature[:63]))


# -- the claims themselves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"page": 0},
        {"page": 3},
        {"pages": 100, "page": 1},
        {"page": True},
        {"municipality": OSAKA},
        {"issued_at": ISSUED_AT.replace(tzinfo=None)},
        {"issued_at": ISSUED_AT.replace(microsecond=1)},
        {"issued_at": ISSUED_AT + dt.timedelta(days=1)},
        {"issue_number": "20261123/131016/T-0001/01/000042/01"},
        {"verification_code": "not a code"},
        {"content_hash": b"\0" * 33},
        {"certificate_type": "passport"},
        {"content": {"x": (1, 2)}},
        {"content": {1: "one"}},
        {"content": {"x": "\ud800"}},
        {"content": {"x": 2**53}},
        {"content": []},
    ],
)
def test_claims_that_cannot_be_a_page_are_refused(claims: PageClaims, changes: dict[str, Any]) -> None:
    with pytest.raises(BadPageCode):
        PageClaims(**{**vars(claims), **changes})


def test_a_page_too_large_for_a_code_is_refused_at_signing(claims: PageClaims, chiyoda: MunicipalKey) -> None:
    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3000))  # kanji that do not compress
    with pytest.raises(BadPageCode, match="too large"):
        sign_page(PageClaims(**{**vars(claims), "content": {"noise": noise}}), chiyoda)


# -- whatever the text -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.text(alphabet=ALPHANUMERIC, max_size=300).map(lambda t: PREFIX + t))
def test_any_text_is_a_page_code_or_refused_with_bad_page_code(junk: str) -> None:
    with pytest.raises(BadPageCode):
        read_page_code(junk)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_compressed_bytes_are_refused_with_bad_page_code(junk: bytes) -> None:
    with pytest.raises(BadPageCode):
        read_page_code(wrap(junk))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_changed_character_is_refused_or_reads_the_same_claims(
    text: str, claims: PageClaims, trust: TrustList, data: st.DataObject
) -> None:
    at = data.draw(st.integers(len(PREFIX), len(text) - 1))
    other = data.draw(st.sampled_from(ALPHANUMERIC).filter(lambda c: c != text[at]))
    changed = text[:at] + other + text[at + 1 :]
    try:
        code = read_page_code(changed)
    except BadPageCode as error:
        refused(error)
        return
    try:
        code.verify(trust, now=NOW)
    except (BadSignature, UntrustedSigner) as error:
        refused(error)
        return
    assert code.claims == claims  # only bits zlib ignores changed


# -- the specimens ---------------------------------------------------------------------------------


def test_every_specimen_page_code_fits_an_alphanumeric_qr_code_and_verifies() -> None:
    town = specimens()
    for name, opened in town.copies.items():
        claims = PageClaims.of(opened.signed, 1, opened.document.content)  # the whole content: the most
        text = sign_page(claims, SPECIMEN_KEY)
        code: SignedPageCode = read_page_code(text)
        assert code.verify(town.trust, now=town.now).municipality == opened.document.municipality, name
        symbol = segno.make(text, error="m", micro=False)
        assert symbol.mode == "alphanumeric", name
        assert isinstance(symbol.version, int) and symbol.version <= 40, name
