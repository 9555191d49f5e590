"""OCSP answers (RFC 6960) and CRLs of each CA generation, in-process.

The responder is the issuing generation itself (ResponderID by key hash); these tests check each
answer's signature with that generation's key, and that another generation's key does not do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.type import univ

from center.authority.ca import CaKind, CertificationAuthority, TestAuthority
from center.authority.crl import CRL_REFRESH
from center.authority.errors import (
    AuthorityStateError,
    CertificateStateError,
    MalformedOcspRequestError,
    UnknownGenerationError,
)
from center.authority.generation import create_ca
from center.authority.ocsp import OCSP_REFRESH, OCSP_VALIDITY, parse_request
from center.authority.service import AuthorityService
from center.previous_serials import MAX_PREVIOUS_SERIALS, PREVIOUS_SERIALS_OID
from devtools.authority import card_key
from support.fixtures_authority import NOW

IN_2020 = dt.datetime(2020, 6, 1, tzinfo=dt.UTC)
BIRTH = dt.date(1990, 5, 10)
DER = serialization.Encoding.DER


def _card(service: AuthorityService, now: dt.datetime = NOW) -> x509.Certificate:
    return service.issue_user_auth(card_key().public_key(), birth_date=BIRTH, municipality="131016", now=now)


def _request(
    cert: x509.Certificate,
    issuer: CertificationAuthority,
    algorithm: hashes.HashAlgorithm | None = None,
    nonce: bytes | None = None,
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(
        cert, issuer.certificate, algorithm or hashes.SHA256()
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(DER)


def _ask(service: AuthorityService, request: bytes) -> ocsp.OCSPResponse:
    return ocsp.load_der_ocsp_response(service.ocsp_response(request))


def _signed_by(response: ocsp.OCSPResponse, ca: CertificationAuthority) -> bool:
    algorithm = response.signature_hash_algorithm
    assert algorithm is not None
    try:
        ca.key.public_key().verify(
            response.signature, response.tbs_response_bytes, padding.PKCS1v15(), algorithm
        )
    except InvalidSignature:
        return False
    return True


def _der(tag: int, *parts: bytes) -> bytes:
    body = b"".join(parts)
    if len(body) < 0x80:
        return bytes((tag, len(body))) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


SHA1_OID = bytes.fromhex("06052b0e03021a")
SHA256_OID = bytes.fromhex("0609608648016503040201")
MD5_OID = bytes.fromhex("06082a864886f70d0205")


def _raw_request(*cert_ids: bytes) -> bytes:
    """OCSPRequest { TBSRequest { requestList SEQUENCE OF Request { CertID } } }, by hand."""
    return _der(0x30, _der(0x30, _der(0x30, *(_der(0x30, cid) for cid in cert_ids))))


def _cert_id(oid: bytes, name_hash: bytes, key_hash: bytes, serial: bytes) -> bytes:
    return _der(
        0x30, _der(0x30, oid, b"\x05\x00"), _der(0x04, name_hash), _der(0x04, key_hash), _der(0x02, serial)
    )


def test_good_answer_with_nonce_signed_by_the_issuing_generation(
    service: AuthorityService, cas: TestAuthority
) -> None:
    cert = _card(service)
    issuer = cas.issuer_of(cert)
    response = _ask(service, _request(cert, issuer, nonce=b"n" * 32))
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == cert.serial_number
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 32
    assert response.responder_key_hash == issuer.key_id and response.responder_name is None
    assert response.this_update_utc == NOW and response.next_update_utc == NOW + OCSP_VALIDITY
    assert response.certificates == []
    assert _signed_by(response, issuer)
    assert not _signed_by(response, cas.generation(CaKind.USER_AUTH, 2019))
    without_nonce = _ask(service, _request(cert, issuer))
    with pytest.raises(x509.ExtensionNotFound):
        without_nonce.extensions.get_extension_for_class(x509.OCSPNonce)


@pytest.mark.parametrize(
    "algorithm", [hashes.SHA1(), hashes.SHA224(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()]
)
def test_every_certid_hash_is_understood(
    service: AuthorityService, cas: TestAuthority, algorithm: hashes.HashAlgorithm
) -> None:
    cert = _card(service)
    response = _ask(service, _request(cert, cas.user_auth, algorithm))
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.hash_algorithm.name == algorithm.name


def test_an_older_generation_answers_for_its_own_certificates(
    service: AuthorityService, cas: TestAuthority
) -> None:
    old = cas.generation(CaKind.USER_AUTH, 2019)
    cert = _card(service, now=IN_2020)
    assert cas.issuer_of(cert) is old and service.record(cert.serial_number).generation == 2019
    response = _ask(service, _request(cert, old))
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.responder_key_hash == old.key_id and _signed_by(response, old)
    # the same serial under the newest generation's CertID: that generation never issued it
    wrong = _ask(service, _request(cert, cas.user_auth))
    assert wrong.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert _signed_by(wrong, cas.user_auth)


@pytest.mark.parametrize(
    ("reason", "flag"),
    [
        ("lost_card", x509.ReasonFlags.key_compromise),
        ("moved_out", x509.ReasonFlags.affiliation_changed),
        ("deceased", x509.ReasonFlags.cessation_of_operation),
        ("certificate_hold", x509.ReasonFlags.certificate_hold),
        ("unspecified", None),
    ],
)
def test_revoked_with_reason_and_time(
    service: AuthorityService, cas: TestAuthority, reason: str, flag: x509.ReasonFlags | None
) -> None:
    cert = _card(service)
    revoked_at = dt.datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=dt.UTC)
    service.revoke(cert.serial_number, reason, now=revoked_at)
    response = _ask(service, _request(cert, cas.user_auth, nonce=b"abc"))
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == revoked_at.replace(microsecond=0)
    assert response.revocation_reason == flag
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"abc"


def test_unknown_serial(service: AuthorityService, cas: TestAuthority) -> None:
    issuer = cas.user_auth
    for serial in (2**31 + 11, 2**70):
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(_name_hash(issuer), issuer.key_id, serial, hashes.SHA1())
            .build()
            .public_bytes(DER)
        )
        response = _ask(service, request)
        assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
        assert response.serial_number == serial and _signed_by(response, issuer)


def test_a_ca_of_the_same_name_but_another_key_is_not_ours(service: AuthorityService) -> None:
    impostor = create_ca(CaKind.USER_AUTH, 2023, card_key(3))
    assert impostor.name == service.authority.user_auth.name
    cert = _card(service)
    response = _ask(service, _request(cert, impostor))
    assert response.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def _name_hash(ca: CertificationAuthority, algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    digest = hashes.Hash(algorithm or hashes.SHA1())
    digest.update(ca.name.public_bytes())
    return digest.finalize()


def test_the_hand_made_request_matches_the_library(cas: TestAuthority) -> None:
    issuer = cas.user_auth
    made = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(_name_hash(issuer), issuer.key_id, 0x1234, hashes.SHA1())
        .build()
        .public_bytes(DER)
    )
    assert made == _raw_request(_cert_id(SHA1_OID, _name_hash(issuer), issuer.key_id, b"\x12\x34"))


def _malformed(cas: TestAuthority) -> dict[str, bytes]:
    issuer = cas.user_auth
    one = _cert_id(SHA1_OID, _name_hash(issuer), issuer.key_id, b"\x01")

    def with_extension(extension: x509.ExtensionType, critical: bool = False) -> bytes:
        return (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(_name_hash(issuer), issuer.key_id, 1, hashes.SHA1())
            .add_extension(extension, critical)
            .build()
            .public_bytes(DER)
        )

    return {
        "empty": b"",
        "garbage": b"GET / HTTP/1.1\r\n",
        "truncated": _raw_request(one)[:-3],
        "trailing bytes": _raw_request(one) + b"\x00",
        "no request": _raw_request(),
        "two requests": _raw_request(one, one),
        "md5 certid": _raw_request(_cert_id(MD5_OID, b"\x00" * 16, b"\x00" * 16, b"\x01")),
        "sha256 oid, sha1 sizes": _raw_request(
            _cert_id(SHA256_OID, _name_hash(issuer), issuer.key_id, b"\x01")
        ),
        "nonce too long": with_extension(x509.OCSPNonce(b"x" * 129)),
        "empty nonce": with_extension(x509.OCSPNonce(b"")),
        "a certificate, not a request": issuer.der,
        "negative serial": _raw_request(_cert_id(SHA1_OID, _name_hash(issuer), issuer.key_id, b"\xff")),
        "zero serial": _raw_request(_cert_id(SHA1_OID, _name_hash(issuer), issuer.key_id, b"\x00")),
        "serial of 21 bytes": _raw_request(
            _cert_id(SHA1_OID, _name_hash(issuer), issuer.key_id, b"\x01" * 21)
        ),
    }


def test_malformed_requests_get_malformed_request(service: AuthorityService, cas: TestAuthority) -> None:
    for label, request in _malformed(cas).items():
        response = _ask(service, request)
        assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST, label
        with pytest.raises(MalformedOcspRequestError) as caught:
            parse_request(request)
        assert caught.value.code == "malformed_request"


def test_a_long_nonce_within_the_limit_is_echoed(service: AuthorityService) -> None:
    cert = _card(service)
    response = _ask(service, _request(cert, service.authority.user_auth, nonce=b"z" * 128))
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"z" * 128


# -- CRLs ------------------------------------------------------------------------------------


def _listed(crl: x509.CertificateRevocationList) -> dict[int, x509.RevokedCertificate]:
    return {entry.serial_number: entry for entry in crl}


def test_crl_of_each_generation(service: AuthorityService, cas: TestAuthority) -> None:
    for ca in cas.cas:
        crl = service.crl(ca.kind, ca.generation)
        assert crl.issuer == ca.name
        assert crl.is_signature_valid(ca.key.public_key())
        others = [other for other in cas.cas if other is not ca]
        assert not any(crl.is_signature_valid(other.key.public_key()) for other in others)
        aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == ca.key_id
        point = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
        assert point.critical and point.value.only_contains_user_certs
        name = point.value.full_name[0]  # type: ignore[index]
        assert isinstance(name, x509.DirectoryName) and name.value == ca.crl_point
        assert name.value.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (f"CRL{ca.generation}")
        assert crl.last_update_utc == NOW
        assert crl.next_update_utc == NOW + dt.timedelta(hours=24)


def test_crl_lists_revocations_with_reasons(service: AuthorityService, cas: TestAuthority) -> None:
    lost, dead, vague, good = (_card(service) for _ in range(4))
    old_generation = _card(service, now=IN_2020)
    for cert, reason in ((lost, "lost_card"), (dead, "deceased"), (vague, "unspecified")):
        service.revoke(cert.serial_number, reason, now=NOW - dt.timedelta(minutes=5))
    service.revoke(old_generation.serial_number, "moved_out", now=IN_2020 + dt.timedelta(days=1))
    crl = service.crl("user-auth", 2023)
    listed = _listed(crl)
    assert {lost.serial_number, dead.serial_number, vague.serial_number} <= listed.keys()
    assert good.serial_number not in listed and old_generation.serial_number not in listed
    entry = listed[lost.serial_number]
    assert entry.revocation_date_utc == NOW - dt.timedelta(minutes=5)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )
    assert (
        listed[dead.serial_number].extensions.get_extension_for_class(x509.CRLReason).value.reason
        is x509.ReasonFlags.cessation_of_operation
    )
    with pytest.raises(x509.ExtensionNotFound):
        listed[vague.serial_number].extensions.get_extension_for_class(x509.CRLReason)
    in_2020 = service.crl("user-auth", 2019, now=IN_2020 + dt.timedelta(days=2))
    assert old_generation.serial_number in _listed(in_2020)
    # that certificate expired in 2025 (5th birthday): today's 2019 CRL no longer lists it
    assert old_generation.serial_number not in _listed(service.crl("user-auth", 2019))


def test_crl_numbers_grow_with_each_change(service: AuthorityService) -> None:
    def number(crl: x509.CertificateRevocationList) -> int:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number

    first = service.crl("user-auth", 2023)
    again = service.crl("user-auth", 2023, now=NOW + dt.timedelta(minutes=30))
    assert again.public_bytes(DER) == first.public_bytes(DER)  # unchanged: the same CRL
    cert = _card(service)
    service.revoke(cert.serial_number, "certificate_hold")
    held = service.crl("user-auth", 2023, now=NOW + dt.timedelta(minutes=31))
    assert number(held) == number(first) + 1 and cert.serial_number in _listed(held)
    service.release_hold(cert.serial_number)
    released = service.crl("user-auth", 2023, now=NOW + dt.timedelta(minutes=32))
    assert number(released) == number(held) + 1 and cert.serial_number not in _listed(released)
    refreshed = service.crl("user-auth", 2023, now=NOW + dt.timedelta(minutes=32) + CRL_REFRESH)
    assert number(refreshed) == number(released) + 1


def test_expired_certificates_leave_the_crl(service: AuthorityService) -> None:
    cert = _card(service)
    service.revoke(cert.serial_number, "lost_card")
    assert cert.serial_number in _listed(service.crl("user-auth", 2023))
    after = cert.not_valid_after_utc + dt.timedelta(seconds=1)
    assert cert.serial_number not in _listed(service.crl("user-auth", 2023, now=after))


def test_crl_of_an_unknown_generation(service: AuthorityService) -> None:
    for kind, generation in (("user-auth", 2016), ("nonsense", 2023), ("signing", 2031)):
        with pytest.raises(UnknownGenerationError) as caught:
            service.crl(kind, generation)
        assert caught.value.http_status == 404 and caught.value.code == "unknown_generation"


def test_a_database_outage_answers_try_later(
    service: AuthorityService, cas: TestAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = _card(service)

    def away(serial: int) -> None:
        raise AuthorityStateError("authority database error: OperationalError")

    monkeypatch.setattr(service.store, "get", away)
    response = _ask(service, _request(cert, cas.user_auth))
    assert response.response_status is ocsp.OCSPResponseStatus.TRY_LATER


# -- pre-produced answers (RFC 5019) ---------------------------------------------------------


def _kept(service: AuthorityService, cert: x509.Certificate) -> bytes | None:
    record = service.store.get(cert.serial_number)
    assert record is not None
    return record.answer.der if record.answer else None


def test_the_answer_signed_at_issuance_is_what_rfc5019_clients_get(
    service: AuthorityService, cas: TestAuthority
) -> None:
    cert = _card(service)
    kept = _kept(service, cert)
    assert kept is not None
    answer = service.ocsp_response(_request(cert, cas.user_auth, hashes.SHA1()))
    assert answer == kept
    response = ocsp.load_der_ocsp_response(answer)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == cert.serial_number and response.this_update_utc == NOW
    assert _signed_by(response, cas.user_auth)


def test_the_kept_answer_goes_only_to_a_question_naming_its_generation(
    service: AuthorityService, cas: TestAuthority
) -> None:
    """A question of the kept form (SHA-1, no nonce) naming another generation is answered by the
    generation it names (``unknown``: it never issued the serial), never with the kept answer of
    the generation that did."""
    cert = _card(service)
    kept = _kept(service, cert)
    other = cas.generation(CaKind.USER_AUTH, 2019)
    answer = service.ocsp_response(_request(cert, other, hashes.SHA1()))
    assert answer != kept
    response = ocsp.load_der_ocsp_response(answer)
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert _signed_by(response, other) and not _signed_by(response, cas.user_auth)
    assert _kept(service, cert) == kept
    assert service.ocsp_response(_request(cert, cas.user_auth, hashes.SHA1())) == kept


def test_a_request_with_a_nonce_or_another_hash_is_signed_anew_and_keeps_the_kept_answer(
    service: AuthorityService, cas: TestAuthority
) -> None:
    cert = _card(service)
    kept = _kept(service, cert)
    later = NOW + dt.timedelta(seconds=30)
    with_nonce = service.ocsp_response(_request(cert, cas.user_auth, hashes.SHA1(), nonce=b"n1"), now=later)
    sha256 = service.ocsp_response(_request(cert, cas.user_auth, hashes.SHA256()), now=later)
    for fresh in (with_nonce, sha256):
        assert fresh != kept
        assert ocsp.load_der_ocsp_response(fresh).this_update_utc == later
    assert (
        ocsp.load_der_ocsp_response(with_nonce).extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        == b"n1"
    )
    assert _kept(service, cert) == kept


def test_an_old_kept_answer_is_signed_again_and_kept(service: AuthorityService, cas: TestAuthority) -> None:
    cert = _card(service)
    first = _kept(service, cert)
    request = _request(cert, cas.user_auth, hashes.SHA1())
    assert service.ocsp_response(request, now=NOW + OCSP_REFRESH - dt.timedelta(seconds=1)) == first
    later = NOW + OCSP_REFRESH
    renewed = service.ocsp_response(request, now=later)
    assert renewed != first and ocsp.load_der_ocsp_response(renewed).this_update_utc == later
    assert _kept(service, cert) == renewed
    # an answer from the future (a clock set back) is not sent either
    earlier = NOW - dt.timedelta(minutes=1)
    assert ocsp.load_der_ocsp_response(service.ocsp_response(request, now=earlier)).this_update_utc == earlier


@pytest.mark.parametrize("change", ["revoke", "hold and release", "renew"])
def test_every_change_of_status_replaces_the_kept_answer(
    service: AuthorityService, cas: TestAuthority, change: str
) -> None:
    cert = _card(service)
    request = _request(cert, cas.user_auth, hashes.SHA1())
    good = service.ocsp_response(request)
    assert _kept(service, cert) == good
    expected = ocsp.OCSPCertStatus.REVOKED
    if change == "revoke":
        service.revoke(cert.serial_number, "lost_card")
    elif change == "renew":
        service.renew(cert.serial_number, card_key(1).public_key(), birth_date=BIRTH)
    else:
        service.revoke(cert.serial_number, "certificate_hold")
        held = ocsp.load_der_ocsp_response(service.ocsp_response(request))
        assert held.certificate_status is ocsp.OCSPCertStatus.REVOKED
        service.release_hold(cert.serial_number)
        expected = ocsp.OCSPCertStatus.GOOD
    assert _kept(service, cert) is None  # cleared by the change itself
    answer = service.ocsp_response(request)
    assert ocsp.load_der_ocsp_response(answer).certificate_status is expected
    assert _kept(service, cert) == answer  # kept again (a good one identical: same clock, same key)


def test_an_answer_about_a_status_that_no_longer_holds_is_not_kept(
    service: AuthorityService, cas: TestAuthority
) -> None:
    """The race: an answer signed from a record read before a revocation, stored after it."""
    cert = _card(service)
    before = service.store.get(cert.serial_number)
    assert before is not None and before.answer is not None
    service.revoke(cert.serial_number, "lost_card")
    assert not service.store.keep_answer(before, before.answer)
    assert _kept(service, cert) is None
    revoked = service.ocsp_response(_request(cert, cas.user_auth, hashes.SHA1()))
    assert ocsp.load_der_ocsp_response(revoked).certificate_status is ocsp.OCSPCertStatus.REVOKED


def test_an_answer_that_cannot_be_kept_is_sent_all_the_same(
    service: AuthorityService, cas: TestAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = _card(service)
    kept = _kept(service, cert)

    def away(*_args: object) -> bool:
        raise AuthorityStateError("authority database error: OperationalError")

    monkeypatch.setattr(service.store, "keep_answer", away)
    later = NOW + OCSP_REFRESH
    answer = ocsp.load_der_ocsp_response(
        service.ocsp_response(_request(cert, cas.user_auth, hashes.SHA1()), now=later)
    )
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD and answer.this_update_utc == later
    assert _kept(service, cert) == kept


# -- the serials a renewed certificate replaced (koufuPreviousSerials) ----------------------------


def _previous_serials(response: ocsp.OCSPResponse) -> tuple[int, ...] | None:
    """The extension's serials, read with pyasn1 apart from the readers' code; None if absent."""
    try:
        found = response.extensions.get_extension_for_oid(PREVIOUS_SERIALS_OID)
    except x509.ExtensionNotFound:
        return None
    assert not found.critical and isinstance(found.value, x509.UnrecognizedExtension)
    assert len(response.single_extensions) == 0
    value, rest = der_decoder.decode(
        found.value.value, asn1Spec=univ.SequenceOf(componentType=univ.Integer())
    )
    assert rest == b""
    return tuple(int(serial) for serial in value)


def _renewed(service: AuthorityService, cert: x509.Certificate, key: int = 1) -> x509.Certificate:
    return service.renew(cert.serial_number, card_key(key % 4).public_key(), birth_date=BIRTH)


def test_a_renewed_certificate_s_answers_name_the_serials_it_renewed_newest_first(
    service: AuthorityService, cas: TestAuthority
) -> None:
    first = _card(service)
    second = _renewed(service, first)
    third = _renewed(service, second, 2)
    assert service.record(third.serial_number).previous_serials == (second.serial_number, first.serial_number)
    kept = _kept(service, third)
    assert kept is not None
    rfc5019 = service.ocsp_response(_request(third, cas.user_auth, hashes.SHA1()))
    assert rfc5019 == kept  # the pre-produced answer, signed at renewal, already carries it
    later = NOW + dt.timedelta(seconds=30)
    with_nonce = service.ocsp_response(_request(third, cas.user_auth, nonce=b"n1"), now=later)
    refreshed = service.ocsp_response(_request(third, cas.user_auth, hashes.SHA1()), now=NOW + OCSP_REFRESH)
    for der in (rfc5019, with_nonce, refreshed):
        response = ocsp.load_der_ocsp_response(der)
        assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
        assert _previous_serials(response) == (second.serial_number, first.serial_number)
        assert _signed_by(response, cas.user_auth)
    nonce = ocsp.load_der_ocsp_response(with_nonce).extensions.get_extension_for_class(x509.OCSPNonce)
    assert nonce.value.nonce == b"n1"
    # the renewed ones, revoked as superseded, state their own (shorter) chains
    for cert, chain in ((second, (first.serial_number,)), (first, None)):
        response = _ask(service, _request(cert, cas.user_auth, hashes.SHA1()))
        assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert response.revocation_reason is x509.ReasonFlags.superseded
        assert _previous_serials(response) == chain


def test_a_certificate_that_renewed_nothing_gets_no_extension(
    service: AuthorityService, cas: TestAuthority
) -> None:
    cert = _card(service)
    assert service.record(cert.serial_number).previous_serials == ()
    for request in (
        _request(cert, cas.user_auth, hashes.SHA1()),
        _request(cert, cas.user_auth, nonce=b"n" * 16),
    ):
        response = _ask(service, request)
        assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
        assert _previous_serials(response) is None


def test_revocation_keeps_the_chain_and_unknown_answers_carry_none(
    service: AuthorityService, cas: TestAuthority
) -> None:
    first = _card(service)
    second = _renewed(service, first)
    request = _request(second, cas.user_auth, hashes.SHA1())
    service.revoke(second.serial_number, "lost_card")
    assert _kept(service, second) is None
    revoked = service.ocsp_response(request)
    response = ocsp.load_der_ocsp_response(revoked)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert _previous_serials(response) == (first.serial_number,)
    assert _kept(service, second) == revoked
    # 再発行 after the lost card: the new one names both, the lost one first
    third = _renewed(service, second, 2)
    assert _previous_serials(_ask(service, _request(third, cas.user_auth))) == (
        second.serial_number,
        first.serial_number,
    )
    # asked of a generation that never issued it: unknown, and nothing said about it
    older = cas.generation(CaKind.USER_AUTH, 2019)
    unknown = _ask(service, _request(third, older))
    assert unknown.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert _previous_serials(unknown) is None


def test_the_chain_keeps_the_16_newest_serials(service: AuthorityService, cas: TestAuthority) -> None:
    certificates = [_card(service)]
    for number in range(MAX_PREVIOUS_SERIALS + 1):
        certificates.append(_renewed(service, certificates[-1], number + 1))
    newest_first = tuple(cert.serial_number for cert in reversed(certificates[:-1]))
    last = certificates[-1]
    assert len(newest_first) == MAX_PREVIOUS_SERIALS + 1
    assert service.record(last.serial_number).previous_serials == newest_first[:MAX_PREVIOUS_SERIALS]
    answer = _ask(service, _request(last, cas.user_auth, hashes.SHA1()))
    assert _previous_serials(answer) == newest_first[:MAX_PREVIOUS_SERIALS]  # the first one left out
    before_last = _ask(service, _request(certificates[-2], cas.user_auth, hashes.SHA1()))
    assert _previous_serials(before_last) == newest_first[1:]  # exactly 16: all of them


def test_a_renewal_whose_chain_does_not_follow_its_predecessor_s_is_refused(
    service: AuthorityService,
) -> None:
    first = _card(service)
    old = service.record(first.serial_number)
    new = dataclasses.replace(old, serial=old.serial + 1, previous_serial=old.serial, previous_serials=(7,))
    with pytest.raises(CertificateStateError):
        service.store.add_renewal(new, NOW)
    assert service.store.get(new.serial) is None and not service.record(first.serial_number).revoked
