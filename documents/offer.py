"""What a municipality offers one resident now (交付可能な証明書と選択肢), sealed like a document.

After the card's proof, the kiosk shows what can be issued: certificates, fees, tax years, and the
members of the resident's household to choose from, by name. Names are personal, and the center
relays the offer, so the municipality signs it and seals it to the terminal exactly as it does a
copy (:mod:`documents.envelope`: COSE_Sign1 by the municipality, HPKE to the terminal's P-256 key),
bound to the session, the terminal and the holder's certificate, and valid for a few minutes.
It also says why a certificate cannot be issued for this person (``reasons``): the public part
the center reads only says "not available", in the same words for every personal reason.

Envelope (``koufu-offer/3``, deterministic CBOR): ``format``, ``recipient``, ``enc``,
``ciphertext``; HPKE's ``info``: the deterministic CBOR of the first two
(:mod:`documents.hpke_seal`). Inside: the municipality's COSE_Sign1 (:mod:`documents.cose`) over
the map ``{"format", "municipality", "session_id", "terminal_id", "holder_certificate",
"issued_at", "content"}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from documents.envelope import SealedForm, open_statement, seal_statement
from documents.keys import MunicipalKey, TrustedKey

OFFER_FORMAT = "koufu-offer/3"
MAX_OFFER_BYTES = 256 * 1024
OFFER_LIFETIME = dt.timedelta(minutes=10)
OFFER = SealedForm(
    name="offer",
    format=OFFER_FORMAT,
    bound_to=("holder_certificate",),
    lifetime=OFFER_LIFETIME,
    max_bytes=MAX_OFFER_BYTES,
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
    return seal_statement(
        OFFER,
        content,
        key=key,
        session_id=session_id,
        terminal_id=terminal_id,
        bindings={"holder_certificate": holder_certificate},
        terminal_public_key=terminal_public_key,
        now=now,
    )


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
    return open_statement(
        OFFER,
        sealed,
        terminal_id=terminal_id,
        terminal_key=terminal_key,
        trust=trust,
        session_id=session_id,
        bindings={"holder_certificate": holder_certificate},
        now=now,
    )
