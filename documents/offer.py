"""What a municipality offers one resident now (交付可能な証明書と選択肢), sealed like a document.

After the card's proof, the kiosk shows what can be issued: certificates, fees, tax years, and the
members of the resident's household to choose from, by name. Names are personal, and the center
relays the offer, so the municipality signs it and seals it to the terminal exactly as it does a
copy (:mod:`documents.sealing`: Ed25519 by the municipality, ECIES to the terminal's P-256 key),
bound to the session, the terminal and the holder's certificate, and valid for a few minutes.

Envelope (``koufu-offer/1``, canonical JSON): ``format``, ``recipient``, ``ephemeral``, ``nonce``,
``ciphertext``; associated data: the first three. Inside: ``{"offer": {"format", "municipality",
"session_id", "terminal_id", "holder_certificate", "issued_at", "content"}, "key_id",
"signature"}``, the signature over ``b"koufu-offer-signature/1\\n"`` + the canonical offer.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from documents.basics import b64url_decode, b64url_encode
from documents.canonical import canonical_json, parse_json
from documents.errors import (
    BadSignature,
    BindingMismatch,
    MalformedDocument,
    NotForThisTerminal,
    UndecryptableDocument,
    UntrustedSigner,
)
from documents.keys import MunicipalKey, TrustedKey
from documents.sealing import _aead_key, _point

OFFER_FORMAT = "koufu-offer/1"
SIGNATURE_CONTEXT = b"koufu-offer-signature/1\n"
MAX_OFFER_BYTES = 256 * 1024
OFFER_LIFETIME = dt.timedelta(minutes=10)
_HEADER = ("format", "recipient", "ephemeral")
_ENVELOPE = frozenset((*_HEADER, "nonce", "ciphertext"))
_INFO = b"koufu-offer/1 "
_OFFER = frozenset(
    ("format", "municipality", "session_id", "terminal_id", "holder_certificate", "issued_at", "content")
)


def seal_offer(
    content: Mapping[str, Any],
    *,
    key: MunicipalKey,
    session_id: str,
    terminal_id: str,
    holder_certificate: str,
    terminal_public_key: ec.EllipticCurvePublicKey,
    now: dt.datetime,
) -> bytes:
    """The municipality's offer to one session's resident, signed and sealed to the terminal."""
    offer = {
        "format": OFFER_FORMAT,
        "municipality": key.municipality,
        "session_id": session_id,
        "terminal_id": terminal_id,
        "holder_certificate": holder_certificate,
        "issued_at": now.astimezone(dt.UTC).isoformat(),
        "content": dict(content),
    }
    signed = canonical_json(offer)
    inner = canonical_json(
        {
            "offer": offer,
            "key_id": key.key_id,
            "signature": b64url_encode(key.private_key.sign(SIGNATURE_CONTEXT + signed)),
        }
    )
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    ephemeral_point, recipient_point = _point(ephemeral.public_key()), _point(terminal_public_key)
    shared = ephemeral.exchange(ec.ECDH(), terminal_public_key)
    aead = _aead_key(shared, ephemeral_point, recipient_point, terminal_id, _INFO)
    header = {"format": OFFER_FORMAT, "recipient": terminal_id, "ephemeral": b64url_encode(ephemeral_point)}
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(aead).encrypt(nonce, inner, canonical_json(header))
    sealed = canonical_json(
        {**header, "nonce": b64url_encode(nonce), "ciphertext": b64url_encode(ciphertext)}
    )
    if len(sealed) > MAX_OFFER_BYTES:
        raise MalformedDocument("the sealed offer would be too large")
    return sealed


def open_offer(
    sealed: bytes,
    *,
    terminal_id: str,
    terminal_key: ec.EllipticCurvePrivateKey,
    trust: Mapping[str, TrustedKey],
    session_id: str,
    holder_certificate: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The offer's content, if it is for this terminal, session and card, signed by the
    municipality's trusted key and fresh; else a :class:`~documents.errors.DocumentError`."""
    envelope = parse_json(sealed, MAX_OFFER_BYTES, canonical=True)
    if (
        type(envelope) is not dict
        or envelope.keys() != _ENVELOPE
        or envelope.get("format") != OFFER_FORMAT
        or not all(type(envelope[name]) is str for name in _ENVELOPE)
    ):
        raise MalformedDocument(f"a sealed offer is an object with exactly {sorted(_ENVELOPE)}")
    if envelope["recipient"] != terminal_id:
        raise NotForThisTerminal("the offer is sealed to another terminal")
    try:
        ephemeral_point = b64url_decode(envelope["ephemeral"])
        ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), ephemeral_point)
        nonce, ciphertext = b64url_decode(envelope["nonce"]), b64url_decode(envelope["ciphertext"])
        shared = terminal_key.exchange(ec.ECDH(), ephemeral)
        aead = _aead_key(shared, ephemeral_point, _point(terminal_key.public_key()), terminal_id, _INFO)
        inner = AESGCM(aead).decrypt(
            nonce, ciphertext, canonical_json({name: envelope[name] for name in _HEADER})
        )
    except (InvalidTag, ValueError):
        raise UndecryptableDocument("the offer does not decrypt with this terminal's key") from None
    value = parse_json(inner, MAX_OFFER_BYTES, canonical=True)
    if (
        type(value) is not dict
        or value.keys() != {"offer", "key_id", "signature"}
        or type(value["offer"]) is not dict
        or value["offer"].keys() != _OFFER
    ):
        raise MalformedDocument("the sealed offer's content is not an offer")
    offer = value["offer"]
    trusted = trust.get(value["key_id"]) if type(value["key_id"]) is str else None
    if trusted is None or trusted.municipality != offer["municipality"] or not trusted.valid_at(now):
        raise UntrustedSigner("the offer's signer is not a trusted key of its municipality")
    try:
        signature = b64url_decode(value["signature"])
        trusted.public_key.verify(signature, SIGNATURE_CONTEXT + canonical_json(offer))
    except (InvalidSignature, ValueError, TypeError):
        raise BadSignature("the municipality's signature on the offer does not verify") from None
    for name, wanted in (
        ("terminal_id", terminal_id),
        ("session_id", session_id),
        ("holder_certificate", holder_certificate),
    ):
        if type(offer[name]) is not str or not hmac.compare_digest(offer[name].encode(), wanted.encode()):
            raise BindingMismatch(name)
    try:
        issued = dt.datetime.fromisoformat(offer["issued_at"])
    except (TypeError, ValueError):
        raise MalformedDocument("issued_at is not a time") from None
    if issued.tzinfo is None or not dt.timedelta(minutes=-2) <= now - issued <= OFFER_LIFETIME:
        raise MalformedDocument("the offer is not fresh")
    content: dict[str, Any] = offer["content"] if type(offer["content"]) is dict else {}
    return content
