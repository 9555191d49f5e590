"""The volumes and the orders that need a person, against the console's real TLS listener with
httpx, on SQLite and PostgreSQL, with a morning of two towns' orders made through the center's
order service (support.console_orders.busy_day): what each role reads, municipal staff kept to
their municipality (by URL tampering too), CSV that a spreadsheet cannot run, SVG charts that
carry no markup of a municipality's, bad parameters refused with their codes; and the actions on
orders: who may do which, the CSRF token and the origin, an auditor refused, every action and
refusal audited with who made it, the books reconciled after each."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from center.config import CenterConfig
from center.store.engine import make_engine
from center.store.tables import orders
from support.center_audit import lines_of
from support.console_orders import FEE, BusyDay, OrderBook, busy_day, item, make_orders, reconciled
from support.console_people import client, enrolled, refusal
from support.console_server import (
    BACKENDS,
    OTHER_TOWN,
    STORES,
    TOWN,
    ConsoleClock,
    RunningConsole,
    backend_center,
    running_console,
)

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
LONG_AGO = NOW - dt.timedelta(days=10)  # the actions' own orders: out of the volumes' default periods
PAGES = ("/volumes", "/volumes/copies.csv", "/volumes/refusals.csv", "/attention")


@dataclass(frozen=True)
class Stage:
    console: RunningConsole
    day: BusyDay


@pytest.fixture(scope="module", params=BACKENDS)
def stage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    config = backend_center(request, tmp_path_factory, "console-pages")
    day = make_orders(
        config.database_url,
        config.audit_chain_key,
        lambda book: busy_day(book, NOW, TOWN, OTHER_TOWN, STORES),
    )
    with running_console(config, ConsoleClock(NOW)) as running:
        yield Stage(running, day)


def orders_of_page(page: str) -> set[str]:
    return set(re.findall(r'<tr data-order="([^"]+)"', page))


def state_of(config: CenterConfig, order_id: str) -> str:
    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(sa.select(orders.c.state).where(orders.c.id == order_id)).scalar_one()
            )
    finally:
        engine.dispose()


def new_orders(console: RunningConsole, municipality: str = TOWN) -> dict[str, str]:
    """A fresh order of each kind that needs a person, long ago, for a test's own actions."""

    async def script(book: OrderBook) -> dict[str, str]:
        where = ("T-0301", STORES[TOWN]) if municipality == TOWN else ("T-0302", STORES[OTHER_TOWN])
        printing = await book.placed(*where, municipality, [item("tax")], LONG_AGO)
        await book.service.printing(where[0], printing.order_id)
        issued = await book.placed(*where, municipality, [item("tax")], LONG_AGO)  # its terminal went silent
        printed = await book.printed(*where, municipality, [item("tax"), item("resident_record")], LONG_AGO)
        voided = await book.placed(*where, municipality, [item("tax")], LONG_AGO)
        await book.service.void(where[0], voided.order_id, "printer_fault")
        book.municipalities.down.add(municipality)
        pending = await book.placed(*where, municipality, [item("tax")], LONG_AGO)
        await book.service.void(where[0], pending.order_id, "cancelled")
        await book.service.refunded(where[0], pending.order_id)
        return {
            "printing": printing.order_id,
            "issued": issued.order_id,
            "printed": printed.order_id,
            "voided": voided.order_id,
            "pending": pending.order_id,
        }

    config = console.config
    return make_orders(config.database_url, config.audit_chain_key, script)


# -- reading ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "municipal", "auditor"])
def test_every_role_reads_both_pages_and_finds_them_in_the_menu(stage: Stage, role: str) -> None:
    person = enrolled(stage.console, role, TOWN if role == "municipal" else None)
    for path in PAGES:
        assert person.client.get(path).status_code == 200, (role, path)
    menu = re.findall(r'<li><a href="([^"]+)"', person.client.get("/").text)
    assert "/volumes" in menu and "/attention" in menu


def test_the_center_s_people_see_every_municipality_s_volumes_as_charts_tables_and_csv(stage: Stage) -> None:
    auditor = enrolled(stage.console, "auditor")
    page = auditor.client.get("/volumes").text  # today by hour
    total = sum(stage.day.copies.values())
    # refused: a resident (OTHER_TOWN's code), a terminal's request, a settlement, a late report
    assert f'data-copies="{total}"' in page and 'data-refusals="4"' in page
    assert re.findall(
        r'<tr data-municipality="(\d+)"><th scope="row">\d+</th><td class="number">(\d+)<', page
    ) == [
        (TOWN, str(stage.day.copies[TOWN])),
        (OTHER_TOWN, str(stage.day.copies[OTHER_TOWN])),
    ]
    for chart in ("copies-over-time", "copies-by-municipality", "copies-by-type", "refusals-by-code"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart}" role="img"' in page
        assert f'aria-labelledby="{chart}-title" aria-describedby="{chart}-desc"' in page
    assert "<b>" not in page and "&lt;b&gt;" in page  # a municipality's code is text, in the chart too
    copies = auditor.client.get("/volumes/copies.csv")
    assert copies.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        copies.headers["content-disposition"]
        == 'attachment; filename="copies-2026-12-08-2026-12-08-hour.csv"'
    )
    lines = copies.text.removeprefix("\ufeff").splitlines()
    assert lines[0] == "from,municipality,certificate_type,copies"
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[1:]) == total
    assert "2026-12-08T06:00:00+09:00,131016,resident_record,2" in lines
    refusals = auditor.client.get("/volumes/refusals.csv").text
    assert '2026-12-08,2026-12-08,order_refused,"\'=HYPERLINK(""x"")<b>",1' in refusals  # never a formula
    assert "terminal_request,bad_signature,1" in refusals
    week = auditor.client.get(f"/volumes?by=day&municipality={TOWN}").text
    assert f'data-copies="{stage.day.copies[TOWN] + 1 + 3}"' in week  # and the 7th's, and the 3rd's
    assert OTHER_TOWN not in re.findall(r'data-municipality="(\d+)"', week)


def test_municipal_staff_see_only_their_municipality_s_volumes(stage: Stage) -> None:
    town, other = enrolled(stage.console, "municipal", TOWN), enrolled(stage.console, "municipal", OTHER_TOWN)
    page = town.client.get("/volumes").text
    assert f'data-copies="{stage.day.copies[TOWN]}"' in page
    assert 'data-refusals="1"' in page  # the late report of its resident's order; no terminal's request
    assert set(re.findall(r'data-municipality="(\d+)"', page)) == {TOWN}
    assert 'id="municipality"' not in page  # no field to ask for another
    assert OTHER_TOWN not in town.client.get("/volumes/copies.csv").text
    assert "bad_signature" not in town.client.get("/volumes/refusals.csv").text  # no municipality's
    assert "order_refused" in other.client.get("/volumes/refusals.csv").text  # its own resident's
    for path in PAGES[:3]:
        assert refusal(town.client.get(f"{path}?municipality={OTHER_TOWN}")) == (404, "not_found"), path
        assert town.client.get(f"{path}?municipality={TOWN}").status_code == 200
    name = town.client.get("/volumes/copies.csv?by=day").headers["content-disposition"]
    assert name == f'attachment; filename="copies-2026-12-02-2026-12-08-day-{TOWN}.csv"'


def test_bad_parameters_are_refused_with_their_codes(stage: Stage) -> None:
    operator = enrolled(stage.console, "operator")
    for query, code in (
        ("by=week", "bad_grouping"),
        ("from=2026-13-01", "bad_day"),
        ("from=2026-12-08&to=2026-12-01", "bad_range"),
        ("from=2026-12-01&to=2026-12-08", "range_too_long"),
        ("by=day&from=2026-01-01&to=2026-12-08", "range_too_long"),
        ("municipality=13101X", "bad_municipality"),
    ):
        for path in PAGES[:3]:
            assert refusal(operator.client.get(f"{path}?{query}")) == (400, code), (path, query)
    for query, code in (("minutes=0", "bad_minutes"), ("minutes=x", "bad_minutes"), ("days=93", "bad_days")):
        assert refusal(operator.client.get(f"/attention?{query}")) == (400, code), query
    page = operator.client.get("/volumes?from=2026-12-01&to=2026-12-09&lang=en")
    assert refusal(page) == (400, "range_too_long") and "could not be accepted" in page.text


def test_orders_that_need_a_person_by_role(stage: Stage) -> None:
    day = stage.day
    operator, auditor = enrolled(stage.console, "operator"), enrolled(stage.console, "auditor")
    town, other = enrolled(stage.console, "municipal", TOWN), enrolled(stage.console, "municipal", OTHER_TOWN)
    everything = operator.client.get("/attention").text
    assert {day.printing, day.printed, day.voided, day.pending, day.partly} <= orders_of_page(everything)
    assert f'action="/attention/orders/{day.printed}/settle"' in everything
    # a printing order may have paper out: only its terminal ends it, and the page says so
    assert f'action="/attention/orders/{day.printing}/void"' not in everything
    assert f'data-order="{day.printing}" data-state="printing"' in everything
    assert 'data-printing="only-its-terminal"' in everything
    assert f'action="/attention/orders/{day.voided}/refund"' in everything
    assert "void-confirmed" not in everything  # operators do not confirm a municipality's void
    assert 'data-code="wrong_amount"' in everything and 'data-code="order_state"' in everything
    read_only = auditor.client.get("/attention").text
    assert orders_of_page(read_only) == orders_of_page(everything) and "data-action=" not in read_only
    mine = town.client.get("/attention").text
    assert {day.printing, day.voided, day.partly} <= orders_of_page(mine)
    assert not {day.printed, day.pending} & orders_of_page(mine) and "data-action=" not in mine
    theirs = other.client.get("/attention").text
    assert f'action="/attention/orders/{day.pending}/void-confirmed"' in theirs
    assert 'data-action="settle"' not in theirs
    assert refusal(town.client.get(f"/attention?municipality={OTHER_TOWN}")) == (404, "not_found")
    assert orders_of_page(operator.client.get(f"/attention?municipality={OTHER_TOWN}").text) >= {day.printed}


# -- acting -----------------------------------------------------------------------------------------


def test_an_operator_ends_orders_each_action_audited_and_the_books_reconcile(stage: Stage) -> None:
    console = stage.console
    operator = enrolled(console, "operator")
    mine = new_orders(console)
    printed, issued, voided = mine["printed"], mine["issued"], mine["voided"]
    assert refusal(operator.change(f"/attention/orders/{printed}/settle", {"counted": "abc"})) == (
        400,
        "bad_amount",
    )
    assert refusal(operator.change(f"/attention/orders/{printed}/settle", {"counted": str(FEE)})) == (
        400,
        "wrong_amount",
    )
    done = operator.change(f"/attention/orders/{printed}/settle", {"counted": str(2 * FEE)})
    assert done.status_code == 303 and done.headers["location"] == f"/attention?done=settle&order={printed}"
    assert 'id="handled" data-action="settle"' in operator.client.get(done.headers["location"]).text
    printing = f"/attention/orders/{mine['printing']}/void"
    assert refusal(operator.change(printing, {"confirm": "yes"})) == (409, "order_state")  # paper may be out
    assert refusal(operator.change(f"/attention/orders/{issued}/void")) == (400, "confirmation_required")
    assert operator.change(f"/attention/orders/{issued}/void", {"confirm": "yes"}).status_code == 303
    assert operator.change(f"/attention/orders/{voided}/refund", {"confirm": "yes"}).status_code == 303
    assert refusal(operator.change(f"/attention/orders/{voided}/refund", {"confirm": "yes"})) == (
        409,
        "order_state",
    )
    assert [state_of(console.config, order) for order in (printed, mine["printing"], issued, voided)] == [
        "settled",
        "printing",
        "refunded",
        "refunded",
    ]
    assert reconciled(console.config.database_url) == []
    lines = [
        (row.outcome, row.reason, row.detail)
        for row in lines_of(console.config, "order_by_hand")
        if row.actor == operator.name
    ]
    assert lines == [
        ("refused", "wrong_amount", f"order {printed}: settle, counted {FEE} yen"),
        ("accepted", "settle", f"order {printed}: settle, counted {2 * FEE} yen"),
        ("refused", "order_state", f"order {mine['printing']}: void"),
        ("accepted", "void", f"order {issued}: void"),
        ("accepted", "refund", f"order {voided}: refund"),
        ("refused", "order_state", f"order {voided}: refund"),
    ]
    assert refusal(operator.change("/attention/orders/no-such-order/void", {"confirm": "yes"})) == (
        404,
        "not_found",
    )
    assert refusal(operator.change(f"/attention/orders/{printed}/launch")) == (404, "not_found")
    assert refusal(operator.change("/attention/orders/a%20b/void")) == (404, "not_found")


def test_municipal_staff_confirm_their_own_voids_and_end_no_order(stage: Stage) -> None:
    console = stage.console
    town, other = enrolled(console, "municipal", TOWN), enrolled(console, "municipal", OTHER_TOWN)
    operator = enrolled(console, "operator")
    mine, theirs = new_orders(console, TOWN), new_orders(console, OTHER_TOWN)
    confirm = {"confirm": "yes"}
    assert refusal(town.change(f"/attention/orders/{mine['issued']}/void", confirm)) == (403, "not_allowed")
    assert refusal(town.change(f"/attention/orders/{theirs['issued']}/void", confirm)) == (404, "not_found")
    assert refusal(town.change("/attention/orders/no-such-order/settle", {"counted": "1"})) == (
        404,
        "not_found",
    )
    pending = f"/attention/orders/{theirs['pending']}/void-confirmed"
    assert theirs["pending"] in orders_of_page(other.client.get("/attention?days=30").text)
    assert refusal(town.change(pending, confirm)) == (404, "not_found")
    assert refusal(operator.change(pending, confirm)) == (403, "not_allowed")
    assert refusal(other.change(pending)) == (400, "confirmation_required")
    assert other.change(pending, confirm).status_code == 303
    assert refusal(other.change(pending, confirm)) == (409, "no_void_pending")
    assert theirs["pending"] not in orders_of_page(other.client.get("/attention").text)
    assert town.change(f"/attention/orders/{mine['pending']}/void-confirmed", confirm).status_code == 303
    assert state_of(console.config, mine["issued"]) == "issued"  # nothing changed by the refusals
    lines = [(row.outcome, row.reason, row.actor) for row in lines_of(console.config, "order_by_hand")]
    assert ("refused", "out_of_scope", town.name) in lines
    assert ("accepted", "void_confirmed", other.name) in lines
    assert ("refused", "no_void_pending", other.name) in lines


def test_an_auditor_is_refused_every_action_and_a_change_needs_the_token_and_the_origin(stage: Stage) -> None:
    console = stage.console
    auditor, operator = enrolled(console, "auditor"), enrolled(console, "operator")
    mine = new_orders(console)
    target = f"/attention/orders/{mine['issued']}/void"
    assert refusal(auditor.change(target, {"confirm": "yes"})) == (403, "not_allowed")
    assert refusal(
        auditor.change(f"/attention/orders/{mine['printed']}/settle", {"counted": str(2 * FEE)})
    ) == (
        403,
        "not_allowed",
    )
    post = operator.client.post
    assert refusal(post(target, data={"confirm": "yes"})) == (403, "csrf_refused")
    assert refusal(post(target, data={"confirm": "yes", "csrf": auditor.csrf})) == (403, "csrf_refused")
    assert refusal(
        post(
            target, data={"confirm": "yes", "csrf": operator.csrf}, headers={"origin": "https://evil.example"}
        )
    ) == (403, "cross_origin")
    assert refusal(operator.client.get(target)) == (405, "method_not_allowed")
    assert state_of(console.config, mine["issued"]) == "issued"
    assert not [
        row for row in lines_of(console.config, "order_by_hand") if row.actor in (auditor.name, operator.name)
    ]
    assert post(target, data={"confirm": "yes"}, headers={"x-csrf-token": operator.csrf}).status_code == 303


def test_a_signed_out_client_is_sent_to_sign_in(stage: Stage) -> None:
    with client(stage.console) as anonymous:
        for path in PAGES:
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next="), path
        assert refusal(anonymous.post(f"/attention/orders/{stage.day.printing}/void")) == (401, "signed_out")


def test_the_audit_log_s_days_are_japan_s_on_both_databases(stage: Stage) -> None:
    """The morning's orders were issued from 06:48 in Japan, 21:48 UTC the day before: a day's
    filter is Japan's day (it was UTC's on SQLite, which compares the UTC text it keeps)."""
    auditor = enrolled(stage.console, "auditor")

    def issued(query: str) -> int:
        page = auditor.client.get(f"/audit?event=order_issued&{query}").text
        return page.count('data-event="order_issued"')

    today, before = issued("from=2026-12-08&to=2026-12-08"), issued("from=2026-12-07&to=2026-12-07")
    assert today == 12 and before == 1, (today, before)  # and the 7th's one, at 10:00 in Japan
