"""``python -m bench.sealing``: signing, sealing and opening one copy, the standard blocks beside
the home-made scheme they replaced.

The project's: a COSE_Sign1 (EdDSA) over the document's deterministic CBOR (``documents.cose``),
sealed with HPKE (RFC 9180: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) in a deterministic
CBOR envelope (``documents.hpke_seal``). The former scheme — Ed25519 over a context and the SHA-256
of the document's canonical JSON; an ephemeral P-256 key, ECDH, HKDF-SHA256 with the two points as
salt, AES-256-GCM with the header as associated data, a canonical JSON envelope with base64url
values — is rebuilt here for the comparison only; the project no longer has it. Both sign the same
document (a one-page certificate) and seal it to the same terminal key and open it again; then the
whole ``seal`` (sealing only) and ``open_sealed`` (opening, the signer, the signature, the binding)
of that copy. Median and p95 in microseconds, one core. Figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bench.sample_copy import CODE, TERMINAL, sample_copy, signed_with_its_page
from bench.timing import timed
from documents import (
    Document,
    MunicipalKey,
    TrustList,
    b64url_decode,
    b64url_encode,
    open_sealed,
    seal,
    sign,
)
from documents.hpke_seal import open_envelope, read_envelope, seal_envelope
from documents.sealing import MAX_SEALED_BYTES, SEALED_FORMAT, sealed_plaintext


def canonical_json(value: Any) -> bytes:
    """The former canonical JSON (sorted keys, no whitespace, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def former_sign(document: Document, key: MunicipalKey) -> bytes:
    """The former signed copy: Ed25519 over a context and the SHA-256 of canonical JSON, in JSON."""
    fields = {**document.to_map(), "format": "koufu-document/1"}
    digest = hashlib.sha256(canonical_json(fields)).digest()
    signature = key.private_key.sign(b"koufu-document-signature/2\n" + digest)
    return canonical_json({"document": fields, "key_id": key.key_id, "signature": b64url_encode(signature)})


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _former_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    kdf = HKDF(hashes.SHA256(), 32, salt=ephemeral + recipient, info=b"koufu-sealed/1 " + TERMINAL.encode())
    return kdf.derive(shared)


def former_seal(plaintext: bytes, header: dict[str, str], terminal: ec.EllipticCurvePublicKey) -> bytes:
    """The former ECIES envelope (for the comparison only)."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    point = _point(ephemeral.public_key())
    key = _former_key(ephemeral.exchange(ec.ECDH(), terminal), point, _point(terminal))
    full = {**header, "format": "koufu-sealed/1", "ephemeral": b64url_encode(point)}
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, canonical_json(full))
    return canonical_json({**full, "nonce": b64url_encode(nonce), "ciphertext": b64url_encode(ciphertext)})


def former_open(sealed: bytes, terminal: ec.EllipticCurvePrivateKey) -> bytes:
    envelope = json.loads(sealed)
    point = b64url_decode(envelope["ephemeral"])
    ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    key = _former_key(terminal.exchange(ec.ECDH(), ephemeral), point, _point(terminal.public_key()))
    header = {name: envelope[name] for name in ("format", "recipient", "ephemeral", "issue_number")}
    nonce, ciphertext = b64url_decode(envelope["nonce"]), b64url_decode(envelope["ciphertext"])
    return AESGCM(key).decrypt(nonce, ciphertext, canonical_json(header))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs of each step (default 2000)")
    args = parser.parse_args()
    municipal = MunicipalKey.generate(CODE)
    terminal = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    document, binding = sample_copy(now)
    signed = signed_with_its_page(document, municipal)
    plaintext = sealed_plaintext(signed)
    former_plaintext = former_sign(document, municipal)
    header = {"format": SEALED_FORMAT, "issue_number": document.issue_number.text, "recipient": TERMINAL}
    names = ("format", "issue_number", "recipient")

    def hpke_open(sealed: bytes) -> bytes:
        envelope = read_envelope(
            sealed, format=SEALED_FORMAT, header_names=names, max_bytes=MAX_SEALED_BYTES, what="bench"
        )
        return open_envelope(envelope, terminal_id=TERMINAL, terminal_key=terminal, what="bench")

    former = former_seal(former_plaintext, header, terminal.public_key())
    hpke = seal_envelope(plaintext, header, terminal.public_key(), max_bytes=MAX_SEALED_BYTES, what="bench")
    assert former_open(former, terminal) == former_plaintext and hpke_open(hpke) == plaintext
    trust = TrustList([municipal.trusted()])
    steps: dict[str, Callable[[], object]] = {
        "sign, former (Ed25519, canonical JSON)": lambda: former_sign(document, municipal),
        "sign, COSE_Sign1 (deterministic CBOR)": lambda: sign(document, municipal),
        "seal, former ECIES (JSON)": lambda: former_seal(former_plaintext, header, terminal.public_key()),
        "seal, HPKE (CBOR envelope)": lambda: seal_envelope(
            plaintext, header, terminal.public_key(), max_bytes=MAX_SEALED_BYTES, what="bench"
        ),
        "open, former ECIES": lambda: former_open(former, terminal),
        "open, HPKE": lambda: hpke_open(hpke),
        "documents.seal (HPKE)": lambda: seal(signed, TERMINAL, terminal.public_key()),
        "documents.open_sealed (HPKE + checks)": lambda: open_sealed(
            hpke, terminal_id=TERMINAL, terminal_key=terminal, trust=trust, expected=binding, now=now
        ),
    }
    print(f"signing and sealing one copy to a terminal, {args.runs} runs each, one core")
    print(f"signed copy bytes: former {len(former_plaintext)}, COSE_Sign1 and page code {len(plaintext)}")
    print(f"envelope bytes: former ECIES {len(former)}, HPKE {len(hpke)}")
    print(f"{'step':40} {'median µs':>10} {'p95 µs':>10}")
    for name, step in steps.items():
        for _ in range(50):  # warm up
            step()
        median, p95 = timed(step, args.runs)
        print(f"{name:40} {median:10.0f} {p95:10.0f}")


if __name__ == "__main__":
    main()
