"""The JPKI test authority's CAs and certificates have the real structure (reference §8).

Several CA generations share one name; the issuer of a certificate is found by key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID, NameOID

from center.authority import issuance, names
from center.authority.ca import (
    CaKind,
    SigningFacts,
    TestAuthority,
    default_generations,
    select_issuer,
)
from center.authority.errors import (
    AuthorityError,
    AuthorityStateError,
    InvalidMunicipalityError,
    InvalidReasonError,
    IssuanceRefusedError,
    NoCurrentGenerationError,
    UnknownGenerationError,
    UnknownIssuerError,
)
from center.authority.generation import create_ca
from center.authority.keys import key_identifier
from center.authority.municipality import check_digit, municipality_code
from center.authority.reasons import RevocationReason
from devtools.authority import card_key, reused_ca_keys

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
IN_2020 = dt.datetime(2020, 6, 1, tzinfo=dt.UTC)
BIRTH = dt.date(1990, 5, 10)
FACTS = SigningFacts("試験　花子", "東京都千代田区霞が関２丁目１番２号", BIRTH, "2", "東京都", "千代田区")


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority.load_or_create(tmp_path_factory.mktemp("ca"), now=NOW, key_factory=reused_ca_keys())


def test_cas_are_self_signed_roots_with_the_jpki_names(authority: TestAuthority) -> None:
    for ca in authority.cas:
        cert = ca.certificate
        assert cert.subject == cert.issuer
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert basic.critical and basic.value.ca
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert (
            alt.get_values_for_type(x509.DirectoryName)[0]
            .get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0]
            .value
            == "公的個人認証サービス"
        )
        crl = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
        assert isinstance(crl[0].full_name[0], x509.DirectoryName)  # type: ignore[index]
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert ski.digest == ca.key_id
        cert.verify_directly_issued_by(cert)
    assert authority.user_auth.certificate.subject.rfc4514_string() == (
        "OU=Japan Agency for Local Authority Information Systems,"
        "OU=JPKI for user authentication,O=JPKI-TEST,C=JP"
    )
    assert "digital signature" in authority.signing.certificate.subject.rfc4514_string()


def test_generations_share_the_name_but_not_the_key(authority: TestAuthority) -> None:
    for kind in CaKind:
        generations = authority.generations(kind)
        assert [ca.generation for ca in generations] == [2015, 2019, 2023]
        assert len({ca.name for ca in generations}) == 1
        assert len({ca.key_id for ca in generations}) == 3
        assert len({ca.certificate.serial_number for ca in generations}) == 3
    assert not {ca.key_id for ca in authority.generations(CaKind.USER_AUTH)} & {
        ca.key_id for ca in authority.generations(CaKind.SIGNING)
    }
    first = authority.generation(CaKind.USER_AUTH, 2015).certificate
    assert first.not_valid_before_utc == dt.datetime(2014, 12, 31, 15, tzinfo=dt.UTC)  # 1 Jan JST
    assert first.not_valid_after_utc == dt.datetime(2026, 12, 31, 14, 59, 59, tzinfo=dt.UTC)


def test_the_newest_valid_generation_issues(authority: TestAuthority) -> None:
    assert authority.current(CaKind.USER_AUTH, NOW).generation == 2023
    assert authority.current(CaKind.SIGNING, IN_2020).generation == 2019
    assert authority.user_auth.generation == 2023 and authority.signing.generation == 2023
    with pytest.raises(NoCurrentGenerationError):
        authority.current(CaKind.USER_AUTH, dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(UnknownGenerationError):
        authority.generation(CaKind.USER_AUTH, 2016)
    cert = authority.issue_user_auth_certificate(card_key().public_key(), birth_date=BIRTH, now=IN_2020)
    assert authority.issuer_of(cert).generation == 2019


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2026, (2015, 2019, 2023)), (2023, (2015, 2019, 2023)), (2027, (2019, 2023, 2027)), (2010, (2010,))],
)
def test_default_generations(year: int, expected: tuple[int, ...]) -> None:
    assert default_generations(dt.datetime(year, 6, 1, tzinfo=dt.UTC)) == expected


def test_issuer_is_chosen_by_key_not_by_name(authority: TestAuthority) -> None:
    old = authority.generation(CaKind.USER_AUTH, 2019)
    new = authority.generation(CaKind.USER_AUTH, 2023)
    cert = issuance.user_auth_certificate(old, card_key().public_key(), birth_date=BIRTH, now=NOW)
    assert cert.issuer == new.name  # the name cannot tell them apart…
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == old.key_id != new.key_id  # …the key identifier can
    with pytest.raises(InvalidSignature):
        cert.verify_directly_issued_by(new.certificate)
    assert authority.issuer_of(cert) is old
    assert select_issuer(cert, reversed(authority.cas)) is old


def test_a_forged_key_identifier_is_not_trusted(authority: TestAuthority) -> None:
    old = authority.generation(CaKind.USER_AUTH, 2019)
    new = authority.generation(CaKind.USER_AUTH, 2023)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forged")]))
        .issuer_name(new.name)
        .public_key(card_key().public_key())
        .serial_number(1234)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.AuthorityKeyIdentifier(new.key_id, None, None), critical=False)
        .sign(old.key, hashes.SHA256())  # claims 2023, signed by 2019
    )
    with pytest.raises(UnknownIssuerError):
        authority.issuer_of(forged)
    without_aki = (
        x509.CertificateBuilder()
        .subject_name(forged.subject)
        .issuer_name(old.name)
        .public_key(card_key().public_key())
        .serial_number(1235)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(old.key, hashes.SHA256())
    )
    assert authority.issuer_of(without_aki) is old  # found by signature alone


def test_authority_reloads_the_same_keys(tmp_path: Path) -> None:
    first = TestAuthority.load_or_create(tmp_path, now=NOW, key_factory=reused_ca_keys())
    second = TestAuthority.load_or_create(tmp_path, now=NOW)  # loads, creates nothing
    assert [ca.der for ca in first.cas] == [ca.der for ca in second.cas]
    for path in (tmp_path / "ca").glob("*.key"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "ca").stat().st_mode & 0o777 == 0o700


def test_an_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AuthorityStateError, match="no authority"):
        TestAuthority.load(tmp_path)
    TestAuthority.load_or_create(tmp_path, now=NOW, key_factory=reused_ca_keys())
    (tmp_path / "ca" / "user-auth-2019.key").unlink()
    (tmp_path / "ca" / "user-auth-2019.key").write_text("not a key")
    with pytest.raises(AuthorityError, match=r"user-auth-2019\.key"):
        TestAuthority.load(tmp_path)
    swapped = tmp_path / "swapped"
    TestAuthority.load_or_create(swapped, now=NOW, key_factory=reused_ca_keys())
    (swapped / "ca" / "signing-2015.crt").write_bytes((swapped / "ca" / "signing-2019.crt").read_bytes())
    with pytest.raises(AuthorityStateError, match="does not belong"):
        TestAuthority.load(swapped)


def test_user_auth_certificate_carries_no_personal_facts(authority: TestAuthority) -> None:
    cert = authority.issue_user_auth_certificate(card_key().public_key(), birth_date=BIRTH, now=NOW)
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert 0 < cert.serial_number < 2**31  # 4-byte serials
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policies[0].policy_identifier == names.USER_AUTH_POLICY
    cert.verify_directly_issued_by(authority.user_auth.certificate)
    # 5th birthday after 2026-11-22 for a 10 May birthday: 2031-05-10, 23:59:59 JST
    assert cert.not_valid_after_utc == dt.datetime(2031, 5, 10, 14, 59, 59, tzinfo=dt.UTC)
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name is not None
    point = points[0].full_name[0]
    assert isinstance(point, x509.DirectoryName)
    assert point.value.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CRL2023"


def test_validity_is_capped_by_the_issuing_generation(tmp_path: Path) -> None:
    lone = TestAuthority.load_or_create(tmp_path, now=NOW, generations=[2015], key_factory=reused_ca_keys())
    cert = lone.issue_user_auth_certificate(card_key().public_key(), birth_date=BIRTH, now=NOW)
    assert cert.not_valid_after_utc == lone.user_auth.certificate.not_valid_after_utc


def test_signing_certificate_has_the_four_facts_as_other_names(authority: TestAuthority) -> None:
    cert = authority.issue_signing_certificate(card_key().public_key(), FACTS, now=NOW)
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    values = {o.type_id.dotted_string: o.value for o in alt.get_values_for_type(x509.OtherName)}
    assert values["1.2.392.200149.8.5.5.1"] == b"\x0c" + bytes([15]) + "試験　花子".encode()
    assert values["1.2.392.200149.8.5.5.4"][2:] == b"419900510"  # era 4 (平成)
    assert values["1.2.392.200149.8.5.5.3"][2:] == b"2"
    localities = cert.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)
    assert [a.value for a in localities] == ["東京都", "千代田区"]
    assert authority.issuer_of(cert) is authority.signing


def test_no_signing_certificate_under_fifteen(authority: TestAuthority) -> None:
    facts = SigningFacts("試験　太郎", "東京都", dt.date(2012, 1, 1), "1", "東京都", "千代田区")
    with pytest.raises(IssuanceRefusedError):
        authority.issue_signing_certificate(card_key().public_key(), facts, now=NOW)


def test_a_generation_can_be_made_for_any_year() -> None:
    ca = create_ca(CaKind.SIGNING, 2031, card_key(1))
    assert ca.label == "signing-2031" and ca.key_id == key_identifier(card_key(1).public_key())
    assert ca.valid_at(dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    assert not ca.valid_at(dt.datetime(2030, 12, 31, 14, tzinfo=dt.UTC))


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


@pytest.mark.parametrize("code", ["131016", "131041", "131130", "011002", "141003", "471003"])
def test_municipality_codes_with_their_check_digit(code: str) -> None:
    assert municipality_code(code) == code
    assert check_digit(code[:5]) == code[5]


@pytest.mark.parametrize(
    "code", ["131017", "13101", "1310160", "abcdef", "１３１０１６", "000001", "481009", ""]
)
def test_bad_municipality_codes(code: str) -> None:
    with pytest.raises(InvalidMunicipalityError):
        municipality_code(code)


def test_revocation_reasons() -> None:
    assert RevocationReason.parse("lost_card").crl_reason is x509.ReasonFlags.key_compromise
    assert RevocationReason.parse("moved-out").crl_reason is x509.ReasonFlags.affiliation_changed
    assert RevocationReason.parse("deceased").crl_reason is x509.ReasonFlags.cessation_of_operation
    assert RevocationReason.parse("cACompromise") is RevocationReason.CA_COMPROMISE
    assert RevocationReason.parse("certificateHold") is RevocationReason.CERTIFICATE_HOLD
    for name in ("removeFromCRL", "remove_from_crl", "stolen", ""):
        with pytest.raises(InvalidReasonError):
            RevocationReason.parse(name)
