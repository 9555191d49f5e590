"""The wire protocol between the center and the municipal issuance servers (shared by both).

**Request signing** (センターの署名): every request of the center to a municipality carries

    X-Koufu-Center-Key: the key id (16 hex digits of SHA-256 of the raw Ed25519 public key)
    X-Koufu-Timestamp: milliseconds since the epoch
    X-Koufu-Nonce: 22 characters of URL-safe base64 (16 random bytes)
    X-Koufu-Signature: URL-safe base64 of an Ed25519 signature

over the canonical text (one field a line): ``koufu-center-request/1 · municipality code ·
METHOD · path · timestamp · nonce · hex SHA-256 of the body``.

The municipality code is part of what is signed, so a request for one municipality is worth
nothing at another. A municipality accepts only the center keys it was given, a timestamp within
:data:`MAX_CLOCK_SKEW` of its clock and each nonce once (a database constraint).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from center.protocol import MAX_CLOCK_SKEW, NONCE_BYTES, unb64url
from documents import b64url_encode

HEADER_KEY = "X-Koufu-Center-Key"
HEADER_TIMESTAMP = "X-Koufu-Timestamp"
HEADER_NONCE = "X-Koufu-Nonce"
HEADER_SIGNATURE = "X-Koufu-Signature"


class BridgeAuthError(Exception):
    """A request that does not prove it comes from the center (``code`` is stable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def canonical(municipality: str, method: str, path: str, timestamp_ms: int, nonce: str, body: bytes) -> bytes:
    return "\n".join(["koufu-center-request/1", municipality, method.upper(), path, str(timestamp_ms), nonce,
                      hashlib.sha256(body).hexdigest()]).encode("ascii")


def sign(key: ed25519.Ed25519PrivateKey, municipality: str, method: str, path: str, body: bytes, *,
         now: dt.datetime | None = None) -> dict[str, str]:
    """The headers the center adds to a request for ``municipality``."""
    timestamp_ms = int((now or dt.datetime.now(dt.UTC)).timestamp() * 1000)
    nonce = b64url_encode(secrets.token_bytes(NONCE_BYTES))
    signature = key.sign(canonical(municipality, method, path, timestamp_ms, nonce, body))
    return {HEADER_KEY: key_id(key.public_key()), HEADER_TIMESTAMP: str(timestamp_ms), HEADER_NONCE: nonce,
            HEADER_SIGNATURE: b64url_encode(signature)}


@dataclass(frozen=True)
class VerifiedRequest:
    key_id: str
    nonce: str  # to be recorded: each is accepted once


def verify(headers: dict[str, str], trusted: dict[str, ed25519.Ed25519PublicKey], municipality: str,
           method: str, path: str, body: bytes, now: dt.datetime) -> VerifiedRequest:
    """Check a request's signature headers (names lower-case); the nonce is left to record."""
    values = [headers.get(name.lower(), "") for name in (HEADER_KEY, HEADER_TIMESTAMP, HEADER_NONCE,
                                                           HEADER_SIGNATURE)]
    if not all(values):
        raise BridgeAuthError("unsigned_request", "the center's signature headers are missing")
    claimed, timestamp, nonce, signature_text = values
    public_key = trusted.get(claimed)
    if public_key is None:
        raise BridgeAuthError("unknown_center_key", "this center key is not trusted here")
    try:
        timestamp_ms = int(timestamp)
        signature = unb64url(signature_text)
        nonce_raw = unb64url(nonce)
    except ValueError:
        raise BridgeAuthError("malformed_signature", "the signature headers are malformed") from None
    if len(nonce_raw) != NONCE_BYTES or b64url_encode(nonce_raw) != nonce:
        raise BridgeAuthError("malformed_signature", "nonce must be 16 bytes in canonical base64")
    sent = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC) if abs(timestamp_ms) < 2**42 else None
    if sent is None or abs(sent - now) > MAX_CLOCK_SKEW:
        raise BridgeAuthError("clock_skew", "the request's time is off by more than 2 minutes")
    try:
        public_key.verify(signature, canonical(municipality, method, path, timestamp_ms, nonce, body))
    except InvalidSignature:
        raise BridgeAuthError("bad_signature", "the center's signature does not verify") from None
    return VerifiedRequest(claimed, nonce)
