"""End-entity certificates as J-LIS issues them onto a card (reference/jpki-card.md §8).

利用者証明用電子証明書 (user authentication): ``C=JP, CN=<opaque id>``, no personal facts.
署名用電子証明書 (signing): ``C=JP, L=<prefecture>, L=<city>, CN=<opaque id>`` and the four basic
facts (基本4情報) as subjectAltName otherNames; never issued under the age of 15.

Both run to the holder's 5th birthday after issuance, capped by the issuing CA's own expiry. The
authorityKeyIdentifier is copied from the issuing generation's subjectKeyIdentifier: CA
generations share their name, so this (and the signature) is how a verifier finds the issuer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from center.authority import names
from center.authority.errors import IssuanceRefusedError
from center.authority.generation import CertificationAuthority
from center.authority.keys import new_serial
from documents import JST

SIGNING_MINIMUM_AGE = 15


@dataclass(frozen=True)
class SigningFacts:
    """The four basic facts (基本4情報) as the signing certificate carries them."""

    name: str
    address: str
    birth_date: dt.date
    sex: str
    prefecture: str
    city: str


def utf8_string(text: str) -> bytes:
    """DER of an ASN.1 UTF8String, the value of the signing certificate's otherNames."""
    raw = text.encode("utf-8")
    if len(raw) < 0x80:
        return b"\x0c" + bytes((len(raw),)) + raw
    size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes((0x80 | len(size),)) + size + raw


def user_auth_certificate(
    ca: CertificationAuthority,
    public_key: rsa.RSAPublicKey,
    *,
    birth_date: dt.date,
    now: dt.datetime,
    serial: int | None = None,
) -> x509.Certificate:
    """利用者証明用電子証明書: ``C=JP, CN=<opaque id>``, no personal facts at all."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, secrets.token_hex(12).upper()),
        ]
    )
    builder = _end_entity(ca, subject, public_key, birth_date, now, serial)
    builder = builder.add_extension(
        x509.KeyUsage(True, False, False, False, False, False, False, False, False),
        critical=True,
    ).add_extension(
        x509.CertificatePolicies([x509.PolicyInformation(names.USER_AUTH_POLICY, None)]),
        critical=True,
    )
    return builder.sign(ca.key, hashes.SHA256())


def signing_certificate(
    ca: CertificationAuthority,
    public_key: rsa.RSAPublicKey,
    facts: SigningFacts,
    *,
    now: dt.datetime,
    serial: int | None = None,
) -> x509.Certificate:
    """署名用電子証明書: the four facts in subjectAltName otherNames; none under age 15."""
    if age(facts.birth_date, now.astimezone(JST).date()) < SIGNING_MINIMUM_AGE:
        raise IssuanceRefusedError("no signing certificate is issued under the age of 15")
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
    builder = _end_entity(ca, subject, public_key, facts.birth_date, now, serial)
    builder = (
        builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(names.SIGNING_POLICY, None)]),
            critical=True,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.OtherName(oid, utf8_string(value)) for oid, value in other_names]
            ),
            critical=False,
        )
    )
    return builder.sign(ca.key, hashes.SHA256())


def _end_entity(
    ca: CertificationAuthority,
    subject: x509.Name,
    public_key: rsa.RSAPublicKey,
    birth_date: dt.date,
    now: dt.datetime,
    serial: int | None,
) -> x509.CertificateBuilder:
    last_day = names.fifth_birthday_after(now.astimezone(JST).date(), birth_date)
    # the end of that day in Japan: 23:59:59 JST is 14:59:59 UTC
    not_after = min(
        dt.datetime.combine(last_day, dt.time(14, 59, 59), dt.UTC), ca.certificate.not_valid_after_utc
    )
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(serial or new_serial())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(not_after)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.DirectoryName(ca.crl_point)], None, None, None)]
            ),
            critical=False,
        )
    )


def age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
