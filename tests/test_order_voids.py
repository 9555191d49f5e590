"""Telling the municipalities of voided orders (取消の通知), on both databases: a municipality that
cannot be reached is asked once a round, not once per void, and holds up no other municipality;
what was not told stays to tell. The center's order service over its real database; the
municipalities are a recording stand-in (their HTTP link has its own tests)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from center.audit import AuditWriter
from center.municipal_client import MunicipalityUnavailable
from center.orders import OrderService
from center.store.driver import Database
from center.store.engine import make_engine, migrate
from center.store.tables import orders

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
DOWN, UP = "131016", "132012"


class Municipalities:
    """The center's client of the municipalities as the order service uses it: ``DOWN`` cannot
    be reached, ``UP`` takes every void; each attempt is recorded."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.down = {DOWN}

    async def void(
        self, municipality: str, order_id: str, reason: str, issue_numbers: list[str] | None = None
    ) -> None:
        self.asked.append((municipality, order_id))
        await asyncio.sleep(0)
        if municipality in self.down:
            raise MunicipalityUnavailable(
                "municipality_unavailable", "the municipality cannot be reached now"
            )


def voided_order(order_id: str, municipality: str) -> dict[str, object]:
    return {
        "id": order_id, "terminal_id": "T-0001", "idempotency_key": f"key-{order_id}",
        "request_hash": "0" * 64, "session_id": f"S-{order_id}", "municipality": municipality,
        "subject": "0" * 64, "store": "テスト店", "state": "voided", "fee": 300, "reason": "cancelled",
        "municipal_request": json.dumps({}), "void_pending": True, "created_at": NOW, "updated_at": NOW,
        "deadline": NOW + dt.timedelta(minutes=10),
    }  # fmt: skip


def pending(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.select(orders.c.id).where(orders.c.void_pending)).scalars())
    finally:
        engine.dispose()


@pytest.fixture
def service_and_municipalities(database_url: str) -> tuple[str, Municipalities]:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            orders.insert(),
            [voided_order(f"D-{n}", DOWN) for n in range(3)] + [voided_order(f"U-{n}", UP) for n in range(2)],
        )
    engine.dispose()
    return database_url, Municipalities()


def tell(database_url: str, municipalities: Municipalities) -> None:
    """One round of the housekeeping's telling, by a center process of its own."""

    async def round_of_telling() -> None:
        database = Database(database_url)
        service = OrderService(database, municipalities, AuditWriter(database, bytes(32)), clock=lambda: NOW)  # type: ignore[arg-type]
        try:
            await service.tell_voids()
        finally:
            await database.close()

    asyncio.run(round_of_telling())


def test_a_municipality_down_is_asked_once_a_round_and_holds_up_no_other(
    service_and_municipalities: tuple[str, Municipalities],
) -> None:
    url, municipalities = service_and_municipalities
    tell(url, municipalities)
    asked_down = [order for code, order in municipalities.asked if code == DOWN]
    asked_up = sorted(order for code, order in municipalities.asked if code == UP)
    assert len(asked_down) == 1  # one timeout a round, not one per void
    assert asked_up == ["U-0", "U-1"]
    assert pending(url) == {"D-0", "D-1", "D-2"}
    municipalities.down.clear()  # back
    tell(url, municipalities)
    assert pending(url) == set()
    assert sorted(order for code, order in municipalities.asked if code == DOWN)[-3:] == ["D-0", "D-1", "D-2"]


class Hanging(Municipalities):
    """A municipality paused past any timeout: a void sent to it never returns."""

    async def void(
        self, municipality: str, order_id: str, reason: str, issue_numbers: list[str] | None = None
    ) -> None:
        self.asked.append((municipality, order_id))
        await asyncio.Event().wait()


def test_orders_past_their_deadline_are_voided_whatever_the_municipalities_answer(
    service_and_municipalities: tuple[str, Municipalities],
) -> None:
    """Voiding an overdue order is the database's business only: telling the municipality is the
    housekeeping's other round, so a municipality that hangs holds up no deadline."""
    url, _municipalities = service_and_municipalities
    engine = make_engine(url)
    with engine.begin() as connection:
        overdue = {**voided_order("O-1", DOWN), "state": "issued", "void_pending": False, "reason": None}
        connection.execute(orders.insert(), [{**overdue, "deadline": NOW - dt.timedelta(seconds=1)}])
    engine.dispose()
    hanging = Hanging()

    async def expire() -> int:
        database = Database(url)
        service = OrderService(database, hanging, AuditWriter(database, bytes(32)), clock=lambda: NOW)  # type: ignore[arg-type]
        try:
            return await asyncio.wait_for(service.expire(), 30)
        finally:
            await database.close()

    assert asyncio.run(expire()) == 1
    assert hanging.asked == []
    assert "O-1" in pending(url)
