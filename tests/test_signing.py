"""Signed requests (``center.signing``): RFC 9421 HTTP Message Signatures over an RFC 9530
Content-Digest, on both links.

The vectors (``tests/vectors/request-signing.json``: fixed keys, request, ``created`` and nonce)
pin the exact bytes: the digest, the signature base, Signature-Input and, for Ed25519, the
signature. The project's code is checked against them both ways, and so is an independent
implementation (``http-message-signatures``), so the wire is RFC 9421's and not only ours. Then
every refusal, on each link, with its code and words."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
)
from http_message_signatures import algorithms as library_algorithms

from center import bridge_protocol, signing
from center.content_digest import content_digest
from center.errors import TerminalAuthError
from center.protocol import TERMINAL_REQUESTS, sign_request
from center.signing import Target, field_values, unb64url
from center.terminals import check_request, request_credentials
from support.signature_fields import flipped, lowered, with_body, with_covered, with_parameters

VECTORS = json.loads((Path(__file__).parent / "vectors" / "request-signing.json").read_text())
TERMINAL, BRIDGE = VECTORS["terminal"], VECTORS["bridge"]
CREATED = dt.datetime.fromtimestamp(VECTORS["created"], dt.UTC)
NONCE = VECTORS["nonce"]


def private_key(link: dict[str, Any]) -> Any:
    return serialization.load_pem_private_key(link["private_key_pem"].encode(), None)


def target(link: dict[str, Any]) -> Target:
    url = httpx.URL(link["request"]["url"])
    return Target(link["request"]["method"], url.path, "?" + url.query.decode())


def body(link: dict[str, Any]) -> bytes:
    return str(link["request"]["body_utf8"]).encode()


def wire(link: dict[str, Any], signature: str | None = None) -> dict[str, str]:
    """The vector's request headers, lower-case (with another Signature if given)."""
    return lowered(
        {
            "Content-Digest": link["content_digest"],
            **link["request"]["scope"],
            "Signature-Input": link["signature_input"],
            "Signature": signature or link["signature"],
        }
    )


def terminal_check(
    headers: dict[str, str], sent: bytes, to: Target, now: dt.datetime
) -> signing.SignedRequest[Any]:
    return check_request(request_credentials(headers, sent), to, now)


def bridge_check(headers: dict[str, str], sent: bytes, to: Target, now: dt.datetime) -> None:
    trusted = {BRIDGE["keyid"]: private_key(BRIDGE).public_key()}
    bridge_protocol.verify(headers, trusted, "131016", to, sent, now)


# --- the vectors ---------------------------------------------------------------------------------


def test_the_content_digests_are_the_bodies_sha_256() -> None:
    for case in VECTORS["content_digests"]:
        sent = bytes.fromhex(case["body_hex"])
        expected = base64.b64encode(hashlib.sha256(sent).digest()).decode()
        assert case["content_digest"] == f"sha-256=:{expected}:" == content_digest(sent)


def test_the_keys_are_the_same_in_hex_and_pem() -> None:
    terminal_key = private_key(TERMINAL)
    assert isinstance(terminal_key, ec.EllipticCurvePrivateKey)
    assert terminal_key.private_numbers().private_value == int(TERMINAL["private_key_hex"], 16)
    bridge_key = private_key(BRIDGE)
    assert isinstance(bridge_key, ed25519.Ed25519PrivateKey)
    raw = bytes.fromhex(BRIDGE["private_key_hex"])
    assert bridge_key.private_bytes_raw() == raw
    assert BRIDGE["keyid"] == bridge_protocol.key_id(bridge_key.public_key())


def test_a_terminal_signs_the_vectors_base_and_input() -> None:
    signed = sign_request(
        private_key(TERMINAL),
        "T-0001",
        "post",
        "/v1/orders/0b5c6b1e-1d0a-4a4f-9e3c-8f1d2a3b4c5d/settle",
        body(TERMINAL),
        now=CREATED,
        nonce=NONCE,
    ).as_dict()
    assert list(signed) == ["Content-Digest", "Signature-Input", "Signature"]
    assert signed["Content-Digest"] == TERMINAL["content_digest"]
    assert signed["Signature-Input"] == TERMINAL["signature_input"]
    params = TERMINAL["signature_input"].removeprefix("koufu=")
    base = TERMINAL_REQUESTS.base(target(TERMINAL), TERMINAL["content_digest"], (), params)
    assert base.decode() == TERMINAL["signature_base"]
    # ECDSA is randomised: this signature is new, and raw r‖s of 64 bytes over the vector's base
    checked = terminal_check(lowered(signed), body(TERMINAL), target(TERMINAL), CREATED)
    assert checked.message == base and len(checked.signature) == 64
    assert checked.verifies_with(private_key(TERMINAL).public_key())


def test_the_center_verifies_the_vectors_terminal_signature_and_not_a_bit_flipped() -> None:
    public_key = private_key(TERMINAL).public_key()
    checked = terminal_check(wire(TERMINAL), body(TERMINAL), target(TERMINAL), CREATED)
    assert (checked.signer, checked.nonce) == ("T-0001", NONCE)
    assert checked.message.decode() == TERMINAL["signature_base"]
    assert checked.verifies_with(public_key)
    bent = terminal_check(
        wire(TERMINAL, TERMINAL["signature_flipped"]), body(TERMINAL), target(TERMINAL), CREATED
    )
    assert not bent.verifies_with(public_key)


def test_the_center_signs_the_vectors_bridge_request_exactly() -> None:
    key = private_key(BRIDGE)
    signed = bridge_protocol.sign(key, "131016", "POST", "/v1/issue", body(BRIDGE), now=CREATED, nonce=NONCE)
    assert list(signed) == ["Content-Digest", "Koufu-Municipality", "Signature-Input", "Signature"]
    assert signed == {
        "Content-Digest": BRIDGE["content_digest"],
        "Koufu-Municipality": "131016",
        "Signature-Input": BRIDGE["signature_input"],
        "Signature": BRIDGE["signature"],
    }
    params = BRIDGE["signature_input"].removeprefix("koufu=")
    base = bridge_protocol.CENTER_REQUESTS.base(target(BRIDGE), BRIDGE["content_digest"], ("131016",), params)
    assert base.decode() == BRIDGE["signature_base"]
    trusted = {BRIDGE["keyid"]: key.public_key()}
    verified = bridge_protocol.verify(wire(BRIDGE), trusted, "131016", target(BRIDGE), body(BRIDGE), CREATED)
    assert (verified.key_id, verified.nonce) == (BRIDGE["keyid"], NONCE)


def _library_request(link: dict[str, Any], signature: str | None = None) -> httpx.Request:
    return httpx.Request(
        link["request"]["method"], link["request"]["url"], headers=wire(link, signature), content=body(link)
    )


@pytest.mark.parametrize(
    ("link", "algorithm"),
    [(TERMINAL, library_algorithms.ECDSA_P256_SHA256), (BRIDGE, library_algorithms.ED25519)],
)
def test_an_independent_implementation_verifies_the_vectors(link: dict[str, Any], algorithm: Any) -> None:
    public_key = private_key(link).public_key()
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(public_keys={link["keyid"]: public_key}, private_keys={}),
    )
    tag = "koufu-terminal/1" if link is TERMINAL else "koufu-bridge/1"
    [result] = verifier.verify(_library_request(link), max_age=None, expect_tag=tag, body=body(link))
    assert result.parameters["nonce"] == NONCE
    if "signature_flipped" in link:
        with pytest.raises(InvalidSignature):
            verifier.verify(_library_request(link, link["signature_flipped"]), max_age=None, expect_tag=tag)


def test_an_independent_implementation_signs_the_bridge_vector_to_the_same_bytes() -> None:
    key = private_key(BRIDGE)
    signer = HTTPMessageSigner(
        signature_algorithm=library_algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={BRIDGE["keyid"]: key}),
    )
    request = httpx.Request("POST", BRIDGE["request"]["url"], headers={"Koufu-Municipality": "131016"})
    signer.sign(
        request,
        key_id=BRIDGE["keyid"],
        created=CREATED,
        nonce=NONCE,
        label="koufu",
        tag="koufu-bridge/1",
        covered_component_ids=("@method", "@path", "@query", "content-digest", "koufu-municipality"),
        body=body(BRIDGE),
    )
    assert request.headers["Content-Digest"] == BRIDGE["content_digest"]
    assert request.headers["Signature-Input"] == BRIDGE["signature_input"]
    assert request.headers["Signature"] == BRIDGE["signature"]


# --- refusals ------------------------------------------------------------------------------------

TERMINAL_WORDS = TERMINAL_REQUESTS.words
BRIDGE_WORDS = bridge_protocol.CENTER_REQUESTS.words
LATE = dt.timedelta(seconds=1)


def refusal(
    check: Any, headers: dict[str, str], sent: bytes, to: Target, now: dt.datetime
) -> tuple[str, str]:
    with pytest.raises((TerminalAuthError, bridge_protocol.BridgeAuthError)) as caught:
        check(headers, sent, to, now)
    error = caught.value
    return error.code, (error.message if isinstance(error, TerminalAuthError) else str(error))


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


@pytest.mark.parametrize("link", ["terminal", "bridge"])
def test_every_refusal_of_the_signature_fields(link: str) -> None:
    vector, check, words = (
        (TERMINAL, terminal_check, TERMINAL_WORDS)
        if link == "terminal"
        else (BRIDGE, bridge_check, BRIDGE_WORDS)
    )
    headers, sent, to = wire(vector), body(vector), target(vector)
    other_body = sent + b" "
    cases: list[tuple[dict[str, str], bytes, Target, dt.datetime, str, str]] = [
        *[(without(headers, name), sent, to, CREATED, "unsigned_request", words.missing) for name in headers],
        ({**headers, "signature": ""}, sent, to, CREATED, "unsigned_request", words.missing),
        # the body first: a changed body, or a digest that is not one
        (headers, other_body, to, CREATED, "bad_digest", signing.DIGEST_WORDS),
        (
            {**headers, "content-digest": "sha-256=:AAAA:"},
            sent,
            to,
            CREATED,
            "bad_digest",
            signing.DIGEST_WORDS,
        ),
        (
            {**headers, "content-digest": "sha-512=:AAAA:"},
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        (
            {**headers, "content-digest": "sha-256=AAAA"},
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        # odd structured fields
        (
            {
                **headers,
                "signature-input": "koufu=(",
            },
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        ({**headers, "signature": "koufu=!!"}, sent, to, CREATED, "malformed_signature", words.malformed),
        ({**headers, "signature": "other=:AAAA:"}, sent, to, CREATED, "malformed_signature", words.malformed),
        ({**headers, "signature": 'koufu="text"'}, sent, to, CREATED, "malformed_signature", words.malformed),
        ({**headers, "signature": "koufu=:AAAA:"}, sent, to, CREATED, "malformed_signature", words.malformed),
        (
            {**headers, "signature-input": "koufu=1"},
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        (
            {**headers, "signature-input": headers["signature-input"] + ", " + headers["signature-input"]},
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        (
            {**headers, "signature-input": headers["signature-input"].replace(";keyid=", ";keyid=1;keyid=")},
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        # the profile: components, parameters, algorithm, tag
        (
            with_covered(headers, ["@method", "@path", "content-digest"]),
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        (
            with_parameters(headers, tag="koufu-other/1"),
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        (
            with_parameters(headers, alg="rsa-pss-sha512"),
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        (
            with_parameters(headers, expires=VECTORS["created"] + 60),
            sent,
            to,
            CREATED,
            "malformed_signature",
            words.malformed,
        ),
        (with_parameters(headers, nonce=None), sent, to, CREATED, "malformed_signature", words.malformed),
        (with_parameters(headers, created="soon"), sent, to, CREATED, "malformed_signature", words.malformed),
        (with_parameters(headers, created=2**40), sent, to, CREATED, "clock_skew", words.clock_skew),
        (
            with_parameters(headers, nonce=NONCE + "A"),
            sent,
            to,
            CREATED,
            "malformed_signature",
            signing.NONCE_WORDS,
        ),
        (
            with_parameters(headers, nonce="AAECAwQFBgcICQoLDA0ODx"),
            sent,
            to,
            CREATED,
            "malformed_signature",
            signing.NONCE_WORDS,
        ),
        # the clock
        (headers, sent, to, CREATED + signing.MAX_CLOCK_SKEW + LATE, "clock_skew", words.clock_skew),
        (headers, sent, to, CREATED - signing.MAX_CLOCK_SKEW - LATE, "clock_skew", words.clock_skew),
    ]
    for case_headers, case_body, case_target, now, code, message in cases:
        assert refusal(check, case_headers, case_body, case_target, now) == (code, message), case_headers
    # the edges of the clock are accepted
    for now in (CREATED + signing.MAX_CLOCK_SKEW, CREATED - signing.MAX_CLOCK_SKEW):
        check(headers, sent, to, now)


def test_a_terminal_signature_proves_nothing_over_another_request() -> None:
    public_key = private_key(TERMINAL).public_key()
    headers, sent, to = wire(TERMINAL), body(TERMINAL), target(TERMINAL)
    assert terminal_check(headers, sent, to, CREATED).verifies_with(public_key)
    for other_target in (
        dataclasses.replace(to, method="PUT"),
        dataclasses.replace(to, path="/v1/orders/0b5c6b1e-1d0a-4a4f-9e3c-8f1d2a3b4c5d/void"),
        dataclasses.replace(to, query="?paid=0"),
    ):
        assert not terminal_check(headers, sent, other_target, CREATED).verifies_with(public_key)
    # a body changed with its digest: the digest is covered, so the signature fails
    changed = b'{"paid":401}'
    assert not terminal_check(with_body(headers, changed), changed, to, CREATED).verifies_with(public_key)
    assert not terminal_check(with_parameters(headers, keyid="T-0002"), sent, to, CREATED).verifies_with(
        public_key
    )
    assert not terminal_check(flipped(headers), sent, to, CREATED).verifies_with(public_key)


def test_the_bridge_refuses_another_municipality_path_key_or_signature() -> None:
    headers, sent, to = wire(BRIDGE), body(BRIDGE), target(BRIDGE)
    key = private_key(BRIDGE).public_key()
    trusted = {BRIDGE["keyid"]: key}

    def code(
        headers: dict[str, str], municipality: str = "131016", to: Target = to, sent: bytes = sent
    ) -> str:
        with pytest.raises(bridge_protocol.BridgeAuthError) as caught:
            bridge_protocol.verify(headers, trusted, municipality, to, sent, CREATED)
        return caught.value.code

    assert code(headers, municipality="131041") == "bad_signature"
    assert code({**headers, "koufu-municipality": "131041"}) == "bad_signature"
    assert code(headers, to=dataclasses.replace(to, path="/v1/void")) == "bad_signature"
    assert code(headers, to=dataclasses.replace(to, query="?x=1")) == "bad_signature"
    assert code(with_body(headers, b"{}"), sent=b"{}") == "bad_signature"
    assert code(flipped(headers)) == "bad_signature"
    assert code(with_parameters(headers, keyid="0" * 16)) == "unknown_center_key"


def test_a_signature_for_one_link_never_passes_the_other() -> None:
    """Signed with the terminal key under the bridge's tag, or the other way round: refused by
    the profile before any key is looked at."""
    key = private_key(TERMINAL)
    as_bridge = dataclasses.replace(TERMINAL_REQUESTS, tag=bridge_protocol.BRIDGE_TAG)
    headers = lowered(as_bridge.sign(key, "T-0001", "POST", "/v1/sessions", b"", now=CREATED).as_dict())
    code, _ = refusal(terminal_check, headers, b"", Target("POST", "/v1/sessions"), CREATED)
    assert code == "malformed_signature"
    bridge_key = private_key(BRIDGE)
    center_as_terminal = dataclasses.replace(bridge_protocol.CENTER_REQUESTS, tag="koufu-terminal/1")
    signed = center_as_terminal.sign(
        bridge_key, BRIDGE["keyid"], "POST", "/v1/issue", b"", ("131016",), now=CREATED
    )
    code, _ = refusal(bridge_check, lowered(signed.as_dict()), b"", Target("POST", "/v1/issue"), CREATED)
    assert code == "malformed_signature"
    # and the bridge's own request, handed to the center, is not a terminal's
    code, _ = refusal(terminal_check, wire(BRIDGE), body(BRIDGE), target(BRIDGE), CREATED)
    assert code == "malformed_signature"


def test_a_field_sent_twice_is_joined_so_its_second_member_is_seen() -> None:
    headers = wire(TERMINAL)
    lines = [*headers.items(), ("Signature", "koufu=:AAAA:")]
    joined = field_values(lines)
    assert joined["signature"] == headers["signature"] + ", koufu=:AAAA:"
    code, _ = refusal(terminal_check, joined, body(TERMINAL), target(TERMINAL), CREATED)
    assert code == "malformed_signature"


def test_a_query_is_covered() -> None:
    key = private_key(TERMINAL)
    signed = lowered(
        sign_request(key, "T-0001", "GET", "/v1/things?page=2", b"", now=CREATED, nonce=NONCE).as_dict()
    )
    checked = terminal_check(signed, b"", Target("GET", "/v1/things", "?page=2"), CREATED)
    assert b'"@query": ?page=2\n' in checked.message and checked.verifies_with(key.public_key())
    assert not terminal_check(signed, b"", Target("GET", "/v1/things", "?page=3"), CREATED).verifies_with(
        key.public_key()
    )


def test_a_covered_value_that_cannot_be_in_a_signature_base_is_refused() -> None:
    key = private_key(TERMINAL)
    with pytest.raises(ValueError):
        sign_request(key, "T-0001", "POST", "/v1/a\nb", b"", now=CREATED)
    signed = lowered(sign_request(key, "T-0001", "POST", "/v1/sessions", b"", now=CREATED).as_dict())
    code, _ = refusal(terminal_check, signed, b"", Target("POST", "/v1/sessions", "?é"), CREATED)
    assert code == "malformed_signature"


@pytest.mark.parametrize("text", ["AAE=", "AA+E", "AA/E", "AAF", "A", "", "AAE\n", "ＡＡＥ", "A" * 65])
def test_binary_values_are_read_in_their_one_base64url_form(text: str) -> None:
    """Sealed copies, offers and the center's published keys travel as unpadded base64url, read
    strictly: padding, the standard alphabet, stray bits, a bad length or anything else is refused."""
    with pytest.raises(ValueError):
        unb64url(text, longest=64)
    assert unb64url("AAE") == b"\x00\x01"
