"""The card's proof, checked by the municipality itself (本人確認の検証).

The center relays what it verified when the resident authenticated: the card's user-authentication
certificate, the card's signature over the session's binding (session id, terminal id, challenge:
:func:`center.protocol.resident_binding`) and the JPKI authority's signed revocation answer (OCSP).
The municipality trusts none of it for being the center's: it checks the certificate against its
own JPKI trust anchors, its validity now, the signature over the binding of the very session and
terminal the request names, and the authority's signature on the revocation answer (which also
states the serials a renewed certificate replaced: :attr:`ProvenHolder.previous_serials`). The holder's
certificate serial (how the municipality finds the resident) and the certificate's hash (what
every copy is bound to) are taken from the checked certificate, never from a field the center
fills in. A center that mixes two sessions' data, replays a proof into another session or names
another serial gets a refusal, and nothing is issued.

A proof serves only its own session, and only for as long as an order may be placed in it
(:data:`PROOF_LIFETIME` from its first use): the municipality remembers each proof it accepted
until its certificate expires (after that the proof fails on the certificate alone), so an old
proof relayed again, however late, is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from center.errors import ResidentRefused
from center.jpki_verify import (
    MAX_CERTIFICATE_SIZE,
    MAX_OCSP_SIZE,
    RevocationStatus,
    UnusableRevocation,
    check_proof,
    judge_ocsp,
)
from center.municipal.strict import StrictObject
from center.protocol import resident_binding
from documents import Binding, b64url_encode

PROOF_LIFETIME = dt.timedelta(minutes=10)  # the center's order window after the card's proof
MAX_SIGNATURE = 512  # bytes: an RSA-4096 signature
MAX_CHALLENGE = 64


class HolderNotProven(Exception):
    """The relayed proof does not prove this session's holder (``code`` says why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class HolderProof:
    """What the card proved, as the center relays it."""

    certificate: bytes  # DER of the card's user-authentication certificate
    signature: bytes  # the card's, over resident_binding(session, terminal, challenge)
    challenge: bytes  # the session's challenge
    revocation: bytes  # the authority's OCSP answer about the certificate (DER)

    @classmethod
    def read(cls, fields: StrictObject) -> HolderProof:
        """From a request's ``holder_proof`` object (base64url fields)."""
        proof = fields.take("holder_proof", dict)
        inner = StrictObject(proof, "request.holder_proof", fields.error)
        read = cls(
            certificate=inner.base64("certificate", MAX_CERTIFICATE_SIZE),
            signature=inner.base64("signature", MAX_SIGNATURE),
            challenge=inner.base64("challenge", MAX_CHALLENGE),
            revocation=inner.base64("revocation", MAX_OCSP_SIZE),
        )
        inner.done()
        return read

    def to_json(self) -> dict[str, Any]:
        return {
            "certificate": b64url_encode(self.certificate),
            "signature": b64url_encode(self.signature),
            "challenge": b64url_encode(self.challenge),
            "revocation": b64url_encode(self.revocation),
        }

    @property
    def digest(self) -> str:
        """What the municipality remembers the proof by (its signature's hash)."""
        return hashlib.sha256(self.signature).hexdigest()


@dataclass(frozen=True)
class ProvenHolder:
    """The holder the proof proves: known by the checked certificate only."""

    serial: int
    certificate_hash: str  # hex SHA-256 of the certificate's DER: what the copies are bound to
    proof: str  # the proof's digest
    valid_until: dt.datetime  # the certificate's end: the proof cannot be used after it anyway
    # the serials the certificate renewed, newest first, as the authority's checked OCSP answer
    # states them (koufuPreviousSerials); () when it states none
    previous_serials: tuple[int, ...] = ()


def prove_holder(
    proof: HolderProof,
    *,
    session_id: str,
    terminal_id: str,
    anchors: Sequence[x509.Certificate],
    now: dt.datetime,
) -> ProvenHolder:
    """The holder of ``proof``, if it proves the card's holder in this session at this terminal
    now; else :class:`HolderNotProven`."""
    try:
        verified = check_proof(
            proof.certificate,
            proof.signature,
            resident_binding(session_id, terminal_id, proof.challenge),
            anchors=anchors,
            now=now,
        )
    except ResidentRefused as refused:
        raise HolderNotProven(refused.code, refused.message) from None
    try:
        judged = judge_ocsp(proof.revocation, verified.certificate, verified.issuer, now)
    except UnusableRevocation as error:
        raise HolderNotProven(
            "revocation_unusable", f"the revocation answer cannot be trusted: {error}"
        ) from None
    if judged.status is not RevocationStatus.GOOD:
        raise HolderNotProven("certificate_revoked", "the authority does not call the certificate good")
    return ProvenHolder(
        verified.serial,
        Binding.holder_hash(proof.certificate),
        proof.digest,
        verified.certificate.not_valid_after_utc,
        judged.previous_serials,
    )
