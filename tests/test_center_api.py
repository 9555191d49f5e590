"""The center end to end: real authority and center server processes over TLS, on SQLite and on
PostgreSQL, terminals enrolled through the CLI, emulated cards signing real challenges."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from center.client import CenterClient, CenterRefusal
from center.enrolment import EnrolledTerminal
from center.messages import ResidentResponse
from center.protocol import resident_binding, sign_request
from center.tls import trust
from devtools.stack import DevStack
from documents import b64url_encode
from hardware.card.holder import HolderAuthentication
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from koufu.cards import issue_card
from support.backend_stack import backend_stack
from support.center_audit import alarms_audited

SESSION_LIFETIME = 10


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with backend_stack(request, tmp_path_factory, "stack", session_lifetime=SESSION_LIFETIME) as stack:
        yield stack  # always open: the tests must not depend on the time of day


@pytest.fixture(scope="module")
def terminal(stack: DevStack) -> EnrolledTerminal:
    return stack.enroll("T-0001")


@pytest.fixture(scope="module")
def client(stack: DevStack, terminal: EnrolledTerminal) -> Iterator[CenterClient]:
    client = stack.client(terminal)
    stack.wait_until_open(client)
    yield client
    client.close()


@pytest.fixture(scope="module")
def card_path(stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("card") / "card.json"
    issue_card(
        path,
        authority_dir=stack.authority_dir,
        authority_db=stack.authority_db,
        holder=Holder(municipality="131041"),
    )
    return path


def card_proof(card_path: Path, session_id: str, terminal_id: str, challenge: bytes) -> tuple[bytes, bytes]:
    """What the kiosk does with the resident's card: PIN, then sign the session binding."""
    reader = InProcessReader()
    reader.insert(VirtualCard.open(card_path))
    auth = HolderAuthentication(reader.connect())
    auth.read()
    proof = auth.prove(
        PinBuffer.of(USER_AUTH_PIN, "1234"), resident_binding(session_id, terminal_id, challenge)
    )
    auth.finish()
    return proof.certificate.der, proof.signature


def refused(call: object) -> CenterRefusal:
    assert callable(call)
    with pytest.raises(CenterRefusal) as info:
        call()
    return info.value


def test_resident_is_authenticated_and_the_challenge_is_single_use(
    client: CenterClient, terminal: EnrolledTerminal, card_path: Path
) -> None:
    session = client.open_session()
    assert len(session.challenge) == 32
    certificate, signature = card_proof(
        card_path, session.session_id, terminal.terminal_id, session.challenge
    )
    accepted = client.authenticate_resident(session.session_id, certificate, signature)
    assert accepted.municipality == "131041"
    assert accepted.certificate_types["resident_record"].open is True
    again = refused(lambda: client.authenticate_resident(session.session_id, certificate, signature))
    assert (again.status, again.code) == (409, "challenge_used")


def test_proof_for_another_session_is_refused(
    client: CenterClient, terminal: EnrolledTerminal, card_path: Path
) -> None:
    first, second = client.open_session(), client.open_session()
    certificate, signature = card_proof(card_path, first.session_id, terminal.terminal_id, first.challenge)
    error = refused(lambda: client.authenticate_resident(second.session_id, certificate, signature))
    assert (error.status, error.code) == (422, "bad_signature")
    # a refused proof consumes nothing: the right one still works
    assert client.authenticate_resident(first.session_id, certificate, signature).municipality


def test_another_terminal_cannot_use_the_session(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal, card_path: Path
) -> None:
    other = stack.client(stack.enroll("T-0002"))
    session = client.open_session()
    certificate, signature = card_proof(
        card_path, session.session_id, terminal.terminal_id, session.challenge
    )
    error = refused(lambda: other.authenticate_resident(session.session_id, certificate, signature))
    assert (error.status, error.code) == (404, "unknown_session")
    other.close()


def test_expired_challenge(client: CenterClient, terminal: EnrolledTerminal, card_path: Path) -> None:
    session = client.open_session()
    certificate, signature = card_proof(
        card_path, session.session_id, terminal.terminal_id, session.challenge
    )
    time.sleep(max(0.0, (session.expires_at - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
    error = refused(lambda: client.authenticate_resident(session.session_id, certificate, signature))
    assert (error.status, error.code) == (409, "challenge_expired")


def test_revoked_certificate_is_refused(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal, tmp_path: Path
) -> None:
    path = tmp_path / "lost.json"
    state = issue_card(path, authority_dir=stack.authority_dir, authority_db=stack.authority_db)
    from cryptography import x509

    serial = x509.load_der_x509_certificate(state.auth_cert).serial_number
    with stack.authority() as authority:
        authority.revoke(serial, "lost_card")
    session = client.open_session()
    certificate, signature = card_proof(path, session.session_id, terminal.terminal_id, session.challenge)
    error = refused(lambda: client.authenticate_resident(session.session_id, certificate, signature))
    assert (error.status, error.code) == (422, "certificate_revoked")


def test_certificate_from_another_authority_is_untrusted(
    client: CenterClient, terminal: EnrolledTerminal, tmp_path: Path
) -> None:
    path = tmp_path / "forged.json"
    issue_card(path, authority_dir=tmp_path / "rogue-authority")  # same names, other keys
    session = client.open_session()
    certificate, signature = card_proof(path, session.session_id, terminal.terminal_id, session.challenge)
    error = refused(lambda: client.authenticate_resident(session.session_id, certificate, signature))
    assert (error.status, error.code) == (422, "untrusted_certificate")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_body"),
        (b'{"certificate": 1}', 400, "invalid_body"),
        (b'{"certificate": "***", "signature": "AA"}', 400, "invalid_base64"),
        # unpadded base64url only (docs/protocol.md section 2): padding, the standard alphabet, stray bits
        (b'{"certificate": "AQI=", "signature": "AA"}', 400, "invalid_base64"),
        (b'{"certificate": "AQI", "signature": "AA=="}', 400, "invalid_base64"),
        (b'{"certificate": "+/8", "signature": "AA"}', 400, "invalid_base64"),
        (b'{"certificate": "AQI", "signature": "AB"}', 400, "invalid_base64"),
        (
            json.dumps({"certificate": b64url_encode(b"\x01\x02"), "signature": "AA"}).encode(),
            422,
            "certificate_not_der",
        ),
        (b'{"certificate": "-_8", "signature": "AA"}', 422, "certificate_not_der"),  # the URL-safe alphabet
        (b"x" * 70000, 413, "body_too_large"),
    ],
)
def test_malformed_bodies(client: CenterClient, body: bytes, status: int, code: str) -> None:
    session = client.open_session()
    response = client.request("POST", f"/v1/sessions/{session.session_id}/resident", raw=body)
    assert (response.status_code, response.json()["error"]) == (status, code)


def _chunked(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """A body sent without Content-Length (HTTP/1.1 chunked transfer coding)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _signed_chunked(client: CenterClient, path: str, body: bytes) -> httpx.Response:
    terminal = client.terminal
    headers = {
        "Content-Type": "application/json",
        **sign_request(terminal.key, terminal.terminal_id, "POST", path, body).as_dict(),
    }
    return client.http.post(path, content=_chunked(body), headers=headers)


def test_chunked_bodies_are_bounded_too(
    client: CenterClient, terminal: EnrolledTerminal, card_path: Path
) -> None:
    session = client.open_session()
    path = f"/v1/sessions/{session.session_id}/resident"
    oversize = _signed_chunked(client, path, b"x" * 70000)
    assert (oversize.status_code, oversize.json()["error"]) == (413, "body_too_large")
    certificate, signature = card_proof(
        card_path, session.session_id, terminal.terminal_id, session.challenge
    )
    proof = json.dumps(
        {
            "certificate": b64url_encode(certificate),
            "signature": b64url_encode(signature),
        }
    ).encode()
    accepted = _signed_chunked(client, path, proof)  # the refusal above used nothing up
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["session_id"] == session.session_id


def test_the_router_s_refusals_have_the_refusals_shape(stack: DevStack) -> None:
    """No such path, or not this method, the verification page's paths included (its own router):
    ``{"error", "message"}`` as every refusal, with ``Allow`` for a 405."""
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
        missing = http.get("/v1/nothing")
        assert (missing.status_code, missing.json()) == (404, {"error": "not_found", "message": "Not Found"})
        for method, path in (("PUT", "/v1/health"), ("PUT", "/verify"), ("DELETE", "/verify/keys.json")):
            wrong = http.request(method, path)
            assert wrong.status_code == 405, (method, path, wrong.text)
            assert wrong.json() == {"error": "method_not_allowed", "message": "Method Not Allowed"}
            assert "GET" in wrong.headers["allow"]


def test_openapi_names_the_request_signature(stack: DevStack) -> None:
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
        document = http.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert {scheme["name"] for scheme in schemes.values()} == {
        "Content-Digest",
        "Signature-Input",
        "Signature",
    }
    operations = document["paths"]
    for path, method in (("/v1/sessions", "post"), ("/v1/sessions/{session_id}/resident", "post")):
        assert operations[path][method]["security"] == [{name: [] for name in schemes}]
    assert "security" not in operations["/v1/health"]["get"]
    body = operations["/v1/sessions/{session_id}/resident"]["post"]["requestBody"]
    assert set(body["content"]["application/json"]["schema"]["required"]) == {"certificate", "signature"}


def test_wrong_signature_length(client: CenterClient, terminal: EnrolledTerminal, card_path: Path) -> None:
    session = client.open_session()
    certificate, signature = card_proof(
        card_path, session.session_id, terminal.terminal_id, session.challenge
    )
    error = refused(lambda: client.authenticate_resident(session.session_id, certificate, signature[:200]))
    assert (error.status, error.code) == (422, "bad_signature_length")


def test_terminal_requests_must_be_signed_fresh_and_unique(
    stack: DevStack, terminal: EnrolledTerminal
) -> None:
    http = httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls))
    assert http.post("/v1/sessions").json()["error"] == "unsigned_request"
    signed = sign_request(terminal.key, terminal.terminal_id, "POST", "/v1/sessions", b"").as_dict()
    assert http.post("/v1/sessions", headers=signed).status_code == 201
    replay = http.post("/v1/sessions", headers=signed)
    assert (replay.status_code, replay.json()["error"]) == (401, "replayed_request")
    stale = sign_request(
        terminal.key,
        terminal.terminal_id,
        "POST",
        "/v1/sessions",
        b"",
        now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
    ).as_dict()
    assert http.post("/v1/sessions", headers=stale).json()["error"] == "clock_skew"
    other_path = sign_request(terminal.key, terminal.terminal_id, "POST", "/v1/other", b"").as_dict()
    assert http.post("/v1/sessions", headers=other_path).json()["error"] == "bad_request_signature"
    http.close()


def test_suspended_and_revoked_terminals(stack: DevStack) -> None:
    from koufu.cli import main

    terminal = stack.enroll("T-0009")
    client = stack.client(terminal)
    assert main(["center", "terminal", "suspend", "T-0009", "--dir", str(stack.center_dir)]) == 0
    error = refused(client.open_session)
    assert (error.status, error.code) == (403, "terminal_suspended")
    assert main(["center", "terminal", "activate", "T-0009", "--dir", str(stack.center_dir)]) == 0
    client.open_session()
    assert main(["center", "terminal", "revoke", "T-0009", "--dir", str(stack.center_dir)]) == 0
    assert refused(client.open_session).code == "terminal_revoked"
    client.close()


def attempt(
    target: CenterClient, session_id: str, certificate: bytes, signature: bytes, outcomes: list[object]
) -> None:
    try:
        outcomes.append(target.authenticate_resident(session_id, certificate, signature))
    except CenterRefusal as refusal:
        outcomes.append(refusal.code)


def test_challenge_is_consumed_once_across_center_processes(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal, card_path: Path
) -> None:
    second_url = stack.start_center()
    second = stack.client(terminal, second_url)
    for _ in range(3):
        session = client.open_session()
        certificate, signature = card_proof(
            card_path, session.session_id, terminal.terminal_id, session.challenge
        )
        outcomes: list[object] = []
        threads = [
            threading.Thread(
                target=attempt, args=(target, session.session_id, certificate, signature, outcomes)
            )
            for target in (client, second)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [o for o in outcomes if isinstance(o, str)] == ["challenge_used"]
        assert sum(isinstance(o, ResidentResponse) for o in outcomes) == 1
    second.close()


def test_audit_log_is_intact_and_logs_hold_no_serials(
    stack: DevStack, card_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography import x509

    from koufu.cli import main

    assert main(["center", "audit-verify", "--dir", str(stack.center_dir)]) == 0
    assert "audit log intact" in capsys.readouterr().out
    state = json.loads(card_path.read_text())
    serial = str(x509.load_der_x509_certificate(base64.b64decode(state["auth_cert"])).serial_number)
    assert serial not in stack.center_log.read_text(errors="replace")


def test_authority_down_means_refusal_never_acceptance(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal, tmp_path: Path
) -> None:
    path = tmp_path / "fresh.json"  # a certificate the center has no cached status for
    issue_card(path, authority_dir=stack.authority_dir, authority_db=stack.authority_db)
    session = client.open_session()
    certificate, signature = card_proof(path, session.session_id, terminal.terminal_id, session.challenge)
    stack.stop_authority()
    error = refused(lambda: client.authenticate_resident(session.session_id, certificate, signature))
    assert error.status == 503
    assert error.code in ("authority_unavailable", "revocation_unavailable")


def test_a_terminal_reports_its_alarm_and_the_center_audits_it(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal
) -> None:
    client.report_alarm("door+tamper", "raised")
    client.report_alarm("door+tamper", "cleared")
    audited = alarms_audited(stack, terminal.terminal_id)
    assert audited == [("raised", "door_tamper"), ("cleared", "door_tamper")]
    for body in (
        {"causes": "fire", "state": "raised"},
        {"causes": "door", "state": "maybe"},
        {"causes": "door"},
    ):
        refused = client.request("POST", "/v1/terminal/alarms", body)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_body")
    with pytest.raises(CenterRefusal) as wrong:
        client.report_alarm("smoke", "raised")
    assert (wrong.value.status, wrong.value.code) == (400, "invalid_body")
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
        unsigned = http.post("/v1/terminal/alarms", json={"causes": "door", "state": "raised"})
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "unsigned_request")
