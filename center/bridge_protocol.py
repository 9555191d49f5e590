"""The wire protocol between the center and the municipal issuance servers (shared by both).

**Request signing** (センターの署名): every request of the center to a municipality is signed as
:mod:`center.signing` says (HTTP Message Signatures, RFC 9421, over a Content-Digest, RFC 9530)
with the center's Ed25519 key: ``alg="ed25519"``, ``keyid`` the key's id (16 hex digits of
SHA-256 of the raw public key), ``tag="koufu-bridge/1"``, covering ``"@method" "@path" "@query"
"content-digest" "koufu-municipality"``.

The municipality code (``Koufu-Municipality``) is covered, and a municipality refuses a request
that names another (``bad_signature``), so a request for one municipality is worth nothing at
another. A
municipality accepts only the center keys it was given, ``created`` within
:data:`center.signing.MAX_CLOCK_SKEW` of its clock and each nonce once (a database constraint).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from center.signing import ED25519, Scheme, SignatureRefused, Target, Words

HEADER_MUNICIPALITY = "Koufu-Municipality"
BRIDGE_TAG = "koufu-bridge/1"

CENTER_REQUESTS = Scheme(
    tag=BRIDGE_TAG,
    algorithm=ED25519,
    words=Words(
        missing="the center's signature headers are missing",
        malformed="the signature headers are malformed",
        clock_skew="the request's time is off by more than 2 minutes",
    ),
    scope_fields=(HEADER_MUNICIPALITY,),
)


class BridgeAuthError(Exception):
    """A request that does not prove it comes from the center (``code`` is stable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(
    key: ed25519.Ed25519PrivateKey,
    municipality: str,
    method: str,
    target: str,
    body: bytes,
    *,
    now: dt.datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers the center adds to a request for ``municipality`` (its scope field)."""
    return CENTER_REQUESTS.sign(
        key, key_id(key.public_key()), method, target, body, (municipality,), now=now, nonce=nonce
    ).as_dict()


@dataclass(frozen=True)
class VerifiedRequest:
    key_id: str
    nonce: str  # to be recorded: each is accepted once


def verify(
    headers: Mapping[str, str],
    trusted: Mapping[str, ed25519.Ed25519PublicKey],
    municipality: str,
    target: Target,
    body: bytes,
    now: dt.datetime,
) -> VerifiedRequest:
    """Check a request's signature fields (``headers`` by lower-case name, see
    :func:`center.signing.field_values`); the nonce is left to record. The body is checked
    against its digest first; a key this municipality does not trust is refused before the
    signature's profile is looked at."""
    try:
        credentials = CENTER_REQUESTS.credentials(headers, body)
        public_key = trusted.get(credentials.signer)
        if public_key is None:
            raise BridgeAuthError("unknown_center_key", "this center key is not trusted here")
        checked = CENTER_REQUESTS.check(credentials, target, now)
    except SignatureRefused as refused:
        raise BridgeAuthError(refused.code, refused.message) from None
    if credentials.scope != (municipality,):
        raise BridgeAuthError("bad_signature", "the center's signature is for another municipality")
    if not checked.verifies_with(public_key):
        raise BridgeAuthError("bad_signature", "the center's signature does not verify")
    return VerifiedRequest(checked.signer, checked.nonce)
