"""COSE_Sign1 (RFC 9052 §4.2): the one signature construction of every signed thing a municipality
makes — a copy (:mod:`documents.sealing`), an offer and a refusal (:mod:`documents.envelope`) and each
printed page's code (``printing.page_code``).

**Form**: the tagged COSE_Sign1 (tag 18) ``[protected, unprotected, payload, signature]``, in
deterministic CBOR (:mod:`documents.cbor`):

- ``protected``: the byte string of the map ``{1: -8, 4: kid}`` — alg EdDSA, ``kid`` the 8 bytes of
  the key id (:func:`documents.keys.key_id_of`, as bytes);
- ``unprotected``: the empty map;
- ``payload``: the deterministic CBOR of what is signed (embedded, never detached);
- ``signature``: Ed25519 (RFC 8032, pure) over the ``Sig_structure``
  ``["Signature1", protected, h'', payload]`` (RFC 9052 §4.4, no external data), 64 bytes.

The payloads cannot be taken for each other: a copy, an offer and a refusal each name their
``format`` inside, and a page code's payload is a CWT with integer keys; every reader requires
exactly its own keys.

**Reading** (:func:`read_sign1`) is bounded and strict (the bytes deterministic, exactly this
header, a 64-byte signature) and makes no trust decision: the caller checks the signer, then
:meth:`Sign1.verify`. Refusals are :class:`~documents.errors.MalformedDocument` (form) and
:class:`~documents.errors.BadSignature`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from documents import cbor
from documents.errors import BadSignature, MalformedDocument

COSE_SIGN1_TAG = 18
HEADER_ALG, HEADER_KID = 1, 4
ALG_EDDSA = -8
KID_BYTES = 8
SIGNATURE_BYTES = 64


def protected_header(key_id: str) -> bytes:
    """The protected header's bytes for a key id (16 lowercase hex digits)."""
    return cbor.encode({HEADER_ALG: ALG_EDDSA, HEADER_KID: bytes.fromhex(key_id)})


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """What a COSE_Sign1's signature covers (RFC 9052 §4.4), with no external data."""
    return cbor.encode(["Signature1", protected, b"", payload])


@dataclass(frozen=True)
class Sign1:
    """A COSE_Sign1 read or made: its key id (lowercase hex), alg, and the bytes of each part."""

    key_id: str
    algorithm: int
    protected: bytes = field(repr=False)
    payload: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def encoded(self) -> bytes:
        """The tagged COSE_Sign1's bytes."""
        return cbor.encode(cbor2.CBORTag(COSE_SIGN1_TAG, [self.protected, {}, self.payload, self.signature]))

    def verify(self, public_key: ed25519.Ed25519PublicKey, *, what: str) -> None:
        """:class:`BadSignature` unless the alg is EdDSA and the signature verifies under ``public_key``."""
        if self.algorithm != ALG_EDDSA:
            raise BadSignature(f"the {what} is not signed with EdDSA")
        try:
            public_key.verify(self.signature, sig_structure(self.protected, self.payload))
        except InvalidSignature:
            raise BadSignature(f"the municipality's signature on the {what} does not verify") from None


def sign1(payload: bytes, key_id: str, private_key: ed25519.Ed25519PrivateKey) -> Sign1:
    """Sign ``payload`` (already deterministic CBOR) with the key ``key_id`` names."""
    protected = protected_header(key_id)
    signature = private_key.sign(sig_structure(protected, payload))
    return Sign1(key_id, ALG_EDDSA, protected, payload, signature)


def read_sign1(data: bytes, *, max_bytes: int, what: str) -> Sign1:
    """A tagged COSE_Sign1 of at most ``max_bytes``, its form checked (not its signature)."""
    item = cbor.decode(data, max_bytes=max_bytes, max_depth=3, what=what)  # tag, array, header map, value
    if type(item) is not cbor2.CBORTag or item.tag != COSE_SIGN1_TAG:
        raise MalformedDocument(f"the {what} is not a tagged COSE_Sign1")
    parts = item.value
    if type(parts) not in (list, tuple) or len(parts) != 4:
        raise MalformedDocument(f"the {what}: a COSE_Sign1 has four parts")
    protected, unprotected, payload, signature = parts
    if type(protected) is not bytes or type(payload) is not bytes or type(signature) is not bytes:
        raise MalformedDocument(f"the {what}: a COSE_Sign1's parts are byte strings and a map")
    if type(unprotected) not in (dict, cbor2.frozendict) or unprotected:
        raise MalformedDocument(f"the {what}: the unprotected header is an empty map")
    if len(signature) != SIGNATURE_BYTES:
        raise MalformedDocument(f"the {what}: an Ed25519 signature is 64 bytes")
    header = cbor.decode(protected, max_bytes=64, max_depth=1, what=f"{what}'s protected header")
    if type(header) is not dict or header.keys() != {HEADER_ALG, HEADER_KID}:
        raise MalformedDocument(f"the {what}: the protected header is exactly alg and kid")
    algorithm, kid = header[HEADER_ALG], header[HEADER_KID]
    if type(algorithm) is not int:
        raise MalformedDocument(f"the {what}: alg is an integer")
    if type(kid) is not bytes or len(kid) != KID_BYTES:
        raise MalformedDocument(f"the {what}: kid is {KID_BYTES} bytes")
    return Sign1(kid.hex(), algorithm, protected, payload, signature)
