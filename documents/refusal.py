"""Why a municipality refuses one person (拒否理由), sealed to the terminal that asked.

The center sees a refusal about a person only as ``refused_by_municipality``: a protection
measure (支援措置), a move-out, a missing seal registration or unfiled taxes all read the same in
its database, its audit log and its logs, so nobody there learns a person's circumstances from
them. The detailed reason (its code and the words the kiosk shows, in Japanese and English) goes
to the kiosk only, signed by the municipality and sealed like the offer (:mod:`documents.envelope`),
bound to the session and the terminal and fresh for ten minutes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from documents.envelope import SealedForm, open_statement, seal_statement
from documents.errors import MalformedDocument
from documents.keys import MunicipalKey, TrustedKey

REFUSAL_FORMAT = "koufu-refusal/3"
GENERIC_REFUSAL = "refused_by_municipality"  # what the center sees of every refusal about a person
REFUSAL = SealedForm(
    name="refusal",
    format=REFUSAL_FORMAT,
    bound_to=(),
    lifetime=dt.timedelta(minutes=10),
    max_bytes=8 * 1024,
)
_CODE_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class RefusalReason:
    """A refusal's detailed reason: its stable code and the words for the kiosk."""

    code: str
    message_ja: str
    message_en: str


def seal_refusal(
    reason: RefusalReason,
    *,
    key: MunicipalKey,
    session_id: str,
    terminal_id: str,
    terminal_public_key: ec.EllipticCurvePublicKey,
    now: dt.datetime,
) -> bytes:
    """``reason``, signed by the municipality and sealed to the terminal of ``session_id``."""
    return seal_statement(
        REFUSAL,
        {"code": reason.code, "message_ja": reason.message_ja, "message_en": reason.message_en},
        key=key,
        session_id=session_id,
        terminal_id=terminal_id,
        bindings={},
        terminal_public_key=terminal_public_key,
        now=now,
    )


def open_refusal(
    sealed: bytes,
    *,
    terminal_id: str,
    terminal_key: ec.EllipticCurvePrivateKey,
    trust: Mapping[str, TrustedKey],
    session_id: str,
    now: dt.datetime,
) -> RefusalReason:
    """The reason, if it is for this terminal and session, signed by a trusted municipal key and
    fresh; else a :class:`~documents.errors.DocumentError`."""
    content = open_statement(
        REFUSAL,
        sealed,
        terminal_id=terminal_id,
        terminal_key=terminal_key,
        trust=trust,
        session_id=session_id,
        bindings={},
        now=now,
    )
    code, message_ja, message_en = (content.get(name) for name in ("code", "message_ja", "message_en"))
    if (
        content.keys() != {"code", "message_ja", "message_en"}
        or type(code) is not str
        or not 1 <= len(code) <= 40
        or not set(code) <= _CODE_CHARACTERS
        or type(message_ja) is not str
        or type(message_en) is not str
        or not 0 < len(message_ja) <= 500
        or not 0 < len(message_en) <= 500
    ):
        raise MalformedDocument("the sealed refusal is not a code with its words")
    return RefusalReason(code, message_ja, message_en)
