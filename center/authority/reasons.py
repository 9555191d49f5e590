"""Why a certificate was revoked (失効事由), and the CRLReason a verifier sees (RFC 5280 §5.3.1).

The three events of a resident's life that revoke JPKI certificates have names of their own;
every standard CRLReason is accepted too. J-LIS does not publish which CRLReason it writes for
each event, so the mapping below is our choice (docs/authority.md):

=============  ==========================  =========================
reason         event                       CRLReason
=============  ==========================  =========================
lost_card      カード紛失 (card lost)        keyCompromise
moved_out      国外転出 (moved out)          affiliationChanged
deceased       死亡 (deceased)               cessationOfOperation
=============  ==========================  =========================

``removeFromCRL`` is not a reason to revoke (it only appears in delta CRLs) and is refused.
``certificate_hold`` (一時停止) is the one revocation that can be released again.
"""

from __future__ import annotations

import enum

from cryptography import x509

from center.authority.errors import InvalidReasonError


class RevocationReason(enum.StrEnum):
    """A revocation reason as stored and as typed on the command line."""

    LOST_CARD = "lost_card"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"
    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"
    CA_COMPROMISE = "ca_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"
    CERTIFICATE_HOLD = "certificate_hold"
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn"
    AA_COMPROMISE = "aa_compromise"

    @classmethod
    def parse(cls, text: str) -> RevocationReason:
        """Accept our names and RFC 5280's names (``keyCompromise``, ``cACompromise``)."""
        wanted = _folded(text)
        for reason in cls:
            if _folded(reason.value) == wanted:
                return reason
        raise InvalidReasonError(
            f"unknown revocation reason {text!r}: choose from {', '.join(r.value for r in cls)}"
        )

    @property
    def crl_reason(self) -> x509.ReasonFlags:
        """The CRLReason written into CRL entries and OCSP answers."""
        return _CRL_REASONS[self]


_CRL_REASONS = {
    RevocationReason.LOST_CARD: x509.ReasonFlags.key_compromise,
    RevocationReason.MOVED_OUT: x509.ReasonFlags.affiliation_changed,
    RevocationReason.DECEASED: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.CA_COMPROMISE: x509.ReasonFlags.ca_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.CERTIFICATE_HOLD: x509.ReasonFlags.certificate_hold,
    RevocationReason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
    RevocationReason.AA_COMPROMISE: x509.ReasonFlags.aa_compromise,
}


def _folded(name: str) -> str:
    return name.strip().replace("_", "").replace("-", "").lower()
