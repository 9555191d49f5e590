"""Test vectors of the signed requests (``center.signing``): fixed keys, timestamp and nonce give
the very canonical texts and headers both links have always put on the wire, and a signature made
before the links shared one module still verifies, so old and new ends interoperate."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center import bridge_protocol, signing
from center.errors import TerminalAuthError
from center.protocol import TERMINAL_REQUESTS, sign_request
from center.terminals import check_request, request_credentials
from documents import b64url_encode

NOW = dt.datetime(2026, 11, 23, 1, 0, 0, 123000, tzinfo=dt.UTC)
TIMESTAMP = "1795395600123"
NONCE = "AAECAwQFBgcICQoLDA0ODw"  # bytes 0..15
ORDER = "0b5c6b1e-1d0a-4a4f-9e3c-8f1d2a3b4c5d"

TERMINAL_KEY = ec.derive_private_key(0x6B6F7566752D7465726D696E616C2D766563746F72, ec.SECP256R1())
SETTLE_PATH = f"/v1/orders/{ORDER}/settle"
SETTLE_BODY = b'{"paid":400}'
SETTLE_TEXT = (
    b"koufu-request/1\nPOST\n/v1/orders/0b5c6b1e-1d0a-4a4f-9e3c-8f1d2a3b4c5d/settle\n"
    b"1795395600123\nAAECAwQFBgcICQoLDA0ODw\n"
    b"3fbe59c030051754d64ef21dc347568462259bd4e660e42722097c4a9bf3abc0"
)
# made by a terminal before the two links shared one signing module (ECDSA signatures differ each time)
SETTLE_SIGNATURE = (
    "MEUCIQDUFrGhXKxLidqugxDlPCbWj-S9ZIiU_icY0TjUbEtoWAIgf2J5DyzLBoMbL8QudeIccjf_D63mFp-kK-XfhlI-F_I"
)

CENTER_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"koufu center vector").digest())
ISSUE_BODY = b'{"order_id":"0b5c6b1e-1d0a-4a4f-9e3c-8f1d2a3b4c5d"}'
ISSUE_TEXT = (
    b"koufu-center-request/1\n131016\nPOST\n/v1/issue\n1795395600123\nAAECAwQFBgcICQoLDA0ODw\n"
    b"de3eb2b81cd7193879bcd7eea90dbb4cfb00932b1cc80cb1d79b96c76e2c12bb"
)
ISSUE_HEADERS = {  # Ed25519 is deterministic: the very headers the center has always sent
    "X-Koufu-Center-Key": "06e2a68eea86de04",
    "X-Koufu-Timestamp": TIMESTAMP,
    "X-Koufu-Nonce": NONCE,
    "X-Koufu-Signature": (
        "WSNDY1nUBSFzT6MKjQYYCRQRzlgjPfcCZMIxgPVXwgbLGvq4SuRJNgv8EsYNECkwOLJSGdRylRjlomu9yJp8BQ"
    ),
}


def test_a_terminal_request_signs_the_canonical_text_of_the_wire() -> None:
    assert b64url_encode(bytes(range(16))) == NONCE
    assert SETTLE_TEXT.endswith(hashlib.sha256(SETTLE_BODY).hexdigest().encode())
    canonical = TERMINAL_REQUESTS.canonical((), "post", SETTLE_PATH, int(TIMESTAMP), NONCE, SETTLE_BODY)
    assert canonical == SETTLE_TEXT
    signed = sign_request(TERMINAL_KEY, "T-0001", "post", SETTLE_PATH, SETTLE_BODY, now=NOW, nonce=NONCE)
    headers = signed.as_dict()
    assert list(headers) == ["X-Koufu-Terminal", "X-Koufu-Timestamp", "X-Koufu-Nonce", "X-Koufu-Signature"]
    assert headers["X-Koufu-Terminal"] == "T-0001"
    assert (headers["X-Koufu-Timestamp"], headers["X-Koufu-Nonce"]) == (TIMESTAMP, NONCE)
    # the signature is ECDSA P-256 / SHA-256 in DER over exactly that text
    signature = signing.unb64url(headers["X-Koufu-Signature"])
    assert signature[0] == 0x30
    TERMINAL_KEY.public_key().verify(signature, SETTLE_TEXT, ec.ECDSA(hashes.SHA256()))
    checked = check_request(request_credentials(headers), "POST", SETTLE_PATH, SETTLE_BODY, NOW)
    assert (checked.signer, checked.nonce, checked.message) == ("T-0001", NONCE, SETTLE_TEXT)
    assert checked.verifies_with(TERMINAL_KEY.public_key())


def test_the_center_accepts_a_terminal_signature_made_before_the_shared_module() -> None:
    headers = {
        "x-koufu-terminal": "T-0001",
        "x-koufu-timestamp": TIMESTAMP,
        "x-koufu-nonce": NONCE,
        "x-koufu-signature": SETTLE_SIGNATURE,
    }
    checked = check_request(request_credentials(headers), "POST", SETTLE_PATH, SETTLE_BODY, NOW)
    assert checked.message == SETTLE_TEXT and checked.verifies_with(TERMINAL_KEY.public_key())
    for method, path, body in (
        ("GET", SETTLE_PATH, SETTLE_BODY),
        ("POST", f"/v1/orders/{ORDER}/void", SETTLE_BODY),
        ("POST", SETTLE_PATH, b'{"paid":401}'),
    ):
        other = check_request(request_credentials(headers), method, path, body, NOW)
        assert not other.verifies_with(TERMINAL_KEY.public_key())


def test_the_center_signs_its_request_to_a_municipality_as_on_the_wire() -> None:
    assert (
        bridge_protocol.CENTER_REQUESTS.canonical(
            ("131016",), "post", "/v1/issue", int(TIMESTAMP), NONCE, ISSUE_BODY
        )
        == ISSUE_TEXT
    )
    signed = bridge_protocol.CENTER_REQUESTS.sign(
        CENTER_KEY,
        bridge_protocol.key_id(CENTER_KEY.public_key()),
        ("131016",),
        "post",
        "/v1/issue",
        ISSUE_BODY,
        now=NOW,
        nonce=NONCE,
    )
    assert signed.as_dict() == ISSUE_HEADERS and list(signed.as_dict()) == list(ISSUE_HEADERS)
    CENTER_KEY.public_key().verify(signing.unb64url(ISSUE_HEADERS["X-Koufu-Signature"]), ISSUE_TEXT)
    trusted = {"06e2a68eea86de04": CENTER_KEY.public_key()}
    lowered = {name.lower(): value for name, value in ISSUE_HEADERS.items()}
    verified = bridge_protocol.verify(lowered, trusted, "131016", "POST", "/v1/issue", ISSUE_BODY, NOW)
    assert (verified.key_id, verified.nonce) == ("06e2a68eea86de04", NONCE)
    with pytest.raises(bridge_protocol.BridgeAuthError) as caught:
        bridge_protocol.verify(lowered, trusted, "131041", "POST", "/v1/issue", ISSUE_BODY, NOW)
    assert caught.value.code == "bad_signature"


def test_both_links_refuse_with_the_same_codes_and_their_own_words() -> None:
    headers = {
        "x-koufu-terminal": "T-0001",
        "x-koufu-timestamp": TIMESTAMP,
        "x-koufu-nonce": NONCE,
        "x-koufu-signature": SETTLE_SIGNATURE,
    }
    cases = [
        ({**headers, "x-koufu-nonce": ""}, NOW, "unsigned_request", "terminal signature headers are missing"),
        (
            {**headers, "x-koufu-timestamp": "soon"},
            NOW,
            "malformed_signature",
            "terminal signature headers are malformed",
        ),
        ({**headers, "x-koufu-nonce": NONCE + "A"}, NOW, "malformed_signature", signing.NONCE_WORDS),
        (
            headers,
            NOW + signing.MAX_CLOCK_SKEW + dt.timedelta(milliseconds=1),
            "clock_skew",
            "the terminal's clock is off by more than 2 minutes",
        ),
    ]
    for sent, now, code, words in cases:
        with pytest.raises(TerminalAuthError) as terminal:
            check_request(request_credentials(sent), "POST", SETTLE_PATH, SETTLE_BODY, now)
        assert (terminal.value.code, terminal.value.message) == (code, words)
    assert check_request(
        request_credentials(headers), "POST", SETTLE_PATH, SETTLE_BODY, NOW + signing.MAX_CLOCK_SKEW
    ).verifies_with(TERMINAL_KEY.public_key())

    trusted = {"06e2a68eea86de04": CENTER_KEY.public_key()}
    lowered = {name.lower(): value for name, value in ISSUE_HEADERS.items()}
    center_cases = [
        (
            {**lowered, "x-koufu-signature": ""},
            "unsigned_request",
            "the center's signature headers are missing",
        ),
        (
            {**lowered, "x-koufu-center-key": "0" * 16},
            "unknown_center_key",
            "this center key is not trusted here",
        ),
        (
            {**lowered, "x-koufu-timestamp": "soon"},
            "malformed_signature",
            "the signature headers are malformed",
        ),
        ({**lowered, "x-koufu-nonce": "AAAA"}, "malformed_signature", signing.NONCE_WORDS),
        (
            {**lowered, "x-koufu-timestamp": str(int(TIMESTAMP) - 120_001)},
            "clock_skew",
            "the request's time is off by more than 2 minutes",
        ),
    ]
    for sent, code, words in center_cases:
        with pytest.raises(bridge_protocol.BridgeAuthError) as center:
            bridge_protocol.verify(sent, trusted, "131016", "POST", "/v1/issue", ISSUE_BODY, NOW)
        assert (center.value.code, str(center.value)) == (code, words)
