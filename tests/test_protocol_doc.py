"""The protocol's specification (``docs/protocol.md``) cannot drift from the code: its error tables
name exactly the codes the center and a municipality answer (found in the source, not in a list
kept beside it), it names every route of the center's OpenAPI description, its Document and
binding fields are the model's, and its signature message and verification code derivation
compute what the code computes. The OpenAPI description has a schema for every success answer,
explains its security scheme and lists every error code.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import importlib
import json
import pkgutil
import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

import center
from center.api.error_codes import ERROR_CODES
from center.app import create_app
from center.calendar import ReasonCode
from center.errors import CenterError
from center.messages import ErrorResponse
from center.municipal.refusals import PUBLIC, RefusalCode
from center.municipal_client import MunicipalRefusal  # noqa: F401  (its CenterError subclasses, registered)
from documents import Binding, Document, IssueNumber, MunicipalKey, sign, verification_code
from documents.refusal import GENERIC_REFUSAL

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "protocol.md"

# -- reading the specification ---------------------------------------------------------------------


def section(text: str, heading: str) -> str:
    """The text under the heading that starts with ``heading`` (e.g. ``### 7.1``), up to the next
    heading of the same level or above."""
    level = heading.split(" ")[0]
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(heading + " ")]
    assert len(starts) == 1, f"docs/protocol.md has no single heading {heading!r}"
    body: list[str] = []
    for line in lines[starts[0] + 1 :]:
        marks = line.split(" ")[0]
        if marks and set(marks) == {"#"} and len(marks) <= len(level):
            break
        body.append(line)
    return "\n".join(body)


def table_rows(text: str) -> list[list[str]]:
    """The rows of the Markdown tables in ``text`` whose first cell is one backticked name."""
    rows = []
    for line in text.splitlines():
        if re.match(r"^\| `[^`]+` \|", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def table_names(text: str) -> list[str]:
    return [row[0].strip("`") for row in table_rows(text)]


def spec() -> str:
    return DOC.read_text(encoding="utf-8")


# -- reading the code ------------------------------------------------------------------------------


def _subclasses(kind: type) -> Iterator[type]:
    for sub in kind.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _argument(call: ast.Call, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "code":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


class Codes:
    """The error codes a part of the source gives: exact ones, f-string patterns, and the call
    sites whose code is computed (each must be accounted for by the test)."""

    def __init__(self) -> None:
        self.exact: set[str] = set()
        self.patterns: set[str] = set()
        self.computed: set[tuple[str, str]] = set()

    def take(self, node: ast.expr | None, where: str) -> None:
        if node is None:
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.exact.add(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = [
                re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z_]+" for part in node.values
            ]
            self.patterns.add("".join(parts))
        else:
            self.computed.add((where, ast.unparse(node)))

    def scan(self, files: list[Path], raisers: dict[str, int]) -> Codes:
        """Every code in ``files``: the code argument of a call of ``raisers`` (name → position of
        the code), a dict's ``"error"`` member, a ``.get("error", <default>)`` default, a class's
        ``code = "…"`` and the values of ``HTTP_CODES``."""
        for path in files:
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    name = _name(node)
                    if name in raisers:
                        self.take(_argument(node, raisers[name]), where)
                    elif name == "get" and len(node.args) == 2:
                        first, default = node.args
                        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
                        error_default = isinstance(first, ast.Constant) and first.value == "error"
                        if error_default or (owner is not None and ast.unparse(owner) == "HTTP_CODES"):
                            self.take(default, where)
                elif isinstance(node, ast.Dict):
                    for key, value in zip(node.keys, node.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "error":
                            self.take(value, where)
                elif isinstance(node, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id == "HTTP_CODES" for target in node.targets
                ):
                    assert isinstance(node.value, ast.Dict)
                    for value in node.value.values:
                        self.take(value, where)
                elif isinstance(node, ast.ClassDef):
                    for statement in node.body:
                        if isinstance(statement, ast.Assign) and [
                            ast.unparse(t) for t in statement.targets
                        ] == ["code"]:
                            self.take(statement.value, where)
        return self

    def cover(self, names: set[str]) -> None:
        """Each pattern must name at least one of ``names``."""
        for pattern in self.patterns:
            assert any(re.fullmatch(pattern, name) for name in names), (
                f"the code pattern {pattern!r} names no code of the specification"
            )

    def explains(self, name: str) -> bool:
        return name in self.exact or any(re.fullmatch(pattern, name) for pattern in self.patterns)


def python_files(*parts: str, skip: tuple[str, ...] = ()) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        path = ROOT / part
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [f for f in files if not any(f.relative_to(ROOT).as_posix().startswith(s) for s in skip)]


# the center's refusals whose code is computed, and where it comes from (checked below)
CENTER_COMPUTED = {
    # the signature checks' codes (SignatureRefused, scanned in center/signing.py)
    ("center/terminals.py", "refused.code"),
    # the municipality's refusal relayed: its public codes, the generic one, or "refused"
    ("center/municipal_client.py", "str(body.get('error', 'refused'))"),
    # not the terminal API's: a stale calendar save (the console's and the command line's), and
    # the console's preview of the calendar's answers (their codes: the calendar's, counted below)
    ("center/calendar_store.py", "CalendarChanged.code"),
    ("center/api/calendar_preview.py", "answer.code"),
    # the router's own refusals: HTTP_CODES (scanned)
    ("center/web_errors.py", "HTTP_CODES.get(error.status_code, 'http_error')"),
    # translations of exceptions already scanned (their code, as raised)
    ("center/api/answers.py", "error.code"),
    ("center/web_errors.py", "self.code"),
    ("center/web_errors.py", "code"),
}


def _import_the_center() -> None:
    """Every module of the center imported, so that every subclass of its errors is known
    whichever tests ran before (the scan finds a raise by its class's name)."""
    for module in pkgutil.walk_packages(center.__path__, "center."):
        if ".migrations" not in module.name and not module.name.startswith("center.console"):
            importlib.import_module(module.name)


def center_codes() -> Codes:
    _import_the_center()
    raisers = {kind.__name__: 0 for kind in (CenterError, *_subclasses(CenterError))}
    raisers |= {"SignatureRefused": 0, "ErrorAnswer": 1, "Refusal": 1}
    # the console (center/console) is not the terminal API: its refusals are its own pages
    skip = ("center/municipal/", "center/authority/", "center/console/")
    return Codes().scan(python_files("center", skip=skip), raisers)


def center_code_set(codes: Codes) -> set[str]:
    """Every code the center can answer: those written in its source, and those it takes from
    the service calendar and relays from a municipality."""
    calendar = {reason.value for reason in ReasonCode}  # ServiceClosed.from_decision
    relayed = {code.value for code in PUBLIC} | {GENERIC_REFUSAL}  # MunicipalRefusal
    return codes.exact | calendar | relayed


MUNICIPAL_COMPUTED = {
    ("center/bridge_protocol.py", "refused.code"),  # the signature checks' codes, scanned
    ("center/web_errors.py", "HTTP_CODES.get(error.status_code, 'http_error')"),  # the router's, scanned
    ("center/web_errors.py", "self.code"),  # ErrorAnswer's own, as raised
    ("center/web_errors.py", "code"),  # Refusal's, as raised (scanned)
    ("center/municipal/http.py", "error.code"),  # BridgeAuthError and IssuanceError, scanned
    ("center/municipal/http.py", "refusal.code.value"),  # RefusalCode: the refusal table
    ("center/municipal/http.py", "GENERIC_REFUSAL"),  # the refusal table
}


def municipal_codes() -> Codes:
    raisers = {"BridgeAuthError": 0, "SignatureRefused": 0, "ErrorAnswer": 1, "Refusal": 1}
    files = python_files(
        "center/municipal",
        "center/bridge_protocol.py",
        "center/signing.py",
        "center/body_limit.py",
        "center/web_errors.py",  # the router's own refusals (ROUTER_REFUSALS), the center's alike
        # the usage registrations (本籍地の利用登録) are the staff's command line's so far: no
        # route answers their codes yet (they join 7.2 with the routes that will)
        skip=("center/municipal/registrations",),
    )
    return Codes().scan(files, raisers)


# -- (a) the error tables --------------------------------------------------------------------------


def test_center_error_table_is_the_codes_the_center_answers() -> None:
    codes = center_codes()
    assert codes.computed == CENTER_COMPUTED, "a refusal whose code is computed: account for it here"
    table = table_names(section(spec(), "### 7.1"))
    assert len(table) == len(set(table)), "a code appears twice in the center's table"
    answered = center_code_set(codes)
    missing = answered - set(table)
    assert not missing, f"codes the center answers that docs/protocol.md 7.1 lacks: {sorted(missing)}"
    codes.cover(set(table))
    unknown = {name for name in table if not codes.explains(name) and name not in answered}
    assert not unknown, f"codes in docs/protocol.md 7.1 the center never answers: {sorted(unknown)}"


def test_a_refusal_s_members_are_the_error_body_s() -> None:
    """7.1 names every member a refusal may carry besides ``error`` and ``message``: exactly the
    fields of ``ErrorResponse`` (the OpenAPI schema of every refusal), each described there."""
    sentence = re.search(
        r"Besides `message`, a refusal may carry\s+(.+?), as noted", section(spec(), "### 7.1"), re.S
    )
    assert sentence is not None
    named = re.findall(r"`([a-z_]+)`", sentence.group(1))
    fields = ErrorResponse.model_fields
    assert named == [name for name in fields if name not in ("error", "message")]
    schema = openapi()["components"]["schemas"]["ErrorResponse"]["properties"]
    assert (
        "order_state" in schema["state"]["description"] and "order_voided" in schema["state"]["description"]
    )


def test_center_error_registry_is_the_table() -> None:
    """``center.api.error_codes`` (what the OpenAPI description lists) has the table's codes and
    statuses."""
    rows = {row[0].strip("`"): row[1] for row in table_rows(section(spec(), "### 7.1"))}
    assert set(ERROR_CODES) == set(rows)
    for code, error in ERROR_CODES.items():
        assert rows[code] == ("other" if error.status is None else str(error.status)), code


def test_municipal_error_tables_are_the_codes_a_municipality_answers() -> None:
    codes = municipal_codes()
    assert codes.computed == MUNICIPAL_COMPUTED, "a refusal whose code is computed: account for it here"
    text = spec()
    errors = table_names(section(text, "### 7.2"))
    refusal_rows = table_rows(section(text, "### 7.3"))
    refusals = [row[0].strip("`") for row in refusal_rows]
    assert len(errors) == len(set(errors)) and len(refusals) == len(set(refusals))
    # the refusals (422): every RefusalCode and the generic one, each public exactly when it is
    assert set(refusals) == {code.value for code in RefusalCode} | {GENERIC_REFUSAL}
    for name, public, *_ in refusal_rows:
        code = name.strip("`")
        if code != GENERIC_REFUSAL:
            assert public == ("yes" if RefusalCode(code) in PUBLIC else "no"), code
    # every other code a municipality answers
    codes.cover(set(errors))
    assert not codes.patterns
    assert set(errors) == codes.exact - set(refusals)


# -- (b) the routes --------------------------------------------------------------------------------


def openapi() -> dict[str, Any]:
    """The center's OpenAPI description, as ``/openapi.json`` serves it (no database is needed to
    describe the routes)."""
    document: dict[str, Any] = create_app(types.SimpleNamespace(database=None)).openapi()  # type: ignore[arg-type]
    return document


def test_every_route_of_the_center_is_specified() -> None:
    terminal = section(spec(), "### 4.1")
    described = openapi()["paths"]
    routes = {f"{method.upper()} {path}" for path, methods in described.items() for method in methods}
    missing = {route for route in routes if f"`{route}" not in terminal}
    assert not missing, f"routes docs/protocol.md 4.1 does not specify: {sorted(missing)}"
    named = set(re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /v1/[^`?]*)", terminal))
    assert named <= routes, f"docs/protocol.md 4.1 names routes the center lacks: {sorted(named - routes)}"


# -- (c) the OpenAPI description -------------------------------------------------------------------


def test_openapi_describes_every_answer_and_the_security() -> None:
    document = openapi()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                assert schema, f"{method.upper()} {path}: no schema for its {status} answer"
    schemes = document["components"]["securitySchemes"]
    assert schemes and all(scheme.get("description") for scheme in schemes.values())
    assert "docs/protocol.md" in document["info"]["description"]


def test_openapi_lists_every_error_code() -> None:
    text = json.dumps(openapi(), ensure_ascii=False)
    listed = {code for code in ERROR_CODES if f"`{code}`" in text}
    on_the_wire = {code for code, error in ERROR_CODES.items() if error.on_the_wire}
    assert on_the_wire <= listed, f"error codes the OpenAPI description lacks: {sorted(on_the_wire - listed)}"


def test_the_offer_schema_is_its_answer() -> None:
    """The offer's schema names exactly the fields the municipality answers (the center relays)."""
    document = openapi()
    answer = document["paths"]["/v1/sessions/{session_id}/offer"]["get"]["responses"]["200"]
    name = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schemas = document["components"]["schemas"]
    assert set(schemas[name]["properties"]) == {
        "municipality",
        "name",
        "name_en",
        "max_copies",
        "certificates",
        "sealed",
    }
    entry = schemas[name]["properties"]["certificates"]["additionalProperties"]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[entry]["required"]) == {"fee", "max_copies", "available", "reason"}


# -- (d) the documents -----------------------------------------------------------------------------


@pytest.fixture
def document() -> Document:
    binding = Binding("order-1", "session-1", "T-0001", hashlib.sha256(b"certificate").hexdigest())
    moment = dt.datetime(2026, 11, 23, 1, 2, 3, tzinfo=dt.UTC)
    number = IssueNumber(dt.date(2026, 11, 23), "131016", "T-0001", 1, 42)
    return Document(number, "resident_record", "131016", moment, binding, 1, {"title": "住民票の写し"})


def test_document_fields_are_the_models(document: Document) -> None:
    text = spec()
    assert table_names(section(text, "### 5.1")) == list(document.to_map())
    assert table_names(section(text, "### 5.2")) == list(document.binding.to_map())


def test_the_signature_is_specified(document: Document) -> None:
    """5.3: the COSE_Sign1, its protected header's bytes and its Sig_structure, as written."""
    text = section(spec(), "### 5.3")
    assert "`a2 01 27 04 48 <8 bytes>`" in text and "`[\"Signature1\", protected, h'', payload]`" in text
    key = MunicipalKey.generate(document.municipality)
    signed = sign(document, key)
    protected = bytes.fromhex("a201270448") + bytes.fromhex(key.key_id)
    structure = cbor2.dumps(["Signature1", protected, b"", document.canonical()], canonical=True)
    key.public_key.verify(signed.signature, structure)
    item = cbor2.loads(signed.cose().encoded())
    assert item.tag == 18 and list(item.value) == [protected, {}, document.canonical(), signed.signature]
    assert document.canonical() == cbor2.dumps(document.to_map(), canonical=True)
    assert document.content_hash() == hashlib.sha256(document.canonical()).hexdigest()


def _specified_verification_code(signature: bytes) -> str:
    """5.4, step by step."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    digest = hashlib.sha256(b"koufu-verify/1" + signature).digest()
    n = int.from_bytes(digest[:8], "big") >> 4
    symbols = "".join(alphabet[(n >> (5 * (11 - i))) & 0x1F] for i in range(12))
    return "-".join(symbols[i : i + 4] for i in range(0, 12, 4))


def test_verification_code_is_specified() -> None:
    text = section(spec(), "### 5.4")
    assert 'ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"' in text and '"koufu-verify/1"' in text
    key = ed25519.Ed25519PrivateKey.generate()
    for n in range(50):
        signature = key.sign(n.to_bytes(4, "big"))
        assert verification_code(signature) == _specified_verification_code(signature)
