"""Orders that need a person (要対応の注文), as the operators' console lists them:

- **not ended**: an order that has not moved for a while (``quiet``: 30 minutes unless chosen) and
  is not at an end: still requested or issued (its deadline voids it: listed when the center's
  housekeeping has not), printing and never reported printed or voided (the terminal is gone),
  printed and never settled (the settlement was refused, or never reported), voided and never
  reported refunded. Each with what a person may do to it (:func:`center.order_states.hand_actions`)
  and the reports about it the center refused;
- **reports refused** (escalated at the kiosk): a terminal's report the center refused (printing,
  printed, settle, void, refunded), which the kiosk keeps for the store's staff; read from the
  audit log (each such line names its order) over the last days (``recent``: 7 unless chosen),
  whatever the order's state now — an order voided while its paper came out and the coins were
  taken is refunded by the store, not by the console;
- **voids pending**: orders whose municipality has not been told yet to void their copies (it
  could not be reached), quiet as long, with the copies it is to void;
- **partly printed**: orders of the last days whose job stopped part way (a jam, paper out): the
  copies that came out are paid, the others void at the municipality; the spoiled sheets at the
  store are to be destroyed.

Municipal staff see their own municipality's orders only. Nothing here identifies a person: an
order is its id, terminal, store, municipality, state, fees and copies' issue numbers.

Each list is a page of at most ``size`` rows (:data:`SHOWN`), with how many match in all
(``Attention.totals``) and, when there are more, the **cursor** of the next page
(``Attention.cursors``): keyset paging, as the fleet's, in the list's own order. An order list's
cursor is ``MICROS.ORDER_ID`` (the last row's last move, in microseconds since 1970, and its id:
orders are listed by their last move, then id), the refused reports' the last line's ``seq``; the
next page asks for the rows after it (:data:`LISTS` names each list's cursor in ``after``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from center.order_states import FINAL, HandAction, OrderState, hand_actions
from center.orders import order_detail
from center.store.tables import audit_log, order_copies, orders

QUIET = dt.timedelta(minutes=30)
RECENT = dt.timedelta(days=7)
SHOWN = 200  # rows of each list's page, the oldest (or, for refused reports, the newest) first
LISTS = ("not_ended", "refused_reports", "voids_pending", "partly_printed")
ORDER_CURSOR = re.compile(r"([0-9]{1,19})\.([A-Za-z0-9-]{1,40})")
SEQ_CURSOR = re.compile(r"[0-9]{1,19}")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
REFUSED_REPORTS = (
    "order_printing_refused",
    "order_printed_refused",
    "order_settle_refused",
    "order_void_refused",
    "order_refunded_refused",
)


@dataclass(frozen=True)
class RefusedReport:
    at: dt.datetime
    event: str  # which report: order_settle_refused, …
    code: str  # why the center refused it
    order_id: str
    terminal_id: str
    store: str
    municipality: str
    state: OrderState  # the order's state now


@dataclass(frozen=True)
class OrderCase:
    """One order as a person handling it needs to see it."""

    order_id: str
    terminal_id: str
    store: str
    municipality: str
    state: OrderState
    reason: str | None
    fee: int | None  # of every copy issued
    created_at: dt.datetime
    updated_at: dt.datetime
    deadline: dt.datetime
    void_pending: bool
    copies: int = 0
    printed: int = 0
    due: int = 0  # the fees of the copies printed whole: what a settlement must find
    to_void: tuple[str, ...] = ()  # issue numbers the municipality is to void (void pending)
    refused_reports: tuple[RefusedReport, ...] = ()

    @property
    def actions(self) -> tuple[HandAction, ...]:
        return hand_actions(self.state)


@dataclass(frozen=True)
class Attention:
    now: dt.datetime
    quiet: dt.timedelta
    recent: dt.timedelta
    municipality: str | None
    not_ended: list[OrderCase] = field(default_factory=list)
    refused_reports: list[RefusedReport] = field(default_factory=list)
    voids_pending: list[OrderCase] = field(default_factory=list)
    partly_printed: list[OrderCase] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # per list (LISTS): how many match in all
    cursors: dict[str, str | None] = field(default_factory=dict)  # per list: its next page's, if any

    @property
    def count(self) -> int:
        return sum(self.totals.get(name, 0) for name in ("not_ended", "refused_reports", "voids_pending"))


def valid_cursor(name: str, cursor: str) -> bool:
    """Whether ``cursor`` is one a page of the list ``name`` could have given."""
    pattern = SEQ_CURSOR if name == "refused_reports" else ORDER_CURSOR
    return bool(pattern.fullmatch(cursor))


def _order_cursor(case: OrderCase) -> str:
    return f"{(case.updated_at - EPOCH) // MICROSECOND}.{case.order_id}"


def _after_order(cursor: str | None, descending: bool) -> list[sa.ColumnElement[bool]]:
    """The keyset condition of the rows after ``cursor`` in (last move, id) order."""
    found = ORDER_CURSOR.fullmatch(cursor or "")
    if found is None:
        return []
    moved, order_id = EPOCH + int(found.group(1)) * MICROSECOND, found.group(2)
    c = orders.c
    if descending:
        return [sa.or_(c.updated_at < moved, sa.and_(c.updated_at == moved, c.id < order_id))]
    return [sa.or_(c.updated_at > moved, sa.and_(c.updated_at == moved, c.id > order_id))]


def needing_a_person(
    connection: sa.Connection,
    now: dt.datetime,
    *,
    municipality: str | None = None,
    quiet: dt.timedelta = QUIET,
    recent: dt.timedelta = RECENT,
    after: Mapping[str, str] | None = None,
    size: int = SHOWN,
) -> Attention:
    """A page of every list at ``now``, of every municipality or of ``municipality`` only: each
    list's rows after its cursor in ``after`` (its first page without one), at most ``size``."""
    after = after or {}
    quiet_since, recent_since = _utc(now - quiet), _utc(now - recent)
    c = orders.c
    scope = [] if municipality is None else [c.municipality == municipality]
    totals: dict[str, int] = {}
    cursors: dict[str, str | None] = {}

    def paged(name: str, where: list[sa.ColumnElement[bool]], descending: bool = False) -> list[OrderCase]:
        totals[name] = int(
            connection.execute(sa.select(sa.func.count()).select_from(orders).where(*where)).scalar_one()
        )
        order_by = (c.updated_at.desc(), c.id.desc()) if descending else (c.updated_at, c.id)
        found = _orders(connection, [*where, *_after_order(after.get(name), descending)], order_by, size + 1)
        cursors[name] = _order_cursor(found[size - 1]) if len(found) > size else None
        return found[:size]

    not_ended = paged(
        "not_ended", [c.state.not_in([state.value for state in FINAL]), c.updated_at < quiet_since, *scope]
    )
    pending = paged("voids_pending", [c.void_pending.is_(True), c.updated_at < quiet_since, *scope])
    partly = paged(
        "partly_printed",
        [c.reason == "partly_printed", c.updated_at >= recent_since, *scope],
        descending=True,
    )
    reports, totals["refused_reports"], cursors["refused_reports"] = _refused_reports(
        connection, recent_since, municipality, after.get("refused_reports"), size
    )
    cases = _with_copies(connection, [*not_ended, *pending, *partly])
    by_order: dict[str, list[RefusedReport]] = {}
    for report in reports:
        by_order.setdefault(report.order_id, []).append(report)

    def complete(rows: Iterable[OrderCase]) -> list[OrderCase]:
        return [
            replace(cases[row.order_id], refused_reports=tuple(by_order.get(row.order_id, ())))
            for row in rows
        ]

    return Attention(
        now,
        quiet,
        recent,
        municipality,
        complete(not_ended),
        reports,
        complete(pending),
        complete(partly),
        totals,
        cursors,
    )


def order_case(connection: sa.Connection, order_id: str) -> OrderCase | None:
    """One order as :func:`needing_a_person` shows it, whatever its state (``None``: no such order)."""
    found = _orders(connection, [orders.c.id == order_id], (orders.c.id,), 1)
    return _with_copies(connection, found).get(order_id) if found else None


def _orders(
    connection: sa.Connection,
    where: Sequence[sa.ColumnElement[bool]],
    order_by: Sequence[sa.ColumnElement[object]],
    limit: int,
) -> list[OrderCase]:
    c = orders.c
    query = (
        sa.select(
            c.id,
            c.terminal_id,
            c.store,
            c.municipality,
            c.state,
            c.reason,
            c.fee,
            c.created_at,
            c.updated_at,
            c.deadline,
            c.void_pending,
        )
        .where(*where)
        .order_by(*order_by)
        .limit(limit)
    )
    return [
        OrderCase(
            row.id,
            row.terminal_id,
            row.store,
            row.municipality,
            OrderState(row.state),
            row.reason,
            row.fee,
            _aware(row.created_at),
            _aware(row.updated_at),
            _aware(row.deadline),
            bool(row.void_pending),
        )
        for row in connection.execute(query)
    ]


def _with_copies(connection: sa.Connection, cases: Sequence[OrderCase]) -> dict[str, OrderCase]:
    """The cases with their copies: how many, how many printed whole, their fees, and the ones
    the municipality is to void (those not printed, or every one when none was)."""
    ids = sorted({case.order_id for case in cases})
    copies: dict[str, list[Any]] = {}
    if ids:
        query = (
            sa.select(
                order_copies.c.order_id,
                order_copies.c.issue_number,
                order_copies.c.fee,
                order_copies.c.printed_at,
            )
            .where(order_copies.c.order_id.in_(ids))
            .order_by(order_copies.c.item, order_copies.c.copy)
        )
        for row in connection.execute(query):
            copies.setdefault(row.order_id, []).append(row)
    found = {}
    for case in cases:
        rows = copies.get(case.order_id, [])
        printed = [row for row in rows if row.printed_at is not None]
        to_void = [row.issue_number for row in rows if row.printed_at is None] if case.void_pending else []
        found[case.order_id] = replace(
            case,
            copies=len(rows),
            printed=len(printed),
            due=sum(row.fee for row in printed),
            to_void=tuple(to_void),
        )
    return found


def _refused_reports(
    connection: sa.Connection, since: dt.datetime, municipality: str | None, after: str | None, size: int
) -> tuple[list[RefusedReport], int, str | None]:
    """A page of the refused reports, newest first, after the line ``after`` (a ``seq``); how
    many there are in all; the next page's cursor."""
    line = audit_log.c
    joined = audit_log.join(orders, line.detail == sa.literal(order_detail("")) + orders.c.id)
    where = [line.event.in_(REFUSED_REPORTS), line.at >= since]
    if municipality is not None:
        where.append(orders.c.municipality == municipality)
    total = int(connection.execute(sa.select(sa.func.count()).select_from(joined).where(*where)).scalar_one())
    if after is not None and SEQ_CURSOR.fullmatch(after):
        where.append(line.seq < int(after))
    query = (
        sa.select(
            line.seq,
            line.at,
            line.event,
            line.reason,
            orders.c.id,
            orders.c.terminal_id,
            orders.c.store,
            orders.c.municipality,
            orders.c.state,
        )
        .select_from(joined)
        .where(*where)
        .order_by(line.seq.desc())
        .limit(size + 1)
    )
    rows = list(connection.execute(query))
    cursor = str(rows[size - 1].seq) if len(rows) > size else None
    reports = [
        RefusedReport(
            _aware(row.at),
            row.event,
            row.reason or "",
            row.id,
            row.terminal_id,
            row.store,
            row.municipality,
            OrderState(row.state),
        )
        for row in rows[:size]
    ]
    return reports, total, cursor


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    """A bound time in UTC: SQLite compares the text of UTC times, whatever the zone given."""
    return moment.astimezone(dt.UTC)
