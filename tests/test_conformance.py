"""Conformance: an independent minimal terminal client (``support/conformance_client.py`` and
``support/conformance_pages.py``), written from ``docs/protocol.md`` and the vector files and
importing nothing of the project, checked first against the vectors, then against a running stack
on SQLite and on PostgreSQL: session → proof → offer → order → open and check every copy (every
page code, each page's content computed by §5.8) → printing → printed → settle → verify the copy
and each page, for a seal registration, a resident record of two pages, a tax certificate, a
family register of two pages and a 附票; a refusal about the person, its sealed reason opened and
shown; and the refusals the specification names (a replayed nonce, clock skew, another terminal's
session, a used challenge).

This module imports the project only to start the stack, to set the town's settings (every
certificate at every hour), to choose residents from the town's records, and to provision what a
kiosk is given: the terminal's enrolment (id and key), the center's TLS CA, the municipality's
published key, and a resident's card (its certificate, and its signature over what the client
asks it to sign). ``tests/test_conformance_pages.py`` compares the client's pages with the
project's.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import datetime as dt
import json
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center.municipal import service as municipal_service
from center.municipal.issuer import load_settings, store_settings
from center.municipal.records import RecordStore
from center.store.schema_versions import make_engine
from devtools.specimens import household_size, register_size
from devtools.synthetic import Person
from documents import CertificateType
from support import conformance_client as cc
from support import conformance_pages as cp
from support.world import CODE, Pick, Resident, World, running_world

TESTS = Path(__file__).resolve().parent
VECTORS = TESTS / "vectors"
CLIENT = TESTS / "support"  # the client's modules: conformance_client.py, conformance_pages.py
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


@pytest.mark.parametrize(
    ("module", "sign"),
    [("conformance_client.py", "import httpx"), ("conformance_pages.py", "def page_contents")],
)
def test_the_client_imports_nothing_of_the_project(module: str, sign: str) -> None:
    source = (CLIENT / module).read_text(encoding="utf-8")
    assert sign in source  # the module itself was read
    assert foreign_imports(source) == []


def test_the_import_check_finds_the_project_however_imported() -> None:
    source = (
        "import json\nimport documents.cbor\nfrom center import signing\n"
        "def f():\n    from kiosk.center_link import x\n    import koufu\n"
        "from . import world\nfrom printing.page_code import y\nimport devtools, hardware\n"
    )
    assert foreign_imports(source) == [
        "documents.cbor",
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
    header = cc.deterministic(bytes.fromhex(vector["info"]))
    envelope = bytes.fromhex(vector["envelope"])
    sealed = cc.b64url_encode(envelope)
    plaintext = cc.open_envelope(envelope, terminal, header)
    assert plaintext.hex() == vector["plaintext"]
    binding = vector["signed"]["binding"]
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
    relabelled = cc.deterministic(envelope)
    relabelled["issue_number"] = opened["issue_number"][:-1] + "3"
    with pytest.raises(cc.CheckFailed, match="undecryptable"):
        cc.open_envelope(
            cbor2.dumps(relabelled, canonical=True),
            terminal,
            {**header, "issue_number": relabelled["issue_number"]},
        )
    with pytest.raises(cc.CheckFailed, match="not_for_this_terminal"):
        cc.open_envelope(envelope, terminal, {**header, "recipient": "T-0002"})
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
    statement = vector["signed"]
    now = dt.datetime.fromisoformat(vector["now"])
    arguments: dict[str, Any] = {
        "terminal_id": sealing["terminal"]["id"],
        "key": terminal,
        "keys": keys,
        "session_id": statement["session_id"],
        "holder_certificate": statement.get("holder_certificate"),
    }
    sealed = cc.b64url_encode(bytes.fromhex(vector["envelope"]))
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


def test_the_vector_refusal_is_read_and_shown(sealing: dict[str, Any]) -> None:
    terminal, keys = _vector_keys(sealing)
    vector = sealing["refusal"]
    statement = vector["signed"]
    answer = {
        "error": "refused_by_municipality",
        "message": "cannot be issued",
        "sealed": cc.b64url_encode(bytes.fromhex(vector["envelope"])),
    }
    arguments: dict[str, Any] = {
        "terminal_id": sealing["terminal"]["id"],
        "key": terminal,
        "keys": keys,
        "session_id": statement["session_id"],
        "now": dt.datetime.fromisoformat(vector["now"]),
    }
    shown = cc.read_refusal(answer, **arguments)
    assert shown == cc.Refusal(**vector["opened"])
    assert shown.code in shown.shown() and shown.message_ja in shown.shown()
    for wrong in ({**answer, "error": "municipality_error"}, {**answer, "sealed": None}, [answer]):
        with pytest.raises(cc.CheckFailed, match="refusal_answer"):
            cc.read_refusal(wrong, **arguments)
    with pytest.raises(cc.CheckFailed, match="binding_mismatch"):
        cc.read_refusal(answer, **{**arguments, "session_id": "S-OTHER"})


def test_base64url_is_read_strictly() -> None:
    assert cc.b64url_decode("AAE") == b"\x00\x01"
    for text in ("AAE=", "AA+E", "A", "AAF"):
        with pytest.raises(cc.CheckFailed):
            cc.b64url_decode(text)


def test_deterministic_cbor_is_the_spec_form() -> None:
    value = {"b": [1, True, None], "a": "試験", "aa": {}, 1: b"x"}
    data = cbor2.dumps(value, canonical=True)
    assert data.hex() == "a4014178616166e8a9a6e9a893616283 01f5f6".replace(" ", "") + "626161a0"
    assert cc.deterministic(data) == value
    with pytest.raises(cc.CheckFailed, match="not_deterministic"):
        cc.deterministic(bytes.fromhex("a2616201616102"))  # {"b": 1, "a": 2}: keys out of order
    with pytest.raises(cc.CheckFailed, match="not_deterministic"):
        cc.deterministic(bytes.fromhex("1801"))  # 1 in two bytes
    with pytest.raises(cc.CheckFailed, match="not_cbor"):
        cc.deterministic(bytes.fromhex("a2616101616101"))  # a duplicate key


# -- the client against a running stack ------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in running_world(request, tmp_path_factory, "conformance", 200):
        every_certificate_at_every_hour(world)
        yield world


def every_certificate_at_every_hour(world: World) -> None:
    """The town's settings as the tests need them: family registers and their attachments at any
    hour (weekdays 9–17 otherwise: the tests must not depend on when they run), and My Number on
    a resident record, so that every key of §5.8 can come."""
    engine = make_engine(world.town.database_url)
    try:
        with engine.begin() as connection:
            settings = load_settings(connection)
            offers = {
                kind: dataclasses.replace(
                    offer, hours=None, my_number=offer.my_number or kind is CertificateType.RESIDENT_RECORD
                )
                for kind, offer in settings.offers.items()
            }
            store_settings(connection, dataclasses.replace(settings, offers=offers), dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


def provision(world: World, terminal_id: str) -> cc.Terminal:
    """What a kiosk is given: its enrolment (id, key) and the center's URL and TLS CA."""
    enrolled = world.stack.enroll(terminal_id)
    return cc.Terminal(
        world.stack.center_url, enrolled.terminal_id, enrolled.key, ca_file=world.stack.center_tls
    )


@pytest.fixture(scope="module")
def published(world: World) -> dict[str, cc.PublishedKey]:
    """The kiosk's trust: the town's published key, as an array of published keys (§6.2)."""
    entry = json.loads((world.town.directory / municipal_service.PUBLIC_KEY_FILE).read_text(encoding="utf-8"))
    return cc.load_published_keys([entry])


@pytest.fixture(scope="module")
def terminal(world: World) -> Iterator[cc.Terminal]:
    client = provision(world, "T-CONF-1")
    yield client
    client.close()


def open_session(terminal: cc.Terminal) -> dict[str, Any]:
    """``POST /v1/sessions`` until the calendar the stack stored is read (403 until then)."""
    deadline = time.monotonic() + 30
    while True:
        answer = terminal.open_session()
        if answer.status_code != 403 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert answer.status_code == 201, answer.text
    session: dict[str, Any] = answer.json()
    assert set(session) == {"session_id", "challenge", "expires_at"}
    assert len(cc.b64url_decode(session["challenge"])) == 32  # unpadded base64url (§2, §4.1.2)
    return session


def authenticated(terminal: cc.Terminal, resident: Resident) -> str:
    session = open_session(terminal)
    answer = terminal.send_proof(
        session["session_id"], session["challenge"], resident.certificate, resident.sign
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["municipality"] == CODE
    return str(session["session_id"])


def refusal(answer: Any, status: int, code: str) -> None:
    assert (answer.status_code, answer.json().get("error")) == (status, code), answer.text


def first(test: Callable[[RecordStore, Person], bool]) -> Pick:
    return lambda records, people: next(person for person in people if test(records, person))


def longest_attachment(records: RecordStore, people: Sequence[Person]) -> Person:
    """The person whose 附票 has the most address lines (more than 12 make two pages: the town of
    the day may have none)."""
    return max(people, key=lambda person: register_size(records, person)[1])


@dataclasses.dataclass(frozen=True)
class Case:
    """One certificate asked for: with which options (from the offer's personal part), for whom
    of the town (else the next ordinary resident), and the fewest pages its copy has."""

    options: Callable[[dict[str, Any]], dict[str, Any]]
    pick: Pick | None = None
    pages: int = 1


CASES = {
    "seal_registration": Case(lambda personal: {}),
    "resident_record": Case(  # a household of five or more: two pages of four persons
        lambda personal: {
            "head_and_relationship": True,
            "domicile": True,
            "my_number": personal["my_number"],
        },
        first(lambda records, person: household_size(records, person) >= 5),
        pages=2,
    ),
    "tax": Case(lambda personal: {"kind": personal["tax_kinds"][-1], "tax_year": personal["tax_years"][0]}),
    "family_register": Case(  # four members or more: two pages of three
        lambda personal: {"scope": "full"},
        first(lambda records, person: register_size(records, person)[0] >= 4),
        pages=2,
    ),
    "family_register_attachment": Case(lambda personal: {"domicile": True}, longest_attachment),
}


def holder_named(resident: Resident, body: dict[str, Any]) -> bool:
    """Whether the copy's body names the holder (its own, or among its persons or members)."""
    entries = body.get("persons", body.get("members", [body]))
    return resident.name in {entry["name"] for entry in entries}


def offered(
    terminal: cc.Terminal, published: dict[str, cc.PublishedKey], session_id: str, holder: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The offer (§4.1.4) and its personal part, opened (§5.6)."""
    answer = terminal.request("GET", f"/v1/sessions/{session_id}/offer")
    assert answer.status_code == 200, answer.text
    offer: dict[str, Any] = answer.json()
    assert offer["municipality"] == CODE
    personal = cc.open_statement(
        "offer",
        offer["sealed"],
        terminal_id=terminal.terminal_id,
        key=terminal.key,
        keys=published,
        session_id=session_id,
        holder_certificate=holder,
        now=dt.datetime.now(dt.UTC),
    )
    return offer, personal


def opened_and_checked(
    terminal: cc.Terminal,
    published: dict[str, cc.PublishedKey],
    copy: dict[str, Any],
    binding: dict[str, str],
) -> cc.OpenedCopy:
    """A copy as a kiosk checks it before printing: §5.3 (envelope, signer, signature, issue
    number, binding), §5.4, each page code (§5.5), and each page's content (claim 7) against the
    pages §5.8 makes of the copy's content."""
    arguments: dict[str, Any] = {
        "terminal_id": terminal.terminal_id,
        "key": terminal.key,
        "issue_number": copy["issue_number"],
        "keys": published,
        "now": dt.datetime.now(dt.UTC),
    }
    opened = cc.open_copy(copy["sealed"], binding=binding, **arguments)
    document = opened.document
    assert document["pages"] == copy["pages"] == len(opened.pages)
    cp.check_page_contents(
        document["certificate_type"], document["content"], [page.page[7] for page in opened.pages]
    )
    # the binding is checked: the same copy for another session is refused
    with pytest.raises(cc.CheckFailed, match="binding_mismatch"):
        cc.open_copy(copy["sealed"], binding={**binding, "session_id": secrets.token_hex(8)}, **arguments)
    return opened


def verified(terminal: cc.Terminal, opened: cc.OpenedCopy) -> None:
    """What anyone holding the paper asks (§4.1.8): the copy's number and code, then each page's
    number (the copy's and ``/NN``) with the code its page code states; a wrong code is unknown."""
    document = opened.document
    questions = [(document["issue_number"], opened.verification_code)] + [
        (f"{document['issue_number']}/{number:02d}", page.page[5])
        for number, page in enumerate(opened.pages, start=1)
    ]
    for number, code in questions:
        answer = terminal.unsigned("GET", "/v1/verify", {"issue_number": number, "code": code})
        assert answer.status_code == 200, answer.text
        assert {key: answer.json()[key] for key in ("issue_number", "status", "municipality", "pages")} == {
            "issue_number": document["issue_number"],
            "status": "valid",
            "municipality": CODE,
            "pages": document["pages"],
        }
        assert answer.json()["content_hash"] == opened.content_hash
    wrong = "0000-0000-0000" if opened.verification_code != "0000-0000-0000" else "1111-1111-1111"
    answer = terminal.unsigned("GET", "/v1/verify", {"issue_number": document["issue_number"], "code": wrong})
    assert answer.json()["status"] == "unknown"


@pytest.mark.parametrize("certificate_type", list(CASES))
def test_a_resident_s_business_from_session_to_verification(
    world: World, terminal: cc.Terminal, published: dict[str, cc.PublishedKey], certificate_type: str
) -> None:
    case = CASES[certificate_type]
    resident = world.resident(pick=case.pick)
    holder = cc.holder_hash(resident.certificate)
    session_id = authenticated(terminal, resident)
    offer, personal = offered(terminal, published, session_id, holder)
    assert any(member["holder"] for member in personal["household"])
    offered_here = offer["certificates"][certificate_type]
    assert offered_here["available"] is True, offer

    item = {"certificate_type": certificate_type, "copies": 1, "options": case.options(personal)}
    order_body = {"idempotency_key": secrets.token_hex(8), "printer": 1, "items": [item]}
    answer = terminal.request("POST", f"/v1/sessions/{session_id}/orders", order_body)
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["state"] == "issued" and len(order["copies"]) == 1
    assert order["fee"] == sum(copy["fee"] for copy in order["copies"]) == offered_here["fee"]
    order_id = order["order_id"]

    binding = {
        "order_id": order_id,
        "session_id": session_id,
        "terminal_id": terminal.terminal_id,
        "holder_certificate": holder,
    }
    copies = [opened_and_checked(terminal, published, copy, binding) for copy in order["copies"]]
    for opened in copies:
        assert opened.document["certificate_type"] == certificate_type
        assert opened.document["pages"] >= case.pages
        assert holder_named(resident, opened.document["content"]["body"])

    answer = terminal.request("POST", f"/v1/orders/{order_id}/printing")
    assert (answer.status_code, answer.json()["state"]) == (200, "printing"), answer.text
    numbers = [copy["issue_number"] for copy in order["copies"]]
    answer = terminal.request("POST", f"/v1/orders/{order_id}/printed", {"issue_numbers": numbers})
    assert (answer.status_code, answer.json()["state"]) == (200, "printed"), answer.text
    refusal(
        terminal.request("POST", f"/v1/orders/{order_id}/settle", {"paid": order["fee"] + 10}),
        400,
        "wrong_amount",
    )
    answer = terminal.request("POST", f"/v1/orders/{order_id}/settle", {"paid": order["fee"]})
    assert (answer.status_code, answer.json()["state"]) == (200, "settled"), answer.text

    for opened in copies:
        verified(terminal, opened)


@pytest.mark.parametrize(
    ("pool", "certificate_type", "code", "words"),
    [
        ("no_seal", "seal_registration", "no_seal_registered", "印鑑登録"),
        ("protected", "resident_record", "not_issuable_here", "コンビニエンスストア"),
    ],
)
def test_a_refusal_about_the_person_is_opened_and_shown(
    world: World,
    terminal: cc.Terminal,
    published: dict[str, cc.PublishedKey],
    pool: str,
    certificate_type: str,
    code: str,
    words: str,
) -> None:
    """The center answers ``refused_by_municipality`` and nothing more; the reason is sealed to
    the terminal, which opens it with its own code and shows the code and the words (§7.3, §5.7).
    A resident without a seal is offered the rest; one under a protection measure is refused as a
    whole, the offer already."""
    resident = world.resident(pool)
    session_id = authenticated(terminal, resident)
    arguments: dict[str, Any] = {
        "terminal_id": terminal.terminal_id,
        "key": terminal.key,
        "keys": published,
        "session_id": session_id,
    }

    answer = terminal.request("GET", f"/v1/sessions/{session_id}/offer")
    if pool == "protected":
        refusal(answer, 422, "refused_by_municipality")
        assert cc.read_refusal(answer.json(), now=dt.datetime.now(dt.UTC), **arguments).code == code
    else:
        assert answer.status_code == 200, answer.text
        assert answer.json()["certificates"][certificate_type]["reason"] == "refused_by_municipality"
        _, personal = offered(terminal, published, session_id, cc.holder_hash(resident.certificate))
        assert personal["reasons"][certificate_type] == code

    item = {"certificate_type": certificate_type, "copies": 1, "options": {}}
    order_body = {"idempotency_key": secrets.token_hex(8), "printer": 1, "items": [item]}
    answer = terminal.request("POST", f"/v1/sessions/{session_id}/orders", order_body)
    refusal(answer, 422, "refused_by_municipality")
    said = answer.json()
    assert words not in said["message"] + said.get("message_ja", "")  # the center says nothing of it
    reason = cc.read_refusal(said, now=dt.datetime.now(dt.UTC), **arguments)
    shown = reason.shown()
    print(shown)  # what the screen says
    assert reason.code == code and f"({code})" in shown
    assert words in reason.message_ja and reason.message_ja in shown and reason.message_en in shown

    order_id = said["order_id"]
    answer = terminal.request("GET", f"/v1/orders/{order_id}")
    assert (answer.json()["state"], answer.json()["reason"]) == ("voided", "refused_by_municipality")
    answer = terminal.request("POST", f"/v1/orders/{order_id}/refunded")
    assert (answer.status_code, answer.json()["state"]) == (200, "refunded"), answer.text


def test_a_replayed_nonce_is_refused(world: World, terminal: cc.Terminal) -> None:
    nonce = cc.new_nonce()
    first = terminal.request("POST", "/v1/sessions", nonce=nonce)
    assert first.status_code == 201, first.text
    refusal(terminal.request("POST", "/v1/sessions", nonce=nonce), 401, "replayed_request")
    # §3.1's order: a request the route refuses has spent its nonce; one refused for its clock has not
    nonce = cc.new_nonce()
    missing = f"/v1/sessions/{'0' * 8}-0000-4000-8000-{'0' * 12}/offer"
    refusal(terminal.request("GET", missing, nonce=nonce), 404, "unknown_session")
    refusal(terminal.request("POST", "/v1/sessions", nonce=nonce), 401, "replayed_request")
    nonce = cc.new_nonce()
    refusal(
        terminal.request("POST", "/v1/sessions", nonce=nonce, created=int(time.time()) - 600),
        401,
        "clock_skew",
    )
    assert terminal.request("POST", "/v1/sessions", nonce=nonce).status_code == 201


def test_a_signature_ten_minutes_old_is_clock_skew(world: World, terminal: cc.Terminal) -> None:
    refusal(terminal.request("POST", "/v1/sessions", created=int(time.time()) - 600), 401, "clock_skew")
    refusal(terminal.request("POST", "/v1/sessions", created=int(time.time()) + 600), 401, "clock_skew")


def test_another_terminal_s_session_names_nothing(world: World, terminal: cc.Terminal) -> None:
    other = provision(world, "T-CONF-2")
    try:
        resident = world.resident()
        session = open_session(other)
        session_id = session["session_id"]
        answer = terminal.send_proof(session_id, session["challenge"], resident.certificate, resident.sign)
        refusal(answer, 404, "unknown_session")
        # the session is still the other terminal's, its challenge unused
        answer = other.send_proof(session_id, session["challenge"], resident.certificate, resident.sign)
        assert answer.status_code == 200, answer.text
        refusal(terminal.request("GET", f"/v1/sessions/{session_id}/offer"), 404, "unknown_session")
        order = {
            "idempotency_key": secrets.token_hex(8),
            "printer": 1,
            "items": [{"certificate_type": "seal_registration", "copies": 1}],
        }
        refusal(terminal.request("POST", f"/v1/sessions/{session_id}/orders", order), 404, "unknown_session")
    finally:
        other.close()


def test_a_used_challenge_is_refused(world: World, terminal: cc.Terminal) -> None:
    resident = world.resident()
    session = open_session(terminal)
    proof = (session["session_id"], session["challenge"], resident.certificate, resident.sign)
    assert terminal.send_proof(*proof).status_code == 200
    refusal(terminal.send_proof(*proof), 409, "challenge_used")


def test_a_proof_not_in_unpadded_base64url_is_invalid_base64(world: World, terminal: cc.Terminal) -> None:
    """§2, §4.1.3: the certificate and the signature are unpadded base64url; standard base64 and
    padding are refused, and the refusal leaves the challenge usable."""
    resident = world.resident()
    session = open_session(terminal)
    session_id = session["session_id"]
    challenge = cc.b64url_decode(session["challenge"])
    signature = resident.sign(cc.resident_binding(session_id, terminal.terminal_id, challenge))
    assert len(signature) % 3  # so its standard base64 is padded
    path = f"/v1/sessions/{session_id}/resident"
    for certificate_text, signature_text in (
        (cc.b64url_encode(resident.certificate), base64.b64encode(signature).decode()),
        (cc.b64url_encode(resident.certificate) + "==", cc.b64url_encode(signature)),
    ):
        body = {"certificate": certificate_text, "signature": signature_text}
        refusal(terminal.request("POST", path, body), 400, "invalid_base64")
    answer = terminal.send_proof(session_id, session["challenge"], resident.certificate, resident.sign)
    assert answer.status_code == 200, answer.text


def test_a_body_is_sent_as_json_in_any_valid_form(world: World, terminal: cc.Terminal) -> None:
    """§2, §3.1: a request body is sent as ``application/json`` (optionally ``charset=utf-8``),
    else ``415 unsupported_media_type`` once the signature is checked (its nonce is spent); the
    JSON itself need not be canonical."""
    resident = world.resident()
    session = open_session(terminal)
    session_id = session["session_id"]
    challenge = cc.b64url_decode(session["challenge"])
    signature = resident.sign(cc.resident_binding(session_id, terminal.terminal_id, challenge))
    proof = {"signature": cc.b64url_encode(signature), "certificate": cc.b64url_encode(resident.certificate)}
    body = json.dumps(proof, indent=1).encode()  # whitespace, keys not in order
    assert body != json.dumps(proof, sort_keys=True, separators=(",", ":")).encode()
    path = f"/v1/sessions/{session_id}/resident"

    def send(content_type: str | None, headers: dict[str, str] | None = None) -> Any:
        headers = dict(headers or cc.sign_headers(terminal.key, terminal.terminal_id, "POST", path, body))
        if content_type is not None:
            headers["Content-Type"] = content_type
        return terminal.http.request("POST", path, content=body, headers=headers)

    for content_type in (
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=iso-8859-1",
        "application/json, text/plain",
    ):
        refusal(send(content_type), 415, "unsupported_media_type")
    spent = cc.sign_headers(terminal.key, terminal.terminal_id, "POST", path, body)
    refusal(send(None, spent), 415, "unsupported_media_type")
    refusal(send("application/json", spent), 401, "replayed_request")  # its nonce was spent
    answer = send("application/json; charset=utf-8")
    assert answer.status_code == 200, answer.text
    assert answer.json()["session_id"] == session_id
