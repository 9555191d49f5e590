"""Faults in the middle of an order leave nothing half-done: an order not printed by its
deadline, a municipality that is down, and a center killed while the municipality was issuing.
Real processes (authority, center, municipal server) on loopback; orders time out after
:data:`DEADLINE` seconds and every center process looks for overdue orders every
:data:`HOUSEKEEPING` seconds.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from center.client import CenterClient, CenterRefusal
from center.config import CenterConfig
from center.municipal import schema as municipal_schema
from center.municipal import service as municipal_service
from center.store.engine import make_engine
from center.store.schema_versions import make_engine as make_municipal_engine
from center.store.tables import orders
from devtools.stack import DevStack
from support.waiting import eventually
from support.world import SEAL, World, authenticate, running_world

CODE = "131016"
DEADLINE = 4  # seconds
HOUSEKEEPING = 0.3  # seconds


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(
        request, tmp_path_factory, "faults", 120, order_deadline=DEADLINE, housekeeping=HOUSEKEEPING
    )


def center_orders(stack: DevStack) -> dict[str, tuple[str, str | None, bool]]:
    engine = make_engine(CenterConfig.load(stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(orders.c.id, orders.c.state, orders.c.reason, orders.c.void_pending)
            ).all()
    finally:
        engine.dispose()
    return {row.id: (row.state, row.reason, bool(row.void_pending)) for row in rows}


def municipal_copies(world: World) -> dict[str, set[str]]:
    engine = make_municipal_engine(municipal_service.default_url(world.town.directory))
    try:
        with engine.connect() as connection:
            history = municipal_schema.issuance_history.c
            rows = connection.execute(sa.select(history.order_id, history.status)).all()
    finally:
        engine.dispose()
    copies: dict[str, set[str]] = {}
    for row in rows:
        copies.setdefault(row.order_id, set()).add(row.status)
    return copies


def test_an_order_not_printed_by_its_deadline_is_voided_everywhere(world: World) -> None:
    _terminal, client = world.terminal("T-0201")
    session_id = authenticate(world, client, world.resident())
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL])
    order_id = order.order_id
    eventually(lambda: client.order(order_id).state == "voided", "the overdue order voided")
    assert client.order(order_id).reason == "order_timeout"
    eventually(lambda: municipal_copies(world).get(order_id) == {"voided"}, "its copies voided")
    with pytest.raises(CenterRefusal) as late:  # the kiosk, too late: nothing is printed
        client.printing(order_id)
    assert late.value.code == "order_state"
    assert client.refunded(order_id).state == "refunded"
    client.close()


def test_a_municipality_down_voids_the_order_and_hears_of_it_when_back(world: World) -> None:
    _terminal, client = world.terminal("T-0202")
    session_id = authenticate(world, client, world.resident())
    process = world.town.process
    assert process is not None
    process.terminate()
    process.wait(10)
    with pytest.raises(CenterRefusal) as down:
        client.place_order(session_id, secrets.token_hex(8), [SEAL])
    assert down.value.status == 503 and down.value.code == "municipality_unavailable"
    order_id = down.value.details["order_id"]
    assert center_orders(world.stack)[order_id] == ("voided", "municipality_unavailable", True)
    world.stack.start_town(CODE)
    eventually(lambda: center_orders(world.stack)[order_id][2] is False, "the municipality told of the void")
    assert order_id not in municipal_copies(world)  # it never issued anything for it
    assert client.refunded(order_id).state == "refunded"
    client.close()


def test_a_center_killed_while_the_municipality_issues_leaves_nothing_half_done(world: World) -> None:
    """The municipality is paused, so the order's request waits in it; the center is killed;
    the municipality resumes and issues copies no terminal will ever receive. A new center
    process voids the order at its deadline and the municipality voids the copies."""
    terminal, client = world.terminal("T-0203")
    session_id = authenticate(world, client, world.resident())
    municipal = world.town.process
    center = world.stack.center_process
    assert municipal is not None and center is not None
    os.kill(municipal.pid, signal.SIGSTOP)
    try:
        with pytest.raises(Exception):  # noqa: B017 - the connection breaks: any error will do
            CenterClient(
                world.stack.center_url, terminal, verify=world.stack.center_tls, timeout=2
            ).place_order(session_id, secrets.token_hex(8), [SEAL])
        (order_id,) = [
            key for key, (state, _r, _p) in center_orders(world.stack).items() if state == "requested"
        ]
        center.kill()
        center.wait(10)
    finally:
        os.kill(municipal.pid, signal.SIGCONT)
    eventually(lambda: municipal_copies(world).get(order_id) == {"issued"}, "the municipality issued")
    world.stack.center_url = world.stack.start_center()
    eventually(
        lambda: center_orders(world.stack)[order_id] == ("voided", "order_timeout", False),
        "the new center voided the order and told the municipality",
    )
    assert municipal_copies(world)[order_id] == {"voided"}
    client.close()


def test_a_center_killed_after_printing_settles_through_the_next_one(world: World) -> None:
    """Printed copies exist on paper: the order is never voided, however long the center was
    gone; the kiosk settles it through the next center process, once."""
    terminal, client = world.terminal("T-0204")
    session_id = authenticate(world, client, world.resident())
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL])
    client.printing(order.order_id)
    client.printed(order.order_id, [copy.issue_number for copy in order.copies])
    center = world.stack.center_process
    assert center is not None
    center.kill()
    center.wait(10)
    time.sleep(DEADLINE + 1)  # past the deadline while no center runs
    world.stack.center_url = world.stack.start_center()
    again = CenterClient(world.stack.center_url, terminal, verify=world.stack.center_tls)
    time.sleep(3 * HOUSEKEEPING)  # the new process's housekeeping has looked
    assert again.order(order.order_id).state == "printed"
    assert again.settle(order.order_id, order.fee).state == "settled"
    assert again.settle(order.order_id, order.fee).state == "settled"
    assert municipal_copies(world)[order.order_id] == {"printed"}
    again.close()
    client.close()


def test_an_order_being_printed_outlives_its_deadline(world: World) -> None:
    """The kiosk said its job went to the printer, then went quiet past the deadline: the center
    never voids an order that may have paper out; the kiosk ends it, here with one of two copies
    printed whole (the other void, its fee not due)."""
    _terminal, client = world.terminal("T-0205")
    session_id = authenticate(world, client, world.resident())
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL, SEAL])
    first = order.copies[0].issue_number
    assert client.printing(order.order_id).state == "printing"
    time.sleep(DEADLINE + 4 * HOUSEKEEPING)
    assert client.order(order.order_id).state == "printing"
    assert client.printed(order.order_id, [first]).state == "printed"
    assert client.settle(order.order_id, order.fee // 2).state == "settled"
    eventually(lambda: municipal_copies(world)[order.order_id] == {"printed", "voided"}, "the second voided")
    assert center_orders(world.stack)[order.order_id] == ("settled", "partly_printed", False)
    client.close()


def stop_town(world: World) -> None:
    process = world.town.process
    assert process is not None
    process.terminate()
    process.wait(10)


def test_a_refund_reported_while_the_municipality_is_down_keeps_its_void_to_tell(world: World) -> None:
    """The kiosk voids and reports the refund at once, while the municipality cannot be reached:
    the refund does not erase the void still to be told, so the copies are voided when it is back."""
    _terminal, client = world.terminal("T-0206")
    session_id = authenticate(world, client, world.resident())
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL])
    stop_town(world)
    try:
        assert client.void(order.order_id, "cancelled").state == "voided"
        assert center_orders(world.stack)[order.order_id] == ("voided", "cancelled", True)
        assert client.refunded(order.order_id).state == "refunded"
        assert center_orders(world.stack)[order.order_id] == ("refunded", "cancelled", True)
    finally:
        world.stack.start_town(CODE)
    eventually(lambda: center_orders(world.stack)[order.order_id][2] is False, "the void told when back")
    assert municipal_copies(world)[order.order_id] == {"voided"}
    client.close()


def test_a_repeated_placement_meeting_the_municipality_down_leaves_the_issued_order_alone(
    world: World,
) -> None:
    """The copies were delivered; the kiosk repeats the placement (a lost answer) while the
    municipality cannot be reached: refused for now, but the order is not voided, and the kiosk
    prints it and settles it."""
    _terminal, client = world.terminal("T-0207")
    session_id = authenticate(world, client, world.resident())
    key = secrets.token_hex(8)
    order = client.place_order(session_id, key, [SEAL, SEAL])
    stop_town(world)
    try:
        with pytest.raises(CenterRefusal) as down:
            client.place_order(session_id, key, [SEAL, SEAL])
        assert down.value.status == 503 and down.value.code == "municipality_unavailable"
        assert "order_id" not in down.value.details  # nothing was voided: nothing to refund
        assert client.order(order.order_id).state == "issued"
    finally:
        world.stack.start_town(CODE)
    assert client.printing(order.order_id).state == "printing"
    again = client.place_order(session_id, key, [SEAL, SEAL])  # once printing: its state, no copies again
    assert again.state == "printing" and not again.copies
    assert client.printed(order.order_id, [c.issue_number for c in order.copies]).state == "printed"
    assert client.settle(order.order_id, order.fee).state == "settled"
    assert center_orders(world.stack)[order.order_id] == ("settled", None, False)
    assert municipal_copies(world)[order.order_id] == {"printed"}
    client.close()


def test_an_order_voided_while_the_municipality_answered_is_refused_with_its_id(world: World) -> None:
    """The municipality is paused past the order's deadline; the center voids the order; when the
    municipality answers, the placement is refused as voided and names the order, so the kiosk
    can report the refund."""
    terminal, client = world.terminal("T-0208")
    session_id = authenticate(world, client, world.resident())
    municipal = world.town.process
    assert municipal is not None
    placing = CenterClient(world.stack.center_url, terminal, verify=world.stack.center_tls, timeout=60)
    outcome: list[BaseException] = []

    def place() -> None:
        try:
            placing.place_order(session_id, secrets.token_hex(8), [SEAL])
        except BaseException as error:
            outcome.append(error)

    known = set(center_orders(world.stack))

    def voided_at_its_deadline() -> str | None:
        voided = [
            order_id
            for order_id, (state, reason, _pending) in center_orders(world.stack).items()
            if order_id not in known and (state, reason) == ("voided", "order_timeout")
        ]
        return voided[0] if voided else None

    os.kill(municipal.pid, signal.SIGSTOP)
    try:
        worker = threading.Thread(target=place)
        worker.start()
        # a municipality paused holds the housekeeping's telling of other voids for up to its timeout
        order_id = eventually(
            voided_at_its_deadline, "the order voided at its deadline, the town paused", timeout=45
        )
    finally:
        os.kill(municipal.pid, signal.SIGCONT)
    worker.join(60)
    (refused,) = outcome
    assert isinstance(refused, CenterRefusal)
    assert refused.status == 409 and refused.code == "order_voided"
    assert refused.details["order_id"] == order_id
    assert refused.details["state"] == "voided"  # the order's state, in the refusal's body
    assert client.refunded(order_id).state == "refunded"
    placing.close()
    client.close()
