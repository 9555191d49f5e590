"""Orders that need a person, on SQLite and PostgreSQL, with orders made through the center's order
service (support.console_orders): what a person may do to an order, along the order's table only
(center.order_states.BY_HAND); the lists of the console's page (center.attention); and each action
of the desk (center.order_desk) audited with who did it, refused with its code when it cannot be,
racing a terminal's own report, and the books reconciled after every one: no order both paid and
voided, a settled order's ledger exactly its copies printed whole; and each list paged by its
keyset, with its total."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from center.attention import Attention, needing_a_person
from center.audit import verify_chain
from center.errors import BadRequest, CenterError, Conflict, NotFound
from center.order_desk import OrderDesk
from center.order_states import (
    BY_HAND,
    FINAL,
    TRANSITIONS,
    HandAction,
    OrderEvent,
    OrderState,
    by_hand,
    hand_actions,
)
from center.store.engine import make_engine
from center.store.tables import audit_log, ledger, orders
from support.console_orders import (
    FEE,
    Municipalities,
    OrderBook,
    item,
    make_orders,
    quiet_orders,
    reconciled,
    refused_reports,
)

KEY = b"k" * 32
NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)
AGO = NOW - dt.timedelta(hours=2)
TOWN, OTHER = "131016", "271004"
STORE = "ファミリーマート 千代田一番町店"


@dataclass
class Cases:
    printing: str  # the terminal said printing, then nothing
    printed: str  # printed, its settlement refused (wrong amount)
    voided: str  # voided by the terminal, never reported refunded; a late "printing" refused
    issued: str  # issued, past its deadline (the housekeeping has not run)
    pending: str  # voided and refunded, its municipality (OTHER) down
    partly: str  # a jam: one copy of two, settled
    fresh: str  # issued five minutes ago
    settled: str
    printing_copies: list[str]


async def stage(book: OrderBook) -> Cases:
    two = [item("resident_record"), item("seal_registration")]
    printing = await book.placed("T-0001", STORE, TOWN, two, AGO)
    await book.service.printing("T-0001", printing.order_id)
    printed = await book.printed("T-0001", STORE, TOWN, two, AGO)
    with pytest.raises(BadRequest):
        await book.service.settle("T-0001", printed.order_id, 100)
    voided = await book.placed("T-0001", STORE, TOWN, two, AGO)
    await book.service.void("T-0001", voided.order_id, "printer_fault")
    with pytest.raises(Conflict):
        await book.service.printing("T-0001", voided.order_id)
    issued = await book.placed("T-0001", STORE, TOWN, [item("tax")], AGO)
    book.municipalities.down.add(OTHER)
    pending = await book.placed("T-0002", "ローソン", OTHER, [item("tax", 2)], AGO)
    await book.service.void("T-0002", pending.order_id, "cancelled")
    await book.service.refunded("T-0002", pending.order_id)
    partly = await book.settled("T-0001", STORE, TOWN, two, AGO - dt.timedelta(hours=1), whole=1)
    settled = await book.settled("T-0001", STORE, TOWN, two, AGO)
    fresh = await book.placed("T-0001", STORE, TOWN, two, NOW - dt.timedelta(minutes=5))
    book.clock.now = NOW
    return Cases(
        printing.order_id,
        printed.order_id,
        voided.order_id,
        issued.order_id,
        pending.order_id,
        partly.order_id,
        fresh.order_id,
        settled.order_id,
        [copy.issue_number for copy in printing.copies],
    )


def desk(book: OrderBook) -> OrderDesk:
    return OrderDesk(book.database, KEY, clock=book.clock)


def lists(url: str, municipality: str | None = None, **options: dt.timedelta) -> Attention:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return needing_a_person(connection, NOW, municipality=municipality, **options)
    finally:
        engine.dispose()


def state_of(url: str, order_id: str) -> tuple[str, bool]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(orders.c.state, orders.c.void_pending).where(orders.c.id == order_id)
            ).one()
    finally:
        engine.dispose()
    return row.state, bool(row.void_pending)


def by_hand_lines(url: str) -> list[tuple[str, str | None, str | None, str | None]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert verify_chain(connection, KEY).intact
            return [
                (row.outcome, row.reason, row.actor, row.detail)
                for row in connection.execute(
                    sa.select(audit_log).where(audit_log.c.event == "order_by_hand").order_by(audit_log.c.seq)
                )
            ]
    finally:
        engine.dispose()


def test_a_person_moves_an_order_only_along_its_table_and_always_to_an_end() -> None:
    assert {state: hand_actions(state) for state in OrderState} == {
        OrderState.REQUESTED: (HandAction.VOID,),
        OrderState.ISSUED: (HandAction.VOID,),
        OrderState.PRINTING: (),  # its paper may be out: only its terminal ends it
        OrderState.PRINTED: (HandAction.SETTLE,),  # never voided: its copies are on paper
        OrderState.SETTLED: (),
        OrderState.VOIDED: (HandAction.REFUND,),
        OrderState.REFUNDED: (),
    }
    for state in OrderState:
        for action in hand_actions(state):
            reached, current = by_hand(state, action), state
            for event in BY_HAND[action]:
                current = TRANSITIONS[(current, event)]
            assert reached is current and reached in FINAL, (state, action)
    assert by_hand(OrderState.PRINTED, HandAction.VOID) is None
    assert by_hand(OrderState.PRINTING, HandAction.VOID) is None
    assert all(
        OrderEvent.VOID not in BY_HAND[action] or OrderEvent.SETTLE not in BY_HAND[action]
        for action in HandAction
    )


def test_the_lists_of_orders_that_need_a_person(database_url: str) -> None:
    cases = make_orders(database_url, KEY, stage)
    found = lists(database_url)
    assert {(case.order_id, case.state) for case in found.not_ended} == {
        (cases.printing, OrderState.PRINTING),
        (cases.printed, OrderState.PRINTED),
        (cases.voided, OrderState.VOIDED),
        (cases.issued, OrderState.ISSUED),
    }
    shown = {case.order_id: case for case in found.not_ended}
    assert shown[cases.printed].actions == (HandAction.SETTLE,) and shown[cases.printed].due == 2 * FEE
    assert (shown[cases.printed].printed, shown[cases.printed].copies) == (2, 2)
    assert shown[cases.printing].actions == () and shown[cases.printing].due == 0
    assert [(r.event, r.code) for r in shown[cases.printed].refused_reports] == [
        ("order_settle_refused", "wrong_amount")
    ]
    assert [(r.order_id, r.event, r.code, r.state) for r in found.refused_reports] == [
        (cases.voided, "order_printing_refused", "order_state", OrderState.VOIDED),
        (cases.printed, "order_settle_refused", "wrong_amount", OrderState.PRINTED),
    ]
    assert [(case.order_id, case.state, len(case.to_void)) for case in found.voids_pending] == [
        (cases.pending, OrderState.REFUNDED, 2)
    ]
    assert [
        (case.order_id, case.printed, case.copies, case.void_pending) for case in found.partly_printed
    ] == [(cases.partly, 1, 2, False)]
    assert found.count == 7
    other = lists(database_url, OTHER)
    assert other.not_ended == [] and other.refused_reports == [] and other.partly_printed == []
    assert [case.order_id for case in other.voids_pending] == [cases.pending]
    assert cases.pending not in {case.order_id for case in lists(database_url, TOWN).voids_pending}
    patient = lists(database_url, quiet=dt.timedelta(hours=3), recent=dt.timedelta(minutes=30))
    assert patient.not_ended == [] and patient.refused_reports == [] and patient.partly_printed == []


def test_each_action_ends_its_order_is_audited_and_the_books_reconcile(database_url: str) -> None:
    async def script(book: OrderBook) -> Cases:
        cases = await stage(book)
        person = desk(book)
        assert reconciled(database_url) == []
        with pytest.raises(Conflict) as printing:  # its paper may be out: only its terminal ends it
            await person.handle(cases.printing, HandAction.VOID, actor="sato", counted=None)
        assert printing.value.code == "order_state"
        assert state_of(database_url, cases.printing) == ("printing", False)
        assert reconciled(database_url) == []
        with pytest.raises(BadRequest) as wrong:
            await person.handle(cases.printed, HandAction.SETTLE, actor="sato", counted=2 * FEE - 10)
        assert wrong.value.code == "wrong_amount" and wrong.value.details == {"due": 2 * FEE}
        assert state_of(database_url, cases.printed) == ("printed", False)
        assert (
            await person.handle(cases.printed, HandAction.SETTLE, actor="sato", counted=2 * FEE)
            is OrderState.SETTLED
        )
        assert reconciled(database_url) == []
        assert await person.handle(cases.voided, HandAction.REFUND, actor="suzuki") is OrderState.REFUNDED
        assert await person.handle(cases.issued, HandAction.VOID, actor="suzuki") is OrderState.REFUNDED
        assert state_of(database_url, cases.issued) == ("refunded", True)  # the municipality is to be told
        assert reconciled(database_url) == []
        # the terminals' late reports change nothing: settled once, a voided order never printed
        assert await book.service.settle("T-0001", cases.printed, 2 * FEE) is OrderState.SETTLED
        # the printing order's terminal ends it: its copies printed, then paid
        assert (
            await book.service.printed("T-0001", cases.printing, cases.printing_copies) is OrderState.PRINTED
        )
        with pytest.raises(CenterError):
            await book.service.printing("T-0001", cases.issued)
        await book.service.tell_voids()  # the housekeeping tells the municipality
        assert state_of(database_url, cases.issued) == ("refunded", False)
        return cases

    cases = make_orders(database_url, KEY, script)
    assert by_hand_lines(database_url) == [
        ("refused", "order_state", "sato", f"order {cases.printing}: void"),
        ("refused", "wrong_amount", "sato", f"order {cases.printed}: settle, counted {2 * FEE - 10} yen"),
        ("accepted", "settle", "sato", f"order {cases.printed}: settle, counted {2 * FEE} yen"),
        ("accepted", "refund", "suzuki", f"order {cases.voided}: refund"),
        ("accepted", "void", "suzuki", f"order {cases.issued}: void"),
    ]
    engine = make_engine(database_url)
    with engine.connect() as connection:
        lines = dict(
            connection.execute(
                sa.select(ledger.c.account, ledger.c.amount).where(ledger.c.order_id == cases.printed)
            ).all()
        )
    engine.dispose()
    assert lines == {"municipality": 2 * FEE - 2 * 115, "center": 120, "store": 110}
    assert {case.order_id for case in lists(database_url).not_ended} == set()


def test_what_cannot_be_done_is_refused_audited_and_changes_nothing(database_url: str) -> None:
    async def script(book: OrderBook) -> Cases:
        cases = await stage(book)
        person = desk(book)
        for order_id, action, municipality, code in (
            (cases.settled, HandAction.VOID, None, "order_state"),
            (cases.printed, HandAction.VOID, None, "order_state"),  # a printed order is never voided
            (cases.printing, HandAction.SETTLE, None, "order_state"),
            (cases.fresh, HandAction.VOID, None, "not_overdue"),  # its terminal may still print it
            ("no-such-order", HandAction.VOID, None, "unknown_order"),
            (cases.printing, HandAction.VOID, OTHER, "out_of_scope"),
        ):
            with pytest.raises(CenterError) as refused:
                await person.handle(order_id, action, actor="sato", municipality=municipality, counted=0)
            assert refused.value.code == code, (order_id, action)
            assert isinstance(refused.value, NotFound) == (code in ("unknown_order", "out_of_scope"))
        return cases

    cases = make_orders(database_url, KEY, script)
    lines = by_hand_lines(database_url)
    assert [(outcome, code, actor) for outcome, code, actor, _ in lines] == [
        ("refused", code, "sato")
        for code in (
            "order_state",
            "order_state",
            "order_state",
            "not_overdue",
            "unknown_order",
            "out_of_scope",
        )
    ]
    assert lines[4][3] == "order no-such-order: void"
    assert state_of(database_url, cases.printing) == ("printing", False)
    assert state_of(database_url, cases.fresh) == ("issued", False)
    assert reconciled(database_url) == []


def test_municipal_staff_confirm_a_void_their_municipality_could_not_be_told(database_url: str) -> None:
    async def script(book: OrderBook) -> Cases:
        cases = await stage(book)
        person = desk(book)
        with pytest.raises(NotFound):
            await person.confirm_void(cases.pending, actor="kato", municipality=TOWN)
        await person.confirm_void(cases.pending, actor="yoshida", municipality=OTHER)
        with pytest.raises(Conflict) as again:
            await person.confirm_void(cases.pending, actor="yoshida", municipality=OTHER)
        assert again.value.code == "no_void_pending"
        return cases

    cases = make_orders(database_url, KEY, script)
    assert state_of(database_url, cases.pending) == ("refunded", False)
    assert lists(database_url).voids_pending == []
    assert by_hand_lines(database_url) == [
        ("refused", "out_of_scope", "kato", f"order {cases.pending}: void_confirmed"),
        ("accepted", "void_confirmed", "yoshida", f"order {cases.pending}: void_confirmed by {OTHER}"),
        ("refused", "no_void_pending", "yoshida", f"order {cases.pending}: void_confirmed"),
    ]


def test_a_person_and_the_terminal_acting_at_once_end_the_order_once(database_url: str) -> None:
    """The terminal reports and the operator acts at the same moment, on each order of each kind:
    whichever comes first wins, the other is refused or finds it done, and the books reconcile."""

    async def script(book: OrderBook) -> list[tuple[object, object]]:
        await stage(book)
        person, outcomes = desk(book), []
        for _ in range(3):
            book.clock.now = AGO
            printed = await book.printed("T-0001", STORE, TOWN, [item("tax")], AGO)
            issued = await book.placed("T-0001", STORE, TOWN, [item("tax")], AGO)
            book.clock.now = NOW
            results = await asyncio.gather(
                person.handle(printed.order_id, HandAction.SETTLE, actor="sato", counted=FEE),
                book.service.settle("T-0001", printed.order_id, FEE),
                person.handle(issued.order_id, HandAction.VOID, actor="sato"),
                book.service.printing("T-0001", issued.order_id),  # its terminal starts printing
                return_exceptions=True,
            )
            outcomes.append((results[0], results[1]))
            assert OrderState.SETTLED in results[:2]
            voided, printing_there = results[2] is OrderState.REFUNDED, results[3] is OrderState.PRINTING
            assert voided != printing_there, results  # one of the two, never both
            assert reconciled(database_url) == []
        return outcomes

    make_orders(database_url, KEY, script, Municipalities())
    assert reconciled(database_url) == []


# -- paging ------------------------------------------------------------------------------------------


def walk(url: str, name: str, size: int, municipality: str | None = None) -> tuple[list[str], list[int]]:
    """Every page of the list ``name``, following its cursor: the ids in order, and the total
    each page said."""
    shown: list[str] = []
    totals: list[int] = []
    cursor: str | None = None
    for _ in range(100):
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                page = needing_a_person(
                    connection,
                    NOW,
                    municipality=municipality,
                    after={} if cursor is None else {name: cursor},
                    size=size,
                )
        finally:
            engine.dispose()
        rows = getattr(page, name)
        assert len(rows) <= size
        shown.extend(row.order_id for row in rows)
        totals.append(page.totals[name])
        cursor = page.cursors[name]
        if cursor is None:
            return shown, totals
        assert len(rows) == size  # a page with a next one is full
    raise AssertionError("the pages never end")


def test_each_list_pages_by_its_keyset_with_its_total(database_url: str) -> None:
    town = quiet_orders(
        database_url, 17, prefix="town", since=AGO - dt.timedelta(hours=1), municipality=TOWN, state="issued"
    )
    other = quiet_orders(
        database_url,
        4,
        prefix="other",
        since=AGO - dt.timedelta(hours=3),
        municipality=OTHER,
        state="printed",
    )
    pending = quiet_orders(
        database_url, 9, prefix="pending", since=AGO, municipality=OTHER, state="refunded", void_pending=True
    )
    partly = quiet_orders(
        database_url,
        11,
        prefix="partly",
        since=AGO,
        municipality=TOWN,
        state="settled",
        reason="partly_printed",
        ties=3,
    )
    reported = [order_id for _, order_id in town[::2]]  # 9 of them
    refused_reports(database_url, KEY, reported, AGO)
    not_ended = [order_id for _, order_id in sorted(town + other)]
    assert not_ended[:4] == [order_id for _, order_id in other]  # quiet the longest: first
    assert walk(database_url, "not_ended", 5) == (not_ended, [21] * 5)
    assert walk(database_url, "not_ended", 21) == (not_ended, [21])  # one page exactly: no next
    assert walk(database_url, "not_ended", 4, TOWN) == ([i for _, i in sorted(town)], [17] * 5)
    assert walk(database_url, "voids_pending", 2) == ([i for _, i in sorted(pending)], [9] * 5)
    assert walk(database_url, "partly_printed", 3) == ([i for _, i in sorted(partly, reverse=True)], [11] * 4)
    assert walk(database_url, "refused_reports", 4) == (reported[::-1], [9] * 3)  # newest first
    assert walk(database_url, "refused_reports", 4, OTHER) == ([], [0])
    whole = lists(database_url)
    assert whole.totals == {"not_ended": 21, "voids_pending": 9, "partly_printed": 11, "refused_reports": 9}
    assert whole.count == 21 + 9 + 9
