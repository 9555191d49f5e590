"""The JPKI test authority issues certificates with the real structure (reference §8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from center.authority import names
from center.authority.ca import AuthorityError, SigningFacts, TestAuthority, generate_key

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
BIRTH = dt.date(1990, 5, 10)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority.load_or_create(tmp_path_factory.mktemp("ca"), now=NOW)


def test_cas_are_self_signed_roots_with_the_jpki_names(authority: TestAuthority) -> None:
    cert = authority.user_auth.certificate
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == (
        "OU=Japan Agency for Local Authority Information Systems,"
        "OU=JPKI for user authentication,O=JPKI-TEST,C=JP"
    )
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert alt.get_values_for_type(x509.DirectoryName)[0].get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME)[0].value == "公的個人認証サービス"
    crl = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert isinstance(crl[0].full_name[0], x509.DirectoryName)  # type: ignore[index]
    cert.verify_directly_issued_by(cert)
    assert "digital signature" in authority.signing.certificate.subject.rfc4514_string()


def test_authority_reloads_the_same_keys(authority: TestAuthority, tmp_path: Path) -> None:
    first = TestAuthority.load_or_create(tmp_path, now=NOW)
    second = TestAuthority.load_or_create(tmp_path, now=NOW)
    assert first.user_auth.der == second.user_auth.der
    (tmp_path / "user-auth-ca.key").write_text("not a key")
    with pytest.raises(AuthorityError):
        TestAuthority.load_or_create(tmp_path)


def test_user_auth_certificate_carries_no_personal_facts(authority: TestAuthority) -> None:
    cert = authority.issue_user_auth_certificate(generate_key().public_key(), birth_date=BIRTH,
                                                 now=NOW)
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert 0 < cert.serial_number < 2**31  # 4-byte serials
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policies[0].policy_identifier == names.USER_AUTH_POLICY
    cert.verify_directly_issued_by(authority.user_auth.certificate)
    # 5th birthday after 2026-11-22 for a 10 May birthday: 2031-05-10
    assert cert.not_valid_after_utc.date() == dt.date(2031, 5, 10)


def test_signing_certificate_has_the_four_facts_as_other_names(authority: TestAuthority) -> None:
    facts = SigningFacts("試験　花子", "東京都千代田区霞が関２丁目１番２号", BIRTH, "2", "東京都",
                         "千代田区")
    cert = authority.issue_signing_certificate(generate_key().public_key(), facts, now=NOW)
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    values = {o.type_id.dotted_string: o.value for o in alt.get_values_for_type(x509.OtherName)}
    assert values["1.2.392.200149.8.5.5.1"] == b"\x0c" + bytes([15]) + "試験　花子".encode()
    assert values["1.2.392.200149.8.5.5.4"][2:] == b"419900510"  # era 4 (平成)
    assert values["1.2.392.200149.8.5.5.3"][2:] == b"2"
    localities = cert.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)
    assert [a.value for a in localities] == ["東京都", "千代田区"]
    cert.verify_directly_issued_by(authority.signing.certificate)


def test_no_signing_certificate_under_fifteen(authority: TestAuthority) -> None:
    facts = SigningFacts("試験　太郎", "東京都", dt.date(2015, 1, 1), "1", "東京都", "千代田区")
    with pytest.raises(AuthorityError):
        authority.issue_signing_certificate(generate_key().public_key(), facts, now=NOW)


@pytest.mark.parametrize(
    ("issued", "birth", "expected"),
    [
        (dt.date(2026, 11, 22), dt.date(1990, 5, 10), dt.date(2031, 5, 10)),
        (dt.date(2026, 5, 10), dt.date(1990, 5, 10), dt.date(2031, 5, 10)),  # birthday today
        (dt.date(2026, 5, 9), dt.date(1990, 5, 10), dt.date(2030, 5, 10)),
        (dt.date(2026, 3, 1), dt.date(2000, 2, 29), dt.date(2031, 2, 28)),
    ],
)
def test_fifth_birthday_after_issuance(issued: dt.date, birth: dt.date, expected: dt.date) -> None:
    assert names.fifth_birthday_after(issued, birth) == expected


def test_era_digits() -> None:
    assert names.era_birth_date(dt.date(1990, 5, 10)) == "419900510"
    assert names.era_birth_date(dt.date(1960, 1, 1)) == "319600101"
    assert names.era_birth_date(dt.date(2020, 1, 1)) == "520200101"
