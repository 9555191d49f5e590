"""A stop of issuance set in the operators' console refuses the next resident at a kiosk, and
lifting it lets the next one through (issue 20, "Done when"), with real processes: PostgreSQL,
the JPKI authority, the center with two worker processes (topology ``multi``), a municipal
issuance server, the console (``koufu center console``, its own TLS port) and a headless kiosk
driving the real workflow with an emulated card.

An operator's account is made with ``koufu center add-operator``; they register a passkey through
its link and sign in (a software passkey over httpx: ``tests/test_console_browser.py`` covers
Chromium) and stop everything on the Incidents page. Then a resident comes to the kiosk, again
and again, the kiosk started anew each time (a connection of its own, which one of the two
workers accepts): each one is refused when the kiosk asks the center to begin their
authentication (before any PIN is asked), and the kiosk's screen says the stop's reason in the
resident's language, until both workers have refused one. The operator lifts the stop; the next
residents authenticate with their card and reach the certificate list, until both workers have
accepted a card's proof. Which worker answered is read from ``/proc`` as each answer arrives
(:mod:`support.serving_worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from center.config import CenterConfig
from center.enrolment import EnrolledTerminal
from devtools.stack import free_port
from kiosk.messages import Catalog
from kiosk.ui.words import reason_words
from kiosk.workflow.steps import Step
from koufu.cli import main
from support.center_audit import lines_of
from support.console_people import (
    Person,
    enrolled_by_link,
    lift_through_the_page,
    stop_form,
    stop_through_the_page,
)
from support.console_process import ConsoleProcess, console_process
from support.issuance_stops import EN, JA, said
from support.kiosk_driver import Card, kiosk, new_card
from support.serving_worker import answered_by, center_workers
from support.world import World, running_world

TERMINAL = "T-1001"
MOST_RESIDENTS = 40  # residents in each phase, at most, until both workers have answered one
LANGUAGES = ("ja", "en")


@pytest.fixture(scope="module", params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "console-incidents", 10, workers=2)


@pytest.fixture(scope="module")
def workers(world: World) -> set[int]:
    assert world.stack.center_process is not None
    assert CenterConfig.load(world.stack.center_dir).topology == "multi"
    found = center_workers(world.stack.center_process.pid)
    assert len(found) == 2
    return found


@pytest.fixture(scope="module")
def console(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleProcess]:
    """The console on its own port, that port in its origin (``console.json``), as the links
    ``koufu center add-operator`` prints name it."""
    port = free_port()
    origin = f"https://localhost:{port}"
    (world.stack.center_dir / "console.json").write_text(json.dumps({"origin": origin}))
    log = tmp_path_factory.mktemp("console") / "console.log"
    with console_process(world.stack.center_dir, log, port) as running:
        assert running.url == origin
        yield running


def an_operator(world: World, console: ConsoleProcess, name: str) -> Person:
    """``koufu center add-operator NAME --role operator``; the person registers a passkey through
    the link it printed, and is signed in."""
    out, err = io.StringIO(), io.StringIO()
    command = ["center", "add-operator", name, "--role", "operator", "--dir", str(world.stack.center_dir)]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(command)
    assert code == 0, err.getvalue()
    link = next(line for line in out.getvalue().splitlines() if "/enrol?token=" in line)
    assert link.startswith(f"{console.url}/enrol?token=")
    return enrolled_by_link(console.url, console.tls, name, link)


class Answers:
    """Every answer a kiosk's center client received: (method, path, status, the worker that
    answered), read while the answer's connection is open (an httpx response hook)."""

    def __init__(self, workers: set[int]) -> None:
        self.workers = workers
        self.seen: list[tuple[str, str, int, int]] = []

    def __call__(self, response: httpx.Response) -> None:
        worker = answered_by(response, self.workers)
        self.seen.append((response.request.method, response.url.path, response.status_code, worker))

    def of(self, method: str, path: re.Pattern[str]) -> list[tuple[int, int]]:
        """(status, worker) of the answers to ``method`` on a path matching ``path``."""
        return [(status, worker) for m, p, status, worker in self.seen if m == method and path.fullmatch(p)]


SESSIONS = re.compile(r"/v1/sessions")
PROOF = re.compile(r"/v1/sessions/[^/]+/resident")


def refused_resident(
    world: World, terminal: EnrolledTerminal, card: Card, directory: Path, workers: set[int], language: str
) -> int:
    """A resident at the kiosk, started anew, while everything is stopped: the center refuses to
    begin their authentication, and the screen says the stop's reason in their language. The
    worker that refused."""
    with kiosk(world, terminal.terminal_id, directory, enrolled=terminal, wait_open=False) as k:
        answers = Answers(workers)
        k.client.http.event_hooks["response"].append(answers)

        async def resident() -> None:
            await k.start(language)
            k.place(card)
            await k.screen.wait_for(Step.WHOSE)
            k.screen.press("whose", "residence")  # the PIN step asks the center for a session
            ended = await k.screen.wait_for(Step.CANCELLED, lambda v: "reason" in v)
            assert ended["reason"] == "issuance_stopped"
            assert ended["refusal"] == {"code": "issuance_stopped", "ja": JA, "en": EN}
            said(reason_words(Catalog.load(language), ended["reason"], ended["refusal"]), language)
            k.take_card()
            k.screen.press("ok")

        assert asyncio.run(k.session(resident())) is Step.CANCELLED
    [(status, worker)] = answers.of("POST", SESSIONS)
    assert status == 403 and not answers.of("POST", PROOF)
    return worker


def authenticated_resident(
    world: World, terminal: EnrolledTerminal, card: Card, directory: Path, workers: set[int]
) -> int:
    """A resident at the kiosk, started anew, with no stop in force: their card's proof is
    accepted and the certificate list is shown; they cancel there. The worker that accepted it."""
    with kiosk(world, terminal.terminal_id, directory, enrolled=terminal, wait_open=False) as k:
        answers = Answers(workers)
        k.client.http.event_hooks["response"].append(answers)

        async def resident() -> None:
            await k.through_the_card(card)
            listed = {item["type"]: item for item in k.screen.view(Step.CERTIFICATE_TYPE)["certificates"]}
            assert listed["resident_record"]["available"] and listed["resident_record"]["refusal"] is None
            k.screen.press("cancel")
            await k.screen.wait_for(Step.CANCELLED)
            k.screen.press("ok")

        assert asyncio.run(k.session(resident())) is Step.CANCELLED
    assert [status for status, _ in answers.of("POST", SESSIONS)] == [201]
    [(status, worker)] = answers.of("POST", PROOF)
    assert status == 200
    return worker


def test_a_stop_set_in_the_console_refuses_the_next_resident_at_a_kiosk_on_every_worker_until_lifted(
    world: World, workers: set[int], console: ConsoleProcess, tmp_path: Path
) -> None:
    terminal, client = world.terminal(TERMINAL)
    world.stack.wait_until_open(client)  # the center has read the calendar: open
    client.close()
    card = new_card(world, tmp_path)
    operator = an_operator(world, console, "sato.k")
    assert authenticated_resident(world, terminal, card, tmp_path, workers) in workers  # open before

    stop_id = stop_through_the_page(operator, stop_form("all"))
    page = operator.client.get(f"/incidents?set={stop_id}")
    assert f'<tr data-stop="{stop_id}" data-scope="all" data-target="">' in page.text
    refused_by: list[int] = []
    while set(refused_by) != workers:
        assert len(refused_by) < MOST_RESIDENTS, f"not every worker refused a resident: {refused_by}"
        language = LANGUAGES[len(refused_by) % 2]
        refused_by.append(refused_resident(world, terminal, card, tmp_path, workers, language))

    lift_through_the_page(operator, stop_id)
    page = operator.client.get(f"/incidents?lifted={stop_id}")
    assert f'data-done="lifted" data-stop="{stop_id}"' in page.text
    accepted_by: list[int] = []
    while set(accepted_by) != workers:
        assert len(accepted_by) < MOST_RESIDENTS, f"not every worker accepted a resident: {accepted_by}"
        accepted_by.append(authenticated_resident(world, terminal, card, tmp_path, workers))

    # the stop and its lifting name the console account; each refusal names the stop
    config = CenterConfig.load(world.stack.center_dir)
    assert [
        (line.outcome, line.actor)
        for line in lines_of(config, "issuance_stop")
        if line.detail == f"stop {stop_id}: everything"
    ] == [("set", operator.name), ("lifted", operator.name)]
    refusals = [
        line
        for line in lines_of(config, "session_opened")
        if line.terminal_id == TERMINAL and line.reason == "issuance_stopped"
    ]
    assert len(refusals) == len(refused_by) and {line.detail for line in refusals} == {f"stop {stop_id}"}
