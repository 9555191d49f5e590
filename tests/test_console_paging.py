"""The console's long lists a page at a time, against its real TLS listener (httpx, on SQLite and
PostgreSQL): the orders that need a person (each list its own cursor) and the audit log list 200
rows a page with how many there are in all, and the next and first pages' links; walking the
pages shows every row once, in order, also filtered and for municipal staff."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from center.store.engine import make_engine
from center.store.tables import audit_log
from support.console_orders import quiet_orders, refused_reports
from support.console_people import Person, enrolled, refusal
from support.console_server import (
    BACKENDS,
    OTHER_TOWN,
    TOWN,
    ConsoleClock,
    RunningConsole,
    backend_center,
    running_console,
)

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # the console's own time, never the machine's
QUIET = 230  # orders not ended: more than a page
PAGE = 200


@pytest.fixture(scope="module", params=BACKENDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningConsole]:
    config = backend_center(request, tmp_path_factory, "paging")
    made = quiet_orders(
        config.database_url,
        QUIET,
        prefix="quiet",
        since=NOW - dt.timedelta(hours=5),
        municipality=TOWN,
        state="issued",
    )
    refused_reports(
        config.database_url,
        config.audit_chain_key,
        [order_id for _, order_id in made],
        NOW - dt.timedelta(hours=1),
    )
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


def table(page: str, table_id: str) -> str:
    start = page.index(f'<table id="{table_id}">')
    return page[start : page.index("</table>", start)]


def pager(page: str, list_id: str) -> tuple[int, int, str | None, str | None]:
    """A list's pager: rows shown, rows in all, the next page's and the first page's address."""
    found = re.search(rf'id="{list_id}-pages" data-shown="(\d+)" data-total="(\d+)"', page)
    assert found, page[-3000:]
    links = {
        which: html.unescape(link.group(1))
        if (link := re.search(rf'id="{list_id}-{which}" href="([^"]+)"', page))
        else None
        for which in ("next", "first")
    }
    return int(found.group(1)), int(found.group(2)), links["next"], links["first"]


def walk(person: Person, address: str, list_id: str, row: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Every page of a list from ``address``, following its next links: the rows' keys (the
    regular expression ``row`` in the list's table), and each page's (shown, total)."""
    keys: list[str] = []
    counts = []
    next_address: str | None = address
    while next_address is not None:
        answer = person.client.get(next_address)
        assert answer.status_code == 200, answer.text[-2000:]
        rows = re.findall(row, table(answer.text, list_id))
        shown, total, next_address, first = pager(answer.text, list_id)
        assert shown == len(rows) and (first is None) == (not keys)  # "first page" once past it
        if next_address is not None:
            assert shown == PAGE
        keys.extend(rows)
        counts.append((shown, total))
        assert len(counts) < 10
    return keys, counts


def test_the_orders_not_ended_and_the_refused_reports_page_by_200(console: RunningConsole) -> None:
    operator = enrolled(console, "operator")
    expected = [f"quiet-{number:03d}" for number in range(QUIET)]
    orders, counts = walk(operator, "/attention", "not-ended", r'<tr data-order="([^"]+)" data-state=')
    assert orders == expected and counts == [(PAGE, QUIET), (QUIET - PAGE, QUIET)]
    reports, counts = walk(
        operator, "/attention?days=3", "refused-reports", r'<tr data-order="([^"]+)" data-code='
    )
    assert reports == expected[::-1] and counts == [(PAGE, QUIET), (QUIET - PAGE, QUIET)]  # newest first
    page = operator.client.get("/attention?days=3").text
    assert 'data-refused="230"' in page and 'data-not-ended="230"' in page  # the totals, not the page
    assert "days=3" in (pager(page, "refused-reports")[2] or "")  # the filters kept in its links
    staff = enrolled(console, "municipal", TOWN)
    assert walk(staff, "/attention", "not-ended", r'<tr data-order="([^"]+)" data-state=')[0] == expected
    other = enrolled(console, "municipal", OTHER_TOWN)
    assert walk(other, "/attention", "not-ended", r'<tr data-order="([^"]+)" data-state=') == ([], [(0, 0)])
    assert refusal(operator.client.get("/attention?after=nothing")) == (400, "bad_cursor")
    assert refusal(operator.client.get("/attention?reports_after=quiet-001")) == (400, "bad_cursor")


def test_the_audit_log_pages_by_200_newest_first_and_filtered(console: RunningConsole) -> None:
    auditor = enrolled(console, "auditor")
    engine = make_engine(console.config.database_url)
    try:
        with engine.connect() as connection:
            every = [
                str(seq)
                for seq in connection.execute(
                    sa.select(audit_log.c.seq).order_by(audit_log.c.seq.desc())
                ).scalars()
            ]
    finally:
        engine.dispose()
    assert len(every) > PAGE
    seqs, counts = walk(
        auditor, "/audit", "audit", r'<tr data-event="[^"]*" data-actor="[^"]*">\s*<td>(\d+)</td>'
    )
    assert seqs == every and counts == [(PAGE, len(every)), (len(every) - PAGE, len(every))]
    refused, counts = walk(
        auditor,
        "/audit?event=order_settle_refused",
        "audit",
        r'<tr data-event="order_settle_refused" data-actor="[^"]*">\s*<td>(\d+)</td>',
    )
    assert (
        len(refused) == QUIET
        and len(set(refused)) == QUIET
        and counts == [(PAGE, QUIET), (QUIET - PAGE, QUIET)]
    )
    assert [int(seq) for seq in refused] == sorted((int(seq) for seq in refused), reverse=True)
    assert refusal(auditor.client.get("/audit?after=-1")) == (400, "bad_cursor")
