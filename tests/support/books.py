"""The books of a test stack, read from its own databases, and the one reconciliation every test that
takes money ends with (照合): the coins, the center's orders and ledger, and each municipality's
issuance history tell the same story.

For the orders of a test:

- every order is at an end: settled, or refunded (none left between states, none still owing the
  municipality a void);
- a settled order's ledger holds exactly the fees of its copies printed whole; a refunded one has
  no ledger line;
- every copy printed whole is ``printed`` at its municipality, every other copy ``voided`` (or
  never issued there), so no copy is both printed and refunded;
- the coins the kiosk kept are the settled amount, and the coins it gave back are the rest of what
  was put in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from center.config import CenterConfig
from center.municipal import schema as municipal_schema
from center.store.engine import make_engine
from center.store.schema_versions import make_engine as make_municipal_engine
from center.store.tables import audit_log, ledger, order_copies, orders
from devtools.stack import DevStack


@dataclass
class CenterOrder:
    order_id: str
    state: str
    reason: str | None
    void_pending: bool
    copies: dict[str, tuple[int, bool]] = field(default_factory=dict)  # number: (fee, printed whole)
    settled: int = 0  # the ledger's lines, in yen

    @property
    def printed_fees(self) -> int:
        return sum(fee for fee, printed in self.copies.values() if printed)


def center_orders(stack: DevStack, terminal_ids: Iterable[str] | None = None) -> dict[str, CenterOrder]:
    """The center's orders (of ``terminal_ids``, or all), with their copies and ledger."""
    engine = make_engine(CenterConfig.load(stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            query = sa.select(orders.c.id, orders.c.state, orders.c.reason, orders.c.void_pending)
            if terminal_ids is not None:
                query = query.where(orders.c.terminal_id.in_(list(terminal_ids)))
            found = {
                row.id: CenterOrder(row.id, row.state, row.reason, bool(row.void_pending))
                for row in connection.execute(query)
            }
            for row in connection.execute(
                sa.select(
                    order_copies.c.order_id,
                    order_copies.c.issue_number,
                    order_copies.c.fee,
                    order_copies.c.printed_at,
                )
            ):
                if row.order_id in found:
                    found[row.order_id].copies[row.issue_number] = (row.fee, row.printed_at is not None)
            for row in connection.execute(sa.select(ledger.c.order_id, ledger.c.amount)):
                if row.order_id in found:
                    found[row.order_id].settled += row.amount
    finally:
        engine.dispose()
    return found


def municipal_copies(stack: DevStack, order_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Every town's issuance history: issue number → ``issued``, ``printed`` or ``voided`` (of the
    orders ``order_ids``, or all)."""
    wanted = None if order_ids is None else set(order_ids)
    statuses: dict[str, str] = {}
    for town in stack.towns.values():
        engine = make_municipal_engine(town.database_url)
        try:
            with engine.connect() as connection:
                history = municipal_schema.issuance_history.c
                for row in connection.execute(
                    sa.select(history.issue_number, history.order_id, history.status)
                ):
                    if wanted is None or row.order_id in wanted:
                        statuses[row.issue_number] = row.status
        finally:
            engine.dispose()
    return statuses


def audited(stack: DevStack, terminal_id: str) -> list[tuple[str, str, str | None]]:
    """The terminal's lines in the center's audit log, oldest first: (event, outcome, reason)."""
    engine = make_engine(CenterConfig.load(stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(audit_log.c.event, audit_log.c.outcome, audit_log.c.reason)
                .where(audit_log.c.terminal_id == terminal_id)
                .order_by(audit_log.c.seq)
            ).all()
    finally:
        engine.dispose()
    return [(row.event, row.outcome, row.reason) for row in rows]


@dataclass(frozen=True)
class Coins:
    """What a kiosk's coin mechanism did over the test: yen put in, kept, given back."""

    paid_in: int
    kept: int
    returned: int


def disagreements(stack: DevStack, terminal_ids: Iterable[str], coins: Coins | None = None) -> list[str]:
    """Every way the books of these terminals' orders disagree (empty: they reconcile)."""
    terminals = list(terminal_ids)
    found = center_orders(stack, terminals)
    statuses = municipal_copies(stack, found)
    problems: list[str] = []
    for order in found.values():
        where = f"order {order.order_id} ({order.state})"
        if order.state not in ("settled", "refunded"):
            problems.append(f"{where}: not at an end")
        if order.void_pending:
            problems.append(f"{where}: the municipality is still to be told of its void")
        if order.state == "settled" and order.settled != order.printed_fees:
            problems.append(f"{where}: ledger {order.settled} yen, copies printed {order.printed_fees} yen")
        if order.state == "refunded" and (order.settled or order.printed_fees):
            problems.append(f"{where}: refunded with {order.settled} yen settled, copies printed")
        for number, (_fee, printed) in order.copies.items():
            expected = {"printed"} if printed else {"voided"}
            if statuses.get(number, "voided" if not printed else "missing") not in expected:
                problems.append(f"{where}: copy {number} is {statuses.get(number)} at its municipality")
    if coins is not None:
        settled = sum(order.settled for order in found.values())
        if coins.kept != settled:
            problems.append(f"coins kept {coins.kept} yen, settled at the center {settled} yen")
        if coins.returned != coins.paid_in - coins.kept:
            problems.append(
                f"coins returned {coins.returned} yen of {coins.paid_in} put in, {coins.kept} kept"
            )
    return problems
