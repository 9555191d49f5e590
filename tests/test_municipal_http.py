"""The municipal issuance server as it runs: a real ``koufu municipal serve`` process over TLS on
loopback, a synthetic town in its SQLite database, requests signed with a center key."""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center import bridge_protocol
from center.municipal import service
from center.municipal.settings import typical
from center.signing import unb64url, unsealed_b64url
from center.store.schema_versions import make_engine
from center.terminals import TerminalCA
from devtools.card_proofs import Card, Cards
from devtools.synthetic import Person, Population, generate
from documents import (
    JST,
    Binding,
    BindingMismatch,
    TrustedKey,
    TrustList,
    b64url_encode,
    open_sealed,
    verify_sealing_key,
)
from documents.refusal import RefusalReason, open_refusal

CODE = "131016"


@dataclass
class Municipality:
    url: str
    client: httpx.Client
    center_key: ed25519.Ed25519PrivateKey
    people: Population
    trust: TrustList
    terminal_key: ec.EllipticCurvePrivateKey
    terminal_certificate: bytes
    stranger_certificate: bytes  # T-0001's key, certified by a CA the municipality does not trust
    cards: Cards  # the residents' cards, from the JPKI authority the municipality trusts
    database: str  # the municipality's database (its card links)

    def post(
        self,
        path: str,
        document: Any,
        *,
        key: ed25519.Ed25519PrivateKey | None = None,
        municipality: str = CODE,
        body: bytes | None = None,
        content_type: str | None = "application/json",
    ) -> httpx.Response:
        content = json.dumps(document).encode() if body is None else body
        headers = bridge_protocol.sign(key or self.center_key, municipality, "POST", path, content)
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.client.post(path, content=content, headers=headers)

    def holder(self, person: Person) -> Card:
        engine = make_engine(self.database)
        try:
            return self.cards.card(person.certificate_serial, engine, municipality=CODE)
        finally:
            engine.dispose()

    def request(
        self, order_id: str, person_index: int = 0, *, person: Person | None = None, **changes: Any
    ) -> dict[str, Any]:
        """An issue request as the center sends it, with the card's proof in session ``S-<order>``."""
        card = self.holder(person or self.people.ordinary[person_index])
        document = {
            "order_id": order_id,
            "session_id": f"S-{order_id}",
            "terminal_id": "T-0001",
            "store": "神田店",
            "printer": 1,
            "holder_proof": self.cards.proof(card, f"S-{order_id}", "T-0001").to_json(),
            "terminal_certificate": b64url_encode(self.terminal_certificate),
            "items": [{"certificate_type": "seal_registration", "copies": 1, "options": {}}],
        }
        document.update(changes)
        return document


def _wait_for_url(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if " listening on " in line:
                return line.split(" listening on ", 1)[1].strip()
        if process.poll() is not None:
            pytest.fail(f"the municipal server exited:\n{log.read_text(errors='replace')}")
        time.sleep(0.02)
    pytest.fail("the municipal server did not start")


@pytest.fixture(scope="module")
def municipality(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Municipality]:
    root = tmp_path_factory.mktemp("municipal-http")
    directory = root / "131016"
    center_key = ed25519.Ed25519PrivateKey.generate()
    ca = TerminalCA.load_or_create(root / "terminal-ca")
    terminal_key = ec.generate_private_key(ec.SECP256R1())
    certificate = ca.issue("T-0001", terminal_key.public_key())
    stranger = TerminalCA.load_or_create(root / "other-ca").issue("T-0001", terminal_key.public_key())
    settings = typical(CODE, "千代田区", "Chiyoda City", "東京都", "千代田区長　山田　太郎")
    cards = Cards.open(root / "authority", dt.datetime.now(dt.UTC))
    key = service.initialise(
        directory,
        settings,
        center_keys=[center_key.public_key()],
        terminal_cas=[ca.certificate],
        jpki_anchors=cards.anchors,
        jpki_signing_anchors=cards.signing_anchors,
    )
    assert service.read_jpki_signing_anchors(directory) == cards.signing_anchors != []
    engine = make_engine(service.default_url(directory))
    with engine.begin() as connection:
        people = generate(
            connection,
            municipality=CODE,
            name="千代田区",
            prefecture="東京都",
            households=80,
            seed=5,
            today=dt.datetime.now(JST).date(),
            first_serial=100,
        )
    engine.dispose()
    log = root / "server.log"
    env = {name: value for name, value in os.environ.items() if name != service.DB_ENV}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "koufu", "municipal", "serve", "--dir", str(directory), "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},
        )
    try:
        url = _wait_for_url(log, process)
        context = ssl.create_default_context(cafile=str(directory / "tls.crt"))
        published = TrustedKey.from_json(json.loads((directory / service.PUBLIC_KEY_FILE).read_text()))
        assert published.key_id == key.key_id
        with httpx.Client(base_url=url, verify=context, timeout=30) as client:
            yield Municipality(
                url,
                client,
                center_key,
                people,
                TrustList([published]),
                terminal_key,
                certificate.public_bytes(serialization.Encoding.DER),
                stranger.public_bytes(serialization.Encoding.DER),
                cards,
                service.default_url(directory),
            )
    finally:
        cards.close()
        process.terminate()
        process.wait(timeout=30)
    assert "千代田" not in log.read_text(errors="replace")  # no person's or place's data in its log


def test_health_needs_no_signature(municipality: Municipality) -> None:
    assert municipality.client.get("/v1/health").json() == {"status": "ok", "municipality": CODE}


def test_the_sealing_key_statement_needs_no_signature_and_verifies(municipality: Municipality) -> None:
    """``GET /v1/sealing-key``: the municipality's statement of its sealing key, signed by its
    published key, with its names from its settings; the same bytes asked again within the hour."""
    answer = municipality.client.get("/v1/sealing-key")
    assert answer.status_code == 200 and set(answer.json()) == {"municipality", "statement"}
    assert answer.json()["municipality"] == CODE
    now = dt.datetime.now(dt.UTC)
    stated = verify_sealing_key(unb64url(answer.json()["statement"]), municipality.trust, now=now)
    assert (stated.municipality, stated.name, stated.name_en, stated.prefecture) == (
        CODE,
        "千代田区",
        "Chiyoda City",
        "東京都",
    )
    assert now < stated.not_after <= now + dt.timedelta(days=7)
    assert municipality.client.post("/v1/sealing-key").json()["error"] == "method_not_allowed"


def test_the_router_s_refusals_have_the_refusals_shape(municipality: Municipality) -> None:
    """No such path, or not this method: ``{"error", "message"}`` as every refusal, never the web
    framework's ``{"detail": ...}``; signed or not (the route is found before the signature)."""
    for missing in (municipality.client.get("/v1/nothing"), municipality.post("/v1/nothing", {})):
        assert missing.status_code == 404, missing.text
        assert missing.json() == {"error": "not_found", "message": "Not Found"}
    wrong = municipality.client.get("/v1/issue")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json() == {"error": "method_not_allowed", "message": "Method Not Allowed"}


def test_a_signed_request_gets_copies_only_its_terminal_can_open(municipality: Municipality) -> None:
    document = municipality.request("O-1")
    holder = municipality.holder(municipality.people.ordinary[0]).holder_hash
    answer = municipality.post("/v1/issue", document)
    assert answer.status_code == 200, answer.text
    (copy,) = answer.json()["copies"]
    assert answer.json()["fee"] == copy["fee"] == 200
    opened = open_sealed(
        unsealed_b64url(copy["sealed"]),
        terminal_id="T-0001",
        terminal_key=municipality.terminal_key,
        trust=municipality.trust,
        expected=Binding("O-1", "S-O-1", "T-0001", holder),
    )
    assert opened.document.content["title"] == "印鑑登録証明書"
    assert opened.document.issue_number.text == copy["issue_number"]
    again = municipality.post("/v1/issue", document)  # a retry: the same copy
    assert again.status_code == 200 and again.json() == answer.json()
    conflict = municipality.post("/v1/issue", {**document, "printer": 2})
    assert conflict.status_code == 409 and conflict.json()["error"] == "order_conflict"


def test_copies_printed_then_an_order_voided(municipality: Municipality) -> None:
    printed = municipality.post("/v1/issue", municipality.request("O-2", 1)).json()
    numbers = [copy["issue_number"] for copy in printed["copies"]]
    assert municipality.post("/v1/orders/O-2/printed", {"issue_numbers": numbers}).status_code == 200
    refused = municipality.post("/v1/orders/O-2/void", {"reason": "timeout"})
    assert refused.status_code == 409 and refused.json()["error"] == "status_conflict"
    voided = municipality.post("/v1/issue", municipality.request("O-3", 1)).json()
    answer = municipality.post("/v1/orders/O-3/void", {"reason": "printer jam"})
    assert answer.status_code == 200 and answer.json()["voided"] == [voided["copies"][0]["issue_number"]]
    early = municipality.post("/v1/orders/O-late/void", {"reason": "order_timeout"})  # before its request
    assert early.status_code == 200 and early.json()["voided"] == []
    late = municipality.post("/v1/issue", municipality.request("O-late", 1))
    assert late.status_code == 409 and late.json()["error"] == "order_voided"  # never issued
    unknown = municipality.post("/v1/orders/O-none/void", {"reason": "x", "issue_numbers": ["1"]})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_order"
    bad = municipality.post("/v1/orders/O-3/printed", {"issue_numbers": "all"})
    assert bad.status_code == 400
    bad_void = municipality.post("/v1/orders/O-3/void", {"reason": "x", "issue_numbers": []})
    assert bad_void.status_code == 400


def sealed_reason(municipality: Municipality, answer: httpx.Response, session_id: str) -> RefusalReason:
    """What the kiosk opens of a refusal's sealed reason, with its terminal key."""
    return open_refusal(
        unb64url(answer.json()["sealed"]),
        terminal_id="T-0001",
        terminal_key=municipality.terminal_key,
        trust=municipality.trust,
        session_id=session_id,
        now=dt.datetime.now(dt.UTC),
    )


def test_refusals_about_a_person_are_generic_with_the_reason_sealed_to_the_terminal(
    municipality: Municipality,
) -> None:
    """The center reads one code for every reason about a person; the terminal opens the code and
    words the kiosk shows."""
    person = municipality.people.no_seal[0]
    answer = municipality.post("/v1/issue", municipality.request("O-4", person=person))
    assert answer.status_code == 422 and answer.json()["error"] == "refused_by_municipality"
    assert "印鑑" not in answer.text and "seal" not in answer.json()["message"]
    reason = sealed_reason(municipality, answer, "S-O-4")
    assert reason.code == "no_seal_registered" and "印鑑登録" in reason.message_ja
    protected = municipality.people.protected[0]
    shielded = municipality.post("/v1/issue", municipality.request("O-5", person=protected))
    assert shielded.status_code == 422
    assert {k: v for k, v in shielded.json().items() if k != "sealed"} == {
        k: v for k, v in answer.json().items() if k != "sealed"
    }  # a protection measure reads as a missing seal does
    assert sealed_reason(municipality, shielded, "S-O-5").code == "not_issuable_here"
    with pytest.raises(BindingMismatch):  # bound to its session
        sealed_reason(municipality, shielded, "S-O-4")
    too_many = [{"certificate_type": "seal_registration", "copies": 50, "options": {}}]
    public = municipality.post("/v1/issue", municipality.request("O-4b", items=too_many))
    assert public.status_code == 422 and public.json()["error"] == "too_many_copies"  # the order's shape
    assert "sealed" not in public.json()


def test_requests_not_from_the_center_or_replayed_are_refused(municipality: Municipality) -> None:
    body = json.dumps(municipality.request("O-6", 2)).encode()
    unsigned = municipality.client.post("/v1/issue", content=body)
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "unsigned_request"
    stranger = municipality.post("/v1/issue", None, key=ed25519.Ed25519PrivateKey.generate(), body=body)
    assert stranger.status_code == 401 and stranger.json()["error"] == "unknown_center_key"
    elsewhere = municipality.post("/v1/issue", None, municipality="131041", body=body)
    assert elsewhere.status_code == 401 and elsewhere.json()["error"] == "bad_signature"
    headers = bridge_protocol.sign(municipality.center_key, CODE, "POST", "/v1/issue", body)
    headers["Content-Type"] = "application/json"
    first = municipality.client.post("/v1/issue", content=body, headers=headers)
    assert first.status_code == 200, first.text
    replay = municipality.client.post("/v1/issue", content=body, headers=headers)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed_request"


def test_malformed_requests_and_untrusted_terminals(municipality: Municipality) -> None:
    not_json = municipality.post("/v1/issue", None, body=b"{not json")
    assert not_json.status_code == 400 and not_json.json()["error"] == "bad_request"
    malformed = municipality.post("/v1/issue", municipality.request("O-7", items=[]))
    assert malformed.status_code == 400 and "items" in malformed.json()["message"]
    huge = municipality.post("/v1/issue", None, body=b"[" + b"0," * 40_000 + b"0]")
    assert huge.status_code == 413
    untrusted = municipality.post(
        "/v1/issue",
        municipality.request("O-8", 3, terminal_certificate=b64url_encode(municipality.stranger_certificate)),
    )
    assert untrusted.status_code == 403 and untrusted.json()["error"] == "untrusted_terminal"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json; charset=latin-1"])
def test_a_body_not_sent_as_json_is_unsupported(municipality: Municipality, content_type: str | None) -> None:
    """A request body is declared ``application/json`` (checked once the signature is), whatever
    it holds: 415 ``unsupported_media_type``, nothing issued."""
    document = municipality.request("O-10", 5)
    refused = municipality.post("/v1/issue", document, content_type=content_type)
    assert (refused.status_code, refused.json()["error"]) == (415, "unsupported_media_type"), refused.text
    unsigned = municipality.client.post("/v1/issue", content=json.dumps(document).encode())
    assert unsigned.status_code == 401  # the signature first
    voided = municipality.post("/v1/orders/O-10/void", {"reason": "never issued"})
    assert voided.status_code == 200 and voided.json()["voided"] == []


def test_any_valid_json_form_is_read(municipality: Municipality) -> None:
    """Not canonical: whitespace, keys in any order, escaped characters, a charset parameter; the
    signature covers the bytes as sent."""
    document = municipality.request("O-11", 6)
    body = json.dumps(dict(reversed(document.items())), indent=2, ensure_ascii=True).encode()
    assert b"\\u" in body  # the store's name, escaped
    answer = municipality.post("/v1/issue", None, body=body, content_type="Application/JSON; charset=UTF-8")
    assert answer.status_code == 200, answer.text
    assert municipality.post("/v1/issue", document).json() == answer.json()  # the same request


def test_a_proof_that_does_not_prove_the_session_s_holder_is_forbidden(municipality: Municipality) -> None:
    """``holder_not_proven`` is an authorization failure (403), as an untrusted terminal is: the
    proof of session S-O-9 moved into another session serves neither an order nor an offer."""
    moved = municipality.request("O-9", 4, session_id="S-elsewhere")
    refused = municipality.post("/v1/issue", moved)
    assert (refused.status_code, refused.json()["error"]) == (403, "holder_not_proven"), refused.text
    assert set(refused.json()) == {"error", "message"}
    offer = {key: moved[key] for key in ("session_id", "terminal_id", "holder_proof", "terminal_certificate")}
    asked = municipality.post("/v1/offer", offer)
    assert (asked.status_code, asked.json()["error"]) == (403, "holder_not_proven"), asked.text


def test_the_command_line_generates_a_town_and_links_a_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools.cli import main as dev
    from koufu.cli import main as koufu

    directory = tmp_path / "131041"
    assert (
        koufu(
            [
                "municipal",
                "init",
                "--dir",
                str(directory),
                "--code",
                "131041",
                "--name",
                "中央区",
                "--name-en",
                "Chuo City",
                "--prefecture",
                "東京都",
                "--mayor",
                "中央区長　山田　花子",
            ]
        )
        == 0
    )
    assert dev(["town", "--dir", str(directory), "--households", "20", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "20 households" in out
    resident = int(out.rsplit("(resident id, certificate serial): ", 1)[1].split()[0])
    assert koufu(["municipal", "link", "--dir", str(directory), "77", str(resident)]) == 0
    assert koufu(["municipal", "link", "--dir", str(directory), "78", "999999"]) == 1  # no such resident
    engine = make_engine(service.default_url(directory))
    with engine.connect() as connection:
        from center.municipal import schema

        links = schema.card_links
        linked = connection.execute(links.select().where(links.c.resident_id == resident)).all()
    engine.dispose()
    assert [row.certificate_serial for row in linked] == [77]
    assert koufu(["municipal", "settings", "--dir", str(directory)]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["municipality"] == "131041"
