"""The wire protocol between a terminal and the center, shared by both sides (no web framework).

**Request signing** (端末認証): every terminal request is signed as :mod:`center.signing` says
(HTTP Message Signatures, RFC 9421, over a Content-Digest, RFC 9530) with the terminal's ECDSA
P-256 key: ``alg="ecdsa-p256-sha256"``, ``keyid`` the terminal's id, ``tag="koufu-terminal/1"``,
covering ``"@method" "@path" "@query" "content-digest"``.

The center accepts ``created`` within :data:`center.signing.MAX_CLOCK_SKEW` of its clock and each
nonce once per terminal (a database constraint), so a captured request can never be played again.

**Resident binding** (利用者証明の対象): the card signs SHA-256 of
``koufu-resident-auth/1\\n<session id>\\n<terminal id>\\n<challenge hex>``, so a signature made for one
session at one terminal proves nothing anywhere else.
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric import ec

from center.signing import ECDSA_P256_SHA256, Scheme, SignedHeaders, Words

TERMINAL_TAG = "koufu-terminal/1"

TERMINAL_REQUESTS = Scheme(
    tag=TERMINAL_TAG,
    algorithm=ECDSA_P256_SHA256,
    words=Words(
        missing="terminal signature headers are missing",
        malformed="terminal signature headers are malformed",
        clock_skew="the terminal's clock is off by more than 2 minutes",
    ),
)


def sign_request(
    key: ec.EllipticCurvePrivateKey,
    terminal_id: str,
    method: str,
    target: str,
    body: bytes,
    *,
    now: dt.datetime | None = None,
    nonce: str | None = None,
) -> SignedHeaders:
    """What a terminal adds to each request for ``target`` (its path, and ``?query`` if any)."""
    return TERMINAL_REQUESTS.sign(key, terminal_id, method, target, body, now=now, nonce=nonce)


def resident_binding(session_id: str, terminal_id: str, challenge: bytes) -> bytes:
    """The message the resident's card signs (the kiosk passes it to ``HolderAuthentication.prove``)."""
    return f"koufu-resident-auth/1\n{session_id}\n{terminal_id}\n{challenge.hex()}".encode("ascii")
