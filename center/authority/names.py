"""Names, object identifiers and validity rules of JPKI certificates (reference/jpki-card.md §8)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.x509.oid import NameOID

J_LIS = "Japan Agency for Local Authority Information Systems"
OU_USER_AUTH = "JPKI for user authentication"
OU_SIGNING = "JPKI for digital signature"
PUBLIC_SERVICE_NAME = "公的個人認証サービス"
TEST_ORGANISATION = "JPKI-TEST"  # the real CAs say O=JPKI; test cards carry O=JPKI-TEST

# Policy of user-authentication certificates as reported by public sources (unverified).
USER_AUTH_POLICY = x509.ObjectIdentifier("1.2.392.200149.8.5.1.3.30")
SIGNING_POLICY = x509.ObjectIdentifier("1.2.392.200149.8.5.1.1.10")

# subjectAltName otherName types of the signing certificate (基本4情報).
OID_NAME = x509.ObjectIdentifier("1.2.392.200149.8.5.5.1")
OID_NAME_FLAGS = x509.ObjectIdentifier("1.2.392.200149.8.5.5.2")
OID_SEX = x509.ObjectIdentifier("1.2.392.200149.8.5.5.3")
OID_BIRTH = x509.ObjectIdentifier("1.2.392.200149.8.5.5.4")
OID_ADDRESS = x509.ObjectIdentifier("1.2.392.200149.8.5.5.5")
OID_ADDRESS_FLAGS = x509.ObjectIdentifier("1.2.392.200149.8.5.5.6")


def ca_name(purpose_ou: str, organisation: str = TEST_ORGANISATION) -> x509.Name:
    """``C=JP, O=JPKI[-TEST], OU=<purpose>, OU=J-LIS``: every generation shares this name."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, purpose_ou),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, J_LIS),
        ]
    )


def public_service_name() -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, PUBLIC_SERVICE_NAME),
        ]
    )


def crl_point_name(purpose_ou: str, organisation: str, number: int) -> x509.Name:
    """The CRL distribution point, given as a directory name (not a URL) as JPKI does.

    ``number`` 0 is the CA's own (authority revocation list); the end-entity certificates of a
    generation point to ``CRL<generation>``, the partition that generation's CRL covers.
    """
    return x509.Name(
        [
            *ca_name(purpose_ou, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CRL Distribution Points"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"CRL{number:04d}"),
        ]
    )


def fifth_birthday_after(issued: dt.date, birth: dt.date) -> dt.date:
    """Certificates run to the holder's 5th birthday after issuance (発行日後5回目の誕生日)."""
    year = issued.year
    if _birthday_in(year, birth) <= issued:
        year += 1
    return _birthday_in(year + 4, birth)


def _birthday_in(year: int, birth: dt.date) -> dt.date:
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February outside a leap year: the day before
        return dt.date(year, 2, 28)


def era_birth_date(birth: dt.date) -> str:
    """``EYYYYMMDD`` of the signing certificate: era digit, then the Gregorian date.

    Era digits follow the resident registry convention: 1 明治, 2 大正, 3 昭和, 4 平成, 5 令和.
    """
    starts = [
        (dt.date(2019, 5, 1), 5),
        (dt.date(1989, 1, 8), 4),
        (dt.date(1926, 12, 25), 3),
        (dt.date(1912, 7, 30), 2),
    ]
    era = next((digit for start, digit in starts if birth >= start), 1)
    return f"{era}{birth:%Y%m%d}"
