"""Orders for the console's tests, made through the center's own order code at chosen times: the
real :class:`~center.orders.OrderService` (its state table, its copies, its ledger, its audit
lines through the real writer) on the test's database, with terminals and authenticated
sessions as the center stores them, and a stand-in for the municipalities (the order service's
side of their link: it issues copies with the fees it is told, refuses a resident, or cannot be
reached for voids). The end-to-end worlds (:mod:`support.world`) run real municipal servers;
here the clock is the test's, so a copy can be printed at 23:30 in Japan.

A test writes its orders as a script over an :class:`OrderBook` (``await book.settled(…)``)
and runs it with :func:`make_orders`, which sets the stage and closes everything after.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from center.audit import AuditWriter
from center.bridge_messages import IssueAnswer, IssuedCopy
from center.errors import CenterError
from center.municipal_client import MunicipalityUnavailable, MunicipalRefusal
from center.orders import OrderService, PlacedOrder
from center.store.driver import Database
from center.store.engine import make_engine, migrate
from center.store.tables import order_copies, orders, sessions, terminals
from documents import b64url_encode

T = TypeVar("T")
FEE = 300  # yen per copy, every type
_numbers = itertools.count(1)


@dataclass
class Municipalities:
    """The municipalities as the order service sees them. ``refusing``: residents of these are
    refused (``refused_by_municipality``); ``down``: these cannot be told of voids."""

    refusing: set[str] = field(default_factory=set)
    down: set[str] = field(default_factory=set)
    refusal_code: str = "refused_by_municipality"  # a municipality's code, relayed as it sent it
    told: list[tuple[str, str, list[str] | None]] = field(default_factory=list)  # voids told

    def knows(self, municipality: str) -> bool:
        return True

    async def issue(self, municipality: str, request: dict[str, Any]) -> IssueAnswer:
        if municipality in self.refusing:
            raise MunicipalRefusal(self.refusal_code, "this certificate cannot be issued")
        copies = [
            IssuedCopy(
                index,
                copy,
                f"{municipality}-{next(_numbers):08d}",
                1,
                FEE,
                hashlib.sha256(f"content {request['order_id']} {index} {copy}".encode()).hexdigest(),
                hashlib.sha256(f"code {request['order_id']} {index} {copy}".encode()).hexdigest(),
                b64url_encode(b"sealed copy"),
            )
            for index, item in enumerate(request["items"])
            for copy in range(1, item["copies"] + 1)
        ]
        return IssueAnswer(request["order_id"], FEE * len(copies), tuple(copies))

    async def printed(self, municipality: str, order_id: str, issue_numbers: list[str]) -> None:
        await asyncio.sleep(0)

    async def void(
        self, municipality: str, order_id: str, reason: str, issue_numbers: list[str] | None = None
    ) -> None:
        await asyncio.sleep(0)
        if municipality in self.down:
            raise MunicipalityUnavailable("municipality_unavailable", "the municipality cannot be reached")
        self.told.append((municipality, order_id, issue_numbers))


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


OPTIONS: dict[str, dict[str, Any]] = {  # what each type must say (the rest take none or defaults)
    "tax": {"kind": "income", "tax_year": 2025},
    "family_register": {"scope": "full"},
}


def item(kind: str, copies: int = 1) -> dict[str, Any]:
    """An order's item of ``copies`` copies of a certificate type."""
    return {"certificate_type": kind, "copies": copies, "options": OPTIONS.get(kind, {})}


class OrderBook:
    """Terminals' orders at the book's clock (:attr:`clock`), through the order service."""

    def __init__(self, database_url: str, chain_key: bytes, municipalities: Municipalities) -> None:
        self.url = database_url
        self.clock = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        self.municipalities = municipalities
        self.database = Database(database_url)
        self.writer = AuditWriter(self.database, chain_key)
        self.service = OrderService(
            self.database,
            municipalities,  # type: ignore[arg-type]
            self.writer,
            clock=self.clock,
        )
        self._engine = make_engine(database_url)

    async def close(self) -> None:
        await self.writer.close()
        await self.database.close()
        self._engine.dispose()

    # -- what a terminal does ----------------------------------------------------------------------

    async def placed(
        self, terminal: str, store: str, municipality: str, items: Sequence[dict[str, Any]], at: dt.datetime
    ) -> PlacedOrder:
        """A resident of ``municipality`` authenticated at ``terminal`` orders ``items`` at ``at``."""
        self.clock.now = at
        session_id = self._session(terminal, store, municipality, at)
        return await self.service.place(
            terminal, session_id, uuid.uuid4().hex, {"printer": 1, "items": list(items)}
        )

    async def printed(
        self,
        terminal: str,
        store: str,
        municipality: str,
        items: Sequence[dict[str, Any]],
        at: dt.datetime,
        *,
        whole: int | None = None,
    ) -> PlacedOrder:
        """An order printed at ``at`` (its first ``whole`` copies only: a jam), not yet settled."""
        order = await self.placed(terminal, store, municipality, items, at)
        await self.service.printing(terminal, order.order_id)
        numbers = [copy.issue_number for copy in order.copies][:whole]
        await self.service.printed(terminal, order.order_id, numbers)
        return order

    async def settled(
        self,
        terminal: str,
        store: str,
        municipality: str,
        items: Sequence[dict[str, Any]],
        at: dt.datetime,
        *,
        whole: int | None = None,
    ) -> PlacedOrder:
        order = await self.printed(terminal, store, municipality, items, at, whole=whole)
        due = FEE * len(order.copies[:whole])
        await self.service.settle(terminal, order.order_id, due)
        return order

    # -- the center's tables -------------------------------------------------------------------

    def _session(self, terminal: str, store: str, municipality: str, at: dt.datetime) -> str:
        session_id = str(uuid.uuid4())
        proof = {
            name: b64url_encode(f"{name} of {session_id}".encode())
            for name in ("certificate", "signature", "challenge", "revocation")
        }
        with self._engine.begin() as connection:
            if (
                connection.execute(sa.select(terminals.c.id).where(terminals.c.id == terminal)).first()
                is None
            ):
                connection.execute(
                    terminals.insert().values(
                        id=terminal,
                        store=store,
                        public_key=b"public key",
                        certificate=b"terminal certificate",
                        status="active",
                        enrolled_at=at,
                        updated_at=at,
                    )
                )
            connection.execute(
                sessions.insert().values(
                    id=session_id,
                    terminal_id=terminal,
                    challenge=b"\0" * 32,
                    created_at=at,
                    expires_at=at + dt.timedelta(minutes=3),
                    consumed_at=at,
                    subject=hashlib.sha256(session_id.encode()).hexdigest(),
                    municipality=municipality,
                    status="authenticated",
                    holder_proof=json.dumps(proof),
                )
            )
        return session_id


def make_orders(
    database_url: str,
    chain_key: bytes,
    script: Callable[[OrderBook], Awaitable[T]],
    municipalities: Municipalities | None = None,
) -> T:
    """Run ``script`` over a fresh book on the (migrated) database."""
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()

    async def run() -> T:
        book = OrderBook(database_url, chain_key, municipalities or Municipalities())
        try:
            return await script(book)
        finally:
            await book.close()

    return asyncio.run(run())


def reconciled(database_url: str) -> list[str]:
    """Every way money and paper disagree in the center's books (empty: they reconcile): an
    order both paid (a ledger line) and voided or refunded, a voided one with a copy printed, a
    settled one whose ledger is not exactly its copies printed whole (three lines: the
    municipality's, the center's and the store's), a ledger line of an order not settled."""
    from center.store.tables import ledger

    engine = make_engine(database_url)
    problems: list[str] = []
    try:
        with engine.connect() as connection:
            states = dict(connection.execute(sa.select(orders.c.id, orders.c.state)).all())
            printed: dict[str, int] = {}
            for order_id, fee, at in connection.execute(
                sa.select(order_copies.c.order_id, order_copies.c.fee, order_copies.c.printed_at)
            ):
                if at is not None:
                    printed[order_id] = printed.get(order_id, 0) + fee
            paid: dict[str, list[int]] = {}
            for order_id, amount in connection.execute(sa.select(ledger.c.order_id, ledger.c.amount)):
                paid.setdefault(order_id, []).append(amount)
    finally:
        engine.dispose()
    for order_id, state in states.items():
        lines = paid.get(order_id, [])
        if state == "settled" and (len(lines) != 3 or sum(lines) != printed.get(order_id, 0)):
            problems.append(f"{order_id} settled: ledger {lines}, printed {printed.get(order_id, 0)} yen")
        if state != "settled" and lines:
            problems.append(f"{order_id} {state}: ledger {lines}")
        if state in ("voided", "refunded") and printed.get(order_id):
            problems.append(f"{order_id} {state} with {printed[order_id]} yen printed")
    return problems


@dataclass(frozen=True)
class BusyDay:
    """What :func:`busy_day` made: the orders that need a person, by what happened to them."""

    printing: str  # the terminal said printing, then nothing (TOWN)
    printed: str  # printed, its settlement refused: wrong amount (OTHER)
    voided: str  # voided by its terminal, never refunded, a late report refused (TOWN)
    pending: str  # voided and refunded, its municipality down (OTHER)
    partly: str  # a jam, settled (TOWN)
    copies: dict[str, int]  # copies printed today in Japan, per municipality
    refusal_code: str  # OTHER's municipality refused a resident with it


async def busy_day(
    book: OrderBook, now: dt.datetime, town: str, other: str, stores: dict[str, str]
) -> BusyDay:
    """A morning at two towns' terminals up to ``now`` (10:00 in Japan in the console's tests):
    orders settled at several hours and on days before, a jam, a resident refused by ``other``'s
    municipality with a code a spreadsheet would run (``=…``) and markup in it, a terminal's request
    refused, and an order of each kind that needs a person."""
    from center.audit import AuditEntry

    def ago(hours: float) -> dt.datetime:
        return now - dt.timedelta(hours=hours)

    here, there = ("T-0101", stores[town]), ("T-0201", stores[other])
    for hours, kinds in ((3.2, [item("resident_record", 2)]), (2.4, [item("seal_registration")])):
        await book.settled(*here, town, kinds, ago(hours))
    for hours, kinds in (
        (1.5, [item("resident_record")]),
        (0.7, [item("tax")]),
        (0.4, [item("family_register")]),
    ):
        await book.settled(*here, town, kinds, ago(hours))
    await book.settled(*there, other, [item("resident_record")], ago(2.9))
    await book.settled(*there, other, [item("resident_record_entries")], ago(1.0))
    for days, where, code, kinds in (
        (1, here, town, [item("resident_record")]),
        (2, there, other, [item("tax")]),
        (5, here, town, [item("seal_registration", 3)]),
    ):
        await book.settled(*where, code, kinds, ago(24 * days))
    partly = await book.settled(*here, town, [item("resident_record", 2)], ago(1.8), whole=1)
    book.municipalities.refusing.add(other)
    book.municipalities.refusal_code = '=HYPERLINK("x")<b>'
    refused = book.placed(*there, other, [item("seal_registration")], ago(1.3))
    assert await _refusal(refused) == book.municipalities.refusal_code
    book.municipalities.refusing.clear()
    two = [item("resident_record"), item("seal_registration")]
    printing = await book.placed(*here, town, two, ago(2))
    await book.service.printing(here[0], printing.order_id)
    printed = await book.printed(*there, other, two, ago(2))
    # the kiosk keeps the refused report for the store's staff
    assert await _refusal(book.service.settle(there[0], printed.order_id, FEE)) == "wrong_amount"
    voided = await book.placed(*here, town, two, ago(2))
    await book.service.void(here[0], voided.order_id, "printer_fault")
    assert await _refusal(book.service.printing(here[0], voided.order_id)) == "order_state"  # too late
    book.municipalities.down.add(other)
    pending = await book.placed(*there, other, [item("tax", 2)], ago(2))
    await book.service.void(there[0], pending.order_id, "cancelled")
    await book.service.refunded(there[0], pending.order_id)
    book.municipalities.down.clear()
    await book.writer.record(AuditEntry("terminal_request", "refused", "bad_signature", "T-0999"), ago(0.5))
    return BusyDay(
        printing.order_id,
        printed.order_id,
        voided.order_id,
        pending.order_id,
        partly.order_id,
        {town: 2 + 1 + 1 + 1 + 1 + 1, other: 1 + 1 + 2},
        '=HYPERLINK("x")<b>',
    )


async def _refusal(call: Awaitable[object]) -> str:
    """The code ``call`` is refused with (it must be)."""
    try:
        await call
    except CenterError as error:
        return error.code
    raise AssertionError("the center did not refuse")


# -- many orders at once, for the pages' paging -----------------------------------------------------


def quiet_orders(
    database_url: str,
    count: int,
    *,
    prefix: str,
    since: dt.datetime,
    municipality: str,
    state: str,
    ties: int = 2,
    **columns: object,
) -> list[tuple[dt.datetime, str]]:
    """``count`` orders inserted as they stand once their terminal went quiet (no copies: the
    lists' paging needs none), ``ties`` of them at a time sharing one last move (a second apart),
    their ids ``prefix-NNN``; the (last move, id) of each, in insertion order. ``columns`` are
    other columns of the rows (``reason``, ``void_pending``)."""
    engine = make_engine(database_url)
    migrate(engine)
    made = []
    try:
        with engine.begin() as connection:
            for number in range(count):
                order_id, moved = f"{prefix}-{number:03d}", since + dt.timedelta(seconds=number // ties)
                connection.execute(
                    orders.insert().values(
                        id=order_id,
                        terminal_id="T-0001",
                        idempotency_key=order_id,
                        request_hash="0" * 64,
                        session_id=f"session-{order_id}",
                        municipality=municipality,
                        subject="0" * 64,
                        store="ファミリーマート 千代田一番町店",
                        state=state,
                        fee=FEE,
                        municipal_request="{}",
                        void_pending=bool(columns.get("void_pending", False)),
                        reason=columns.get("reason"),
                        created_at=moved,
                        updated_at=moved,
                        deadline=moved,
                    )
                )
                made.append((moved, order_id))
    finally:
        engine.dispose()
    return made


def refused_reports(database_url: str, chain_key: bytes, order_ids: Sequence[str], at: dt.datetime) -> None:
    """A terminal's settlement of each order refused (``wrong_amount``), audited as the center
    audits it, at ``at``."""
    from center.audit import AuditEntry
    from center.orders import order_detail

    async def write() -> None:
        database = Database(database_url)
        writer = AuditWriter(database, chain_key)
        try:
            for order_id in order_ids:
                entry = AuditEntry(
                    "order_settle_refused",
                    "refused",
                    "wrong_amount",
                    terminal_id="T-0001",
                    detail=order_detail(order_id),
                )
                await writer.record(entry, at)
        finally:
            await writer.close()
            await database.close()

    asyncio.run(write())
