"""A center process group that serves heartbeats only (``koufu center serve --role heartbeats
--nice K``), beside the center on the same PostgreSQL database: real authority and center
processes over TLS. It answers ``POST /v1/heartbeats`` and ``GET /v1/health`` and refuses every
other path as the router refuses an unknown one; it authenticates as the center does (a replay
across the two groups, a suspended terminal); its processes run at the niceness asked; and a kiosk
whose settings name ``heartbeat_url`` sends its heartbeats there."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from center.config import initialise
from center.enrolment import EnrolledTerminal
from center.protocol import sign_request
from center.tls import trust
from devtools.stack import DevStack
from hardware.cardsim.inprocess import InProcessReader
from hardware.printer import PrinterCondition
from kiosk.assembly import assemble
from kiosk.config import KioskConfig
from kiosk.headless import HeadlessScreen
from support.backend_stack import backend_stack
from support.fleet_view import terminal_history, terminal_view
from support.heartbeat_reports import REPORT
from support.tcp_proxy import TcpProxy
from support.waiting import eventually

NICE = 7  # the group's niceness step here (the stack's default is 10)
_numbers = iter(range(1, 1000))


@pytest.fixture(scope="module", params=["postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The center (one process) and a heartbeat group of two worker processes at niceness +7."""
    with backend_stack(
        request, tmp_path_factory, "heartbeat-group", heartbeat_workers=2, heartbeat_nice=NICE
    ) as stack:
        yield stack


def post(url: str, stack: DevStack, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """A new connection each time (either worker of a group may answer it): status and code."""
    with httpx.Client(base_url=url, verify=trust(stack.center_tls)) as http:
        answer = http.post(path, content=body, headers={"content-type": "application/json", **headers})
        return answer.status_code, answer.json().get("error", "")


def signed(terminal: EnrolledTerminal, **changes: Any) -> tuple[bytes, dict[str, str]]:
    """A heartbeat's body and its signed headers."""
    body = json.dumps({**REPORT, **changes}).encode()
    return body, sign_request(terminal.key, terminal.terminal_id, "POST", "/v1/heartbeats", body).as_dict()


def enrolled(stack: DevStack) -> EnrolledTerminal:
    return stack.enroll(f"T-{next(_numbers):04d}")


def test_the_group_answers_heartbeats_and_health_and_refuses_every_other_path(stack: DevStack) -> None:
    terminal = enrolled(stack)
    assert (
        post(stack.heartbeat_url, stack, "/v1/heartbeats", *signed(terminal, printer="paper_low"))[0] == 200
    )
    view = terminal_view(stack, terminal.terminal_id)  # kept where the center reads it
    assert view.state is not None and view.state.printer == "paper_low"
    with httpx.Client(base_url=stack.heartbeat_url, verify=trust(stack.center_tls)) as http:
        assert http.get("/v1/health").json() == {"status": "ok"}
        for method, path in [
            ("POST", "/v1/sessions"),
            ("POST", "/v1/terminal/alarms"),
            ("GET", "/v1/verify"),
            ("GET", "/openapi.json"),
            ("GET", "/docs"),
            ("GET", "/"),
        ]:
            answer = http.request(method, path, content=b"{}")
            assert answer.status_code == 404, path
            assert answer.json() == {"error": "not_found", "message": "Not Found"}, path
        wrong = http.get("/v1/heartbeats")
        assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
        assert http.get("/openapi.json").status_code == 200  # the center still serves everything


def test_the_group_authenticates_as_the_center_does(stack: DevStack) -> None:
    terminal, other = enrolled(stack), enrolled(stack)
    body, headers = signed(terminal)
    assert post(stack.heartbeat_url, stack, "/v1/heartbeats", body, {}) == (401, "unsigned_request")
    forged = sign_request(other.key, terminal.terminal_id, "POST", "/v1/heartbeats", body).as_dict()
    assert post(stack.heartbeat_url, stack, "/v1/heartbeats", body, forged) == (401, "bad_request_signature")
    too_big = b" " * 70_000
    assert post(stack.heartbeat_url, stack, "/v1/heartbeats", too_big, headers) == (413, "body_too_large")
    assert post(stack.heartbeat_url, stack, "/v1/heartbeats", body, headers)[0] == 200
    assert terminal_view(stack, terminal.terminal_id).state is not None


def test_a_replay_is_refused_across_the_center_and_the_group(stack: DevStack) -> None:
    terminal = enrolled(stack)
    for first, second in [
        (stack.center_url, stack.heartbeat_url),
        (stack.heartbeat_url, stack.center_url),
    ]:
        for url in (first, second, first, second):  # every worker of either group knows the terminal
            assert post(url, stack, "/v1/heartbeats", *signed(terminal))[0] == 200
        body, headers = signed(terminal, printer="jam")
        assert post(first, stack, "/v1/heartbeats", body, headers)[0] == 200
        assert {post(second, stack, "/v1/heartbeats", body, headers) for _ in range(4)} == {
            (401, "replayed_request")
        }
        assert post(first, stack, "/v1/heartbeats", body, headers) == (401, "replayed_request")


def test_a_terminal_suspended_at_the_center_is_refused_by_the_group_on_its_next_heartbeat(
    stack: DevStack,
) -> None:
    from koufu.cli import main

    terminal = enrolled(stack)
    for _ in range(6):  # both workers of the group know the terminal's key
        assert post(stack.heartbeat_url, stack, "/v1/heartbeats", *signed(terminal, printer="jam"))[0] == 200
    assert main(["center", "terminal", "suspend", terminal.terminal_id, "--dir", str(stack.center_dir)]) == 0
    refusals = {
        post(stack.heartbeat_url, stack, "/v1/heartbeats", *signed(terminal, printer="ready"))
        for _ in range(6)
    }
    assert refusals == {(403, "terminal_suspended")}
    state = terminal_view(stack, terminal.terminal_id).state
    assert state is not None and state.printer == "jam"
    assert [entry.state.printer for entry in terminal_history(stack, terminal.terminal_id)] == ["jam"]


def _tree(root: int) -> list[int]:
    """``root`` and every process descending from it (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return found


def _niceness(pid: int) -> int:
    """The process's nice value, field 19 of /proc/<pid>/stat."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_the_groups_processes_run_at_the_niceness_asked_and_the_centers_do_not(stack: DevStack) -> None:
    assert stack.heartbeat_process is not None and stack.center_process is not None
    own = os.getpriority(os.PRIO_PROCESS, 0)  # the stack's processes start at the test's niceness
    group = _tree(stack.heartbeat_process.pid)
    assert len(group) >= 3  # uvicorn's supervisor and its two workers
    assert {_niceness(pid) for pid in group} == {min(19, own + NICE)}
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in group} == {min(19, own + NICE)}
    assert {_niceness(pid) for pid in _tree(stack.center_process.pid)} == {own}


def test_a_heartbeat_group_needs_topology_multi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from koufu.cli import main

    initialise(tmp_path / "center", None, "single")
    assert main(["center", "serve", "--dir", str(tmp_path / "center"), "--role", "heartbeats"]) != 0
    assert "needs topology 'multi'" in capsys.readouterr().err


def test_a_kiosk_sends_its_heartbeats_to_its_heartbeat_url(stack: DevStack) -> None:
    """The heartbeat group behind a proxy the test can take down: while it is down the kiosk's
    heartbeats fail (the center itself is up), and once it is back they arrive."""
    port = int(stack.heartbeat_url.rsplit(":", 1)[1])
    with TcpProxy(port) as proxy:
        terminal_id = f"T-{next(_numbers):04d}"
        path = stack.kiosk_config(terminal_id, reader="inprocess", heartbeat_url=proxy.url())
        config = KioskConfig.load(path)
        assert (config.heartbeat_address, config.center_url) == (proxy.url(), stack.center_url)
        proxy.down()
        parts = assemble(config, HeadlessScreen(), reader=InProcessReader())
        try:
            assert parts.heartbeats is not None
            parts.heartbeats.soonest = 0.05
            parts.heartbeats.start()
            eventually(lambda: parts.heartbeats is not None and parts.heartbeats.failed >= 1, "a failure")
            assert terminal_view(stack, terminal_id).state is None  # nothing went to the center
            proxy.up()
            parts.devices.printer.state = PrinterCondition.PAPER_OUT
            parts.heartbeats.poke()

            def arrived() -> bool:
                state = terminal_view(stack, terminal_id).state
                return state is not None and state.printer == "paper_out"

            eventually(arrived, "the heartbeat through the heartbeat group")
            assert proxy.accepted >= 2
        finally:
            parts.close()


@pytest.mark.parametrize("step", ["-1", "20"])
def test_a_niceness_step_the_center_cannot_take_is_refused(tmp_path: Path, step: str) -> None:
    """Raising one's priority needs root; 19 is the lowest there is."""
    from koufu.cli import main

    with pytest.raises(SystemExit):
        main(["center", "serve", "--dir", str(tmp_path), "--role", "heartbeats", "--nice", step])
