"""Conformance: an independent minimal terminal client (``support/conformance_client.py``), written
from ``docs/protocol.md`` and the vector files and importing nothing of the project, checked first
against the vectors, then against a running stack: session → proof → offer → order → open and
check every copy → printing → printed → settle → verify, and the refusals the specification names
(a replayed nonce, clock skew, another terminal's session, a used challenge).

This module imports the project only to start the stack and to provision what a kiosk is given:
the terminal's enrolment (id and key), the center's TLS CA, the municipality's published key, and
a resident's card (its certificate, and its signature over what the client asks it to sign).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from support import conformance_client as cc

TESTS = Path(__file__).resolve().parent
VECTORS = TESTS / "vectors"
CLIENT = TESTS / "support" / "conformance_client.py"
GENERAL = {"httpx", "cryptography", "cbor2", "base45", "http_sf", "__future__"}


# -- the client is independent ---------------------------------------------------------------


def foreign_imports(source: str) -> list[str]:
    """Every module ``source`` imports that is neither the standard library nor one of the general
    libraries allowed (relative imports count as foreign: they reach the tests' own helpers)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        found += [
            name
            for name in names
            if name.startswith(".")
            or not (name.split(".")[0] in sys.stdlib_module_names or name.split(".")[0] in GENERAL)
        ]
    return found


def test_the_client_imports_nothing_of_the_project() -> None:
    source = CLIENT.read_text(encoding="utf-8")
    assert "import httpx" in source and "hpke" in source  # the client itself was read
    assert foreign_imports(source) == []


def test_the_import_check_finds_the_project_however_imported() -> None:
    source = (
        "import json\nimport documents.canonical\nfrom center import signing\n"
        "def f():\n    from kiosk.center_link import x\n    import koufu\n"
        "from . import world\nfrom printing.page_code import y\nimport devtools, hardware\n"
    )
    assert foreign_imports(source) == [
        "documents.canonical",
        "center",
        ".",
        "printing.page_code",
        "devtools",
        "hardware",
        "kiosk.center_link",
        "koufu",
    ]


# -- the client against the vectors ----------------------------------------------------------


@pytest.fixture(scope="module")
def signing() -> dict[str, Any]:
    value: dict[str, Any] = json.loads((VECTORS / "request-signing.json").read_text(encoding="utf-8"))
    return value


@pytest.fixture(scope="module")
def sealing() -> dict[str, Any]:
    value: dict[str, Any] = json.loads((VECTORS / "sealing.json").read_text(encoding="utf-8"))
    return value


def test_content_digests_are_the_vectors(signing: dict[str, Any]) -> None:
    for case in signing["content_digests"]:
        assert cc.content_digest(bytes.fromhex(case["body_hex"])) == case["content_digest"]


def test_the_signature_base_and_headers_are_the_vectors(signing: dict[str, Any]) -> None:
    vector = signing["terminal"]
    request = vector["request"]
    body = request["body_utf8"].encode()
    target = request["url"].removeprefix("https://center.example")
    params = cc.signature_params(created=signing["created"], keyid=vector["keyid"], nonce=signing["nonce"])
    assert cc.content_digest(body) == vector["content_digest"]
    assert f"koufu={params}" == vector["signature_input"]
    base = cc.signature_base(request["method"], target, vector["content_digest"], params)
    assert base.decode() == vector["signature_base"]

    public = serialization.load_pem_public_key(vector["public_key_pem"].encode())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert cc.verify_signature(public, base, vector["signature"])
    assert not cc.verify_signature(public, base, vector["signature_flipped"])
    assert not cc.verify_signature(public, base.replace(b"/settle", b"/void"), vector["signature"])

    key = serialization.load_pem_private_key(vector["private_key_pem"].encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    headers = cc.sign_headers(
        key, vector["keyid"], "POST", target, body, created=signing["created"], nonce=signing["nonce"]
    )
    assert headers["Content-Digest"] == vector["content_digest"]
    assert headers["Signature-Input"] == vector["signature_input"]
    assert cc.verify_signature(public, base, headers["Signature"])  # ECDSA: randomised, so verified


def test_a_query_is_in_the_signature_base() -> None:
    base = cc.signature_base("get", "/v1/orders/x?a=1", cc.content_digest(b""), "()")
    assert b'"@method": GET\n"@path": /v1/orders/x\n"@query": ?a=1\n' in base


def _vector_keys(sealing: dict[str, Any]) -> tuple[ec.EllipticCurvePrivateKey, dict[str, cc.PublishedKey]]:
    terminal = ec.derive_private_key(int(sealing["terminal"]["private_key"], 16), ec.SECP256R1())
    assert terminal.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    ) == bytes.fromhex(sealing["terminal"]["public_key"])
    signer = ed25519.Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex(sealing["municipality"]["private_key"])
    )
    raw = signer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    entry = {
        "municipality": sealing["municipality"]["code"],
        "key_id": cc.key_id_of(raw),
        "public_key": cc.b64url_encode(raw),
        "not_after": None,
    }
    assert entry["key_id"] == sealing["municipality"]["key_id"]
    return terminal, cc.load_published_keys([entry])


def test_the_vector_copy_opens_and_checks(sealing: dict[str, Any]) -> None:
    terminal, keys = _vector_keys(sealing)
    vector = sealing["copy"]
    opened = vector["opened"]
    header = json.loads(vector["info"])
    assert cc.canonical_json(header).decode() == vector["info"]
    sealed = cc.b64url_encode(vector["envelope"].encode())
    plaintext = cc.open_envelope(vector["envelope"].encode(), terminal, header)
    assert plaintext.decode() == vector["plaintext"]
    binding = json.loads(vector["plaintext"])["document"]["binding"]
    now = dt.datetime.fromisoformat(vector["now"])
    copy = cc.open_copy(
        sealed,
        terminal_id=sealing["terminal"]["id"],
        key=terminal,
        issue_number=opened["issue_number"],
        keys=keys,
        binding=binding,
        now=now,
        check_page_codes=False,  # the vector's page codes are placeholders
    )
    assert copy.content_hash == opened["content_hash"]
    assert copy.key_id == opened["key_id"]
    assert copy.verification_code == opened["verification_code"]
    assert copy.page_codes == opened["page_codes"]

    # the checks can fail: another session in the binding, another issue number, another terminal
    with pytest.raises(cc.CheckFailed, match="binding_mismatch"):
        cc.open_copy(
            sealed,
            terminal_id=sealing["terminal"]["id"],
            key=terminal,
            issue_number=opened["issue_number"],
            keys=keys,
            binding={**binding, "session_id": "another"},
            now=now,
            check_page_codes=False,
        )
    with pytest.raises(cc.CheckFailed, match="envelope_header"):
        cc.open_copy(
            sealed,
            terminal_id=sealing["terminal"]["id"],
            key=terminal,
            issue_number=opened["issue_number"][:-1] + "3",
            keys=keys,
            binding=binding,
            now=now,
            check_page_codes=False,
        )
    relabelled = json.loads(vector["envelope"])
    relabelled["issue_number"] = opened["issue_number"][:-1] + "3"
    with pytest.raises(cc.CheckFailed, match="undecryptable"):
        cc.open_envelope(
            cc.canonical_json(relabelled), terminal, {**header, "issue_number": relabelled["issue_number"]}
        )
    with pytest.raises(cc.CheckFailed, match="not_for_this_terminal"):
        cc.open_envelope(vector["envelope"].encode(), terminal, {**header, "recipient": "T-0002"})
    with pytest.raises(cc.CheckFailed, match="untrusted_signer"):
        cc.open_copy(
            sealed,
            terminal_id=sealing["terminal"]["id"],
            key=terminal,
            issue_number=opened["issue_number"],
            keys={},
            binding=binding,
            now=now,
            check_page_codes=False,
        )


@pytest.mark.parametrize("kind", ["offer", "refusal"])
def test_the_vector_statements_open_and_check(sealing: dict[str, Any], kind: str) -> None:
    terminal, keys = _vector_keys(sealing)
    vector = sealing[kind]
    statement = json.loads(vector["plaintext"])[kind]
    now = dt.datetime.fromisoformat(vector["now"])
    arguments: dict[str, Any] = {
        "terminal_id": sealing["terminal"]["id"],
        "key": terminal,
        "keys": keys,
        "session_id": statement["session_id"],
        "holder_certificate": statement.get("holder_certificate"),
    }
    sealed = cc.b64url_encode(vector["envelope"].encode())
    content = cc.open_statement(kind, sealed, now=now, **arguments)
    expected = vector["opened"]["content"] if kind == "offer" else vector["opened"]
    assert content == expected
    with pytest.raises(cc.CheckFailed, match="stale_statement"):
        cc.open_statement(kind, sealed, now=now + dt.timedelta(minutes=11), **arguments)
    with pytest.raises(cc.CheckFailed, match="binding_mismatch"):
        cc.open_statement(kind, sealed, now=now, **{**arguments, "session_id": "S-OTHER"})
    other = "refusal" if kind == "offer" else "offer"
    with pytest.raises(cc.CheckFailed, match="envelope_header"):
        cc.open_statement(other, sealed, now=now, **arguments)


def test_base64url_is_read_strictly() -> None:
    assert cc.b64url_decode("AAE") == b"\x00\x01"
    for text in ("AAE=", "AA+E", "A", "AAF"):
        with pytest.raises(cc.CheckFailed):
            cc.b64url_decode(text)


def test_canonical_json_is_the_spec_form() -> None:
    value = {"b": [1, True, None], "a": '試験\u007f\n\x01"\\', "é": {}}
    assert cc.canonical_json(value) == '{"a":"試験\u007f\\n\\u0001\\"\\\\","b":[1,true,null],"é":{}}'.encode()
    with pytest.raises(cc.CheckFailed, match="not_canonical"):
        cc.parse_canonical(b'{"b":1, "a":2}')
    with pytest.raises(cc.CheckFailed, match="duplicate_key"):
        cc.parse_canonical(b'{"a":1,"a":1}')
