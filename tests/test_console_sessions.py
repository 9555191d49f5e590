"""The console's sessions and passkeys over their lifetime, against its real TLS listener (httpx,
on SQLite and PostgreSQL): the console process's housekeeping deletes ended sessions (signed out,
idle, past their lifetime, of a disabled account) and no other, at the console's test clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from center.config import CenterConfig
from center.store.engine import make_engine
from center.store.tables import console_operators, console_sessions
from support.console_people import JSON, enrolled, refusal, unique
from support.console_server import BACKENDS, ConsoleClock, RunningConsole, backend_center, running_console
from support.waiting import eventually

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # the console's own time, never the machine's
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningConsole]:
    """A console of this test's own, its clock the test's, its housekeeping every 0.1 s."""
    config = backend_center(request, tmp_path_factory, unique("sessions"))
    with running_console(config, ConsoleClock(NOW), housekeeping=0.1) as running:
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


def test_the_housekeeping_deletes_signed_out_idle_and_disabled_sessions_and_no_other(
    console: RunningConsole,
) -> None:
    settings, clock = console.settings, console.clock
    staying, leaving, idle, disabled = (enrolled(console, role) for role in ("operator",) + ("auditor",) * 3)
    assert sessions_of(console.config) == {p.name: 1 for p in (staying, leaving, idle, disabled)}
    assert leaving.change("/sign-out").status_code == 303
    assert staying.change(f"/operators/{disabled.name}/disable").status_code == 303
    eventually(
        lambda: sessions_of(console.config) == {staying.name: 1, idle.name: 1},
        "the signed-out and the disabled account's sessions deleted",
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
