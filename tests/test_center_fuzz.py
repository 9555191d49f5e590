"""Fuzzing the center's HTTP API from its own OpenAPI description (schemathesis 4), against the real
authority and center server processes over TLS.

Every answer must be documented (status code, content type, body schema) and none may be a 5xx: the
JPKI authority stays up throughout, so not even 503 is legitimate here. Unsigned requests must be
refused with 401; requests signed by an enrolled terminal (over the exact bytes sent) reach body
validation and the resident-proof verification, with session ids of every shape — the fuzzer's own,
sessions just opened, a used one, another terminal's — and certificates and signatures that range
from the fuzzer's strings through mutated DER to a card's genuine proof.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.datastructures import URL

from center.app import MAX_BODY
from center.authority.service import AuthorityService
from center.client import CenterClient, CenterRefusal
from center.enrolment import EnrolledTerminal
from center.protocol import resident_binding, sign_request
from devtools.authority import card_key
from devtools.stack import ALWAYS_OPEN, DevStack, start_stack
from documents import b64url_encode

MUNICIPALITY = "131016"
RESIDENT = "/v1/sessions/{session_id}/resident"
Case = schemathesis.Case[Any]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# derandomized: the same inputs on every run (a failure reproduces); no example database either
FUZZ = settings(
    deadline=None, derandomize=True, database=None, print_blob=True, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    root = tmp_path_factory.mktemp("fuzz-stack")
    stack = start_stack(root)
    try:
        stack.load_calendar(ALWAYS_OPEN)  # the fuzzer must not depend on the time of day
        yield stack
    finally:
        stack.stop()


# -- what a signed fuzzer aims with --------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """A certificate the fuzzer can present, the key that signs for it (if any) and what the center
    answers a fresh session's proof made with that key (``None``: accepted)."""

    der: bytes
    key: rsa.RSAPrivateKey | None
    refusal: str | None


def _self_signed(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not a JPKI card")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def _cards(stack: DevStack) -> dict[str, Card]:
    now = dt.datetime.now(dt.UTC)
    good_key, revoked_key, other_key = card_key(0), card_key(1), card_key(2)
    with AuthorityService.open(stack.authority_dir, db_url=stack.authority_db, create=False) as authority:

        def issue(key: rsa.RSAPrivateKey, at: dt.datetime = now) -> bytes:
            certificate = authority.issue_user_auth(
                key.public_key(), birth_date=dt.date(1990, 5, 10), municipality=MUNICIPALITY, now=at
            )
            return certificate.public_bytes(serialization.Encoding.DER)

        good, revoked = issue(good_key), issue(revoked_key)
        authority.revoke(x509.load_der_x509_certificate(revoked).serial_number, "lost_card")
        expired = issue(other_key, now - dt.timedelta(days=6 * 365))
        not_yet_valid = issue(other_key, now + dt.timedelta(days=2))
    return {
        "good": Card(good, good_key, None),
        "revoked": Card(revoked, revoked_key, "certificate_revoked"),
        "expired": Card(expired, other_key, "certificate_expired"),
        "not_yet_valid": Card(not_yet_valid, other_key, "certificate_not_yet_valid"),
        "self_signed": Card(_self_signed(other_key), other_key, "untrusted_certificate"),
        "ec_key": Card(_self_signed(ec.generate_private_key(ec.SECP256R1())), None, "certificate_not_jpki"),
    }


@dataclass
class Target:
    """The center as the signed fuzzer sees it: its terminal, sessions and cards."""

    client: CenterClient
    used_session: str  # its challenge was consumed by an accepted proof
    foreign_session: str  # opened by another terminal
    cards: dict[str, Card]

    @property
    def terminal(self) -> EnrolledTerminal:
        return self.client.terminal

    def prove(self, card: Card, session_id: str, challenge: bytes) -> bytes:
        assert card.key is not None
        return card.key.sign(
            resident_binding(session_id, self.terminal.terminal_id, challenge),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )


@pytest.fixture(scope="module")
def target(stack: DevStack) -> Iterator[Target]:
    client = stack.client(stack.enroll("T-FUZZ"))
    other = stack.client(stack.enroll("T-OTHER"))
    stack.wait_until_open(client)
    foreign = other.open_session().session_id
    other.close()
    cards = _cards(stack)
    target = Target(client, "", foreign, cards)
    used = client.open_session()
    accepted = client.authenticate_resident(
        used.session_id, cards["good"].der, target.prove(cards["good"], used.session_id, used.challenge)
    )
    assert accepted.municipality == MUNICIPALITY
    target.used_session = used.session_id
    yield target
    client.close()


@pytest.fixture(scope="module")
def center_schema(stack: DevStack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.center_url}/openapi.json", verify=stack.center_tls)


def _center_path(path_url: str) -> str:
    """The path as the center reads it: percent-decoded by uvicorn, then Starlette's
    ``request.url.path`` (which escapes ``?``, ``#`` and ``\\`` again)."""
    decoded = urllib.parse.unquote(urllib.parse.urlsplit(path_url).path)
    scope = {
        "type": "http",
        "scheme": "https",
        "server": ("127.0.0.1", 443),
        "path": decoded,
        "query_string": b"",
        "headers": [],
    }
    return str(URL(scope=scope).path)


def _signable(response: schemathesis.Response) -> bool:
    """Whether the center can check a signature over this request's path (printable ASCII)."""
    decoded = urllib.parse.unquote(urllib.parse.urlsplit(str(response.request.path_url)).path)
    return decoded.isascii() and decoded.isprintable()


class TerminalSignature(requests.auth.AuthBase):
    """Signs the prepared request, as the terminal T-FUZZ: the exact body bytes that go on the wire
    and the path the center will read, with the query as sent (the offer's ``source``). (Paths
    that are not printable ASCII get their wire form signed: the protocol has no canonical text for
    them, and the center must refuse them.)"""

    def __init__(self, terminal: EnrolledTerminal) -> None:
        self.terminal = terminal

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = _bytes(request.body)
        assert request.method is not None and request.path_url is not None
        path = _center_path(request.path_url)
        if not (path.isascii() and path.isprintable()):
            path = urllib.parse.urlsplit(request.path_url).path
        query = urllib.parse.urlsplit(request.path_url).query  # as sent: the center signs it raw
        target = f"{path}?{query}" if query else path
        signed = sign_request(self.terminal.key, self.terminal.terminal_id, request.method, target, body)
        request.headers.update(signed.as_dict())
        return request


def _bytes(body: object) -> bytes:
    """A prepared request's body: schemathesis sends bytes or text, never a stream."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    assert isinstance(body, bytes), type(body)
    return body


def _refused_before_authentication(case: Case, response: schemathesis.Response) -> str | None:
    """What the center answers before it looks at the signature: only a body over the limit (the
    body is parsed after the terminal is authenticated)."""
    if len(_bytes(response.request.body)) > MAX_BODY:
        return "body_too_large"
    return None


def _documented_method(case: Case) -> bool:
    """The coverage phase also sends methods the schema does not name (answered 405 by the router)."""
    return bool(case.method.upper() == case.operation.method.upper())


def _b64(data: bytes) -> str:
    return b64url_encode(data)


@st.composite
def _mutated(draw: st.DrawFn, der: bytes) -> bytes:
    """A certificate with a few bytes changed anywhere (uniformly: Hypothesis's own integers favour
    the first bytes, which only break the outer SEQUENCE): refused, never a crash of the center."""
    rnd = draw(st.randoms(use_true_random=True))  # seeded from the drawn data: reproducible
    mutated = bytearray(der)
    for _ in range(rnd.randint(1, 4)):
        mutated[rnd.randrange(len(mutated))] = rnd.randrange(256)
    return bytes(mutated)


def _aim(case: Case, target: Target, data: st.DataObject) -> str | None:
    """Point a generated proof at a real session and real certificates (or leave the fuzzer's
    values); returns the error code the center must answer (``"accepted"`` for 200), if known."""
    # Hypothesis favours the first choice of a list (its "simplest"): the deep paths come first
    session = data.draw(
        st.sampled_from(["fresh", "unknown", "used", "foreign", "generated"]), label="session"
    )
    challenge = b""
    if session == "unknown":
        case.path_parameters["session_id"] = str(uuid.UUID(int=data.draw(st.integers(0, 2**128 - 1))))
    elif session == "fresh":
        opened = target.client.open_session()
        case.path_parameters["session_id"], challenge = opened.session_id, opened.challenge
    elif session == "used":
        case.path_parameters["session_id"] = target.used_session
    elif session == "foreign":
        case.path_parameters["session_id"] = target.foreign_session
    if not isinstance(case.body, dict):
        return None
    name = data.draw(st.sampled_from(["mutated", *target.cards, "generated"]), label="certificate")
    if name == "generated":
        return None
    if name == "mutated":
        der = data.draw(_mutated(target.cards[data.draw(st.sampled_from(["good", "revoked"]))].der))
        case.body["certificate"] = _b64(der)
        card = None
    else:
        card = target.cards[name]
        case.body["certificate"] = _b64(card.der)
    how = data.draw(st.sampled_from(["proof", "same_length", "bytes", "generated"]), label="signature")
    if how == "generated":
        return None
    signature = b""
    if how == "proof" and card is not None and card.key is not None and challenge:
        signature = target.prove(card, case.path_parameters["session_id"], challenge)
    elif how in ("proof", "same_length"):
        signature = data.draw(st.binary(min_size=256, max_size=256))
    else:
        signature = data.draw(st.binary(max_size=600))
    case.body["signature"] = _b64(signature)
    if session in ("unknown", "foreign"):
        return "unknown_session"
    if session == "used":
        return "challenge_used"
    if session != "fresh" or card is None:
        return None
    if card.refusal in (
        "certificate_not_jpki",
        "untrusted_certificate",
        "certificate_expired",
        "certificate_not_yet_valid",
    ):
        return card.refusal  # decided before the signature is looked at
    if len(signature) != 256:
        return "bad_signature_length"
    if how != "proof":
        return "bad_signature"
    return card.refusal or "accepted"


# -- the tests ------------------------------------------------------------------------------------

schema = schemathesis.pytest.from_fixture("center_schema")
VERIFY = "/v1/verify"  # public, like /v1/health


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy schemas rename ``request.node._nodeid`` around each operation; pytest 9
    keeps the node id elsewhere (``_id``), so give the attribute something to rename."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@settings(FUZZ, max_examples=50)
@schema.parametrize()
def test_unsigned_requests_are_refused(case: Case, stack: DevStack) -> None:
    response = case.call_and_validate(verify=stack.center_tls, checks=CHECKS)
    if case.operation.path == "/v1/health" or not _documented_method(case):
        return
    if case.operation.path == VERIFY:  # public: a copy's status, or why the question is not one
        assert response.status_code in (200, 400), response.text
        assert response.status_code == 200 or response.json()["error"] == "invalid_query", response.text
        return
    error = response.json()["error"]
    early = _refused_before_authentication(case, response)
    if early is not None:
        assert error == early, response.text
    else:
        assert response.status_code == 401, response.text
        # schemathesis fills the signature headers from the security schemes, with made-up values
        assert error in (
            "unsigned_request",
            "bad_request_signature",
            "malformed_signature",
            "clock_skew",
            "unknown_terminal",
        ), response.text


@settings(FUZZ, max_examples=100)
@schema.parametrize()
@schema.given(data=st.data())
def test_signed_requests(case: Case, data: st.DataObject, stack: DevStack, target: Target) -> None:
    expected = None
    if case.operation.path == RESIDENT and _documented_method(case):
        expected = _aim(case, target, data)
    response = case.call_and_validate(
        verify=stack.center_tls, checks=CHECKS, auth=TerminalSignature(target.terminal)
    )
    if not _documented_method(case):
        return
    body = response.json()
    early = _refused_before_authentication(case, response)
    if early is not None:
        assert body["error"] == early, response.text
    elif not _signable(response):
        assert (response.status_code, body["error"]) == (401, "bad_request_signature"), response.text
    else:
        assert response.status_code != 401, response.text  # the fuzzer signs what the center checks
        if expected == "accepted":
            assert response.status_code == 200, response.text
            assert body["municipality"] == MUNICIPALITY
        elif expected is not None:
            assert body["error"] == expected, response.text


def _flawed(good: bytes, flaw: str) -> bytes:
    """DER of the shapes the fuzzer's mutations found to crash the verification (500)."""
    if flaw == "unknown_key_algorithm":  # rsaEncryption 1.2.840.113549.1.1.1 -> ….1.1.99
        old, new = "06092a864886f70d010101", "06092a864886f70d010163"
    elif flaw == "invalid_version":  # X.509 v3 (2) -> 5
        old, new = "a003020102", "a003020105"
    else:  # an AuthorityKeyIdentifier that is not one (cryptography parses extensions lazily)
        key = card_key(2)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "malformed")])
        now = dt.datetime.now(dt.UTC)
        aki = x509.UnrecognizedExtension(ExtensionOID.AUTHORITY_KEY_IDENTIFIER, bytes.fromhex("3005a4033001"))
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(aki, critical=False)
            .sign(key, hashes.SHA256())
            .public_bytes(serialization.Encoding.DER)
        )
    assert good.count(bytes.fromhex(old)) == 1
    return good.replace(bytes.fromhex(old), bytes.fromhex(new))


@pytest.mark.parametrize("flaw", ["unknown_key_algorithm", "invalid_version", "malformed_extension"])
def test_certificates_that_do_not_parse_are_refused(target: Target, flaw: str) -> None:
    der = _flawed(target.cards["good"].der, flaw)
    session = target.client.open_session()
    with pytest.raises(CenterRefusal) as refused:
        target.client.authenticate_resident(session.session_id, der, bytes(256))
    assert refused.value.status == 422, refused.value
    assert refused.value.code in ("certificate_not_der", "certificate_not_jpki")
