"""The signature's fields read in the one form a signer writes them (``center.signature_fields``)
against the general structured-field parser (``center.signing.parsed_signature``): whatever the
first recognises, the second reads the same (names, parameters in order, bytes), so every refusal
stays the general parser's; and what signers write is recognised, so the fast path is the one
taken. On the vectors, on freshly signed requests, on fields mutated a character at a time and on
fields made of the structured-field syntax at random."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_sf.types import DisplayString, Token
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from center import bridge_protocol, signing
from center.content_digest import check_content_digest, content_digest
from center.protocol import TERMINAL_REQUESTS
from center.signature_fields import (
    LABEL,
    bytes_as_written,
    digest_as_written,
    params_as_written,
    signature_as_written,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "request-signing.json").read_text())
LINKS = [VECTORS["terminal"], VECTORS["bridge"]]
WRITTEN = [(link["signature_input"], link["signature"]) for link in LINKS]
PROPERTY = settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
# the characters that matter to the syntax, and some that must never pass
SYNTAX = '"\\()=;:,. \t@-_*/+?%0123456789koufucreatedkeyidalgnoncetagAZaz\x7f\u00e9'


def general(signature_input: str, signature: str) -> object:
    """What the general parser makes of the fields: the fields, or that it refuses them."""
    try:
        return signing.parsed_signature(signature_input, signature)
    except ValueError:
        return "refused"


def agrees(signature_input: str, signature: str) -> bool:
    """The property: unrecognised, or read exactly as the general parser reads it."""
    fast = signature_as_written(signature_input, signature)
    if fast is None:
        return True
    names, parameters, raw = fast
    expected = general(signature_input, signature)
    assert expected != "refused", (signature_input, signature)
    assert isinstance(expected, tuple)
    assert (names, list(parameters.items()), raw) == (expected[0], list(expected[1].items()), expected[2])
    # and its @signature-params are its text, as both serialisers write them
    written = signature_input.removeprefix(f"{LABEL}=")
    assert params_as_written(names, parameters) == general_params(names, parameters) == written
    return True


def general_params(covered: Sequence[str], parameters: Mapping[str, object]) -> str:
    inner: Any = ([(name, {}) for name in covered], dict(parameters))
    return str(http_sf.ser({LABEL: inner})).removeprefix(f"{LABEL}=")


def test_the_vectors_are_recognised_and_read_as_the_general_parser_reads_them() -> None:
    for signature_input, signature in WRITTEN:
        assert signature_as_written(signature_input, signature) is not None
        assert agrees(signature_input, signature)
    for digest in VECTORS["content_digests"]:
        assert digest_as_written(bytes.fromhex(digest["body_hex"])) == digest["content_digest"]


@given(
    keyid=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40),
    body=st.binary(max_size=64),
    created=st.integers(min_value=0, max_value=2**34),
    terminal=st.booleans(),
)
@settings(PROPERTY, max_examples=60)
def test_what_a_signer_writes_is_recognised(keyid: str, body: bytes, created: int, terminal: bool) -> None:
    now = dt.datetime.fromtimestamp(created, dt.UTC)
    if terminal:
        headers = TERMINAL_REQUESTS.sign(
            ec.generate_private_key(ec.SECP256R1()), keyid, "POST", "/v1/x", body, now=now
        )
    else:
        scheme = bridge_protocol.CENTER_REQUESTS
        scope = ["131016"] * len(scheme.scope_fields)
        headers = scheme.sign(ed25519.Ed25519PrivateKey.generate(), keyid, "POST", "/x", body, scope, now=now)
    fields = (headers.signature_input, headers.signature)
    if "\\" in keyid or '"' in keyid:
        assert signature_as_written(*fields) is None  # an escape: the general parser's to read
    else:
        assert signature_as_written(*fields) is not None
    assert agrees(*fields)
    assert headers.content_digest == digest_as_written(body)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """A vector's fields with a few characters inserted, deleted or replaced."""
    signature_input, signature = draw(st.sampled_from(WRITTEN))
    fields = [signature_input, signature]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        which = draw(st.integers(min_value=0, max_value=1))
        text = fields[which]
        at = draw(st.integers(min_value=0, max_value=len(text)))
        new = draw(st.text(alphabet=SYNTAX, max_size=3))
        cut = draw(st.integers(min_value=0, max_value=3))
        fields[which] = text[:at] + new + text[at + cut :]
    return fields[0], fields[1]


@given(mutated())
@settings(PROPERTY)
@example(('koufu=("@method");created=01;keyid="a";alg="b";nonce="c";tag="d"', "koufu=:AAAA:"))
@example(('koufu=("@method");created=1;keyid="a\\"";alg="b";nonce="c";tag="d"', "koufu=:AAAA:"))
@example(('koufu=("@method");created=1;keyid="a";alg="b";nonce="c";tag="d"', "koufu=:AAA=:"))
@example(('koufu=("@method");created=1;keyid="a";alg="b";nonce="c";tag="d"', "koufu=:AAB=:"))
@example(('koufu=("@method");created=1;keyid="";alg="b";nonce="c";tag="d"', "koufu=:AAAA:"))
@example(('koufu=("@method"  "x");created=1;keyid="a";alg="b";nonce="c";tag="d"', "koufu=:AAAA:"))
@example(('koufu=();created=1;keyid="a";alg="b";nonce="c";tag="d"', "koufu=:AAAA:"))
@example(('koufu=("a");created=1;keyid="a";alg="b";nonce="c";tag="d", koufu=1', "koufu=:AAAA:"))
@example(('koufu=("a");created=1;keyid="a";alg="b";nonce="c";tag="d"', "koufu=:AAAA:, koufu=:AAAA:"))
@example(('koufu=("a");created=1234567890123456;keyid="a";alg="b";nonce="c";tag="d"', "koufu=:AAAA:"))
def test_mutated_fields_are_refused_or_read_alike(fields: tuple[str, str]) -> None:
    assert agrees(*fields)


@st.composite
def structured(draw: st.DrawFn) -> tuple[str, str]:
    """Fields built of the syntax's pieces: strings with and without escapes, integers of any
    form, tokens, spaces where they may and may not be."""
    string = st.text(alphabet=' a"\\!~\t@-', max_size=6).map(lambda s: f'"{s}"')
    integer = st.one_of(st.integers(-5, 2**50).map(str), st.from_regex(r"0[0-9]{1,3}", fullmatch=True))
    value = st.one_of(string, integer, st.sampled_from(["?1", "tok", ":AAAA:", '%"x"', "1.5"]))
    names = draw(st.lists(string, max_size=4))
    space = draw(st.sampled_from([" ", "  ", "\t", ""]))
    keys = draw(
        st.lists(
            st.sampled_from(["created", "keyid", "alg", "nonce", "tag", "expires"]), min_size=0, max_size=7
        )
    )
    parameters = "".join(f";{key}={draw(value)}" for key in keys)
    label = draw(st.sampled_from(["koufu", "koufu", "other", "Koufu"]))
    signature_input = f"{label}=({space.join(names)}){parameters}" + draw(st.sampled_from(["", ", x=1", " "]))
    sig = draw(st.one_of(st.text(alphabet="AQgw+/=", max_size=12), st.just("A" * 86 + "==")))
    signature = draw(st.sampled_from(["koufu=:{}:", "koufu=:{}:;p=1", "koufu={}", " koufu=:{}:"])).format(sig)
    return signature_input, signature


@given(structured())
@settings(PROPERTY)
def test_structured_fields_at_random_are_refused_or_read_alike(fields: tuple[str, str]) -> None:
    assert agrees(*fields)


@given(st.text(alphabet=SYNTAX, max_size=80), st.text(alphabet=SYNTAX, max_size=40))
@settings(PROPERTY)
def test_any_text_is_refused_or_read_alike(signature_input: str, signature: str) -> None:
    assert agrees(signature_input, signature)


@given(st.binary(max_size=100))
@settings(PROPERTY, max_examples=100)
def test_a_digest_and_a_signature_are_written_as_the_general_serialiser_writes_them(raw: bytes) -> None:
    assert bytes_as_written(raw) == http_sf.ser(raw)
    assert digest_as_written(raw) == http_sf.ser({"sha-256": (hashlib.sha256(raw).digest(), {})})
    assert content_digest(raw) == digest_as_written(raw)
    check_content_digest(digest_as_written(raw), raw)  # and the general parser reads it back


@given(
    st.lists(st.text(alphabet=SYNTAX, max_size=8), max_size=5),
    st.lists(
        st.tuples(
            st.sampled_from(["created", "keyid", "alg", "nonce", "tag", "Keyid", "9x", "a*b", "x-y"]),
            st.one_of(
                st.integers(-3, 10**16),
                st.text(alphabet=SYNTAX, max_size=8),
                st.booleans(),
                st.sampled_from([Token("ecdsa-p256-sha256"), DisplayString("x"), 1.5]),
            ),
        ),
        max_size=6,
        unique_by=lambda item: item[0],
    ),
)
@settings(PROPERTY)
def test_signature_params_are_written_as_the_general_serialiser_writes_them(
    covered: list[str], parameters: list[tuple[str, object]]
) -> None:
    written = params_as_written(covered, dict(parameters))
    try:
        expected: str | None = general_params(covered, dict(parameters))
    except (ValueError, TypeError):
        expected = None  # the general serialiser refuses: so must this be left to it
    if written is not None:
        assert written == expected
