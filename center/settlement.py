"""The daily settlement (日次精算): what each municipality, each store and the center are owed for
the copies settled on one day in Japan, from the ledger (written once per settled order)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from center.store.tables import ledger


@dataclass(frozen=True)
class Settlement:
    day: dt.date
    orders: int
    municipalities: dict[str, int] = field(default_factory=dict)  # 地方公共団体コード → yen
    stores: dict[str, int] = field(default_factory=dict)  # store → yen (its share)
    center: int = 0

    @property
    def collected(self) -> int:
        """What the stores took in: every share together."""
        return sum(self.municipalities.values()) + sum(self.stores.values()) + self.center

    def to_json(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "orders": self.orders,
            "collected": self.collected,
            "municipalities": self.municipalities,
            "stores": self.stores,
            "center": self.center,
        }


def daily(connection: sa.Connection, day: dt.date, municipality: str | None = None) -> Settlement:
    """The settlement of ``day``; with ``municipality``, of that municipality's orders only (its
    own share, and the stores' and the center's shares of its copies: what its staff may see)."""
    scope = [ledger.c.day == day]
    if municipality is not None:
        scope.append(ledger.c.municipality == municipality)
    rows = connection.execute(
        sa.select(
            ledger.c.account,
            ledger.c.municipality,
            ledger.c.store,
            sa.func.sum(ledger.c.amount),
            sa.func.count(sa.distinct(ledger.c.order_id)),
        )
        .where(*scope)
        .group_by(ledger.c.account, ledger.c.municipality, ledger.c.store)
    ).all()
    municipalities: dict[str, int] = {}
    stores: dict[str, int] = {}
    center = 0
    for account, code, store, amount, _orders in rows:
        if account == "municipality":
            municipalities[code] = municipalities.get(code, 0) + int(amount)
        elif account == "store":
            stores[store] = stores.get(store, 0) + int(amount)
        else:
            center += int(amount)
    orders = connection.execute(
        sa.select(sa.func.count(sa.distinct(ledger.c.order_id))).where(*scope)
    ).scalar_one()
    return Settlement(day, int(orders), municipalities, stores, center)
