"""``POST /v1/heartbeats`` end to end: real authority and center processes over TLS, on SQLite and
PostgreSQL. A good heartbeat is kept as the terminal's latest state (and its changes as history);
a body that is not exactly the report is refused ``invalid_body``; the request is signed like
every terminal request, and a terminal can only ever report itself."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from center.client import CenterClient, CenterRefusal
from center.enrolment import EnrolledTerminal
from center.fleet import Condition, Status
from center.messages import HeartbeatReport
from center.protocol import sign_request
from center.tls import trust
from devtools.stack import DevStack
from support.backend_stack import backend_stack
from support.fleet_view import terminal_history, terminal_view
from support.heartbeat_reports import REPORT


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with backend_stack(request, tmp_path_factory, "heartbeats", calendar=None) as stack:
        yield stack


_numbers = iter(range(1, 1000))


@pytest.fixture
def terminal(stack: DevStack) -> EnrolledTerminal:
    return stack.enroll(f"T-{next(_numbers):04d}")


@pytest.fixture
def client(stack: DevStack, terminal: EnrolledTerminal) -> Iterator[CenterClient]:
    client = stack.client(terminal)
    yield client
    client.close()


def report(**changes: Any) -> HeartbeatReport:
    return HeartbeatReport.model_validate_json(json.dumps({**REPORT, **changes}))  # as on the wire


def test_a_good_heartbeat_is_the_terminals_latest_state_and_its_changes_are_history(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal
) -> None:
    before = dt.datetime.now(dt.UTC)
    first = client.heartbeat(report())
    assert before - dt.timedelta(seconds=5) <= first.received_at  # the center's time, in UTC
    session = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    client.heartbeat(report(last_session_at=session.isoformat()))  # no change of state
    client.heartbeat(report(printer="paper_out", alarm="tamper", change_owed=50))
    view = terminal_view(stack, terminal.terminal_id)
    assert view.status is Status.ONLINE
    assert view.conditions == {Condition.PRINTER_FAULT, Condition.ALARM, Condition.CHANGE_OWED}
    assert view.state is not None
    assert (view.state.printer, view.state.alarm, view.state.change_owed) == ("paper_out", "tamper", 50)
    assert view.state.last_session_at == session  # kept although the last report had it too
    assert [entry.state.printer for entry in terminal_history(stack, terminal.terminal_id)] == [
        "paper_out",
        "ready",
    ]


def test_a_time_with_an_offset_is_kept_in_utc(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal
) -> None:
    in_japan = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).astimezone(
        dt.timezone(dt.timedelta(hours=9))
    )
    in_japan = in_japan.replace(second=0, microsecond=0)
    client.heartbeat(report(last_session_at=in_japan.isoformat()))
    state = terminal_view(stack, terminal.terminal_id).state
    assert state is not None and state.last_session_at == in_japan
    assert state.last_session_at.utcoffset() == dt.timedelta(0)


def _in_the_future() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).replace(second=0, microsecond=0).isoformat()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[]",
        json.dumps({**REPORT, "session_id": "0b5c7c1e-0000-4000-8000-000000000000"}).encode(),  # unknown
        json.dumps({k: v for k, v in REPORT.items() if k != "alarm"}).encode(),  # missing (null is said)
        json.dumps({**REPORT, "build": ""}).encode(),
        json.dumps({**REPORT, "build": "0.1.0 (dev)"}).encode(),
        json.dumps({**REPORT, "build": "1" * 41}).encode(),
        json.dumps({**REPORT, "config_hash": "0F" * 32}).encode(),
        json.dumps({**REPORT, "config_hash": "0f" * 31}).encode(),
        json.dumps({**REPORT, "printer": "on_fire"}).encode(),
        json.dumps({**REPORT, "printer": None}).encode(),
        json.dumps({**REPORT, "card_reader": 1}).encode(),
        json.dumps({**REPORT, "card_reader": "true"}).encode(),
        json.dumps({**REPORT, "controller": "maybe"}).encode(),
        json.dumps({**REPORT, "alarm": "fire"}).encode(),
        json.dumps({**REPORT, "alarm": "staff_code"}).encode(),  # an alarm of the terminal, not a latch
        json.dumps({**REPORT, "change_owed": -10}).encode(),
        json.dumps({**REPORT, "change_owed": 1_000_001}).encode(),
        json.dumps({**REPORT, "change_owed": "50"}).encode(),
        json.dumps({**REPORT, "change_owed": 50.0}).encode(),
        json.dumps({**REPORT, "last_session_at": "2026-12-09T03:04:05Z"}).encode(),  # not to the minute
        json.dumps({**REPORT, "last_session_at": "2026-12-09T03:04:00"}).encode(),  # no offset
        json.dumps({**REPORT, "last_session_at": "0001-01-01T00:00:00+09:00"}).encode(),
        json.dumps({**REPORT, "last_session_at": "9999-12-31T23:59:00-12:00"}).encode(),
        json.dumps({**REPORT, "last_session_at": 1796000000}).encode(),
        json.dumps({**REPORT, "last_session_at": "yesterday"}).encode(),
    ],
)
def test_anything_but_the_report_is_refused(
    client: CenterClient, terminal: EnrolledTerminal, body: bytes
) -> None:
    answer = client.request("POST", "/v1/heartbeats", raw=body)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_body")


def test_a_session_that_ends_in_the_centers_future_is_refused_and_nothing_is_kept(
    stack: DevStack, client: CenterClient, terminal: EnrolledTerminal
) -> None:
    with pytest.raises(CenterRefusal) as refused:
        client.heartbeat(report(last_session_at=_in_the_future()))
    assert (refused.value.status, refused.value.code) == (400, "invalid_body")
    assert terminal_view(stack, terminal.terminal_id).status is Status.NEVER_SEEN


def test_a_body_over_the_limit_is_refused_as_it_arrives(client: CenterClient) -> None:
    answer = client.request("POST", "/v1/heartbeats", raw=b" " * 70_000)
    assert (answer.status_code, answer.json()["error"]) == (413, "body_too_large")


def test_a_heartbeat_is_signed_like_every_terminal_request(
    stack: DevStack, terminal: EnrolledTerminal
) -> None:
    body = json.dumps(REPORT).encode()
    other = stack.enroll(f"T-{next(_numbers):04d}")
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:

        def post(headers: dict[str, str]) -> tuple[int, str]:
            sent = {"content-type": "application/json", **headers} if headers else headers
            answer = http.post("/v1/heartbeats", content=body, headers=sent)
            return answer.status_code, answer.json().get("error", "")

        assert post({}) == (401, "unsigned_request")
        # another terminal's key under this terminal's id
        forged = sign_request(other.key, terminal.terminal_id, "POST", "/v1/heartbeats", body).as_dict()
        assert post(forged) == (401, "bad_request_signature")
        signed = sign_request(terminal.key, terminal.terminal_id, "POST", "/v1/heartbeats", body).as_dict()
        assert post(signed)[0] == 200
        assert post(signed) == (401, "replayed_request")
        for_another_path = sign_request(terminal.key, terminal.terminal_id, "POST", "/v1/sessions", body)
        assert post(for_another_path.as_dict()) == (401, "bad_request_signature")
        # a terminal reports only itself: the signer's id is the terminal the state is kept for
        mine = sign_request(other.key, other.terminal_id, "POST", "/v1/heartbeats", body).as_dict()
        assert post(mine)[0] == 200
    assert terminal_view(stack, other.terminal_id).status is Status.ONLINE


def test_a_suspended_terminals_heartbeat_is_refused(stack: DevStack, terminal: EnrolledTerminal) -> None:
    from koufu.cli import main

    client = stack.client(terminal)
    client.heartbeat(report())
    assert main(["center", "terminal", "suspend", terminal.terminal_id, "--dir", str(stack.center_dir)]) == 0
    with pytest.raises(CenterRefusal) as refused:
        client.heartbeat(report(printer="jam"))
    assert (refused.value.status, refused.value.code) == (403, "terminal_suspended")
    state = terminal_view(stack, terminal.terminal_id).state
    assert state is not None and state.printer == "ready"
    client.close()


def test_the_openapi_description_names_the_report(stack: DevStack) -> None:
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
        described = http.get("/openapi.json").json()
    operation = described["paths"]["/v1/heartbeats"]["post"]
    assert operation["security"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(REPORT)


@pytest.fixture(scope="module", params=["postgresql"])
def two_workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevStack]:
    """A center of two worker processes on PostgreSQL, each keeping its heartbeats in batches."""
    with backend_stack(request, tmp_path_factory, "two-workers", calendar=None, workers=2) as stack:
        yield stack


def test_two_workers_refuse_a_replay_and_a_suspended_terminal_on_the_next_heartbeat(
    two_workers: DevStack,
) -> None:
    from koufu.cli import main

    stack, terminal = two_workers, two_workers.enroll("T-0900")

    def post(signed: dict[str, str], body: bytes) -> tuple[int, str]:
        # a new connection each time: either worker may answer it
        with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
            headers = {"content-type": "application/json", **signed}
            answer = http.post("/v1/heartbeats", content=body, headers=headers)
            return answer.status_code, answer.json().get("error", "")

    def fresh(**changes: Any) -> tuple[dict[str, str], bytes]:
        body = json.dumps({**REPORT, **changes}).encode()
        return sign_request(
            terminal.key, terminal.terminal_id, "POST", "/v1/heartbeats", body
        ).as_dict(), body

    for _ in range(8):  # so that both workers know the terminal's key
        assert post(*fresh())[0] == 200
    signed, body = fresh(printer="jam")
    assert post(signed, body)[0] == 200
    assert {post(signed, body) for _ in range(6)} == {(401, "replayed_request")}
    assert main(["center", "terminal", "suspend", terminal.terminal_id, "--dir", str(stack.center_dir)]) == 0
    assert {post(*fresh(printer="ready")) for _ in range(6)} == {(403, "terminal_suspended")}
    state = terminal_view(stack, terminal.terminal_id).state
    assert state is not None and state.printer == "jam"
    assert [entry.state.printer for entry in terminal_history(stack, terminal.terminal_id)] == [
        "jam",
        "ready",
    ]
