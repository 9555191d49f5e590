"""Refused tampering attempts of signed-in accounts in the audit log, against the console's real
TLS listener (httpx, on SQLite and PostgreSQL): a change without the CSRF token or from another
origin, a change the role may not make (an auditor's POST), municipal staff asking about another
municipality; each one line naming the account, the refusal and the path (never the query), at
most one a minute per account and code, the rest counted and written once the minute is over;
nothing for a signed-out request nor for a page a role does not read. The limit itself, without
a server, at the end."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from center.audit import verify_chain
from center.console.tampering import EVENT, RefusalLimit
from center.store.engine import make_engine
from support.center_audit import lines_of
from support.console_people import client, enrolled, refusal, unique
from support.console_server import (
    OTHER_TOWN,
    TOWN,
    RunningConsole,
    console_per_test,
)
from support.waiting import eventually

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # the console's own time, never the machine's
MINUTE = dt.timedelta(minutes=1)


console = console_per_test("tampering", NOW, housekeeping=0.1)


def refused_lines(console: RunningConsole, actor: str) -> list[tuple[str | None, str | None, int | None]]:
    """The account's refused requests in the audit log: (code, method and path, occurrences)."""
    return [
        (line.reason, line.detail, line.occurrences)
        for line in lines_of(console.config, EVENT)
        if line.actor == actor and line.outcome == "refused"
    ]


def test_each_kind_of_attempt_is_one_audit_line_with_its_actor_and_path(console: RunningConsole) -> None:
    operator, auditor = enrolled(console, "operator"), enrolled(console, "auditor")
    staff = enrolled(console, "municipal", TOWN)
    form = {"name": unique("never"), "role": "auditor"}
    assert refusal(operator.client.post("/operators", data=form)) == (403, "csrf_refused")
    assert refusal(operator.change("/operators", form, origin="https://evil.example")) == (
        403,
        "cross_origin",
    )
    assert refusal(auditor.change(f"/operators/{operator.name}/disable")) == (403, "not_allowed")
    assert refusal(staff.client.get("/settlement", params={"municipality": OTHER_TOWN})) == (404, "not_found")
    assert refused_lines(console, operator.name) == [
        ("csrf_refused", "POST /operators", None),
        ("cross_origin", "POST /operators", None),
    ]
    assert refused_lines(console, auditor.name) == [
        ("not_allowed", f"POST /operators/{operator.name}/disable", None)
    ]
    assert refused_lines(console, staff.name) == [("not_found", "GET /settlement", None)]  # not the query
    before = len(lines_of(console.config, EVENT))
    assert refusal(staff.client.get("/audit")) == (403, "not_allowed")  # a page not read: a typed address
    with client(console) as anonymous:  # signed out: no actor, not audited
        assert refusal(anonymous.post("/operators", data=form)) == (401, "signed_out")
    assert staff.client.get("/settlement").status_code == 200
    assert len(lines_of(console.config, EVENT)) == before
    engine = make_engine(console.config.database_url)
    try:
        with engine.connect() as connection:
            assert verify_chain(connection, console.config.audit_chain_key).intact
            assert OTHER_TOWN not in str(connection.execute(sa.text("SELECT * FROM audit_log")).all())
    finally:
        engine.dispose()


def test_a_flood_is_one_line_a_minute_per_account_and_code_and_its_count(console: RunningConsole) -> None:
    auditor, other = enrolled(console, "auditor"), enrolled(console, "auditor")
    for number in range(20):
        assert refusal(auditor.change("/operators", {"name": f"flood-{number}", "role": "auditor"})) == (
            403,
            "not_allowed",
        )
    assert refusal(auditor.client.post("/operators", data={})) == (403, "csrf_refused")  # another code
    assert refusal(other.change("/operators", {})) == (403, "not_allowed")  # another account
    assert refused_lines(console, auditor.name) == [
        ("not_allowed", "POST /operators", None),
        ("csrf_refused", "POST /operators", None),
    ]
    assert refused_lines(console, other.name) == [("not_allowed", "POST /operators", None)]
    console.clock.advance(MINUTE - dt.timedelta(seconds=1))
    assert refusal(auditor.change("/operators", {})) == (403, "not_allowed")  # still that minute
    assert len(refused_lines(console, auditor.name)) == 2
    console.clock.advance(dt.timedelta(seconds=1))  # the minute is over: the housekeeping writes
    eventually(lambda: len(refused_lines(console, auditor.name)) == 3, "the minute's count written")
    assert refused_lines(console, auditor.name)[-1] == ("not_allowed", "POST /operators", 20)
    assert refusal(auditor.change(f"/operators/{other.name}/disable")) == (403, "not_allowed")
    assert len(refused_lines(console, auditor.name)) == 3  # the count's line opened a minute
    console.clock.advance(MINUTE)
    eventually(lambda: len(refused_lines(console, auditor.name)) == 4, "the next minute's count written")
    assert refused_lines(console, auditor.name)[-1] == (
        "not_allowed",
        f"POST /operators/{other.name}/disable",
        None,
    )
    assert len(refused_lines(console, other.name)) == 1  # nothing counted: nothing more written


# -- the limit, without a server --------------------------------------------------------------------


def test_the_limit_writes_one_line_a_minute_and_then_what_it_counted() -> None:
    limit = RefusalLimit()
    first = limit.refused("a", "csrf_refused", "POST /x", NOW)
    assert first is not None and (first.actor, first.reason, first.detail, first.occurrences) == (
        "a",
        "csrf_refused",
        "POST /x",
        None,
    )
    assert limit.refused("a", "csrf_refused", "POST /y", NOW + dt.timedelta(seconds=59)) is None
    assert limit.refused("a", "csrf_refused", "POST /z", NOW + dt.timedelta(seconds=59)) is None
    assert limit.refused("b", "csrf_refused", "POST /x", NOW) is not None  # another account
    assert limit.refused("a", "not_found", "GET /x", NOW) is not None  # another code
    assert limit.due(NOW + dt.timedelta(seconds=59)) == []
    # the next refusal after the minute carries the minute's count with it
    late = limit.refused("a", "csrf_refused", "POST /w", NOW + MINUTE)
    assert late is not None and (late.detail, late.occurrences) == ("POST /w", 3)
    assert limit.refused("a", "csrf_refused", "POST /v", NOW + MINUTE) is None
    due = limit.due(NOW + 2 * MINUTE)
    assert [(line.actor, line.reason, line.detail, line.occurrences) for line in due] == [
        ("a", "csrf_refused", "POST /v", None)
    ]
    assert limit.due(NOW + 4 * MINUTE) == []  # nothing counted since: forgotten
    limit.give_back(due[0])  # a line that could not be written is written later
    again = limit.due(NOW + 4 * MINUTE)
    assert [(line.detail, line.occurrences) for line in again] == [("POST /v", None)]
