"""The console's Fleet page (端末の稼働状況) against its real TLS listener, with httpx, on SQLite and
PostgreSQL: the terminals with their heartbeats' state (written by the center's own store
function at the console's clock), filtered and paged; a terminal's page with its history; an
operator suspends, reactivates and revokes a terminal, confirmed first, audited with the account's
name, and refused by the terminal API's authentication from its next request; municipal staff see
only their municipality's terminals (URL tampering answered 404) and change nothing; an auditor
reads and changes nothing; a change without the CSRF token is refused. The command line's
terminal commands are audited the same way."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest

from center import heartbeats, terminals
from center.errors import CenterError
from center.heartbeats import Heartbeat
from center.protocol import sign_request
from center.signing import Target
from center.store.driver import Database
from center.terminals import Authenticator, TerminalCA, request_credentials
from support.center_audit import lines_of
from support.console_people import enrolled, refusal
from support.console_server import (
    BACKENDS,
    OTHER_TOWN,
    TOWN,
    ConsoleClock,
    RunningConsole,
    backend_center,
    running_console,
)

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)
READY = Heartbeat("0.1.0", "ab" * 32, "ready", True, "up", None, 0, None)
MANY = 105  # more than a page (100)
SESSIONS = Target("POST", "/v1/sessions")


@dataclasses.dataclass
class Fleet:
    console: RunningConsole
    keys: dict[str, terminals.EnrolledTerminal]


@pytest.fixture(scope="module", params=BACKENDS)
def fleet(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """A console on a center with terminals in two towns' stores (T-A…, T-B…), one with no known
    municipality (T-X001), and many more (T-Z…) to page through; a few heartbeats."""
    config = backend_center(request, tmp_path_factory, "console-fleet")
    directory = config.directory
    ca = TerminalCA.load_or_create(directory)
    keys = {}
    engine = config.migrated_engine()
    with engine.begin() as connection:
        for terminal_id, town, chain in (
            ("T-A001", TOWN, "familymart"),
            ("T-A002", TOWN, "lawson"),
            ("T-A003", TOWN, "familymart"),
            ("T-B001", OTHER_TOWN, "lawson"),
            ("T-X001", None, None),
        ):
            keys[terminal_id] = terminals.enroll(
                connection, ca, terminal_id, f"店 {terminal_id}", NOW, municipality=town, chain=chain
            )
        for number in range(MANY):
            terminals.enroll(
                connection, ca, f"T-Z{number:04d}", "店", NOW, municipality=OTHER_TOWN, chain="seven"
            )
    engine.dispose()
    beats = [
        ("T-A001", READY, NOW),
        ("T-A002", dataclasses.replace(READY, printer="jam", change_owed=50), NOW),
        ("T-A002", dataclasses.replace(READY, printer="jam", change_owed=50), NOW + dt.timedelta(seconds=30)),
        ("T-A003", dataclasses.replace(READY, alarm="door"), NOW - dt.timedelta(minutes=40)),
        ("T-B001", READY, NOW - dt.timedelta(minutes=20)),
    ]

    async def receive() -> None:
        database = Database(config.database_url)
        try:
            for terminal_id, beat, at in beats:
                async with database.connection() as connection:
                    await heartbeats.record(connection, terminal_id, beat, at)
        finally:
            await database.close()

    asyncio.run(receive())
    with running_console(config, ConsoleClock(NOW + dt.timedelta(minutes=1))) as running:
        yield Fleet(running, keys)


def rows(page: httpx.Response) -> list[str]:
    return re.findall(r'<tr data-terminal="([A-Z0-9-]+)"', page.text)


def total(page: httpx.Response) -> int:
    found = re.search(r'data-total="(\d+)"', page.text)
    assert found, page.text[-2000:]
    return int(found.group(1))


def authenticated(fleet: Fleet, terminal_id: str, at: dt.datetime) -> str:
    """The terminal's next signed request, as the terminal API's authentication decides it."""
    key = fleet.keys[terminal_id]
    headers = sign_request(key.key, terminal_id, "POST", "/v1/sessions", b"", now=at).as_dict()

    async def attempt() -> str:
        database = Database(fleet.console.config.database_url)
        try:
            lowered = {name.lower(): value for name, value in headers.items()}
            return await Authenticator(database).authenticate(request_credentials(lowered, b""), SESSIONS, at)
        except CenterError as refused:
            return refused.code
        finally:
            await database.close()

    return asyncio.run(attempt())


# -- reading ----------------------------------------------------------------------------------------


def test_an_operator_sees_every_terminal_filtered_and_paged(fleet: Fleet) -> None:
    operator = enrolled(fleet.console, "operator")
    page = operator.client.get("/fleet")
    assert page.status_code == 200 and total(page) == 5 + MANY
    assert rows(page)[:5] == ["T-A001", "T-A002", "T-A003", "T-B001", "T-X001"] and len(rows(page)) == 100
    assert (
        'data-terminal="T-A002" data-status="online" data-conditions="change_owed printer_fault"' in page.text
    )
    following = re.search(r'id="next-page" href="/fleet\?([^"]+)"', page.text)
    assert following and following.group(1) == "after=T-Z0094"
    second = operator.client.get(f"/fleet?{following.group(1)}")
    assert rows(second) == [f"T-Z{n:04d}" for n in range(95, MANY)] and 'id="next-page"' not in second.text

    def listed(query: str) -> list[str]:
        answer = operator.client.get(f"/fleet?{query}")
        assert answer.status_code == 200, answer.text[-2000:]
        return rows(answer)

    assert listed("condition=alarm") == ["T-A003"]
    assert listed("condition=alarm&condition=printer_fault") == ["T-A002", "T-A003"]
    assert listed(f"municipality={TOWN}") == ["T-A001", "T-A002", "T-A003"]
    assert listed(f"municipality={TOWN}&chain=familymart") == ["T-A001", "T-A003"]
    # silent for more than 30 minutes: the one heard 41 minutes ago and those never heard
    assert listed("offline=30&chain=familymart") == ["T-A003"]
    assert listed("offline=15")[:3] == ["T-A003", "T-B001", "T-X001"]
    for bad in ("offline=soon", "condition=haunted", "chain=Family%20Mart", "municipality=12"):
        assert operator.client.get(f"/fleet?{bad}").status_code == 400, bad


def test_a_terminal_s_page_shows_its_state_and_history(fleet: Fleet) -> None:
    operator = enrolled(fleet.console, "operator")
    page = operator.client.get("/fleet/terminals/T-A002?lang=en")
    assert page.status_code == 200
    assert 'data-enrolment="active" data-status="online"' in page.text
    assert "Change owed, Printer fault" in page.text and "jam" in page.text
    assert page.text.count("<tr>") == 1 + 1  # the header and one history row (one change)
    assert 'id="review-suspend"' in page.text and 'id="review-revoke"' in page.text
    assert operator.client.get("/fleet/terminals/T-NOPE").status_code == 404
    assert operator.client.get("/fleet/terminals/not%20an%20id").status_code == 404


# -- the actions --------------------------------------------------------------------------------------


def test_an_operator_suspends_reactivates_and_revokes_a_terminal_confirmed_and_audited(fleet: Fleet) -> None:
    operator = enrolled(fleet.console, "operator")
    at = fleet.console.clock.now
    assert authenticated(fleet, "T-A001", at) == "T-A001"
    reviewed = operator.change("/fleet/terminals/T-A001/review", {"action": "suspend"})
    assert reviewed.status_code == 200 and 'id="confirm" data-action="suspend"' in reviewed.text
    assert authenticated(fleet, "T-A001", at) == "T-A001"  # the confirmation changes nothing

    done = operator.change("/fleet/terminals/T-A001/status", {"action": "suspend"})
    assert done.status_code == 303 and done.headers["location"] == "/fleet/terminals/T-A001?done=suspend"
    assert authenticated(fleet, "T-A001", at) == "terminal_suspended"
    page = operator.client.get(done.headers["location"])
    assert 'data-done="suspend"' in page.text and 'data-enrolment="suspended"' in page.text
    assert 'id="review-activate"' in page.text

    assert operator.change("/fleet/terminals/T-A001/status", {"action": "suspend"}).status_code == 409
    assert operator.change("/fleet/terminals/T-A001/status", {"action": "activate"}).status_code == 303
    assert authenticated(fleet, "T-A001", at) == "T-A001"
    assert operator.change("/fleet/terminals/T-A001/status", {"action": "revoke"}).status_code == 303
    assert authenticated(fleet, "T-A001", at) == "terminal_revoked"
    assert refusal(operator.change("/fleet/terminals/T-A001/status", {"action": "activate"})) == (
        409,
        "terminal_revoked",
    )
    assert "T-A001" not in rows(operator.client.get("/fleet")) and "T-A001" in rows(
        operator.client.get("/fleet?revoked=1")
    )
    lines = [
        (line.outcome, line.reason, line.actor, line.terminal_id)
        for line in lines_of(fleet.console.config, "terminal_status")
        if line.terminal_id == "T-A001"
    ]
    assert lines == [
        ("suspended", "suspend", operator.name, "T-A001"),
        ("active", "activate", operator.name, "T-A001"),
        ("revoked", "revoke", operator.name, "T-A001"),
    ]


def test_the_command_line_s_terminal_commands_are_audited_the_same_way(fleet: Fleet) -> None:
    from koufu.cli import main

    directory = str(fleet.console.config.directory)
    assert main(["center", "terminal", "suspend", "T-A003", "--dir", directory]) == 0
    assert authenticated(fleet, "T-A003", dt.datetime.now(dt.UTC)) == "terminal_suspended"
    assert main(["center", "terminal", "activate", "T-A003", "--dir", directory]) == 0
    lines = [
        (line.outcome, line.actor.startswith("cli:"))
        for line in lines_of(fleet.console.config, "terminal_status")
        if line.terminal_id == "T-A003"
    ]
    assert lines == [("suspended", True), ("active", True)]


# -- who may -----------------------------------------------------------------------------------------


def test_municipal_staff_see_only_their_municipality_s_terminals_and_change_none(fleet: Fleet) -> None:
    staff = enrolled(fleet.console, "municipal", TOWN)
    page = staff.client.get("/fleet?revoked=1")
    assert set(rows(page)) <= {"T-A001", "T-A002", "T-A003"} and "T-A002" in rows(page)
    assert staff.client.get(f"/fleet?municipality={TOWN}").status_code == 200
    assert staff.client.get(f"/fleet?municipality={OTHER_TOWN}").status_code == 404  # URL tampering
    assert staff.client.get("/fleet/terminals/T-A002").status_code == 200
    assert 'id="review-suspend"' not in staff.client.get("/fleet/terminals/T-A002").text
    for elsewhere in ("T-B001", "T-X001", "T-Z0001"):  # another town's store, a store of no known town
        assert staff.client.get(f"/fleet/terminals/{elsewhere}").status_code == 404
    assert staff.change("/fleet/terminals/T-A002/status", {"action": "suspend"}).status_code == 403
    assert staff.change("/fleet/terminals/T-B001/review", {"action": "suspend"}).status_code == 403
    assert authenticated(fleet, "T-A002", fleet.console.clock.now) == "T-A002"


def test_an_auditor_reads_every_terminal_and_changes_none(fleet: Fleet) -> None:
    auditor = enrolled(fleet.console, "auditor")
    assert total(auditor.client.get("/fleet")) >= 4 + MANY
    page = auditor.client.get("/fleet/terminals/T-B001")
    assert page.status_code == 200 and 'id="review-' not in page.text
    for path in ("/fleet/terminals/T-B001/review", "/fleet/terminals/T-B001/status"):
        assert auditor.change(path, {"action": "suspend"}).status_code == 403
    assert authenticated(fleet, "T-B001", fleet.console.clock.now) == "T-B001"


def test_a_change_without_the_session_s_csrf_token_is_refused(fleet: Fleet) -> None:
    operator = enrolled(fleet.console, "operator")
    without = operator.client.post("/fleet/terminals/T-B001/status", data={"action": "suspend"})
    assert refusal(without) == (403, "csrf_refused")
    forged = operator.client.post(
        "/fleet/terminals/T-B001/status", data={"action": "suspend", "csrf": "forged"}
    )
    assert refusal(forged) == (403, "csrf_refused")
    elsewhere = operator.change(
        "/fleet/terminals/T-B001/status", {"action": "suspend"}, origin="https://evil.example"
    )
    assert refusal(elsewhere) == (403, "cross_origin")
    assert authenticated(fleet, "T-B001", fleet.console.clock.now) == "T-B001"
