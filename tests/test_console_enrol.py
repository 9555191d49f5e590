"""A terminal enrolled from the console's Fleet page with a key made on the kiosk, end to end:
real authority and center processes over TLS (:mod:`devtools.stack`) and the console's real
application on the same center directory and database, on SQLite and PostgreSQL. The kiosk makes
its key and request (:mod:`kiosk.enrolment`), an operator pastes the request into the form, the
page shows the certificate's fingerprint and offers the bundle, the kiosk installs it, and the
terminal's signed heartbeat is accepted by the center's terminal API, trusting the center's TLS
certificate from the bundle. A request the center refuses is shown on the form with its code;
municipal staff and auditors may neither enrol nor place (403); a change without the CSRF token
is refused. A terminal enrolled before its store's municipality was recorded is placed from the
console and from the command line, audited old → new, and then municipal staff see it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from center.client import CenterClient
from center.config import CenterConfig
from center.enrolment import EnrolledTerminal, make_request
from center.messages import HeartbeatReport
from devtools.stack import DevStack, start_stack
from kiosk.enrolment import install_enrolment, request_enrolment
from koufu.cli import main
from support.center_audit import lines_of
from support.console_people import Person, enrolled, refusal
from support.console_server import OTHER_TOWN, TOWN, ConsoleClock, RunningConsole, running_console
from support.fixtures_postgres import PostgresServer
from support.heartbeat_reports import REPORT


@dataclasses.dataclass
class Center:
    stack: DevStack
    console: RunningConsole
    operator: Person


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def center(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    """The stack, two terminals enrolled the old way with no municipality (T-OLD1, T-OLD2), and the
    console on its center's directory, at the processes' own time (the center's API checks the
    terminal's signature time against it), with an operator signed in."""
    root = tmp_path_factory.mktemp(f"console-enrol-{request.param}")
    center_db = authority_db = None
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        center_db = server.url(server.create_database("enrol_center"))
        authority_db = server.url(server.create_database("enrol_authority"))
    stack = start_stack(
        root, center_db=center_db, authority_db=authority_db, topology="multi" if center_db else "single"
    )
    try:
        stack.enroll("T-OLD1", "古い店 一号")
        stack.enroll("T-OLD2", "古い店 二号")
        config = CenterConfig.load(stack.center_dir)
        with running_console(config, ConsoleClock(dt.datetime.now(dt.UTC))) as console:
            yield Center(stack, console, enrolled(console, "operator"))
    finally:
        stack.stop()


def enrolment_form(terminal_id: str, request: bytes | str, **more: str) -> dict[str, str]:
    csr = request.decode() if isinstance(request, bytes) else request
    return {"terminal_id": terminal_id, "store": "ファミリーマート 千代田店", "csr": csr, **more}


def fingerprint_shown(page: str) -> str:
    found = re.search(r'<code id="fingerprint">([0-9A-F:]+)</code>', page)
    assert found, page[-2000:]
    return found.group(1)


def test_a_terminal_enrolled_through_the_form_is_served_by_the_center_with_its_own_key(
    center: Center, tmp_path: Path
) -> None:
    kiosk = tmp_path / "terminal"
    request_enrolment(kiosk, "T-NEW1")
    operator = center.operator
    form = operator.client.get("/fleet/enrol")
    assert form.status_code == 200 and 'for="csr"' in form.text
    enrolled_page = operator.change(
        "/fleet/enrol",
        enrolment_form(
            "T-NEW1", (kiosk / "terminal.csr").read_bytes(), municipality=TOWN, chain="familymart"
        ),
    )
    assert enrolled_page.status_code == 200, enrolled_page.text[-2000:]
    shown = fingerprint_shown(enrolled_page.text)
    assert 'href="/fleet/terminals/T-NEW1/enrolment.json"' in enrolled_page.text
    bundle = operator.client.get("/fleet/terminals/T-NEW1/enrolment.json")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("application/json")
    assert "attachment" in bundle.headers["content-disposition"]
    assert "PRIVATE" not in bundle.text
    assert not list(center.stack.center_dir.rglob("*T-NEW1*"))  # nothing of the terminal's kept there

    installed = install_enrolment(kiosk, bundle.content)
    assert installed.fingerprint == shown
    terminal = EnrolledTerminal.load(kiosk)
    client = CenterClient(center.stack.center_url, terminal, verify=str(kiosk / "center-tls.crt"))
    try:
        client.heartbeat(HeartbeatReport.model_validate_json(json.dumps(REPORT)))
    finally:
        client.close()
    page = operator.client.get("/fleet/terminals/T-NEW1")
    assert 'data-status="online"' in page.text and "familymart" in page.text

    lines = [
        line for line in lines_of(center.console.config, "terminal_enrolled") if line.terminal_id == "T-NEW1"
    ]
    assert [(line.outcome, line.actor) for line in lines] == [("active", operator.name)]


def test_a_request_the_center_refuses_is_shown_on_the_form_with_its_code(center: Center) -> None:
    operator = center.operator
    p384 = make_request(ec.generate_private_key(ec.SECP384R1()), "T-BAD1").public_bytes(
        serialization.Encoding.PEM
    )
    p256 = make_request(ec.generate_private_key(ec.SECP256R1()), "T-OLD1").public_bytes(
        serialization.Encoding.PEM
    )
    for typed, expected in (
        (enrolment_form("T-BAD1", "not a request"), (400, "bad_csr")),
        (enrolment_form("T-BAD1", p384), (400, "csr_key")),
        (enrolment_form("T-BAD1", p256), (400, "csr_subject")),
        (enrolment_form("T-OLD1", p256), (409, "terminal_exists")),
        (enrolment_form("t-bad", p256), (400, "bad_terminal_id")),
        (enrolment_form("T-BAD1", p384, municipality="12"), (400, "bad_municipality")),
    ):
        answer = operator.change("/fleet/enrol", typed)
        assert refusal(answer) == expected
        assert 'id="enrol-form"' in answer.text  # the form again, with what was typed
    assert operator.client.get("/fleet/terminals/T-BAD1").status_code == 404


# -- who may ---------------------------------------------------------------------------------------


def test_municipal_staff_and_auditors_may_neither_enrol_nor_place(center: Center) -> None:
    request = make_request(ec.generate_private_key(ec.SECP256R1()), "T-NOPE").public_bytes(
        serialization.Encoding.PEM
    )
    for person in (enrolled(center.console, "municipal", TOWN), enrolled(center.console, "auditor")):
        assert refusal(person.client.get("/fleet/enrol")) == (403, "not_allowed")
        assert refusal(person.change("/fleet/enrol", enrolment_form("T-NOPE", request))) == (
            403,
            "not_allowed",
        )
        placed = person.change("/fleet/terminals/T-OLD2/place", {"store": "店", "municipality": TOWN})
        assert refusal(placed) == (403, "not_allowed")
        assert person.client.get("/fleet/terminals/T-OLD1/enrolment.json").status_code == 403
        assert 'id="enrol-link"' not in person.client.get("/fleet").text
    assert center.operator.client.get("/fleet/terminals/T-NOPE").status_code == 404


def test_a_change_without_the_session_s_csrf_token_is_refused(center: Center) -> None:
    operator = center.operator
    request = make_request(ec.generate_private_key(ec.SECP256R1()), "T-NOPE").public_bytes(
        serialization.Encoding.PEM
    )
    no_token = operator.client.post("/fleet/enrol", data=enrolment_form("T-NOPE", request))
    assert refusal(no_token) == (403, "csrf_refused")
    no_token = operator.client.post(
        "/fleet/terminals/T-OLD2/place", data={"store": "店", "municipality": TOWN}
    )
    assert refusal(no_token) == (403, "csrf_refused")
    elsewhere = operator.change(
        "/fleet/enrol", enrolment_form("T-NOPE", request), origin="https://evil.example"
    )
    assert refusal(elsewhere) == (403, "cross_origin")
    assert operator.client.get("/fleet/terminals/T-NOPE").status_code == 404


# -- placing ---------------------------------------------------------------------------------------


def test_terminals_placed_from_the_console_and_the_command_line_are_seen_by_municipal_staff(
    center: Center,
) -> None:
    operator = center.operator
    staff = enrolled(center.console, "municipal", TOWN)
    assert staff.client.get("/fleet/terminals/T-OLD1").status_code == 404  # no municipality yet
    assert 'id="place-form"' in operator.client.get("/fleet/terminals/T-OLD1").text

    placed = operator.change(
        "/fleet/terminals/T-OLD1/place", {"store": "古い店 一号", "municipality": TOWN, "chain": "lawson"}
    )
    assert placed.status_code == 303 and placed.headers["location"] == "/fleet/terminals/T-OLD1?done=placed"
    assert refusal(
        operator.change("/fleet/terminals/T-OLD1/place", {"store": "店", "municipality": "1"})
    ) == (
        400,
        "bad_municipality",
    )
    assert operator.change("/fleet/terminals/T-NONE/place", {"store": "店"}).status_code == 404
    directory = str(center.stack.center_dir)
    assert main(["center", "terminal", "place", "T-OLD2", "--dir", directory, "--municipality", TOWN]) == 0

    seen = staff.client.get("/fleet")
    assert {'data-terminal="T-OLD1"', 'data-terminal="T-OLD2"'} <= set(
        re.findall(r'data-terminal="[A-Z0-9-]+"', seen.text)
    )
    assert staff.client.get("/fleet/terminals/T-OLD1").status_code == 200
    chained = operator.client.get("/fleet", params={"chain": "lawson"})
    assert 'data-terminal="T-OLD1"' in chained.text
    assert (
        enrolled(center.console, "municipal", OTHER_TOWN).client.get("/fleet/terminals/T-OLD1").status_code
        == 404
    )

    lines = [
        line
        for line in lines_of(center.console.config, "terminal_placed")
        if line.terminal_id in ("T-OLD1", "T-OLD2")
    ]
    assert [(line.terminal_id, line.actor == operator.name, line.detail) for line in lines] == [
        ("T-OLD1", True, f"terminal T-OLD1: municipality None→{TOWN}; chain None→lawson"),
        ("T-OLD2", False, f"terminal T-OLD2: municipality None→{TOWN}"),
    ]
    assert lines[1].actor.startswith("cli:")
