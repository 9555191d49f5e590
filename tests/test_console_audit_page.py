"""The audit page's verification of the chain, against the console's real TLS listener (httpx, on
SQLite and PostgreSQL): the first view verifies the whole chain, the next ones only the lines
written since (and say so, and when the whole chain was last verified); a line changed in place
before that is found by the full verification the page offers, and from then on every view
verifies the whole chain while it is broken."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from center.store.engine import make_engine
from center.store.tables import audit_log
from support.console_people import Person, enrolled, unique
from support.console_server import BACKENDS, ConsoleClock, RunningConsole, backend_center, running_console

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # the console's own time, never the machine's


@pytest.fixture(params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningConsole]:
    config = backend_center(request, tmp_path_factory, unique("chain"))
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


def chain(person: Person, query: str = "") -> dict[str, str]:
    """What the audit page says of the chain: intact, which check, broken where, the last full
    verification's time, how many lines the incremental check verified."""
    page = person.client.get(f"/audit{query}")
    assert page.status_code == 200, page.text[-2000:]
    said = re.search(r'<p class="chain [a-z]+" id="chain" data-intact="(\w+)" data-check="(\w+)"', page.text)
    full_at = re.search(r'id="chain-check" data-full-at="([^"]*)"', page.text)
    assert said and full_at, page.text[:3000]
    broken = re.search(r'data-broken="(\d+)"', page.text)
    checked = re.search(r"the (\d+) entries since the last verification", page.text)
    return {
        "intact": said.group(1),
        "check": said.group(2),
        "full_at": full_at.group(1),
        "broken": broken.group(1) if broken else "",
        "checked": checked.group(1) if checked else "",
        "link": str('id="verify-full" href="/audit?verify=full"' in page.text),
    }


def test_the_page_verifies_incrementally_and_the_whole_chain_on_request(console: RunningConsole) -> None:
    auditor = enrolled(console, "auditor")
    auditor.client.headers["accept-language"] = "en"
    first = chain(auditor)
    assert first == {
        "intact": "true",
        "check": "full",
        "full_at": NOW.isoformat(),
        "broken": "",
        "checked": "",
        "link": "True",
    }
    console.clock.advance(dt.timedelta(minutes=5))
    assert chain(auditor) == {**first, "check": "incremental", "checked": "0"}  # nothing new
    enrolled(console, "operator")  # new lines: an account, its link, its passkey, its sign-in
    step = chain(auditor)
    assert step["check"] == "incremental" and int(step["checked"]) >= 3 and step["full_at"] == NOW.isoformat()
    engine = make_engine(console.config.database_url)
    try:
        with engine.begin() as connection:  # an old line changed in place, without the key
            oldest = connection.execute(sa.select(sa.func.min(audit_log.c.seq))).scalar_one()
            connection.execute(audit_log.update().where(audit_log.c.seq == oldest).values(outcome="refused"))
    finally:
        engine.dispose()
    assert chain(auditor)["intact"] == "true"  # the incremental check cannot see it, and says so
    later = NOW + dt.timedelta(minutes=5)
    assert chain(auditor, "?verify=full") == {
        "intact": "false",
        "check": "full",
        "full_at": later.isoformat(),
        "broken": str(oldest),
        "checked": "",
        "link": "True",
    }
    assert chain(auditor)["intact"] == "false"  # broken: every view verifies the whole chain
    assert chain(auditor)["check"] == "full"
