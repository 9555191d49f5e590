"""A JPKI test authority (公的個人認証サービス 認証局, test edition): CAs and card certificates.

Minimal for now: one generation of the user-authentication CA and of the signing CA, kept as PEM
files in a directory, and issuance of the two certificates a card carries. Certificates follow the
structure of real JPKI certificates (reference/jpki-card.md §8) under ``O=JPKI-TEST``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from center.authority import names

KEY_SIZE = 2048


class AuthorityError(Exception):
    """The authority's directory is unusable or a request cannot be honoured."""


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def new_serial() -> int:
    """JPKI end-entity serials are 4 bytes: positive, high bit clear, never zero."""
    return secrets.randbelow(0x7FFFFFFF) + 1


def utf8_string(text: str) -> bytes:
    """DER of an ASN.1 UTF8String, the value of the signing certificate's otherNames."""
    raw = text.encode("utf-8")
    if len(raw) < 0x80:
        return b"\x0c" + bytes((len(raw),)) + raw
    size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes((0x80 | len(size),)) + size + raw


@dataclass(frozen=True)
class CertificationAuthority:
    """One generation of one CA: its key and self-signed certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class SigningFacts:
    """The four basic facts (基本4情報) as the signing certificate carries them."""

    name: str
    address: str
    birth_date: dt.date
    sex: str
    prefecture: str
    city: str


class TestAuthority:
    """The test authority: ``load_or_create(directory)`` then issue certificates for cards."""

    __test__ = False  # not a pytest class

    def __init__(
        self, user_auth: CertificationAuthority, signing: CertificationAuthority
    ) -> None:
        self.user_auth = user_auth
        self.signing = signing

    @classmethod
    def load_or_create(cls, directory: Path, *, now: dt.datetime | None = None) -> TestAuthority:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        now = now or dt.datetime.now(dt.UTC)
        return cls(
            _load_or_create_ca(directory / "user-auth-ca", names.OU_USER_AUTH, now),
            _load_or_create_ca(directory / "signing-ca", names.OU_SIGNING, now),
        )

    def issue_user_auth_certificate(
        self,
        public_key: rsa.RSAPublicKey,
        *,
        birth_date: dt.date,
        now: dt.datetime | None = None,
        serial: int | None = None,
    ) -> x509.Certificate:
        """利用者証明用電子証明書: ``C=JP, CN=<opaque id>``, no personal facts at all."""
        now = now or dt.datetime.now(dt.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, secrets.token_hex(12).upper()),
            ]
        )
        builder = self._end_entity(self.user_auth, subject, public_key, birth_date, now, serial)
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        ).add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(names.USER_AUTH_POLICY, None)]),
            critical=True,
        )
        return builder.sign(self.user_auth.key, hashes.SHA256())

    def issue_signing_certificate(
        self,
        public_key: rsa.RSAPublicKey,
        facts: SigningFacts,
        *,
        now: dt.datetime | None = None,
        serial: int | None = None,
    ) -> x509.Certificate:
        """署名用電子証明書: the four facts in subjectAltName otherNames; none under age 15."""
        now = now or dt.datetime.now(dt.UTC)
        if _age(facts.birth_date, now.date()) < 15:
            raise AuthorityError("no signing certificate is issued under the age of 15")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.LOCALITY_NAME, facts.prefecture),
                x509.NameAttribute(NameOID.LOCALITY_NAME, facts.city),
                x509.NameAttribute(NameOID.COMMON_NAME, secrets.token_hex(12).upper()),
            ]
        )
        other_names = [
            (names.OID_NAME, facts.name),
            (names.OID_NAME_FLAGS, "0"),
            (names.OID_SEX, facts.sex),
            (names.OID_BIRTH, names.era_birth_date(facts.birth_date)),
            (names.OID_ADDRESS, facts.address),
            (names.OID_ADDRESS_FLAGS, "0"),
        ]
        builder = self._end_entity(
            self.signing, subject, public_key, facts.birth_date, now, serial
        )
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        ).add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(names.SIGNING_POLICY, None)]),
            critical=True,
        ).add_extension(
            x509.SubjectAlternativeName(
                [x509.OtherName(oid, utf8_string(value)) for oid, value in other_names]
            ),
            critical=False,
        )
        return builder.sign(self.signing.key, hashes.SHA256())

    @staticmethod
    def _end_entity(
        ca: CertificationAuthority,
        subject: x509.Name,
        public_key: rsa.RSAPublicKey,
        birth_date: dt.date,
        now: dt.datetime,
        serial: int | None,
    ) -> x509.CertificateBuilder:
        not_after = names.fifth_birthday_after(now.date(), birth_date)
        ou = ca.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        organisation = ca.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        crl = names.crl_point_name(str(ou[0].value), str(organisation[0].value), 1)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.certificate.subject)
            .public_key(public_key)
            .serial_number(serial or new_serial())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(dt.datetime.combine(not_after, dt.time(14, 59, 59), dt.UTC))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.DirectoryName(crl)], None, None, None)]
                ),
                critical=False,
            )
        )


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def create_ca(purpose_ou: str, now: dt.datetime, key: rsa.RSAPrivateKey) -> x509.Certificate:
    """A self-signed root with the JPKI CA extensions, valid for 12 years (as J-LIS roots are)."""
    name = names.ca_name(purpose_ou)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * 12))
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
                        [x509.DirectoryName(names.crl_point_name(purpose_ou, "JPKI-TEST", 0))],
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


def _load_or_create_ca(stem: Path, purpose_ou: str, now: dt.datetime) -> CertificationAuthority:
    key_path, cert_path = stem.with_suffix(".key"), stem.with_suffix(".crt")
    if key_path.exists() and cert_path.exists():
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except ValueError as exc:
            raise AuthorityError(f"cannot load {stem.name}: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise AuthorityError(f"{stem.name} key is not RSA")
        return CertificationAuthority(key, cert)
    key = generate_key()
    cert = create_ca(purpose_ou, now, key)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CertificationAuthority(key, cert)
