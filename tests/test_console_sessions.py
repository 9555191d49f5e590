"""The console's sessions and passkeys over their lifetime, against its real TLS listener (httpx,
on SQLite and PostgreSQL): the console process's housekeeping deletes ended sessions (signed out,
idle, past their lifetime, of a disabled account, of a revoked passkey) and no other, at the
console's test clock; an operator revokes one passkey of an account (confirmed, audited), which
then signs in no more and whose sessions end, the account's other passkeys untouched; the last
one too, after which only a new enrolment link lets the account in; and so does the command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from center.config import CenterConfig
from center.store.engine import make_engine
from center.store.tables import console_operators, console_sessions
from koufu.cli import main as koufu
from support.center_audit import lines_of
from support.console_people import JSON, Person, enrolled, enrolled_by_link, refusal, sign_in
from support.console_server import (
    BACKENDS,
    TOWN,
    RunningConsole,
    accounts_of,
    backend_console,
    console_per_test,
)
from support.soft_passkey import b64url
from support.waiting import eventually

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # the console's own time, never the machine's
SECOND = dt.timedelta(seconds=1)


console = console_per_test("sessions", NOW, housekeeping=0.1)


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningConsole]:
    """A console the module's passkey tests share; its housekeeping waits an hour (they read
    the sessions it would delete)."""
    with backend_console(request, tmp_path_factory, "passkeys", NOW, housekeeping=3600) as running:
        yield running


def sessions_of(config: CenterConfig) -> dict[str, int]:
    """How many session rows each account has."""
    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(console_operators.c.name, sa.func.count())
                .select_from(console_sessions.join(console_operators))
                .group_by(console_operators.c.name)
            ).all()
    finally:
        engine.dispose()
    return {str(name): int(count) for name, count in rows}


# -- ended sessions are deleted ---------------------------------------------------------------------


def test_the_housekeeping_deletes_ended_sessions_and_no_other(console: RunningConsole) -> None:
    settings, clock = console.settings, console.clock
    staying, leaving, idle, disabled, revoked = (
        enrolled(console, role) for role in ("operator",) + ("auditor",) * 4
    )
    everyone = (staying, leaving, idle, disabled, revoked)
    assert sessions_of(console.config) == {person.name: 1 for person in everyone}
    assert leaving.change("/sign-out").status_code == 303
    assert staying.change(f"/operators/{disabled.name}/disable").status_code == 303
    revoking = f"/operators/{revoked.name}/passkeys/{label_of(revoked)}/revoke"
    assert staying.change(revoking, {"confirm": "yes"}).status_code == 303
    eventually(
        lambda: sessions_of(console.config) == {staying.name: 1, idle.name: 1},
        "the signed-out, the disabled account's and the revoked passkey's sessions deleted",
    )
    clock.advance(settings.idle_timeout - SECOND)
    assert staying.client.get("/").status_code == 200  # in use: idle from now again
    assert idle.client.get("/").status_code == 200
    clock.advance(settings.idle_timeout - SECOND)
    assert staying.client.get("/").status_code == 200
    clock.advance(SECOND)  # idle: idle_timeout since its last request
    eventually(lambda: sessions_of(console.config) == {staying.name: 1}, "the idle session deleted")
    assert refusal(idle.client.get("/", headers=JSON)) == (401, "signed_out")  # nothing left of it
    assert staying.client.get("/").status_code == 200  # never deleted while it may be used


def test_the_housekeeping_deletes_a_session_past_its_lifetime_however_much_it_is_used(
    console: RunningConsole,
) -> None:
    settings, clock = console.settings, console.clock
    person = enrolled(console, "operator")
    step = settings.idle_timeout - SECOND
    while clock.now + step < NOW + settings.session_lifetime:
        clock.advance(step)
        assert person.client.get("/").status_code == 200
        assert sessions_of(console.config) == {person.name: 1}
    clock.advance(NOW + settings.session_lifetime - clock.now)
    eventually(lambda: sessions_of(console.config) == {}, "the session past its lifetime deleted")
    assert refusal(person.client.get("/", headers=JSON)) == (401, "signed_out")


# -- one passkey revoked ----------------------------------------------------------------------------


def label_of(person: Person) -> str:
    """The label the console gives ``person``'s passkey."""
    return hashlib.sha256(b64url(person.passkey.credential_id).encode()).hexdigest()[:12]


def another_device(console: RunningConsole, person: Person) -> Person:
    """``person`` registers a second passkey (another device) through a new enrolment link."""

    async def issue() -> str:
        accounts = accounts_of(console)
        try:
            return (await accounts.new_link(person.name, actor="cli:test")).url
        finally:
            await accounts.writer.close()
            await accounts.database.close()

    return enrolled_by_link(console.url, console.tls, person.name, asyncio.run(issue()))


def passkeys_listed(page: str) -> dict[str, str]:
    """The Accounts page's passkeys: label → state."""
    return dict(re.findall(r'data-passkey="([0-9a-f]{12})" data-state="(\w+)"', page))


def test_an_operator_revokes_one_passkey_and_only_its_sessions_end(shared: RunningConsole) -> None:
    operator, holder = enrolled(shared, "operator"), enrolled(shared, "auditor")
    laptop = another_device(shared, holder)
    kept, revoked = label_of(holder), label_of(laptop)
    page = operator.client.get("/operators").text
    assert {kept: "active", revoked: "active"}.items() <= passkeys_listed(page).items()
    assert b64url(laptop.passkey.credential_id) not in page  # the label only, never the id
    path = f"/operators/{holder.name}/passkeys/{revoked}/revoke"
    assert refusal(operator.change(path)) == (400, "confirmation_required")
    assert laptop.client.get("/").status_code == 200  # nothing revoked without the box ticked
    done = operator.change(path, {"confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == f"/operators?revoked={revoked}"
    assert f'id="revoked" data-label="{revoked}"' in operator.client.get(done.headers["location"]).text
    assert refusal(laptop.client.get("/", headers=JSON)) == (401, "passkey_revoked")
    assert holder.client.get("/").status_code == 200  # the other passkey's session goes on
    assert refusal(sign_in(laptop)) == (403, "passkey_revoked")
    assert sign_in(holder).status_code == 200
    assert passkeys_listed(operator.client.get("/operators").text)[revoked] == "revoked"
    assert refusal(operator.change(path, {"confirm": "yes"})) == (404, "unknown_passkey")  # once
    line = lines_of(shared.config, "console_passkey_revoked")[-1]
    assert (line.outcome, line.actor, line.subject, line.detail) == (
        "accepted",
        operator.name,
        f"operator:{holder.name}",
        f"passkey {revoked}",
    )
    refused = lines_of(shared.config, "console_sign_in")[-2]  # before the holder's own sign-in
    assert (refused.outcome, refused.reason, refused.subject) == (
        "refused",
        "passkey_revoked",
        f"operator:{holder.name}",
    )


def test_only_an_operator_revokes_a_passkey(shared: RunningConsole) -> None:
    holder = enrolled(shared, "operator")
    path = f"/operators/{holder.name}/passkeys/{label_of(holder)}/revoke"
    for role, municipality in (("auditor", None), ("municipal", TOWN)):
        other = enrolled(shared, role, municipality)
        assert refusal(other.change(path, {"confirm": "yes"})) == (403, "not_allowed")
    assert refusal(holder.change(path, {"confirm": "yes"}, origin="https://elsewhere.example")) == (
        403,
        "cross_origin",
    )
    assert refusal(
        holder.change(f"/operators/{holder.name}/passkeys/{'0' * 12}/revoke", {"confirm": "yes"})
    ) == (
        404,
        "unknown_passkey",
    )
    assert holder.client.get("/").status_code == 200  # still signed in: nothing was revoked


def test_the_last_passkey_may_be_revoked_and_then_only_a_new_link_lets_the_account_in(
    shared: RunningConsole,
) -> None:
    operator, holder = enrolled(shared, "operator"), enrolled(shared, "municipal", TOWN)
    page = operator.client.get("/operators").text
    row = page[page.index(f'data-passkey="{label_of(holder)}"') :]
    assert "last passkey" in row[: row.index("</tr>")] or "最後のパスキー" in row[: row.index("</tr>")]
    path = f"/operators/{holder.name}/passkeys/{label_of(holder)}/revoke"
    assert operator.change(path, {"confirm": "yes"}).status_code == 303
    assert (
        lines_of(shared.config, "console_passkey_revoked")[-1].detail == f"passkey {label_of(holder)} (last)"
    )
    assert refusal(holder.client.get("/", headers=JSON)) == (401, "passkey_revoked")
    assert refusal(sign_in(holder)) == (403, "passkey_revoked")
    again = another_device(shared, holder)  # a new enrolment link: a new passkey
    assert again.client.get("/").status_code == 200 and sign_in(again).status_code == 200


def test_the_command_line_lists_and_revokes_a_passkey(
    shared: RunningConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = enrolled(shared, "auditor")
    laptop = another_device(shared, holder)
    directory = str(shared.config.directory)
    capsys.readouterr()
    assert koufu(["center", "passkeys", holder.name, "--dir", directory]) == 0
    listed = capsys.readouterr().out
    assert listed.count("active") == 2 and label_of(holder) in listed and label_of(laptop) in listed
    assert koufu(["center", "revoke-passkey", holder.name, label_of(laptop), "--dir", directory]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert refusal(laptop.client.get("/", headers=JSON)) == (401, "passkey_revoked")
    assert holder.client.get("/").status_code == 200
    assert koufu(["center", "revoke-passkey", holder.name, label_of(laptop), "--dir", directory]) != 0
    assert "has no passkey" in capsys.readouterr().err
    assert koufu(["center", "revoke-passkey", holder.name, label_of(holder), "--dir", directory]) == 0
    assert "new link" in capsys.readouterr().out  # the last: what the account needs now
    assert lines_of(shared.config, "console_passkey_revoked")[-1].actor.startswith("cli:")
    assert koufu(["center", "passkeys", "nobody", "--dir", directory]) != 0
