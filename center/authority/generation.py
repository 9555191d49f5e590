"""One generation of one JPKI CA (認証局の世代): its kind, key and self-signed certificate.

J-LIS runs two root CAs, user authentication (利用者証明用) and signing (署名用), and renews each
every few years with a new key under the same name. :class:`CertificationAuthority` is one such
generation; :func:`create_ca` makes it. ``center.authority.issuance`` issues under a generation and
``center.authority.ca`` keeps every generation of the test authority.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from center.authority import names
from center.authority.keys import key_identifier, new_serial
from documents import JST

CA_LIFETIME_YEARS = 12  # each generation outlives every certificate it issues while newest


class CaKind(enum.StrEnum):
    """Which of the two JPKI CAs: 利用者証明用 (user authentication) or 署名用 (signing)."""

    USER_AUTH = "user-auth"
    SIGNING = "signing"

    @property
    def organizational_unit(self) -> str:
        return names.OU_USER_AUTH if self is CaKind.USER_AUTH else names.OU_SIGNING


@dataclass(frozen=True)
class CertificationAuthority:
    """One generation of one CA: its key and self-signed certificate."""

    kind: CaKind
    generation: int
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def name(self) -> x509.Name:
        return self.certificate.subject

    @cached_property
    def key_id(self) -> bytes:
        """SHA-1 of the public key: this generation's subjectKeyIdentifier."""
        return key_identifier(self.key.public_key())

    @property
    def crl_point(self) -> x509.Name:
        """The CRL distribution point of the certificates it issues (``CN=CRL<generation>``)."""
        return names.crl_point_name(self.kind.organizational_unit, names.TEST_ORGANISATION, self.generation)

    @property
    def label(self) -> str:
        return f"{self.kind}-{self.generation}"

    def valid_at(self, now: dt.datetime) -> bool:
        cert = self.certificate
        return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def create_ca(kind: CaKind, generation: int, key: rsa.RSAPrivateKey) -> CertificationAuthority:
    """A self-signed root with the JPKI CA extensions, valid 12 years from 1 January (JST)."""
    name = names.ca_name(kind.organizational_unit)
    not_before = dt.datetime(generation, 1, 1, tzinfo=JST).astimezone(dt.UTC)
    not_after = dt.datetime(generation + CA_LIFETIME_YEARS, 1, 1, tzinfo=JST).astimezone(
        dt.UTC
    ) - dt.timedelta(seconds=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DirectoryName(names.public_service_name())]),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [
                            x509.DirectoryName(
                                names.crl_point_name(kind.organizational_unit, names.TEST_ORGANISATION, 0)
                            )
                        ],
                        None,
                        None,
                        None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificationAuthority(kind, generation, key, certificate)
