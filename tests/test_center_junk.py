"""Junk refusals do not take the audit chain's lock: a flood of requests that no enrolled terminal
can be held to (unsigned, malformed, from a terminal not enrolled), sent in parallel to the real
center over TLS while enrolled terminals open sessions. Every terminal is served; the junk leaves
only the housekeeping's count lines (``unattributed_requests``), whose counts are exact; a known
terminal's bad signature is still one audit line of its own; the chain verifies."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from center.config import CenterConfig
from center.protocol import sign_request
from center.refusal_tally import EVENT
from center.store.engine import make_engine
from center.store.tables import audit_log
from center.tls import trust
from devtools.stack import DevStack
from koufu.cli import main
from support.backend_stack import backend_stack

HOUSEKEEPING = 1.0  # seconds between a center process's count lines
JUNK_PER_KIND = 150
TERMINALS = 4
SESSIONS_EACH = 8


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """The stack with a housekeeping of a second; on PostgreSQL two center processes, each
    counting its own."""
    workers = 2 if request.param == "postgresql" else 1
    with backend_stack(
        request, tmp_path_factory, "junk", workers=workers, housekeeping=HOUSEKEEPING
    ) as stack:
        yield stack


def audit_lines(stack: DevStack, after: int) -> list[sa.Row[tuple[object, ...]]]:
    engine = make_engine(CenterConfig.load(stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    sa.select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
                ).all()
            )
    finally:
        engine.dispose()


def last_seq(stack: DevStack) -> int:
    engine = make_engine(CenterConfig.load(stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(sa.select(sa.func.coalesce(sa.func.max(audit_log.c.seq), 0))).scalar_one()
            )
    finally:
        engine.dispose()


def junk_headers(kind: str) -> dict[str, str]:
    """The headers of one junk request to ``POST /v1/sessions``."""
    if kind == "unsigned_request":
        return {}
    stranger = sign_request(ec.generate_private_key(ec.SECP256R1()), "T-9999", "POST", "/v1/sessions", b"")
    headers = stranger.as_dict()
    if kind == "malformed_signature":
        headers["Signature-Input"] = headers["Signature-Input"].replace(";created=", ';created="soon";was=')
    return headers


async def flood(stack: DevStack, kinds: list[str]) -> Counter[str]:
    """``JUNK_PER_KIND`` requests of each kind, 24 at a time; the refusals' codes as answered."""
    answered: Counter[str] = Counter()
    requests = [kind for kind in kinds for _ in range(JUNK_PER_KIND)]
    limits = httpx.Limits(max_connections=24)
    async with httpx.AsyncClient(
        base_url=stack.center_url, verify=trust(stack.center_tls), limits=limits, timeout=30
    ) as http:
        gate = asyncio.Semaphore(24)

        async def send(kind: str) -> None:
            async with gate:
                answer = await http.post("/v1/sessions", headers=junk_headers(kind))
            answered[f"{answer.status_code} {answer.json()['error']}"] += 1

        await asyncio.gather(*(send(kind) for kind in requests))
    return answered


def test_junk_is_counted_while_terminals_are_served(
    stack: DevStack, capsys: pytest.CaptureFixture[str]
) -> None:
    enrolled = [stack.enroll(f"T-J{index:03d}") for index in range(TERMINALS)]
    clients = [stack.client(terminal) for terminal in enrolled]
    stack.wait_until_open(clients[0])
    before = last_seq(stack)
    kinds = ["malformed_signature", "unknown_terminal", "unsigned_request"]

    def sessions(index: int) -> int:
        for _ in range(SESSIONS_EACH):
            clients[index].open_session()  # raises on any refusal
        return SESSIONS_EACH

    async def together() -> tuple[Counter[str], list[int]]:
        junk = asyncio.create_task(flood(stack, kinds))
        served = await asyncio.gather(*(asyncio.to_thread(sessions, index) for index in range(TERMINALS)))
        return await junk, list(served)

    started = time.monotonic()
    answered, served = asyncio.run(together())
    # a known terminal's request with a bad signature concerns that terminal: one line of its own
    forged = sign_request(ec.generate_private_key(ec.SECP256R1()), "T-J000", "POST", "/v1/sessions", b"")
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
        refused = http.post("/v1/sessions", headers=forged.as_dict())
    assert (refused.status_code, refused.json()["error"]) == (401, "bad_request_signature")
    for client in clients:
        client.close()

    assert served == [SESSIONS_EACH] * TERMINALS  # every authentication succeeded
    assert answered == {f"401 {kind}": JUNK_PER_KIND for kind in kinds}
    deadline = time.monotonic() + 10 * HOUSEKEEPING + 10
    while True:  # until the housekeeping has written every count
        lines = audit_lines(stack, before)
        counted: Counter[str] = Counter()
        for line in lines:
            if line.event == EVENT:
                counted[line.reason] += line.occurrences
        if counted == dict.fromkeys(kinds, JUNK_PER_KIND) or time.monotonic() > deadline:
            break
        time.sleep(HOUSEKEEPING / 2)
    elapsed = time.monotonic() - started
    assert counted == dict.fromkeys(kinds, JUNK_PER_KIND)
    summaries = [line for line in lines if line.event == EVENT]
    processes = 2 if stack.authority_db else 1
    rounds = elapsed / HOUSEKEEPING + 2
    assert len(summaries) <= len(kinds) * processes * rounds, len(summaries)  # not one a request
    assert all(line.outcome == "refused" and line.terminal_id is None for line in summaries)
    events = Counter(line.event for line in lines if line.event != EVENT)
    assert events == {"session_opened": TERMINALS * SESSIONS_EACH, "terminal_request": 1}
    [forged_line] = [line for line in lines if line.event == "terminal_request"]
    assert (forged_line.reason, forged_line.terminal_id) == ("bad_request_signature", "T-J000")
    assert main(["center", "audit-verify", "--dir", str(stack.center_dir)]) == 0
    assert "audit log intact" in capsys.readouterr().out


def test_a_stopping_center_writes_what_it_counted(stack: DevStack) -> None:
    """Counts since the last housekeeping are written when the process stops, not lost."""
    before = last_seq(stack)
    with httpx.Client(base_url=stack.center_url, verify=trust(stack.center_tls)) as http:
        for _ in range(3):
            assert http.post("/v1/sessions").status_code == 401
    stack.stop()
    lines = [line for line in audit_lines(stack, before) if line.event == EVENT]
    assert sum(line.occurrences for line in lines if line.reason == "unsigned_request") == 3
