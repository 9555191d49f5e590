"""The pieces of the domicile municipality's checks that need no server: the applicant's 基本4情報
read from a signing certificate (each malformed statement refused, typed), and the OCSP question
by serial that ``check-revocations`` asks (one SHA-1 CertID naming the anchor's name and key)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from center.authority.issuance import utf8_string
from center.authority.names import OID_ADDRESS, OID_BIRTH, OID_NAME, OID_SEX
from center.authority.service import AuthorityService
from center.jpki_verify import RevocationStatus, find_issuer
from center.municipal.application import ApplicationNotProven, applicant_of
from center.municipal.domicile_match import Applicant
from center.municipal.revocations import OcspBySerial, cert_id_request
from devtools.authority import card_key, open_test_authority

NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
GOOD = {OID_NAME: "山田　太郎", OID_SEX: "1", OID_BIRTH: "319600401", OID_ADDRESS: "大阪府大阪市北区"}


def certificate(names: list[x509.GeneralName] | None) -> x509.Certificate:
    """A certificate stating ``names`` in its subjectAltName (none: no subjectAltName)."""
    key = card_key(0)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
    )
    if names is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256())


def stating(facts: dict[x509.ObjectIdentifier, str]) -> x509.Certificate:
    return certificate([x509.OtherName(oid, utf8_string(value)) for oid, value in facts.items()])


def test_the_applicant_is_who_the_certificate_states() -> None:
    assert applicant_of(stating(GOOD)) == Applicant("山田", "太郎", dt.date(1960, 4, 1), "male")
    female = {**GOOD, OID_NAME: "Smith John", OID_SEX: "2", OID_BIRTH: "520200229"}
    assert applicant_of(stating(female)) == Applicant("Smith", "John", dt.date(2020, 2, 29), "female")


@pytest.mark.parametrize(
    "facts",
    [
        {key: value for key, value in GOOD.items() if key != OID_NAME},
        {key: value for key, value in GOOD.items() if key != OID_BIRTH},
        {key: value for key, value in GOOD.items() if key != OID_SEX},
        {**GOOD, OID_SEX: "3"},
        {**GOOD, OID_NAME: "山田太郎"},  # no space between 氏 and 名
        {**GOOD, OID_NAME: "　太郎"},
        {**GOOD, OID_BIRTH: "19600401"},  # no era digit
        {**GOOD, OID_BIRTH: "419600401"},  # 平成 for a date of 昭和
        {**GOOD, OID_BIRTH: "319600231"},  # no such day
        {**GOOD, OID_BIRTH: "３19600401"},  # not ASCII
        {**GOOD, OID_NAME: "山田　太\x00郎"},
    ],
)
def test_a_statement_that_is_not_the_four_facts_is_refused(facts: dict[x509.ObjectIdentifier, str]) -> None:
    with pytest.raises(ApplicationNotProven) as refused:
        applicant_of(stating(facts))
    assert (
        refused.value.reason == "signing_certificate_facts" and refused.value.code == "application_not_proven"
    )
    assert "山田" not in str(refused.value) and "1960" not in str(refused.value)


@pytest.mark.parametrize(
    "names",
    [
        None,  # no subjectAltName
        [x509.DNSName("example.jp")],
        [
            *(x509.OtherName(oid, utf8_string(value)) for oid, value in GOOD.items()),
            x509.OtherName(OID_SEX, utf8_string("2")),
        ],
        [
            x509.OtherName(OID_NAME, b"\x13\x05Smith"),
            *(x509.OtherName(o, utf8_string(v)) for o, v in GOOD.items() if o != OID_NAME),
        ],  # PrintableString
    ],
)
def test_a_subject_alt_name_without_the_facts_in_der_utf8_is_refused(
    names: list[x509.GeneralName] | None,
) -> None:
    with pytest.raises(ApplicationNotProven) as refused:
        applicant_of(certificate(names))
    assert refused.value.reason == "signing_certificate_facts"


class InProcess(OcspBySerial):
    """The client asking the authority in-process: its answers as its server would send them."""

    authority: AuthorityService

    def _ask(self, request: bytes) -> bytes:
        return self.authority.ocsp_response(request, now=NOW)


def test_the_question_by_serial_and_its_answer_from_any_generation(tmp_path: Path) -> None:
    """The question is the one a certificate makes (SHA-1 CertID of the issuing generation); the
    status is found whichever generation issued the serial (the newest asked first), good or
    revoked; a serial no generation issued is unknown."""
    authority = open_test_authority(tmp_path / "authority", now=NOW, clock=lambda: NOW)
    try:
        anchors = [
            x509.load_pem_x509_certificate(p.read_bytes())
            for p in sorted((tmp_path / "authority" / "ca").glob("user-auth-*.crt"))
        ]
        birth = dt.date(1980, 12, 31)  # its certificates issued in 2021 still valid now
        newest = authority.issue_user_auth(card_key(0).public_key(), birth_date=birth, municipality="131016")
        older = authority.issue_user_auth(  # issued when the previous generation was current
            card_key(0).public_key(),
            birth_date=birth,
            municipality="131016",
            now=NOW - dt.timedelta(days=5 * 365),
        )
        revoked = authority.issue_user_auth(
            card_key(0).public_key(),
            birth_date=birth,
            municipality="131016",
            now=NOW - dt.timedelta(days=5 * 365),
        )
        authority.revoke(revoked.serial_number, "lost_card")
        issuers = {card.serial_number: find_issuer(card, anchors) for card in (newest, older, revoked)}
        assert issuers[older.serial_number] != issuers[newest.serial_number]
        for card in (newest, older):
            by_serial = cert_id_request(card.serial_number, issuers[card.serial_number])
            by_certificate = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(card, issuers[card.serial_number], hashes.SHA1())
                .build()
            )
            assert by_serial == by_certificate.public_bytes(serialization.Encoding.DER)
            # asked now as a card's proof asks: the authority keeps this answer and gives it to the
            # next SHA-1 question about the serial, whichever generation that question names
            authority.ocsp_response(by_serial, now=NOW)
        client = InProcess("https://authority.invalid/ocsp", "token", anchors, clock=lambda: NOW)
        client.authority = authority
        try:
            assert client.status(newest.serial_number) is RevocationStatus.GOOD
            assert client.status(older.serial_number) is RevocationStatus.GOOD
            assert client.status(revoked.serial_number) is RevocationStatus.REVOKED
            assert client.status(2**100 + 1) is RevocationStatus.UNKNOWN
        finally:
            client.close()
    finally:
        authority.close()
