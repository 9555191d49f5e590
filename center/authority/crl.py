"""Certificate revocation lists (証明書失効リスト), one per CA generation.

Each generation signs its own CRL; the generations share a name, so the CRL's
authorityKeyIdentifier (= the generation's subjectKeyIdentifier) says which key signed it, and
the critical issuingDistributionPoint names the partition (``CN=CRL<generation>``) that the
certificates of that generation point to. Revoked certificates stay listed until they expire.
Entries revoked as ``unspecified`` carry no reasonCode (RFC 5280 §5.3.1).

A CRL is kept and served again while nothing changed and it is younger than :data:`CRL_REFRESH`;
any revocation makes the next request publish a new one with the next cRLNumber.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from center.authority.generation import CertificationAuthority
from center.authority.reasons import RevocationReason
from center.authority.store import RevokedEntry

CRL_VALIDITY = dt.timedelta(hours=24)  # nextUpdate - thisUpdate
CRL_REFRESH = dt.timedelta(hours=1)  # an unchanged CRL is re-issued at least this often


def content_digest(entries: Sequence[RevokedEntry]) -> bytes:
    """A digest of what a CRL lists: equal digests, equal CRL content."""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(f"{entry.serial}|{entry.revoked_at.isoformat()}|{entry.reason}\n".encode())
    return digest.digest()


def build_crl(
    ca: CertificationAuthority,
    entries: Sequence[RevokedEntry],
    *,
    number: int,
    this_update: dt.datetime,
) -> x509.CertificateRevocationList:
    this_update = this_update.replace(microsecond=0)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.name)
        .last_update(this_update)
        .next_update(this_update + CRL_VALIDITY)
    )
    for entry in entries:
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at.replace(microsecond=0))
        )
        if entry.reason is not RevocationReason.UNSPECIFIED:
            revoked = revoked.add_extension(x509.CRLReason(entry.reason.crl_reason), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        builder.add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(
            x509.IssuingDistributionPoint(
                full_name=[x509.DirectoryName(ca.crl_point)],
                relative_name=None,
                only_contains_user_certs=True,
                only_contains_ca_certs=False,
                only_some_reasons=None,
                indirect_crl=False,
                only_contains_attribute_certs=False,
            ),
            critical=True,
        )
    )
    return builder.sign(ca.key, hashes.SHA256())
