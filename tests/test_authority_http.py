"""The authority's HTTP server: a real ``koufu authority serve`` process, TLS on loopback, httpx.

The test process shares the authority directory and SQLite database with the server: it issues,
revokes and renews in-process and asks over HTTPS, as the center will.
"""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp

from center.authority.ca import CaKind, CertificationAuthority
from center.authority.service import AuthorityService
from center.config import write_tls_identity
from devtools.authority import card_key, open_test_authority
from support.authority_process import serving_authority

BIRTH = dt.date(1990, 5, 10)
DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM


@dataclass
class Server:
    url: str
    log: Path
    client: httpx.Client
    service: AuthorityService
    token: str

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def ocsp(self, request: bytes, token: str | None = None) -> httpx.Response:
        return self.client.post(
            "/ocsp", content=request, headers={**self.auth(token), "Content-Type": "application/ocsp-request"}
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("authority-http")
    directory = root / "authority"
    service = open_test_authority(directory)
    token = service.add_verifier("center")
    write_tls_identity(root, "tls", ["127.0.0.1"])
    cert_file, key_file = root / "tls.crt", root / "tls.key"
    log = root / "server.log"
    try:
        with serving_authority(directory, cert_file, key_file, log) as url:
            assert url.startswith("https://127.0.0.1:")
            context = ssl.create_default_context(cafile=str(cert_file))
            with httpx.Client(base_url=url, verify=context, timeout=30) as client:
                yield Server(url, log, client, service, token)
    finally:
        service.close()


def _card(server: Server) -> x509.Certificate:
    return server.service.issue_user_auth(card_key().public_key(), birth_date=BIRTH, municipality="131016")


def _request(cert: x509.Certificate, issuer: CertificationAuthority, nonce: bytes | None = None) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer.certificate, hashes.SHA256())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(DER)


def _answer(response: httpx.Response) -> ocsp.OCSPResponse:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.content)


def _assert_signed_by(response: ocsp.OCSPResponse, ca: CertificationAuthority) -> None:
    algorithm = response.signature_hash_algorithm
    assert algorithm is not None
    ca.key.public_key().verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(), algorithm)


def test_the_server_speaks_tls_only_with_a_trusted_certificate(server: Server) -> None:
    assert server.client.get("/healthz").json() == {"status": "ok"}
    with httpx.Client(base_url=server.url, timeout=30) as untrusting, pytest.raises(httpx.ConnectError):
        untrusting.get("/healthz")


def test_ocsp_round_trip_with_nonce(server: Server) -> None:
    cert = _card(server)
    issuer = server.service.authority.issuer_of(cert)
    answer = _answer(server.ocsp(_request(cert, issuer, nonce=b"kiosk-session-0001")))
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == cert.serial_number
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == (b"kiosk-session-0001")
    assert answer.responder_key_hash == issuer.key_id
    _assert_signed_by(answer, issuer)


def test_revocation_is_seen_at_once_with_reason_and_time(server: Server) -> None:
    cert = _card(server)
    record = server.service.revoke(cert.serial_number, "lost_card")
    answer = _answer(server.ocsp(_request(cert, server.service.authority.user_auth, b"n2")))
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason is x509.ReasonFlags.key_compromise
    assert record.revoked_at is not None
    assert answer.revocation_time_utc == record.revoked_at.replace(microsecond=0)
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n2"


def test_ocsp_by_get(server: Server) -> None:
    cert = _card(server)
    request = _request(cert, server.service.authority.user_auth)
    standard = urllib.parse.quote(base64.b64encode(request).decode(), safe="")
    url_safe = base64.urlsafe_b64encode(request).decode().rstrip("=")
    for encoded in (standard, url_safe):
        answer = _answer(server.client.get(f"/ocsp/{encoded}", headers=server.auth()))
        assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    for junk in ("not-base64!!", "AAAA", "%00"):
        answer = _answer(server.client.get(f"/ocsp/{junk}", headers=server.auth()))
        assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_unknown_serial_is_unknown(server: Server) -> None:
    issuer = server.service.authority.user_auth
    digest = hashes.Hash(hashes.SHA1())
    digest.update(issuer.name.public_bytes())
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(digest.finalize(), issuer.key_id, 2**31 + 3, hashes.SHA1())
        .build()
        .public_bytes(DER)
    )
    answer = _answer(server.ocsp(request))
    assert answer.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    _assert_signed_by(answer, issuer)


@pytest.mark.parametrize("body", [b"", b"\x30\x03\x02\x01\x01", b"\xff" * 200, b"hello"])
def test_malformed_request_is_an_ocsp_answer_never_a_5xx(server: Server, body: bytes) -> None:
    answer = _answer(server.ocsp(body))
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_unauthorised_verifiers_are_refused(server: Server) -> None:
    cert = _card(server)
    request = _request(cert, server.service.authority.user_auth)
    removed = server.service.add_verifier("leaving bank")
    server.service.remove_verifier("leaving bank")
    headers: list[dict[str, str]] = [
        {},
        {"Authorization": f"Basic {server.token}"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer kav_wrong"},
        server.auth(removed),
        {"Authorization": f"Bearer {server.token}x"},
    ]
    for header in headers:
        for response in (
            server.client.post(
                "/ocsp", content=request, headers={**header, "Content-Type": "application/ocsp-request"}
            ),
            server.client.get(f"/ocsp/{base64.urlsafe_b64encode(request).decode()}", headers=header),
            server.client.get(f"/v1/certificates/{cert.serial_number}", headers=header),
        ):
            assert response.status_code == 401, (header, response.text)
            assert response.json() == {"error": "unauthorized"}
            assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_media_type_and_oversize_bodies(server: Server) -> None:
    request = _request(_card(server), server.service.authority.user_auth)
    wrong = server.client.post(
        "/ocsp", content=request, headers={**server.auth(), "Content-Type": "application/json"}
    )
    assert wrong.status_code == 415 and wrong.json() == {"error": "unsupported_media_type"}
    big = server.ocsp(b"\x30" * 5000)
    assert big.status_code == 413 and big.json() == {"error": "request_too_large"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for _ in range(10):
            yield b"\x00" * 1000

    streamed = server.client.post(
        "/ocsp", content=chunks(), headers={**server.auth(), "Content-Type": "application/ocsp-request"}
    )
    assert streamed.status_code == 413 and streamed.json() == {"error": "request_too_large"}
    long_get = server.client.get("/ocsp/" + "A" * 6000, headers=server.auth())
    assert long_get.status_code == 413


def test_certificate_lookup_shape(server: Server) -> None:
    cert = _card(server)
    response = server.client.get(f"/v1/certificates/{cert.serial_number}", headers=server.auth())
    assert response.status_code == 200
    assert response.json() == {
        "serial": cert.serial_number,
        "municipality": "131016",
        "status": "good",
        "previous_serial": None,
    }
    renewed = server.service.renew(
        cert.serial_number, card_key(1).public_key(), birth_date=BIRTH, municipality="141003"
    )
    new = server.client.get(f"/v1/certificates/{renewed.serial_number}", headers=server.auth()).json()
    assert new == {
        "serial": renewed.serial_number,
        "municipality": "141003",
        "status": "good",
        "previous_serial": cert.serial_number,
    }
    old = server.client.get(f"/v1/certificates/{cert.serial_number}", headers=server.auth())
    assert old.json()["status"] == "revoked"


def test_certificate_lookup_errors(server: Server) -> None:
    unknown = server.client.get(f"/v1/certificates/{2**31 + 5}", headers=server.auth())
    assert unknown.status_code == 404 and unknown.json() == {"error": "unknown_certificate"}
    for bad in ("abc", "0", "-5", "1e3", str(2**63), "９"):
        response = server.client.get(f"/v1/certificates/{bad}", headers=server.auth())
        assert response.status_code == 400, bad
        assert response.json() == {"error": "invalid_serial"}


def test_crl_is_public_and_current(server: Server) -> None:
    # the server runs at the real clock: its generations are the ones of today, whatever the year
    authority = server.service.authority
    newest, oldest = authority.user_auth, authority.generations(CaKind.SIGNING)[0]
    cert = _card(server)
    assert authority.issuer_of(cert) == newest
    server.service.revoke(cert.serial_number, "moved_out")
    response = server.client.get(f"/crl/user-auth/{newest.generation}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.is_signature_valid(newest.key.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.affiliation_changed
    )
    signing = x509.load_der_x509_crl(server.client.get(f"/crl/signing/{oldest.generation}").content)
    assert signing.is_signature_valid(oldest.key.public_key())
    for path in (
        f"/crl/user-auth/{newest.generation + 1}",
        f"/crl/nonsense/{newest.generation}",
        "/crl/user-auth/abcd",
        "/ca/signing/1999",
    ):
        missing = server.client.get(path)
        assert missing.status_code == 404 and missing.json() == {"error": "unknown_generation"}


def test_ca_certificates_and_list(server: Server) -> None:
    listing = server.client.get("/v1/cas").json()
    authority = server.service.authority
    assert [(item["kind"], item["generation"], item["key_id"]) for item in listing] == [
        (ca.kind.value, ca.generation, ca.key_id.hex()) for ca in authority.cas
    ]
    older = authority.generations(CaKind.USER_AUTH)[-2]
    response = server.client.get(f"/ca/user-auth/{older.generation}")
    assert response.headers["content-type"] == "application/pkix-cert"
    assert response.content == older.der


def test_unknown_routes_and_methods_have_json_errors(server: Server) -> None:
    missing = server.client.get("/nothing-here")
    assert missing.status_code == 404 and missing.json() == {"error": "not_found"}
    wrong = server.client.get("/ocsp", headers=server.auth())
    assert wrong.status_code == 405 and wrong.json() == {"error": "method_not_allowed"}


def test_logs_name_verifiers_never_tokens(server: Server) -> None:
    cert = _card(server)
    request = _request(cert, server.service.authority.user_auth)
    assert server.ocsp(request).status_code == 200
    assert server.ocsp(request, token=server.token[:-2] + "zz").status_code == 401
    server.client.get(f"/v1/certificates/{cert.serial_number}", headers=server.auth())
    log = server.log.read_text(errors="replace")
    assert "verifier 'center'" in log
    assert server.token not in log and server.token[4:20] not in log
    assert "Traceback" not in log and '" 500' not in log


def test_rfc5019_questions_get_the_kept_answer_until_the_status_changes(server: Server) -> None:
    """The server's own path (on the event loop, through the driver): the answer signed at
    issuance, byte for byte; after a revocation, at once the revoked status, then kept."""
    cert = _card(server)
    issuer = server.service.authority.issuer_of(cert)
    question = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuer.certificate, hashes.SHA1())
        .build()
        .public_bytes(DER)
    )
    signed_at_issuance = server.service.store.get(cert.serial_number)
    assert signed_at_issuance is not None and signed_at_issuance.answer is not None
    first = server.ocsp(question)
    assert first.status_code == 200 and first.content == signed_at_issuance.answer.der
    server.service.revoke(cert.serial_number, "lost_card")
    revoked = server.ocsp(question)
    assert ocsp.load_der_ocsp_response(revoked.content).certificate_status is ocsp.OCSPCertStatus.REVOKED
    kept = server.service.store.get(cert.serial_number)
    assert kept is not None and kept.answer is not None and kept.answer.der == revoked.content
    assert server.ocsp(question).content == revoked.content
