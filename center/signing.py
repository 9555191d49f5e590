"""Signed requests (署名付きリクエスト), one scheme for both links that sign theirs: a terminal's
requests to the center (ECDSA P-256, ``center.protocol``) and the center's requests to a
municipality (Ed25519, ``center.bridge_protocol``). A link is a :class:`Scheme`: its context line,
the header that names the signer, its :class:`KeyType` and the words of its refusals.

Every signed request carries four headers:

    <the link's signer header>: who signs (a terminal id, a center key id)
    X-Koufu-Timestamp: milliseconds since the epoch
    X-Koufu-Nonce: 22 characters of URL-safe base64 (16 random bytes)
    X-Koufu-Signature: URL-safe base64 of the signature

over the canonical text, ASCII, one field a line: the link's context line (``koufu-request/1``),
the link's scope lines (none, or the municipality code), the METHOD, the path, the timestamp, the
nonce, and the hex SHA-256 of the body.

The receiver accepts a timestamp within :data:`MAX_CLOCK_SKEW` of its clock (:meth:`Scheme.check`)
and each nonce once (its database keeps them), so a captured request can never be played again.
Refusals are :class:`SignatureRefused` with the codes both links answer: ``unsigned_request``,
``malformed_signature``, ``clock_skew``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from documents import b64url_encode
from documents.sealing import MAX_SEALED_BYTES

HEADER_TIMESTAMP = "X-Koufu-Timestamp"
HEADER_NONCE = "X-Koufu-Nonce"
HEADER_SIGNATURE = "X-Koufu-Signature"
MAX_CLOCK_SKEW = dt.timedelta(seconds=120)
NONCE_BYTES = 16
NONCE_WORDS = "nonce must be 16 bytes in canonical base64"

PrivateKey = TypeVar("PrivateKey")
PublicKey = TypeVar("PublicKey")


#: characters of a sealed copy's base64url (documents.MAX_SEALED_BYTES of envelope at most)
SEALED_CHARS = -(-MAX_SEALED_BYTES * 4 // 3)


def unb64url(text: str, *, longest: int = 8192) -> bytes:
    """Strict URL-safe base64 (padding optional) of at most ``longest`` characters; ``ValueError``
    on anything else."""
    if not text or len(text) > longest or not all(c.isalnum() or c in "-_=" for c in text):
        raise ValueError("not URL-safe base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsealed_b64url(text: str) -> bytes:
    """A sealed copy, offer or refusal as it travels (base64url): as long as the sealed format
    allows (a copy carries its pages' signed codes); ``ValueError`` on anything else."""
    return unb64url(text, longest=SEALED_CHARS)


class SignatureRefused(Exception):
    """A request whose signature headers prove nothing (``code`` is stable, ``message`` the link's
    words); each link raises it again as its own refusal."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class KeyType(Generic[PrivateKey, PublicKey]):
    """How one link's keys sign the canonical text and check a signature (``check`` raises
    ``InvalidSignature``)."""

    name: str
    sign: Callable[[PrivateKey, bytes], bytes]
    check: Callable[[PublicKey, bytes, bytes], None]

    def verifies(self, public_key: PublicKey, signature: bytes, message: bytes) -> bool:
        try:
            self.check(public_key, signature, message)
        except InvalidSignature:
            return False
        return True


def _ecdsa_sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def _ecdsa_check(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> None:
    key.verify(signature, message, ec.ECDSA(hashes.SHA256()))


def _ed25519_sign(key: ed25519.Ed25519PrivateKey, message: bytes) -> bytes:
    return key.sign(message)


def _ed25519_check(key: ed25519.Ed25519PublicKey, signature: bytes, message: bytes) -> None:
    key.verify(signature, message)


ECDSA_P256: KeyType[ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey] = KeyType(
    "ECDSA P-256 / SHA-256, DER", _ecdsa_sign, _ecdsa_check
)
ED25519: KeyType[ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey] = KeyType(
    "Ed25519", _ed25519_sign, _ed25519_check
)


@dataclass(frozen=True)
class Words:
    """What a link's refusals say (their codes are the same on both links)."""

    missing: str  # unsigned_request
    malformed: str  # malformed_signature
    clock_skew: str  # clock_skew


@dataclass(frozen=True)
class SignedHeaders:
    """What a signer adds to a request."""

    signer_header: str
    signer: str
    timestamp_ms: int
    nonce: str
    signature: bytes

    def as_dict(self) -> dict[str, str]:
        return {
            self.signer_header: self.signer,
            HEADER_TIMESTAMP: str(self.timestamp_ms),
            HEADER_NONCE: self.nonce,
            HEADER_SIGNATURE: b64url_encode(self.signature),
        }


@dataclass(frozen=True)
class Credentials:
    """The signature headers of one request, as received."""

    signer: str
    timestamp: str
    nonce: str
    signature: str


@dataclass(frozen=True)
class SignedRequest(Generic[PublicKey]):
    """A request whose signature headers are well formed and fresh: what its signature covers."""

    signer: str
    nonce: str  # to be recorded: each is accepted once
    signature: bytes
    message: bytes  # the canonical text the signer signed
    key_type: KeyType[Any, PublicKey]

    def verifies_with(self, public_key: PublicKey) -> bool:
        return self.key_type.verifies(public_key, self.signature, self.message)


@dataclass(frozen=True)
class Scheme(Generic[PrivateKey, PublicKey]):
    """One link's signed requests: its context line, the header naming the signer, its keys."""

    context: str
    signer_header: str
    key_type: KeyType[PrivateKey, PublicKey]
    words: Words

    @property
    def headers(self) -> tuple[str, str, str, str]:
        """The four signature headers, the signer's first."""
        return self.signer_header, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE

    def canonical(
        self, scope: Sequence[str], method: str, path: str, timestamp_ms: int, nonce: str, body: bytes
    ) -> bytes:
        """The text that is signed (``scope``: the link's lines after the context line)."""
        return "\n".join(
            [
                self.context,
                *scope,
                method.upper(),
                path,
                str(timestamp_ms),
                nonce,
                hashlib.sha256(body).hexdigest(),
            ]
        ).encode("ascii")

    def sign(
        self,
        key: PrivateKey,
        signer: str,
        scope: Sequence[str],
        method: str,
        path: str,
        body: bytes,
        *,
        now: dt.datetime | None = None,
        nonce: str | None = None,
    ) -> SignedHeaders:
        """The headers ``signer`` adds to a request: now (or at ``now``), with a new nonce (or
        ``nonce``)."""
        timestamp_ms = int((now or dt.datetime.now(dt.UTC)).timestamp() * 1000)
        nonce = nonce or b64url_encode(secrets.token_bytes(NONCE_BYTES))
        signature = self.key_type.sign(key, self.canonical(scope, method, path, timestamp_ms, nonce, body))
        return SignedHeaders(self.signer_header, signer, timestamp_ms, nonce, signature)

    def credentials(self, headers: Mapping[str, str]) -> Credentials:
        """The four headers of a request (names in any case); ``unsigned_request`` if one is
        missing or empty."""
        lowered = {name.lower(): value for name, value in headers.items()}
        values = [lowered.get(name.lower(), "") for name in self.headers]
        if not all(values):
            raise SignatureRefused("unsigned_request", self.words.missing)
        signer, timestamp, nonce, signature = values
        return Credentials(signer, timestamp, nonce, signature)

    def check(
        self,
        credentials: Credentials,
        scope: Sequence[str],
        method: str,
        path: str,
        body: bytes,
        now: dt.datetime,
    ) -> SignedRequest[PublicKey]:
        """The checks that need neither the signer's key nor a database: the headers' form
        (``malformed_signature``) and the signer's clock (``clock_skew``)."""
        try:
            timestamp_ms = int(credentials.timestamp)
            signature = unb64url(credentials.signature)
            nonce_raw = unb64url(credentials.nonce)
        except ValueError:
            raise SignatureRefused("malformed_signature", self.words.malformed) from None
        if len(nonce_raw) != NONCE_BYTES or credentials.nonce != b64url_encode(nonce_raw):
            raise SignatureRefused("malformed_signature", NONCE_WORDS)
        sent = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC) if abs(timestamp_ms) < 2**42 else None
        if sent is None or abs(sent - now) > MAX_CLOCK_SKEW:
            raise SignatureRefused("clock_skew", self.words.clock_skew)
        message = self.canonical(scope, method, path, timestamp_ms, credentials.nonce, body)
        return SignedRequest(credentials.signer, credentials.nonce, signature, message, self.key_type)
