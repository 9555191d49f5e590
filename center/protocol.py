"""The wire protocol between a terminal and the center, shared by both sides (no web framework).

**Request signing** (端末認証): every terminal request carries

    X-Koufu-Terminal: T-0001
    X-Koufu-Timestamp: 1795392000123          (milliseconds since the epoch)
    X-Koufu-Nonce: 22 characters of URL-safe base64 (16 random bytes)
    X-Koufu-Signature: URL-safe base64 of an ECDSA P-256 / SHA-256 signature (DER)

over the canonical text (one field a line):
    ``koufu-request/1 · METHOD · path · timestamp · nonce · hex SHA-256 of the body``

The center accepts a timestamp within :data:`MAX_CLOCK_SKEW` of its clock and each nonce once per
terminal (a database constraint), so a captured request can never be played again.

**Resident binding** (利用者証明の対象): the card signs SHA-256 of
``koufu-resident-auth/1\\n<session id>\\n<terminal id>\\n<challenge hex>``, so a signature made for one
session at one terminal proves nothing anywhere else.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from documents import b64url_encode

HEADER_TERMINAL = "X-Koufu-Terminal"
HEADER_TIMESTAMP = "X-Koufu-Timestamp"
HEADER_NONCE = "X-Koufu-Nonce"
HEADER_SIGNATURE = "X-Koufu-Signature"
MAX_CLOCK_SKEW = dt.timedelta(seconds=120)
NONCE_BYTES = 16


def unb64url(text: str) -> bytes:
    """Strict URL-safe base64 (padding optional); ``ValueError`` on anything else."""
    if not text or len(text) > 8192 or not all(c.isalnum() or c in "-_=" for c in text):
        raise ValueError("not URL-safe base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_request(method: str, path: str, timestamp_ms: int, nonce: str, body: bytes) -> bytes:
    return "\n".join(
        ["koufu-request/1", method.upper(), path, str(timestamp_ms), nonce,
         hashlib.sha256(body).hexdigest()]
    ).encode("ascii")


@dataclass(frozen=True)
class SignedHeaders:
    terminal_id: str
    timestamp_ms: int
    nonce: str
    signature: bytes

    def as_dict(self) -> dict[str, str]:
        return {
            HEADER_TERMINAL: self.terminal_id,
            HEADER_TIMESTAMP: str(self.timestamp_ms),
            HEADER_NONCE: self.nonce,
            HEADER_SIGNATURE: b64url_encode(self.signature),
        }


def sign_request(
    key: ec.EllipticCurvePrivateKey,
    terminal_id: str,
    method: str,
    path: str,
    body: bytes,
    *,
    now: dt.datetime | None = None,
    nonce: str | None = None,
) -> SignedHeaders:
    """What a terminal adds to each request."""
    moment = now or dt.datetime.now(dt.UTC)
    timestamp_ms = int(moment.timestamp() * 1000)
    nonce = nonce or b64url_encode(secrets.token_bytes(NONCE_BYTES))
    message = canonical_request(method, path, timestamp_ms, nonce, body)
    return SignedHeaders(terminal_id, timestamp_ms, nonce, key.sign(message, ec.ECDSA(hashes.SHA256())))


def resident_binding(session_id: str, terminal_id: str, challenge: bytes) -> bytes:
    """The message the resident's card signs (the kiosk passes it to ``HolderAuthentication.prove``)."""
    return f"koufu-resident-auth/1\n{session_id}\n{terminal_id}\n{challenge.hex()}".encode("ascii")
