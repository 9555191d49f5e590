"""Orders ended by a person (人手による注文の処理): what an operator at the center does to an order
its terminal cannot end, and what municipal staff confirm of a void (:mod:`center.attention`
lists the orders).

Only along the order's table (:data:`center.order_states.BY_HAND`), and each to an end:

- **void** (取消と返金): an order requested or issued (what a deadline voids), past its deadline,
  is voided and its refund recorded at once (the store confirmed the coins went back: a terminal
  takes none before the copies are printed and reported). Its municipality is told to void the
  copies, by the center's housekeeping (``void_pending``). A printing order is not voided: its
  paper may be out, so only its terminal ends it (:data:`center.order_states.HAND_FROM`); a
  printed order never is.
- **settle** (精算): a printed order is settled after the store's cash count, which must find the
  fees of the copies printed whole (``counted``; any other amount is refused, ``wrong_amount``,
  and the difference is the center's and the store's business outside the ledger); the ledger is
  written as a terminal's settlement writes it, once.
- **refund** (返金の記録): a voided order's refund is recorded.
- **void confirmed** (取消の確認): municipal staff confirm that their municipality voided the
  copies of a void it could not be told of (their server was down for long; they voided them by
  hand): the center stops telling it. Not a move of the order.

So no action leaves an order paid and voided, nor its pages out and refunded: a void never
follows a printing report, and the ledger is written only by a settlement. Each action is one
transaction with its audit line (``order_by_hand``, the action, who did it and the order in
``detail``); a refused one is audited with its code. Two
people acting at once, or a person and the terminal, are decided by the conditional update
(``WHERE state = …``): the second is refused (``order_moved``) and sees the order as it is now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from center.audit import AuditEntry, append_many, chain_head
from center.errors import BadRequest, CenterError, Conflict, NotFound
from center.order_states import FINAL, HandAction, OrderState, by_hand
from center.orders import DEFAULT_SHARES, FeeShares, order_detail
from center.retention import kept_request
from center.store.driver import Connection, Database, Sql, stored_time
from documents import JST

AUDIT_EVENT = "order_by_hand"
VOID_CONFIRMED = "void_confirmed"
VOID_REASON = "voided_by_operator"  # what the municipality is told a hand void's reason is

_ORDER = Sql(
    "SELECT id, terminal_id, municipality, store, state, deadline, void_pending, municipal_request "
    "FROM orders WHERE id = :order_id"
)
_COPIES = Sql("SELECT fee, printed_at FROM order_copies WHERE order_id = :order_id")
_MOVE = Sql(
    "UPDATE orders SET state = :to, reason = COALESCE(:reason, reason), "
    "void_pending = (void_pending OR :void_pending), municipal_request = :kept_request, updated_at = :now "
    "WHERE id = :order_id AND state = :from"
)
_LEDGER = Sql(
    "INSERT INTO ledger (order_id, account, municipality, store, terminal_id, amount, day, at) "
    "VALUES (:order_id, :account, :municipality, :store, :terminal_id, :amount, :day, :now)"
)
_VOID_CONFIRMED = Sql("UPDATE orders SET void_pending = :no WHERE id = :order_id AND void_pending = :yes")


class OrderDesk:
    def __init__(
        self,
        database: Database,
        chain_key: bytes,
        *,
        shares: FeeShares = DEFAULT_SHARES,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.database = database
        self.chain_key = chain_key
        self.shares = shares
        self.clock = clock

    async def handle(
        self,
        order_id: str,
        action: HandAction,
        *,
        actor: str,
        municipality: str | None = None,
        counted: int | None = None,
    ) -> OrderState:
        """Do ``action`` to the order (of ``municipality`` only, if given: another is unknown);
        returns the state it ends in. ``counted``: the yen the store's cash count found (settle)."""
        now = self.clock()
        what = action.value if action is not HandAction.SETTLE else f"settle, counted {counted} yen"
        order: dict[str, Any] | None = None
        try:
            async with self.database.connection() as connection, connection.transaction():
                order = await _order(connection, order_id, municipality)
                state = OrderState(order["state"])
                target = by_hand(state, action)
                if target is None:
                    raise Conflict(
                        "order_state",
                        f"an order {state.value} cannot be handled so ({action.value})",
                        details={"state": state.value},
                    )
                assert target in FINAL  # every hand action ends the order
                if action is HandAction.VOID and now < stored_time(order["deadline"]):
                    raise Conflict(
                        "not_overdue", "the terminal may still end this order: wait for its deadline"
                    )
                fees = await self._printed_fees(connection, order_id) if action is HandAction.SETTLE else []
                if action is HandAction.SETTLE and counted != sum(fees):
                    raise BadRequest(
                        "wrong_amount",
                        "the count is not the fees of the copies printed",
                        details={"due": sum(fees)},
                    )
                moved = await connection.execute(
                    _MOVE,
                    {
                        "order_id": order_id,
                        "from": state.value,
                        "to": target.value,
                        "reason": VOID_REASON if action is HandAction.VOID else None,
                        "void_pending": action is HandAction.VOID,
                        "kept_request": kept_request(order["municipal_request"]),
                        "now": now,
                    },
                )
                if not moved:
                    raise Conflict("order_moved", "the order moved meanwhile: look at it again")
                if action is HandAction.SETTLE:
                    await self._ledger(connection, order, fees, now)
                entry = AuditEntry(
                    AUDIT_EVENT,
                    "accepted",
                    action.value,
                    order["terminal_id"],
                    actor=actor,
                    detail=f"{order_detail(order_id)}: {what}",
                )
                await append_many(connection, await chain_head(connection), [(entry, now)], self.chain_key)
        except CenterError as refused:
            await self._refused(order_id, order, what, refused, actor, now)
            raise
        return target

    async def confirm_void(self, order_id: str, *, actor: str, municipality: str) -> None:
        """Municipal staff of ``municipality`` confirm its copies of the order are void there."""
        now = self.clock()
        order: dict[str, Any] | None = None
        try:
            async with self.database.connection() as connection, connection.transaction():
                order = await _order(connection, order_id, municipality)
                changed = await connection.execute(
                    _VOID_CONFIRMED, {"order_id": order_id, "yes": True, "no": False}
                )
                if not changed:
                    raise Conflict("no_void_pending", "the municipality has no void of this order to hear of")
                entry = AuditEntry(
                    AUDIT_EVENT,
                    "accepted",
                    VOID_CONFIRMED,
                    order["terminal_id"],
                    actor=actor,
                    detail=f"{order_detail(order_id)}: {VOID_CONFIRMED} by {municipality}",
                )
                await append_many(connection, await chain_head(connection), [(entry, now)], self.chain_key)
        except CenterError as refused:
            await self._refused(order_id, order, VOID_CONFIRMED, refused, actor, now)
            raise

    async def _printed_fees(self, connection: Connection, order_id: str) -> list[int]:
        return [
            int(row["fee"])
            for row in await connection.all(_COPIES, {"order_id": order_id})
            if row["printed_at"] is not None
        ]

    async def _ledger(
        self, connection: Connection, order: dict[str, Any], fees: list[int], now: dt.datetime
    ) -> None:
        await connection.execute_many(
            _LEDGER,
            [
                {
                    "order_id": order["id"],
                    "account": account,
                    "municipality": order["municipality"],
                    "store": order["store"],
                    "terminal_id": order["terminal_id"],
                    "amount": amount,
                    "day": now.astimezone(JST).date(),
                    "now": now,
                }
                for account, amount in self.shares.split(fees).items()
            ],
        )

    async def _refused(
        self,
        order_id: str,
        order: dict[str, Any] | None,
        what: str,
        refused: CenterError,
        actor: str,
        now: dt.datetime,
    ) -> None:
        """The refusal's audit line, in a transaction of its own (the action's rolled back)."""
        entry = AuditEntry(
            AUDIT_EVENT,
            "refused",
            refused.code,
            None if order is None else order["terminal_id"],
            actor=actor,
            detail=f"{order_detail(order_id)}: {what}"[:120],
        )
        async with self.database.connection() as connection, connection.transaction():
            await append_many(connection, await chain_head(connection), [(entry, now)], self.chain_key)


async def _order(connection: Connection, order_id: str, municipality: str | None) -> dict[str, Any]:
    """The order, if it is ``municipality``'s (when given). Another municipality's is refused as
    if it did not exist; the audit line tells the two apart (``out_of_scope``)."""
    order = await connection.one(_ORDER, {"order_id": order_id})
    if order is None:
        raise NotFound("unknown_order", "there is no such order")
    if municipality is not None and order["municipality"] != municipality:
        raise NotFound("out_of_scope", "there is no such order")
    return order
