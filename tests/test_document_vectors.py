"""Test vectors of a signed copy, its verification code and a page code
(``tests/vectors/documents.json``): a fixed test-only municipal Ed25519 key and its key id; a small
resident record (its map), its deterministic CBOR and content hash, the COSE_Sign1 that signs it,
every layer (protected header, Sig_structure, signature: Ed25519 is deterministic) and the
verification code derived from it; more (signature →
verification code) pairs at the edges of that derivation; and page 1's code, every layer of it:
the claims, their deterministic CBOR, the protected header, the Sig_structure, the signature, the
COSE_Sign1, the zlib bytes and the ``KF2:`` text.

Each vector is checked in both directions against the project's code (built from the inputs →
the same bytes; the stored bytes read and verified → the same facts) and against the documented
algorithms (docs/protocol.md §2, §5.1-§5.5) written again here with ``hashlib``, ``cryptography``,
``cbor2``, ``zlib`` and ``base45`` directly, so a drift of the code or of the file fails.
``PYTHONPATH=. python tests/test_document_vectors.py`` writes the file again from the fixed inputs
(it should not change; a change of a format changes it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from documents import (
    JST,
    BadSignature,
    Binding,
    Document,
    IssueNumber,
    MunicipalKey,
    SignedDocument,
    TrustList,
    key_id_of,
    parse_verification_code,
    sign,
    verification_code,
)
from documents.cose import sig_structure
from printing.page_code import PageClaims, read_page_code, sign_page
from printing.page_content import page_contents

FILE = Path(__file__).parent / "vectors" / "documents.json"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32, docs/protocol.md §5.4
MUNICIPALITY = "131016"
TERMINAL = "T-0001"
ISSUED_AT = dt.datetime(2026, 11, 23, 10, 15, 30, tzinfo=JST)
CONTENT: dict[str, Any] = {
    "title": "住民票の写し",
    "municipality": {
        "code": MUNICIPALITY,
        "prefecture": "東京都",
        "name": "千代田区",
        "mayor": "千代田区長　試験　太郎",
    },
    "certification": "この写しは、住民票の原本と相違ないことを証明する。",
    "certified_on": "令和8年11月23日",
    "body": {
        "address": "東京都千代田区九段南1丁目2番1号",
        "head": "試験　花子",
        "persons": [
            {
                "name": "試験　花子",
                "name_kana": "シケン　ハナコ",
                "birth_date": "昭和55年4月1日",
                "sex": "女",
                "relationship": "世帯主",
                "became_resident_on": "昭和55年4月1日",
                "moved_in_on": "令和2年4月1日",
            }
        ],
    },
}


def fixed_secret(label: str) -> bytes:
    """A fixed secret of the vectors, for the tests only."""
    return hashlib.sha256(b"koufu document vector, test only: " + label.encode()).digest()


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    value = json.loads(FILE.read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def municipal_key(vectors: dict[str, Any]) -> MunicipalKey:
    municipality = vectors["municipality"]
    key = MunicipalKey.from_private_bytes(municipality["code"], bytes.fromhex(municipality["private_key"]))
    assert key.public_key.public_bytes_raw().hex() == municipality["public_key"]
    assert key.key_id == municipality["key_id"]
    return key


def private_key(vectors: dict[str, Any]) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vectors["municipality"]["private_key"]))


def stored_document(vectors: dict[str, Any]) -> Document:
    return Document.from_map(vectors["document"]["map"])


def stored_claims(vector: dict[str, Any]) -> PageClaims:
    claims = vector["claims"]
    return PageClaims(
        **{
            **claims,
            "issued_at": dt.datetime.fromisoformat(claims["issued_at"]),
            "content_hash": bytes.fromhex(claims["content_hash"]),
        }
    )


# --------------------------------------------------------------------- checked by the project's code


def test_the_key_id_is_the_documented_one(vectors: dict[str, Any]) -> None:
    municipality = vectors["municipality"]
    public = private_key(vectors).public_key().public_bytes_raw()
    assert public.hex() == municipality["public_key"]
    assert hashlib.sha256(public).hexdigest()[:16] == municipality["key_id"]
    assert key_id_of(municipal_key(vectors).public_key) == municipality["key_id"]


def test_the_project_builds_the_documents_bytes(vectors: dict[str, Any]) -> None:
    vector = vectors["document"]
    document = stored_document(vectors)
    assert document.canonical().hex() == vector["payload"]
    assert document.content_hash() == vector["content_hash"]
    signed = sign(document, municipal_key(vectors))
    assert signed.key_id == vectors["municipality"]["key_id"]
    cose = signed.cose()
    assert cose.protected.hex() == vector["protected"]
    assert sig_structure(cose.protected, cose.payload).hex() == vector["sig_structure"]
    assert signed.signature.hex() == vector["signature"]
    assert cose.encoded().hex() == vector["cose_sign1"]
    assert signed.verification_code == vector["verification_code"]
    assert document.pages == len(page_contents(document.certificate_type, document.content))


def test_the_project_verifies_the_stored_signature(vectors: dict[str, Any]) -> None:
    vector = vectors["document"]
    document = stored_document(vectors)
    signed = SignedDocument(document, vectors["municipality"]["key_id"], bytes.fromhex(vector["signature"]))
    trust = TrustList([municipal_key(vectors).trusted()])
    assert signed.verify(trust, now=document.issued_at).key_id == vectors["municipality"]["key_id"]
    assert signed.verification_code == vector["verification_code"]


@pytest.mark.parametrize("index", range(4))
def test_the_project_derives_each_verification_code(vectors: dict[str, Any], index: int) -> None:
    pair = vectors["verification_codes"][index]
    code = verification_code(bytes.fromhex(pair["signature"]))
    assert code == pair["code"]
    assert parse_verification_code(code.lower().replace("-", "")) == pair["code"]


def test_the_project_builds_the_page_code(vectors: dict[str, Any]) -> None:
    vector = vectors["page_code"]
    document = stored_document(vectors)
    signed = sign(document, municipal_key(vectors))
    page = vector["claims"]["page"]
    claims = PageClaims.of(signed, page, page_contents(document.certificate_type, document.content)[page - 1])
    assert claims == stored_claims(vector)
    payload = cbor2.dumps(claims.to_cbor(), canonical=True)
    assert payload.hex() == vector["claims_cbor"]
    assert sig_structure(bytes.fromhex(vector["protected"]), payload).hex() == vector["sig_structure"]
    assert sign_page(claims, municipal_key(vectors)) == vector["text"]


def test_the_project_reads_and_verifies_the_stored_page_code(vectors: dict[str, Any]) -> None:
    vector = vectors["page_code"]
    read = read_page_code(vector["text"])
    assert read.claims == stored_claims(vector)
    assert read.key_id == vectors["municipality"]["key_id"] and read.algorithm == -8
    assert read.cose.hex() == vector["cose_sign1"]
    assert read.protected.hex() == vector["protected"]
    assert read.payload.hex() == vector["claims_cbor"]
    assert read.signature.hex() == vector["signature"]
    trust = TrustList([municipal_key(vectors).trusted()])
    assert read.verify(trust, now=read.claims.issued_at).key_id == vectors["municipality"]["key_id"]


# ------------------------------------------------------------------------ the documented algorithms


def documented_code(signature: bytes) -> str:
    """docs/protocol.md §5.4, written again: the first 60 bits of the digest, 5 bits a symbol."""
    bits = "".join(f"{byte:08b}" for byte in hashlib.sha256(b"koufu-verify/1" + signature).digest())[:60]
    symbols = "".join(ALPHABET[int(bits[i : i + 5], 2)] for i in range(0, 60, 5))
    return f"{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


def test_the_signature_follows_the_documented_rules(vectors: dict[str, Any]) -> None:
    """docs/protocol.md §5.3, written again with cbor2 and cryptography."""
    vector = vectors["document"]
    payload = cbor2.dumps(vector["map"], canonical=True)
    assert payload.hex() == vector["payload"]
    assert hashlib.sha256(payload).hexdigest() == vector["content_hash"]
    kid = bytes.fromhex(vectors["municipality"]["key_id"])
    protected = bytes([0xA2, 0x01, 0x27, 0x04, 0x48]) + kid  # {1: -8, 4: h'<8 bytes>'}
    assert protected.hex() == vector["protected"]
    structure = cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)
    assert structure.hex() == vector["sig_structure"]
    signature = private_key(vectors).sign(structure)
    assert signature.hex() == vector["signature"]
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]), canonical=True)
    assert cose.hex() == vector["cose_sign1"]
    private_key(vectors).public_key().verify(signature, structure)
    assert documented_code(signature) == vector["verification_code"]


def test_each_verification_code_follows_the_documented_rules(vectors: dict[str, Any]) -> None:
    pairs = vectors["verification_codes"]
    assert len(pairs) == 4
    for pair in pairs:
        signature = bytes.fromhex(pair["signature"])
        assert len(signature) == 64
        assert hashlib.sha256(b"koufu-verify/1" + signature).hexdigest() == pair["digest"]
        assert documented_code(signature) == pair["code"]
    # the edges the pairs were chosen for
    assert pairs[0]["signature"] == "00" * 64
    assert pairs[1]["digest"].startswith("00") and pairs[1]["code"].startswith("00")
    assert pairs[2]["digest"].startswith("ff") and pairs[2]["code"].startswith("Z")
    assert pairs[3]["digest"][15] == "f" and pairs[3]["code"] == documented_code(
        bytes.fromhex(pairs[3]["signature"])
    )


def test_the_page_code_follows_the_documented_rules(vectors: dict[str, Any]) -> None:
    """docs/protocol.md §5.5, written again with cbor2, cryptography, zlib and base45."""
    vector, document = vectors["page_code"], vectors["document"]
    claims = vector["claims"]
    assert claims["content_hash"] == document["content_hash"]
    assert claims["verification_code"] == document["verification_code"]
    issued = dt.datetime.fromisoformat(claims["issued_at"])
    payload = cbor2.dumps(
        {
            1: claims["municipality"],
            6: int(issued.timestamp()),
            -65537: {
                1: claims["issue_number"],
                2: claims["page"],
                3: claims["pages"],
                4: claims["certificate_type"],
                5: claims["verification_code"],
                6: bytes.fromhex(claims["content_hash"]),
                7: claims["content"],
            },
        },
        canonical=True,
    )
    assert payload.hex() == vector["claims_cbor"]
    kid = bytes.fromhex(vectors["municipality"]["key_id"])
    protected = bytes([0xA2, 0x01, 0x27, 0x04, 0x48]) + kid  # {1: -8, 4: h'<8 bytes>'}
    assert cbor2.dumps({1: -8, 4: kid}, canonical=True) == protected
    assert protected.hex() == vector["protected"]
    structure = cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)
    assert structure[0] == 0x84 and structure.hex() == vector["sig_structure"]
    signature = private_key(vectors).sign(structure)
    assert signature.hex() == vector["signature"]
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]), canonical=True)
    assert cose[0] == 0xD2 and cose.hex() == vector["cose_sign1"]
    compressed = zlib.compress(cose, 9)
    assert compressed.hex() == vector["zlib"]
    assert "KF2:" + base45.b45encode(compressed).decode("ascii") == vector["text"]
    # and backwards, from the text alone
    assert zlib.decompress(base45.b45decode(vector["text"].removeprefix("KF2:"))) == cose
    item = cbor2.loads(cose)
    assert item.tag == 18 and item.value[3] == signature
    assert cbor2.loads(item.value[2]) == cbor2.loads(payload)


def test_the_file_is_what_its_fixed_inputs_make(vectors: dict[str, Any]) -> None:
    assert make_vectors() == vectors


def test_a_changed_vector_does_not_verify(vectors: dict[str, Any]) -> None:
    """The checks above can fail: one bit of a stored signature changed is refused by both sides."""
    vector = vectors["document"]
    changed = bytearray(bytes.fromhex(vector["signature"]))
    changed[0] ^= 1
    signed = SignedDocument(stored_document(vectors), vectors["municipality"]["key_id"], bytes(changed))
    with pytest.raises(BadSignature):
        signed.verify(TrustList([municipal_key(vectors).trusted()]), now=ISSUED_AT)
    with pytest.raises(InvalidSignature):
        private_key(vectors).public_key().verify(bytes(changed), bytes.fromhex(vector["sig_structure"]))
    assert documented_code(bytes(changed)) != vector["verification_code"]
    page = bytearray(bytes.fromhex(vectors["page_code"]["sig_structure"]))
    page[-1] ^= 1
    with pytest.raises(InvalidSignature):
        private_key(vectors).public_key().verify(
            bytes.fromhex(vectors["page_code"]["signature"]), bytes(page)
        )


# ---------------------------------------------------------------------------- making the vectors


def edge_signature(label: str, fits: Any) -> bytes:
    """The first of a fixed series of 64-byte strings whose verification digest ``fits``."""
    counter = 0
    while True:
        candidate = hashlib.sha512(f"koufu verification-code vector {label} {counter}".encode()).digest()
        if fits(hashlib.sha256(b"koufu-verify/1" + candidate).digest()):
            return candidate
        counter += 1


def make_vectors() -> dict[str, Any]:
    """The file's content from the fixed inputs (see the module's docstring)."""
    key = MunicipalKey.from_private_bytes(MUNICIPALITY, fixed_secret("municipality"))
    binding = Binding(
        order_id="ORD-20261123-000017",
        session_id="S-VECTOR-1",
        terminal_id=TERMINAL,
        holder_certificate=Binding.holder_hash(b"test-only holder certificate"),
    )
    pages = page_contents("resident_record", CONTENT)
    document = Document(
        issue_number=IssueNumber(ISSUED_AT.date(), MUNICIPALITY, TERMINAL, 1, 42),
        certificate_type="resident_record",
        municipality=MUNICIPALITY,
        issued_at=ISSUED_AT,
        binding=binding,
        pages=len(pages),
        content=CONTENT,
    )
    signed = sign(document, key)
    edges = [
        bytes(64),  # all zero bytes
        edge_signature("leading zero", lambda d: d[0] == 0),  # the code's first symbols are 0
        edge_signature("all ones", lambda d: d[0] == 0xFF),  # the first symbol is Z
        edge_signature("cut bits", lambda d: d[7] & 0x0F == 0x0F),  # the 4 bits cut off are set
    ]
    claims = PageClaims.of(signed, 1, pages[0])
    protected = cbor2.dumps({1: -8, 4: bytes.fromhex(key.key_id)}, canonical=True)
    payload = cbor2.dumps(claims.to_cbor(), canonical=True)
    text = sign_page(claims, key)
    read = read_page_code(text)
    return {
        "about": "test only: fixed keys, never used outside the tests (see tests/test_document_vectors.py)",
        "municipality": {
            "code": MUNICIPALITY,
            "private_key": key.private_bytes().hex(),
            "public_key": key.public_key.public_bytes_raw().hex(),
            "key_id": key.key_id,
        },
        "document": {
            "map": document.to_map(),
            "payload": document.canonical().hex(),
            "content_hash": document.content_hash(),
            "protected": signed.cose().protected.hex(),
            "sig_structure": sig_structure(signed.cose().protected, document.canonical()).hex(),
            "signature": signed.signature.hex(),
            "cose_sign1": signed.cose().encoded().hex(),
            "verification_code": signed.verification_code,
        },
        "verification_codes": [
            {
                "signature": edge.hex(),
                "digest": hashlib.sha256(b"koufu-verify/1" + edge).hexdigest(),
                "code": verification_code(edge),
            }
            for edge in edges
        ],
        "page_code": {
            "claims": {
                "issue_number": claims.issue_number,
                "page": claims.page,
                "pages": claims.pages,
                "certificate_type": claims.certificate_type,
                "municipality": claims.municipality,
                "issued_at": claims.issued_at.isoformat(),
                "verification_code": claims.verification_code,
                "content_hash": claims.content_hash.hex(),
                "content": claims.content,
            },
            "claims_cbor": payload.hex(),
            "protected": protected.hex(),
            "sig_structure": sig_structure(protected, payload).hex(),
            "signature": read.signature.hex(),
            "cose_sign1": read.cose.hex(),
            "zlib": base45.b45decode(text.removeprefix("KF2:")).hex(),
            "text": text,
        },
    }


if __name__ == "__main__":
    FILE.write_text(json.dumps(make_vectors(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
