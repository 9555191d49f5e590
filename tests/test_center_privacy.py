"""What the center's records say about a person (issue 17), read from its own database and log with
real authority, center and municipal server processes.

- A refusal about a person reads the same at the center whatever the reason: a resident under a
  protection measure (支援措置) and one with no seal registered leave the very same rows in every
  table (after their ids and times are set aside), and the center's log names neither reason.
- An order that has ended keeps nothing that identifies its holder: after orders run to every
  final state (settled, partly printed and settled, voided and refunded, refused and refunded,
  expired and refunded) and their sessions are past the ordering window, no table and no line of
  the log holds the card's serial (decimal, hex) or its certificate (DER, base64, base64url,
  hex), nor the hash of the certificate every copy was bound to.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from center.audit import subject_of
from center.client import CenterClient, CenterRefusal
from center.config import CenterConfig
from center.municipal.refusals import PUBLIC, RefusalCode
from center.store.engine import make_engine
from center.store.tables import audit_log, sessions
from documents import Binding
from support.waiting import eventually
from support.world import SEAL, Resident, World, authenticate, running_world

DEADLINE = 4  # seconds: an order not printed by then is voided
HOUSEKEEPING = 0.3  # seconds
GENERIC = "refused_by_municipality"
_CODE = re.compile(r"[a-z_]+|\d{6}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(
        request, tmp_path_factory, "privacy", 1000, order_deadline=DEADLINE, housekeeping=HOUSEKEEPING
    )


def center_engine(world: World) -> sa.Engine:
    return make_engine(CenterConfig.load(world.stack.center_dir).database_url)


def every_row(world: World) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the center's database, as the database has it."""
    engine = center_engine(world)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                table.name: [dict(row._mapping) for row in connection.execute(sa.select(table))]
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def rows_of_terminal(world: World, terminal_id: str) -> dict[str, list[tuple[tuple[str, Any], ...]]]:
    """The rows that name the terminal, its sessions or its orders, in every table, with ids, times,
    hashes and keys set aside: which columns are filled, and with which codes."""
    tables = every_row(world)
    ids = {terminal_id: "<terminal>"}
    ids |= {row["id"]: "<session>" for row in tables["sessions"] if row["terminal_id"] == terminal_id}
    ids |= {row["id"]: "<order>" for row in tables["orders"] if row["terminal_id"] == terminal_id}

    def shape(name: str, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ids:
            return ids[value]
        if isinstance(value, int):
            return "<n>" if name in ("id", "seq", "occurrences") else value  # ids, counts: set aside
        if isinstance(value, str) and _CODE.fullmatch(value):
            return value  # a code: state, event, outcome, reason, municipality
        return f"<{type(value).__name__}>"

    found: dict[str, list[tuple[tuple[str, Any], ...]]] = {}
    for table, rows in tables.items():
        mine = [row for row in rows if any(isinstance(v, str) and v in ids for v in row.values())]
        found[table] = sorted(
            (tuple((name, shape(name, value)) for name, value in row.items()) for row in mine), key=repr
        )
    return found


def refused_and_refunded(world: World, terminal_id: str, resident: Resident) -> tuple[str, str]:
    """A session whose order the municipality refuses for a reason about the person, refunded."""
    _terminal, client = world.terminal(terminal_id)
    session_id = authenticate(world, client, resident)
    try:
        client.offer(session_id)
    except CenterRefusal as refusal:  # a holder refused as a whole: the same generic code
        assert refusal.code == GENERIC and refusal.details.get("sealed")
    with pytest.raises(CenterRefusal) as refused:
        client.place_order(session_id, secrets.token_hex(8), [SEAL])
    assert refused.value.status == 422 and refused.value.code == GENERIC
    assert refused.value.details.get("sealed")  # relayed unread to the kiosk
    order_id = str(refused.value.details["order_id"])
    assert client.refunded(order_id).state == "refunded"
    client.close()
    return session_id, order_id


def test_a_protected_resident_is_refused_exactly_as_one_with_no_seal(world: World) -> None:
    """The center's database holds the same for a protection measure as for a missing seal: the
    same code, the same columns filled, in every table."""
    refused_and_refunded(world, "T-0401", world.resident("protected"))
    refused_and_refunded(world, "T-0402", world.resident("no_seal"))
    protected, no_seal = rows_of_terminal(world, "T-0401"), rows_of_terminal(world, "T-0402")
    differences = {
        table: (set(protected[table]) ^ set(no_seal[table]))
        for table in protected
        if protected[table] != no_seal[table]
    }
    assert protected == no_seal, differences
    assert [dict(row)["reason"] for row in protected["orders"]] == [GENERIC]
    assert ("order_refused", "refused", GENERIC) in [
        (dict(row)["event"], dict(row)["outcome"], dict(row)["reason"]) for row in protected["audit_log"]
    ]
    log = world.stack.center_log.read_text(errors="replace")
    for code in RefusalCode:
        if code not in PUBLIC:
            assert code.value not in log, code  # no reason about a person in the center's log


def needles(resident: Resident) -> dict[str, bytes]:
    """Every form in which the resident's card could be written down."""
    serial, der = resident.serial, resident.certificate
    forms = {
        "serial": str(serial).encode(),
        "serial hex": f"{serial:x}".encode(),
        "serial HEX": f"{serial:X}".encode(),
        "certificate": der,
        "certificate base64": base64.b64encode(der).rstrip(b"="),
        "certificate base64url": base64.urlsafe_b64encode(der).rstrip(b"="),
        "certificate hex": der.hex().encode(),
        "certificate HEX": der.hex().upper().encode(),
        "holder hash": Binding.holder_hash(der).encode(),
    }
    return forms


def as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode()


def printed_and_settled(client: CenterClient, session_id: str, copies: int, printed: int) -> str:
    order = client.place_order(session_id, secrets.token_hex(8), [{**SEAL, "copies": copies}])
    client.printing(order.order_id)
    whole = [copy.issue_number for copy in order.copies[:printed]]
    client.printed(order.order_id, whole)
    assert client.settle(order.order_id, sum(c.fee for c in order.copies[:printed])).state == "settled"
    return order.order_id


def test_an_ended_order_keeps_nothing_that_identifies_its_holder(world: World) -> None:
    _terminal, client = world.terminal("T-0403")
    residents: list[Resident] = []
    sessions_used: list[str] = []
    orders_ended: list[str] = []

    def session(pool: str = "ordinary") -> str:
        resident = world.resident(pool, canary=True)
        residents.append(resident)
        session_id = authenticate(world, client, resident)
        sessions_used.append(session_id)
        with contextlib.suppress(CenterRefusal):  # a holder refused as a whole
            client.offer(session_id)
        return session_id

    orders_ended.append(printed_and_settled(client, session(), 1, 1))  # settled
    orders_ended.append(printed_and_settled(client, session(), 2, 1))  # partly printed, settled
    voided = client.place_order(session(), secrets.token_hex(8), [SEAL])  # voided, refunded
    client.void(voided.order_id, "cancelled")
    assert client.refunded(voided.order_id).state == "refunded"
    orders_ended.append(voided.order_id)
    for pool in ("no_seal", "protected"):  # refused, refunded
        with pytest.raises(CenterRefusal) as refused:
            client.place_order(session(pool), secrets.token_hex(8), [SEAL])
        orders_ended.append(str(refused.value.details["order_id"]))
        assert client.refunded(orders_ended[-1]).state == "refunded"
    expired = client.place_order(session(), secrets.token_hex(8), [SEAL])  # expired, refunded
    eventually(lambda: client.order(expired.order_id).state == "voided", "the overdue order voided")
    assert client.refunded(expired.order_id).state == "refunded"
    orders_ended.append(expired.order_id)
    assert {client.order(order_id).state for order_id in orders_ended} == {"settled", "refunded"}

    # the audit names each card only by its keyed hash
    secret = CenterConfig.load(world.stack.center_dir).audit_secret
    engine = center_engine(world)
    try:
        with engine.connect() as connection:
            subjects = set(
                connection.execute(
                    sa.select(audit_log.c.subject).where(audit_log.c.session_id.in_(sessions_used))
                ).scalars()
            )
        # (a session opened before any card has none)
        assert subjects - {None} == {subject_of(resident.serial, secret) for resident in residents}
        # the sessions are past the ordering window (the test plays the clock): the housekeeping
        # makes them forget their holders
        with engine.begin() as connection:
            for row in connection.execute(
                sa.select(sessions.c.id, sessions.c.consumed_at).where(sessions.c.id.in_(sessions_used))
            ):
                connection.execute(
                    sa.update(sessions)
                    .where(sessions.c.id == row.id)
                    .values(consumed_at=row.consumed_at - dt.timedelta(minutes=11))
                )

        def forgotten() -> bool:
            with engine.connect() as connection:
                return not connection.execute(
                    sa.select(sa.func.count())
                    .select_from(sessions)
                    .where(sessions.c.id.in_(sessions_used), sessions.c.holder_proof.is_not(None))
                ).scalar_one()

        eventually(forgotten, "the sessions' holders forgotten")
    finally:
        engine.dispose()

    found = []
    tables = every_row(world)
    log = world.stack.center_log.read_bytes()
    for resident in residents:
        for form, needle in needles(resident).items():
            for table, rows in tables.items():
                for row in rows:
                    for column, value in row.items():
                        if needle in as_bytes(value):
                            found.append(f"{table}.{column}: the card's {form}")
            if needle in log:
                found.append(f"the center's log: the card's {form}")
    assert not found, found
    client.close()
