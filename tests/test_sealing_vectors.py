"""Test vectors of the sealing to a terminal (``tests/vectors/sealing.json``): a fixed test-only
terminal key and municipal key; for a sealed copy, a sealed offer and a sealed refusal, the exact
envelope bytes, HPKE's info and the inner plaintext (hex: all three are deterministic CBOR), what
is signed inside (the document's or the statement's map, readable), and the opened result's key
facts. And the other way: the municipality's sealing key (a fixed test-only P-256 key), its
statement signed by the municipal key (``sealing_key``), and an application a terminal sealed to
it (``to_municipality``): the envelope, its info and its plaintext.

The envelopes were made once by ``pyhpke`` (another HPKE than the project's) with the ephemeral key
derived from a fixed ``ikm_e`` (RFC 9180's DeriveKeyPair, as the RFC's own vectors do):
``cryptography``'s HPKE draws its ephemeral key itself, so the project cannot make them. The
project's code opens each one byte for byte, builds each plaintext itself, and its own envelopes
open to the same plaintext elsewhere. ``PYTHONPATH=. python tests/test_sealing_vectors.py`` writes the file
again from the fixed inputs (it should not change; a change of the wire format changes it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey

from documents import (
    BindingMismatch,
    Document,
    MunicipalKey,
    NotForThisMunicipality,
    SealingKey,
    SignedDocument,
    TrustList,
    UndecryptableDocument,
    open_from_terminal,
    open_sealed,
    seal,
    sign,
)
from documents.envelope import signed_statement
from documents.hpke_seal import header_info, open_envelope, read_envelope
from documents.offer import OFFER, open_offer, seal_offer
from documents.refusal import REFUSAL, RefusalReason, open_refusal, seal_refusal
from documents.sealing import sealed_plaintext
from documents.sealing_key import point_of, sealing_key_id, sign_sealing_key, verify_sealing_key
from documents.to_municipality import TO_MUNICIPALITY_FORMAT, seal_to_municipality
from support.sample_documents import make_document

FILE = Path(__file__).parent / "vectors" / "sealing.json"
SUITE = CipherSuite.new(KEMId.DHKEM_P256_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
HEADERS = {"copy": ("format", "issue_number", "recipient"), "offer": ("format", "recipient")}
HEADERS["refusal"] = HEADERS["offer"]
FORMATS = {"copy": "koufu-sealed/3", "offer": "koufu-offer/3", "refusal": "koufu-refusal/3"}
TO_MUNICIPALITY_HEADER = ("format", "key_id", "recipient", "session_id", "terminal_id")


def fixed_secret(label: str) -> bytes:
    """A fixed secret of the vectors, for the tests only."""
    return hashlib.sha256(b"koufu sealing vector, test only: " + label.encode()).digest()


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    value = json.loads(FILE.read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def terminal_key(vectors: dict[str, Any]) -> ec.EllipticCurvePrivateKey:
    key = ec.derive_private_key(int(vectors["terminal"]["private_key"], 16), ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert public.hex() == vectors["terminal"]["public_key"]
    return key


def municipal_key(vectors: dict[str, Any]) -> MunicipalKey:
    key = MunicipalKey.from_private_bytes(
        vectors["municipality"]["code"], bytes.fromhex(vectors["municipality"]["private_key"])
    )
    assert key.key_id == vectors["municipality"]["key_id"]
    return key


def moment(vector: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(vector["now"])


def statement_of(vector: dict[str, Any]) -> dict[str, Any]:
    """What the vector's COSE_Sign1 signs: its payload, decoded."""
    statement = vector["signed"]
    assert isinstance(statement, dict)
    return statement


def deterministic(value: Any) -> bytes:
    """RFC 8949 §4.2.1 core deterministic encoding, as cbor2 writes it for these maps."""
    return bytes(cbor2.dumps(value, canonical=True))


def envelope_bytes(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["envelope"])


# --------------------------------------------------------------------- opened by the project's code


def test_the_sealed_copy_opens_to_its_vector(vectors: dict[str, Any]) -> None:
    vector = vectors["copy"]
    key = municipal_key(vectors)
    document = Document.from_map(vector["signed"])
    opened = open_sealed(
        envelope_bytes(vector),
        terminal_id=vectors["terminal"]["id"],
        terminal_key=terminal_key(vectors),
        trust=TrustList([key.trusted()]),
        expected=document.binding,
        now=moment(vector),
    )
    facts = vector["opened"]
    assert opened.document.issue_number.text == facts["issue_number"]
    assert opened.document.content_hash() == facts["content_hash"]
    assert (opened.key_id, opened.verification_code) == (facts["key_id"], facts["verification_code"])
    assert list(opened.page_codes) == facts["page_codes"]
    assert opened.document.canonical() == deterministic(vector["signed"])


def test_the_sealed_offer_opens_to_its_vector(vectors: dict[str, Any]) -> None:
    vector = vectors["offer"]
    statement = statement_of(vector)
    content = open_offer(
        envelope_bytes(vector),
        terminal_id=vectors["terminal"]["id"],
        terminal_key=terminal_key(vectors),
        trust=TrustList([municipal_key(vectors).trusted()]),
        session_id=statement["session_id"],
        holder_certificate=statement["holder_certificate"],
        now=moment(vector),
    )
    assert content == vector["opened"]["content"]


def test_the_sealed_refusal_opens_to_its_vector(vectors: dict[str, Any]) -> None:
    vector = vectors["refusal"]
    reason = open_refusal(
        envelope_bytes(vector),
        terminal_id=vectors["terminal"]["id"],
        terminal_key=terminal_key(vectors),
        trust=TrustList([municipal_key(vectors).trusted()]),
        session_id=statement_of(vector)["session_id"],
        now=moment(vector),
    )
    assert reason == RefusalReason(**vector["opened"])


@pytest.mark.parametrize("kind", ["copy", "offer", "refusal"])
def test_each_envelope_decrypts_to_its_plaintext_byte_for_byte(vectors: dict[str, Any], kind: str) -> None:
    vector = vectors[kind]
    envelope = read_envelope(
        envelope_bytes(vector),
        format=FORMATS[kind],
        header_names=HEADERS[kind],
        max_bytes=1 << 20,
        what=kind,
    )
    assert envelope.info.hex() == vector["info"]
    plaintext = open_envelope(
        envelope, terminal_id=vectors["terminal"]["id"], terminal_key=terminal_key(vectors), what=kind
    )
    assert plaintext.hex() == vector["plaintext"]


# ------------------------------------------------------------------------ the documented rules


@pytest.mark.parametrize("kind", ["copy", "offer", "refusal"])
def test_each_envelope_follows_the_documented_rules(vectors: dict[str, Any], kind: str) -> None:
    """Header, info and envelope as docs/decisions.md and documents/hpke_seal.py say, and the
    envelope is exactly HPKE's output for the fixed ephemeral key (by another implementation)."""
    vector = vectors[kind]
    envelope = cbor2.loads(envelope_bytes(vector))
    header = {name: envelope[name] for name in HEADERS[kind]}
    assert set(envelope) == {*HEADERS[kind], "enc", "ciphertext"}
    assert header["format"] == FORMATS[kind] and header["recipient"] == vectors["terminal"]["id"]
    assert vector["info"] == deterministic(header).hex() and header_info(header) == deterministic(header)
    assert envelope_bytes(vector) == deterministic(envelope)
    ephemeral = SUITE.kem.derive_key_pair(bytes.fromhex(vector["ikm_e"]))
    assert envelope["enc"] == ephemeral.public_key.to_public_bytes()
    assert seal_with_pyhpke(vector, vectors["terminal"]["public_key"], header) == vector["envelope"]
    # inside: a COSE_Sign1 (EdDSA, the key id) over the signed map's deterministic CBOR
    plaintext = bytes.fromhex(vector["plaintext"])
    cose = cbor2.loads(plaintext if kind != "copy" else cbor2.loads(plaintext)["document"])
    protected, unprotected, payload, signature = cose.value
    key = municipal_key(vectors)
    assert cose.tag == 18 and unprotected == {} and payload == deterministic(vector["signed"])
    assert protected == deterministic({1: -8, 4: bytes.fromhex(key.key_id)})
    key.public_key.verify(signature, deterministic(["Signature1", protected, b"", payload]))


def test_the_project_builds_each_plaintext(vectors: dict[str, Any]) -> None:
    key = municipal_key(vectors)
    copy = cbor2.loads(bytes.fromhex(vectors["copy"]["plaintext"]))
    signed = sign(Document.from_map(vectors["copy"]["signed"]), key)
    codes = tuple(copy["page_codes"])
    assert codes and sealed_plaintext(
        SignedDocument(signed.document, signed.key_id, signed.signature, codes)
    ) == bytes.fromhex(vectors["copy"]["plaintext"])
    for kind, form in (("offer", OFFER), ("refusal", REFUSAL)):
        statement = statement_of(vectors[kind])
        plaintext = signed_statement(
            form,
            statement["content"],
            key=key,
            session_id=statement["session_id"],
            terminal_id=statement["terminal_id"],
            bindings={name: statement[name] for name in form.bound_to},
            now=dt.datetime.fromisoformat(statement["issued_at"]),
        )
        assert plaintext.hex() == vectors[kind]["plaintext"]


def test_the_projects_own_envelopes_open_elsewhere_to_the_vectors_plaintext(vectors: dict[str, Any]) -> None:
    """Sealed by the project (a fresh ephemeral key each time), opened by pyhpke: the same bytes
    inside as the vectors' (Ed25519 is deterministic)."""
    key, terminal = municipal_key(vectors), terminal_key(vectors)
    inner = cbor2.loads(bytes.fromhex(vectors["copy"]["plaintext"]))
    copy = SignedDocument(
        Document.from_map(vectors["copy"]["signed"]),
        key.key_id,
        cbor2.loads(inner["document"]).value[3],
        tuple(inner["page_codes"]),
    )
    offer, refusal = statement_of(vectors["offer"]), statement_of(vectors["refusal"])
    sealed = {
        "copy": seal(copy, vectors["terminal"]["id"], terminal.public_key()),
        "offer": seal_offer(
            offer["content"],
            key=key,
            session_id=offer["session_id"],
            terminal_id=offer["terminal_id"],
            holder_certificate=offer["holder_certificate"],
            terminal_public_key=terminal.public_key(),
            now=dt.datetime.fromisoformat(offer["issued_at"]),
        ),
        "refusal": seal_refusal(
            RefusalReason(**refusal["content"]),
            key=key,
            session_id=refusal["session_id"],
            terminal_id=refusal["terminal_id"],
            terminal_public_key=terminal.public_key(),
            now=dt.datetime.fromisoformat(refusal["issued_at"]),
        ),
    }
    for kind, data in sealed.items():
        envelope = cbor2.loads(data)
        assert data != envelope_bytes(vectors[kind])  # another ephemeral key
        recipient = SUITE.create_recipient_context(
            envelope["enc"],
            KEMKey.from_pyca_cryptography_key(terminal),
            info=bytes.fromhex(vectors[kind]["info"]),
        )
        assert recipient.open(envelope["ciphertext"]).hex() == vectors[kind]["plaintext"]


def test_the_file_is_what_its_fixed_inputs_make(vectors: dict[str, Any]) -> None:
    assert make_vectors() == vectors


def test_a_changed_vector_does_not_open(vectors: dict[str, Any]) -> None:
    """The checks above can fail: one bit of the ciphertext changed is refused."""
    envelope = cbor2.loads(envelope_bytes(vectors["offer"]))
    changed_ciphertext = bytearray(envelope["ciphertext"])
    changed_ciphertext[10] ^= 1
    changed = deterministic({**envelope, "ciphertext": bytes(changed_ciphertext)})
    read = read_envelope(
        changed, format="koufu-offer/3", header_names=HEADERS["offer"], max_bytes=1 << 20, what="x"
    )
    with pytest.raises(UndecryptableDocument):
        open_envelope(read, terminal_id="T-0001", terminal_key=terminal_key(vectors), what="x")


# ------------------------------------------------------- the municipality's sealing key and to it


def sealing_private_key(vectors: dict[str, Any]) -> ec.EllipticCurvePrivateKey:
    key = ec.derive_private_key(int(vectors["municipal_sealing"]["private_key"], 16), ec.SECP256R1())
    assert point_of(key.public_key()).hex() == vectors["municipal_sealing"]["public_key"]
    assert sealing_key_id(key.public_key()) == vectors["municipal_sealing"]["key_id"]
    return key


def stated_sealing_key(vectors: dict[str, Any]) -> SealingKey:
    vector = vectors["sealing_key"]
    return verify_sealing_key(
        bytes.fromhex(vector["statement"]),
        TrustList([municipal_key(vectors).trusted()]),
        now=moment(vector),
    )


def test_the_sealing_key_statement_verifies_to_its_vector(vectors: dict[str, Any]) -> None:
    stated, signed = stated_sealing_key(vectors), vectors["sealing_key"]["signed"]
    assert (
        point_of(stated.public_key).hex()
        == signed["public_key"]
        == vectors["municipal_sealing"]["public_key"]
    )
    assert (stated.municipality, stated.name, stated.name_en, stated.prefecture) == (
        signed["municipality"],
        signed["name"],
        signed["name_en"],
        signed["prefecture"],
    )
    assert (
        stated.not_after.isoformat() == signed["not_after"]
        and stated.key_id == vectors["municipal_sealing"]["key_id"]
    )
    # the project signs the same bytes (Ed25519 and the CBOR are deterministic)
    assert sign_sealing_key(stated, municipal_key(vectors)).hex() == vectors["sealing_key"]["statement"]


def test_the_sealing_key_statement_follows_the_documented_rules(vectors: dict[str, Any]) -> None:
    """A COSE_Sign1 (EdDSA, the municipal key's id) over the statement's deterministic CBOR, checked
    with cbor2 and cryptography only; public_key the 65-byte uncompressed point."""
    vector = vectors["sealing_key"]
    signed = {**vector["signed"], "public_key": bytes.fromhex(vector["signed"]["public_key"])}
    assert set(signed) == {
        "format",
        "municipality",
        "public_key",
        "name",
        "name_en",
        "prefecture",
        "not_after",
    }
    assert signed["format"] == "koufu-sealing-key/1" and len(signed["public_key"]) == 65
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), signed["public_key"])
    cose = cbor2.loads(bytes.fromhex(vector["statement"]))
    protected, unprotected, payload, signature = cose.value
    key = municipal_key(vectors)
    assert cose.tag == 18 and unprotected == {} and payload == deterministic(signed)
    assert protected == deterministic({1: -8, 4: bytes.fromhex(key.key_id)})
    assert bytes.fromhex(vector["statement"]) == deterministic(cose)
    key.public_key.verify(signature, deterministic(["Signature1", protected, b"", payload]))


def test_the_application_opens_to_its_vector(vectors: dict[str, Any]) -> None:
    vector = vectors["to_municipality"]
    header = vector["header"]
    content = open_from_terminal(
        envelope_bytes(vector),
        municipality=vectors["municipality"]["code"],
        sealing_key=sealing_private_key(vectors),
        session_id=header["session_id"],
        terminal_id=header["terminal_id"],
    )
    assert content == vector["content"] and deterministic(content).hex() == vector["plaintext"]
    with pytest.raises(NotForThisMunicipality):
        open_from_terminal(
            envelope_bytes(vector),
            municipality="132012",
            sealing_key=sealing_private_key(vectors),
            session_id=header["session_id"],
            terminal_id=header["terminal_id"],
        )
    with pytest.raises(BindingMismatch):
        open_from_terminal(
            envelope_bytes(vector),
            municipality=vectors["municipality"]["code"],
            sealing_key=sealing_private_key(vectors),
            session_id="S-ANOTHER",
            terminal_id=header["terminal_id"],
        )


def test_the_application_follows_the_documented_rules(vectors: dict[str, Any]) -> None:
    """Header, info and envelope as documented, exactly HPKE's output (pyhpke) for the fixed
    ephemeral key to the statement's key, and its plaintext the content's deterministic CBOR."""
    vector = vectors["to_municipality"]
    envelope = cbor2.loads(envelope_bytes(vector))
    header = {name: envelope[name] for name in TO_MUNICIPALITY_HEADER}
    assert set(envelope) == {*TO_MUNICIPALITY_HEADER, "enc", "ciphertext"} and header == vector["header"]
    assert (
        header["format"] == TO_MUNICIPALITY_FORMAT and header["recipient"] == vectors["municipality"]["code"]
    )
    assert header["key_id"] == vectors["municipal_sealing"]["key_id"]
    assert vector["info"] == deterministic(header).hex() and envelope_bytes(vector) == deterministic(envelope)
    assert vector["plaintext"] == deterministic(vector["content"]).hex()
    assert seal_with_pyhpke(vector, vectors["municipal_sealing"]["public_key"], header) == vector["envelope"]
    recipient = SUITE.create_recipient_context(
        envelope["enc"],
        KEMKey.from_pyca_cryptography_key(sealing_private_key(vectors)),
        info=deterministic(header),
    )
    assert recipient.open(envelope["ciphertext"]).hex() == vector["plaintext"]


def test_the_projects_own_application_opens_elsewhere(vectors: dict[str, Any]) -> None:
    """Sealed by the project to the statement's key (a fresh ephemeral key), opened by pyhpke."""
    vector = vectors["to_municipality"]
    sealed = seal_to_municipality(
        vector["content"],
        stated_sealing_key(vectors),
        session_id=vector["header"]["session_id"],
        terminal_id=vector["header"]["terminal_id"],
    )
    envelope = cbor2.loads(sealed)
    assert (
        sealed != envelope_bytes(vector)
        and {name: envelope[name] for name in TO_MUNICIPALITY_HEADER} == vector["header"]
    )
    recipient = SUITE.create_recipient_context(
        envelope["enc"],
        KEMKey.from_pyca_cryptography_key(sealing_private_key(vectors)),
        info=bytes.fromhex(vector["info"]),
    )
    assert recipient.open(envelope["ciphertext"]).hex() == vector["plaintext"]


# ---------------------------------------------------------------------------- making the vectors


def seal_with_pyhpke(vector: dict[str, Any], terminal_public_hex: str, header: dict[str, str]) -> str:
    """The envelope of ``vector``'s plaintext under ``header``, with the fixed ephemeral key."""
    recipient = KEMKey.from_pyca_cryptography_key(
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(terminal_public_hex))
    )
    enc, sender = SUITE.create_sender_context(
        recipient, info=deterministic(header), eks=SUITE.kem.derive_key_pair(bytes.fromhex(vector["ikm_e"]))
    )
    envelope = {**header, "enc": enc, "ciphertext": sender.seal(bytes.fromhex(vector["plaintext"]))}
    return deterministic(envelope).hex()


def signed_map(kind: str, plaintext: bytes) -> dict[str, Any]:
    """What the plaintext's COSE_Sign1 signs, decoded (for the reader of the file)."""
    cose = cbor2.loads(plaintext if kind != "copy" else cbor2.loads(plaintext)["document"])
    value: dict[str, Any] = cbor2.loads(cose.value[2])
    return value


def make_vectors() -> dict[str, Any]:
    """The file's content from the fixed inputs (see the module's docstring)."""
    terminal = ec.derive_private_key(int.from_bytes(fixed_secret("terminal")), ec.SECP256R1())
    key = MunicipalKey.from_private_bytes("131016", fixed_secret("municipality"))
    public = terminal.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    document = make_document()
    signed = sign(document, key)
    signed = SignedDocument(document, signed.key_id, signed.signature, ("KF2:VECTOR 1", "KF2:VECTOR 2"))
    at = document.issued_at
    offer_content = {
        "household": [{"member": 3, "name": "試験　花子", "relationship": "世帯主"}],
        "tax_years": [2026],
    }
    reason = {
        "code": "not_issuable_here",
        "message_ja": "窓口でお尋ねください。",
        "message_en": "Please ask at the counter.",
    }
    plaintexts = {
        "copy": sealed_plaintext(signed),
        "offer": signed_statement(
            OFFER,
            offer_content,
            key=key,
            session_id="S-VECTOR-1",
            terminal_id="T-0001",
            bindings={"holder_certificate": "ab" * 32},
            now=at,
        ),
        "refusal": signed_statement(
            REFUSAL, reason, key=key, session_id="S-VECTOR-1", terminal_id="T-0001", bindings={}, now=at
        ),
    }
    headers = {
        "copy": {
            "format": "koufu-sealed/3",
            "issue_number": document.issue_number.text,
            "recipient": "T-0001",
        },
        "offer": {"format": "koufu-offer/3", "recipient": "T-0001"},
        "refusal": {"format": "koufu-refusal/3", "recipient": "T-0001"},
    }
    opened = {
        "copy": {
            "issue_number": document.issue_number.text,
            "content_hash": document.content_hash(),
            "key_id": signed.key_id,
            "verification_code": signed.verification_code,
            "page_codes": list(signed.page_codes),
        },
        "offer": {"content": offer_content},
        "refusal": reason,
    }
    result: dict[str, Any] = {
        "about": "test only: fixed keys, never used outside the tests (see tests/test_sealing_vectors.py)",
        "suite": {
            "mode": "base",
            "kem": "DHKEM(P-256, HKDF-SHA256)",
            "kem_id": 16,
            "kdf_id": 1,
            "aead_id": 2,
        },
        "terminal": {
            "id": "T-0001",
            "private_key": f"{terminal.private_numbers().private_value:064x}",
            "public_key": public.hex(),
        },
        "municipality": {"code": "131016", "private_key": key.private_bytes().hex(), "key_id": key.key_id},
    }
    sealing = ec.derive_private_key(int.from_bytes(fixed_secret("municipal sealing")), ec.SECP256R1())
    stated = SealingKey(
        "131016",
        sealing.public_key(),
        "千代田区",
        "Chiyoda City",
        "東京都",
        dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC),
    )
    statement = sign_sealing_key(stated, key)
    application = {
        "kind": "domicile_registration",
        "domicile": "東京都千代田区九段南一丁目２番地",
        "head": "試験　太郎",
    }
    to_municipality_header = {
        "format": TO_MUNICIPALITY_FORMAT,
        "key_id": stated.key_id,
        "recipient": "131016",
        "session_id": "S-VECTOR-1",
        "terminal_id": "T-0001",
    }
    for kind, plaintext in plaintexts.items():
        vector = {
            "ikm_e": fixed_secret(f"ephemeral {kind}").hex(),
            "now": (at + dt.timedelta(seconds=30)).isoformat(),
            "info": deterministic(headers[kind]).hex(),
            "plaintext": plaintext.hex(),
            "signed": signed_map(kind, plaintext),
        }
        vector["envelope"] = seal_with_pyhpke(vector, public.hex(), headers[kind])
        vector["opened"] = opened[kind]
        result[kind] = vector
    result["municipal_sealing"] = {
        "private_key": f"{sealing.private_numbers().private_value:064x}",
        "public_key": point_of(sealing.public_key()).hex(),
        "key_id": stated.key_id,
    }
    result["sealing_key"] = {
        "now": (at + dt.timedelta(seconds=30)).isoformat(),
        "statement": statement.hex(),
        "signed": {**stated.statement(), "public_key": point_of(sealing.public_key()).hex()},
    }
    vector = {
        "ikm_e": fixed_secret("ephemeral to_municipality").hex(),
        "header": to_municipality_header,
        "info": deterministic(to_municipality_header).hex(),
        "plaintext": deterministic(application).hex(),
        "content": application,
    }
    vector["envelope"] = seal_with_pyhpke(
        vector, point_of(sealing.public_key()).hex(), to_municipality_header
    )
    result["to_municipality"] = vector
    return result


if __name__ == "__main__":
    FILE.write_text(json.dumps(make_vectors(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
