"""A request about the card's holder in one session (本人からの照会): what the center asks for
the holder alone, with no order — the offer, the usage registration, the issuance record.

Each such request carries the session, the terminal, the card's proof in that session and the
terminal's certificate, read strictly from JSON (:meth:`HolderRequest.fields_of`); the
municipality answers it only once the terminal is trusted and the proof holds
(:meth:`HolderRequest.check`), and seals its answer to that terminal's key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from cryptography.hazmat.primitives.asymmetric import ec

from center.municipal.holder_proof import HolderProof, ProvenHolder
from center.municipal.issuer import Issuer
from center.municipal.requests import IDENTIFIER, MAX_CERTIFICATE_BYTES, TERMINAL_ID, _Object


@dataclass(frozen=True)
class HolderRequest:
    """The session, the terminal, the card's proof in this session (checked by the municipality)
    and the terminal's certificate (DER: the key the answer is sealed to)."""

    where: ClassVar[str]  # the request's name in a malformed request's message

    session_id: str
    terminal_id: str
    holder_proof: HolderProof
    terminal_certificate: bytes

    @staticmethod
    def fields_of(fields: _Object) -> tuple[str, str, HolderProof, bytes]:
        """The four fields every request about the holder carries, read in this order."""
        return (
            fields.matching("session_id", IDENTIFIER),
            fields.matching("terminal_id", TERMINAL_ID),
            HolderProof.read(fields),
            fields.base64("terminal_certificate", MAX_CERTIFICATE_BYTES),
        )

    @classmethod
    def from_json(cls, document: Any) -> Self:
        fields = _Object(document, cls.where)
        request = cls(*cls.fields_of(fields))
        fields.done()
        return request

    def check(self, issuer: Issuer) -> CheckedHolder:
        """The terminal's key (:class:`~center.municipal.issuer.UntrustedTerminal` unless a trusted
        terminal CA issued it) and the proven holder (:class:`~center.municipal.issuer.UnprovenHolder`
        unless the proof holds for this session and terminal), at the issuer's clock."""
        now = issuer.clock()
        terminal_key = issuer.terminal_key(self.terminal_id, self.terminal_certificate, now)
        proven = issuer.prove_holder(self.holder_proof, self.session_id, self.terminal_id, now)
        return CheckedHolder(now, terminal_key, proven)


@dataclass(frozen=True)
class CheckedHolder:
    """A request's holder once checked: the instant of the check, the terminal's key and the
    holder the card's proof proves."""

    now: dt.datetime
    terminal_key: ec.EllipticCurvePublicKey
    proven: ProvenHolder
