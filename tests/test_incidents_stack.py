"""Stopping issuance now (交付停止) at a running center: real authority, center and municipal server
processes over TLS, terminals signing their requests, cards signing their sessions, the operator
at the command line (``koufu center stop | resume``), and a headless kiosk.

On PostgreSQL the center runs two worker processes (topology ``multi``): a stop set while both
serve refuses the next request whichever worker answers it, and lifting it lets the next one
through. Which worker answered is read from ``/proc`` (:mod:`support.serving_worker`), and
requests are made on new connections until each worker has answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from center.audit import verify_chain
from center.client import CenterClient, CenterRefusal, OpenedSession
from center.config import CenterConfig
from center.enrolment import EnrolledTerminal
from center.incidents import IssuanceStop, Scope, StopReason
from center.incidents_store import lift_stop, set_stop
from center.protocol import resident_binding
from center.store.driver import Database
from center.store.engine import make_engine
from center.store.tables import audit_log
from kiosk.messages import Catalog
from kiosk.ui.words import reason_words, refusal_words, unavailable_words
from kiosk.workflow.steps import Step
from koufu.cli import main
from support import books
from support.issuance_stops import EN, JA, on_database, said
from support.kiosk_driver import kiosk, new_card
from support.serving_worker import answered_by, center_workers
from support.world import CODE, HOUSEHOLD, SEAL, Resident, World, running_world

OTHER_TOWN = "131024"  # 中央区: not this stack's town
MOST_REQUESTS = 200  # to reach every worker (each new connection goes to one of them)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(
        request, tmp_path_factory, "incidents", 60, workers=2 if request.param == "postgresql" else 1
    )


@pytest.fixture(scope="module")
def workers(world: World) -> set[int]:
    assert world.stack.center_process is not None
    found = center_workers(world.stack.center_process.pid)
    multi = CenterConfig.load(world.stack.center_dir).topology == "multi"
    assert len(found) == (2 if multi else 1)
    return found


# -- the operator ------------------------------------------------------------------------------


def operator(world: World, *args: str) -> str:
    """``koufu center …`` as an operator types it; what it printed (it must succeed)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["center", *args, "--dir", str(world.stack.center_dir)])
    assert code == 0, err.getvalue()
    return out.getvalue()


def stop(world: World, *what: str, by: str = "運用 田中") -> int:
    """A stop set at the command line (``what``: ``--all``, ``--terminal T-…``, …); its id."""
    said = operator(world, "stop", *what, "--reason-ja", JA, "--reason-en", EN, "--by", by)
    found = re.match(r"stop (\d+) in force", said)
    assert found, said
    return int(found.group(1))


def resume(world: World, stop_id: int, by: str = "運用 鈴木") -> None:
    assert operator(world, "resume", str(stop_id), "--by", by).startswith(f"stop {stop_id} lifted")


@contextlib.contextmanager
def stopped(world: World, *what: str) -> Iterator[int]:
    """A stop in force for the block, lifted after it whatever happens."""
    stop_id = stop(world, *what)
    try:
        yield stop_id
    finally:
        resume(world, stop_id)


# -- the terminals' requests --------------------------------------------------------------------


def outcome(call: Any, *args: Any) -> str:
    """``ok``, or the code of the center's refusal (an ``issuance_stopped`` checked to carry the
    stop's words in both languages)."""
    try:
        call(*args)
    except CenterRefusal as refusal:
        if refusal.code == "issuance_stopped":
            assert (refusal.status, refusal.message, refusal.details.get("message_ja")) == (403, EN, JA)
            assert "reopens_at" not in refusal.details
        return refusal.code
    return "ok"


def proven(client: CenterClient, resident: Resident, session_id: str, challenge: bytes) -> Any:
    binding = resident_binding(session_id, client.terminal.terminal_id, challenge)
    return client.authenticate_resident(session_id, resident.certificate, resident.sign(binding))


def authenticated(client: CenterClient, resident: Resident) -> str:
    opened = client.open_session()
    proven(client, resident, opened.session_id, opened.challenge)
    return opened.session_id


def ordered(client: CenterClient, session_id: str, items: list[dict[str, Any]]) -> None:
    """An order placed, then voided and refunded (nothing is left open at the municipality)."""
    order = client.place_order(session_id, secrets.token_hex(8), items)
    client.void(order.order_id, "cancelled")
    client.refunded(order.order_id)


def each_worker(
    world: World, terminal: EnrolledTerminal, workers: set[int], path: str = "/v1/sessions"
) -> list[tuple[int, httpx.Response]]:
    """``POST path`` signed by ``terminal``, each on a new connection, until every worker has
    answered at least once: (worker, answer) of every request made."""
    answers: list[tuple[int, httpx.Response]] = []
    while {worker for worker, _ in answers} != workers:
        assert len(answers) < MOST_REQUESTS, f"not every worker answered: {answers}"
        client = world.stack.client(terminal)
        try:
            response = client.request("POST", path)
            answers.append((answered_by(response, workers), response))
        finally:
            client.close()
    return answers


def test_a_stop_refuses_the_next_request_in_every_worker_and_lifting_it_lets_the_next_through(
    world: World, workers: set[int]
) -> None:
    terminal, client = world.terminal("T-0801")
    client.close()
    before = each_worker(world, terminal, workers)  # every worker has served this terminal
    assert {response.status_code for _, response in before} == {201}

    stop_id = stop(world, "--all")
    after = each_worker(world, terminal, workers)
    assert {worker for worker, _ in after} == workers
    for _worker, response in after:  # every request since the stop, on every worker
        assert response.status_code == 403
        assert response.json() == {"error": "issuance_stopped", "message": EN, "message_ja": JA}

    resume(world, stop_id)
    again = each_worker(world, terminal, workers)
    assert {response.status_code for _, response in again} == {201}


# -- what each scope refuses, and nothing else ---------------------------------------------------

STEPS = ("session", "proof", "offer", "seal_order", "record_order", "both_order")
EVERY = dict.fromkeys(STEPS, "issuance_stopped")
NONE = dict.fromkeys(STEPS, "ok")
OF_ITS_RESIDENTS = {**EVERY, "session": "ok"}
OF_SEALS = {**NONE, "seal_order": "issuance_stopped", "both_order": "issuance_stopped"}


@contextlib.contextmanager
def stopped_elsewhere(world: World) -> Iterator[None]:
    """A stop of another municipality (not this stack's town), set and lifted through the store
    as the operators' console will (the command line takes only connected municipalities)."""
    config = CenterConfig.load(world.stack.center_dir)
    key, now = config.audit_chain_key, dt.datetime.now(dt.UTC)
    reason = StopReason(JA, EN)

    async def set_it(database: Database) -> IssuanceStop:
        return await set_stop(database, key, Scope.MUNICIPALITY, OTHER_TOWN, reason, "運用 田中", now)

    the_stop = on_database(config, set_it)
    try:
        yield
    finally:
        on_database(config, lambda database: lift_stop(database, key, the_stop.stop_id, "運用 鈴木", now))


@pytest.mark.parametrize(
    ("number", "what", "at_first", "at_second"),
    [
        (1, ["--all"], EVERY, EVERY),
        (2, ["--terminal", "T-0821"], EVERY, NONE),
        (3, ["--municipality", CODE], OF_ITS_RESIDENTS, OF_ITS_RESIDENTS),
        (4, None, NONE, NONE),  # another municipality
        (5, ["--certificate-type", "seal_registration"], OF_SEALS, OF_SEALS),
    ],
    ids=["all", "terminal", "municipality", "another-municipality", "certificate-type"],
)
def test_each_scope_refuses_exactly_what_it_should(
    world: World, number: int, what: list[str] | None, at_first: dict[str, str], at_second: dict[str, str]
) -> None:
    """At two terminals (the first one of a terminal's stop), for a resident of the town: a new
    session, the card's proof in a session opened before the stop, the offer and new orders in a
    session authenticated before it (an order placed is voided and refunded at once)."""
    resident = world.resident()
    terminals = [world.terminal(f"T-08{number}{which}") for which in (1, 2)]
    clients = [client for _, client in terminals]
    try:
        for client in clients:
            world.stack.wait_until_open(client)
        ready = [(client.open_session(), authenticated(client, resident)) for client in clients]
        with stopped_elsewhere(world) if what is None else stopped(world, *what):
            seen = [
                probe(client, resident, opened, session_id)
                for client, (opened, session_id) in zip(clients, ready, strict=True)
            ]
        for (outcomes, answers), expected in zip(seen, (at_first, at_second), strict=True):
            assert outcomes == expected
            said_of_seals(answers, stopped=expected is OF_SEALS)
    finally:
        for client in clients:
            client.close()
    assert not books.disagreements(world.stack, [terminal.terminal_id for terminal, _ in terminals])


def probe(
    client: CenterClient, resident: Resident, opened: OpenedSession, session_id: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """Each step's outcome (``ok`` or the refusal's code), and the proof's and offer's answers."""
    answers: dict[str, Any] = {}

    def proof() -> None:
        answers["proof"] = proven(client, resident, opened.session_id, opened.challenge)

    def offer() -> None:
        answers["offer"] = client.offer(session_id)

    outcomes = {
        "session": outcome(client.open_session),
        "proof": outcome(proof),
        "offer": outcome(offer),
        "seal_order": outcome(ordered, client, session_id, [SEAL]),
        "record_order": outcome(ordered, client, session_id, [HOUSEHOLD]),
        "both_order": outcome(ordered, client, session_id, [HOUSEHOLD, SEAL]),
    }
    return outcomes, answers


def said_of_seals(answers: dict[str, Any], *, stopped: bool) -> None:
    """The seal certificate closed with the stop's words in the proof's availability and in the
    offer (when they were answered) if its type is stopped; open otherwise; the resident record
    open either way."""
    if "proof" in answers:
        availability = answers["proof"].certificate_types
        assert availability["resident_record"].open
        assert availability["seal_registration"].model_dump(exclude_none=True) == (
            {"open": False, "reason_code": "issuance_stopped", "message_ja": JA, "message_en": EN}
            if stopped
            else {"open": True}
        )
    if "offer" in answers:
        offered = answers["offer"]["certificates"]
        assert offered["resident_record"]["available"] and "message_en" not in offered["resident_record"]
        seal = offered["seal_registration"]
        if stopped:
            assert (seal["available"], seal["reason"], seal["message_ja"], seal["message_en"]) == (
                False,
                "issuance_stopped",
                JA,
                EN,
            )
        else:
            assert seal["available"] and "message_en" not in seal


# -- an order in flight is never cut short --------------------------------------------------------


def test_an_order_placed_before_the_stop_completes_or_voids_as_it_would_have(world: World) -> None:
    terminal, client = world.terminal("T-0901")
    resident = world.resident()
    try:
        world.stack.wait_until_open(client)
        session_id = authenticated(client, resident)
        key = secrets.token_hex(8)
        printed = client.place_order(session_id, key, [SEAL])
        voided = client.place_order(session_id, secrets.token_hex(8), [HOUSEHOLD])
        assert printed.state == voided.state == "issued"
        with stopped(world, "--all"):
            assert client.place_order(session_id, key, [SEAL]) == printed  # a retry: the same copies
            assert outcome(ordered, client, session_id, [SEAL]) == "issuance_stopped"  # a new order
            client.printing(printed.order_id)
            client.printed(printed.order_id, [copy.issue_number for copy in printed.copies])
            assert client.settle(printed.order_id, printed.fee or 0).state == "settled"
            client.void(voided.order_id, "cancelled")
            assert client.refunded(voided.order_id).state == "refunded"
    finally:
        client.close()
    assert not books.disagreements(world.stack, [terminal.terminal_id])


# -- the audit log ---------------------------------------------------------------------------------


def audit_rows(world: World) -> list[Any]:
    config = CenterConfig.load(world.stack.center_dir)
    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.seq)).all()
            assert verify_chain(connection, config.audit_chain_key).intact
    finally:
        engine.dispose()
    return list(rows)


def test_every_stop_and_every_refusal_is_audited(world: World) -> None:
    terminal, client = world.terminal("T-0911")
    resident = world.resident()
    try:
        world.stack.wait_until_open(client)
        opened, session_id = client.open_session(), authenticated(client, resident)
        with stopped(world, "--terminal", "T-0911") as stop_id:
            assert outcome(client.open_session) == "issuance_stopped"
            assert (
                outcome(proven, client, resident, opened.session_id, opened.challenge) == "issuance_stopped"
            )
            assert outcome(ordered, client, session_id, [SEAL]) == "issuance_stopped"
    finally:
        client.close()
    rows = audit_rows(world)
    operators = [
        (row.outcome, row.reason, row.terminal_id, row.actor, row.detail)
        for row in rows
        if row.event == "issuance_stop" and row.detail.startswith(f"stop {stop_id}:")
    ]
    assert operators == [
        ("set", "terminal", "T-0911", "運用 田中", f"stop {stop_id}: terminal T-0911"),
        ("lifted", "terminal", "T-0911", "運用 鈴木", f"stop {stop_id}: terminal T-0911"),
    ]
    refusals = [
        (row.event, row.session_id, row.subject is not None, row.actor, row.detail)
        for row in rows
        if row.terminal_id == terminal.terminal_id and row.reason == "issuance_stopped"
    ]
    assert refusals == [
        ("session_opened", None, False, None, f"stop {stop_id}"),
        ("resident_authentication", opened.session_id, True, None, f"stop {stop_id}"),
        ("order_placement", session_id, True, None, f"stop {stop_id}"),
    ]


# -- the kiosk's screen ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_kiosk_says_the_stop_s_reason_when_it_opens_a_session(
    world: World, tmp_path: Path, language: str
) -> None:
    card = new_card(world, tmp_path)
    terminal_id = f"T-092{'12'[['ja', 'en'].index(language)]}"
    with kiosk(world, terminal_id, tmp_path) as k:

        async def resident() -> None:
            await k.start(language)
            k.place(card)
            await k.screen.wait_for(Step.WHOSE)
            stop_id = await asyncio.to_thread(stop, world, "--terminal", terminal_id)
            try:
                k.screen.press("whose", "residence")  # the PIN step opens the center session
                ended = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
            finally:
                await asyncio.to_thread(resume, world, stop_id)
            assert ended["reason"] == "issuance_stopped"
            assert ended["refusal"] == {"code": "issuance_stopped", "en": EN, "ja": JA}
            said(reason_words(Catalog.load(language), ended["reason"], ended["refusal"]), language)
            k.take_card()
            k.screen.press("ok")

        assert asyncio.run(k.session(resident())) is Step.CANCELLED


def test_the_kiosk_lists_a_stopped_certificate_as_unavailable_with_the_reason(
    world: World, tmp_path: Path
) -> None:
    card = new_card(world, tmp_path)
    with kiosk(world, "T-0931", tmp_path) as k, stopped(world, "--certificate-type", "seal_registration"):

        async def resident() -> None:
            await k.through_the_card(card)
            listed = {item["type"]: item for item in k.screen.view(Step.CERTIFICATE_TYPE)["certificates"]}
            seal = listed["seal_registration"]
            assert (seal["available"], seal["reason"]) == (False, "issuance_stopped")
            assert seal["refusal"] == {"code": "issuance_stopped", "en": EN, "ja": JA}
            for language in ("ja", "en"):
                said(unavailable_words(Catalog.load(language), seal), language)
            assert listed["resident_record"]["available"] and listed["resident_record"]["refusal"] is None
            k.screen.press("choose", "seal_registration")  # not available: nothing happens
            k.screen.press("cancel")
            await k.screen.wait_for(Step.CANCELLED)
            k.screen.press("ok")

        assert asyncio.run(k.session(resident())) is Step.CANCELLED
        assert Step.OPTIONS not in k.screen.shown and Step.COPIES not in k.screen.shown


def test_a_stop_set_while_the_resident_pays_refuses_the_order_and_gives_the_coins_back(
    world: World, tmp_path: Path
) -> None:
    """The stop comes after the offer, before the order: nothing is ordered, every coin comes back,
    the reason is said on the certificate list, and the books balance (checked as the kiosk ends)."""
    card = new_card(world, tmp_path)
    with kiosk(world, "T-0941", tmp_path) as k:

        async def resident() -> None:
            await k.reach(card, Step.PAYMENT)
            fee = (await k.screen.wait_for(Step.PAYMENT, lambda v: "fee" in v))["fee"]
            stop_id = await asyncio.to_thread(stop, world, "--municipality", CODE)
            try:
                await k.pay(fee)
                refused = await k.screen.wait_for(
                    Step.CERTIFICATE_TYPE, lambda v: v.get("refusal") is not None
                )
            finally:
                await asyncio.to_thread(resume, world, stop_id)
            assert refused["refusal"] == {"code": "issuance_stopped", "en": EN, "ja": JA}
            said(refusal_words(Catalog.load("ja"), refused["refusal"]), "ja")
            k.screen.press("cancel")
            await k.screen.wait_for(Step.CANCELLED)
            k.screen.press("ok")

        assert asyncio.run(k.session(resident())) is Step.CANCELLED
        assert k.cashbox.cash_box == 0 and sum(k.cashbox.returned) == k.paid_in > 0
        assert k.printer.jobs == 0
        assert not books.center_orders(world.stack, ["T-0941"])  # nothing was ordered
