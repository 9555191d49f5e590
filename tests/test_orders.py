"""Orders end to end: real authority, center and municipal server processes over TLS, a synthetic
town, terminals signing their requests, cards signing their sessions' challenges, and the kiosk's
side opening the sealed copies with the terminal's key.

On PostgreSQL the center runs two worker processes (topology ``multi``): the order's state is in
the database, never in a process.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from center.client import CenterClient, CenterRefusal
from center.config import CenterConfig
from center.enrolment import EnrolledTerminal
from center.messages import CopyResponse, OrderResponse
from center.municipal import schema as municipal_schema
from center.municipal import service as municipal_service
from center.signing import unb64url
from center.store.engine import make_engine
from center.store.schema_versions import make_engine as make_municipal_engine
from center.store.tables import ledger, order_copies, orders
from documents import Binding, BindingMismatch, Document
from documents.refusal import RefusalReason, open_refusal
from support.books import audited, municipal_copies
from support.world import CODE, HOUSEHOLD, SEAL, Resident, World, authenticate, opened, running_world


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(
        request, tmp_path_factory, "orders", 1000, workers=2 if request.param == "postgresql" else 1
    )


def open_copy(
    world: World,
    copy: CopyResponse,
    terminal: EnrolledTerminal,
    order_id: str,
    session_id: str,
    resident: Resident,
) -> Document:
    return opened(world, copy, terminal, order_id, session_id, resident).document


def code_of(
    world: World,
    copy: CopyResponse,
    terminal: EnrolledTerminal,
    order: OrderResponse,
    session_id: str,
    resident: Resident,
) -> str:
    """The verification code the kiosk prints on the copy's pages."""
    return opened(world, copy, terminal, order.order_id, session_id, resident).verification_code


def sealed_reason(
    world: World, terminal: EnrolledTerminal, refusal: CenterRefusal, session_id: str
) -> RefusalReason:
    """What the kiosk opens of a refusal's sealed reason (the center relays it unread)."""
    return open_refusal(
        unb64url(refusal.details["sealed"]),
        terminal_id=terminal.terminal_id,
        terminal_key=terminal.key,
        trust=world.trust,
        session_id=session_id,
        now=dt.datetime.now(dt.UTC),
    )


def verify(client: CenterClient, issue_number: str, code: str) -> dict[str, Any]:
    """What anyone with the page learns: no signature, no terminal."""
    answer = client.http.get("/v1/verify", params={"issue_number": issue_number, "code": code})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def ledger_rows(world: World, order_id: str) -> dict[str, int]:
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(ledger.c.account, ledger.c.amount).where(ledger.c.order_id == order_id)
            ).all()
    finally:
        engine.dispose()
    return {row.account: row.amount for row in rows}


def municipal_status(world: World, order_id: str) -> set[str]:
    engine = make_municipal_engine(municipal_service.default_url(world.town.directory))
    try:
        with engine.connect() as connection:
            history = municipal_schema.issuance_history.c
            return set(
                connection.execute(sa.select(history.status).where(history.order_id == order_id)).scalars()
            )
    finally:
        engine.dispose()


def test_an_order_from_authentication_to_settled(world: World) -> None:
    terminal, client = world.terminal("T-0101")
    resident = world.resident()
    session_id = authenticate(world, client, resident)
    key = secrets.token_hex(8)
    order = client.place_order(session_id, key, [SEAL, HOUSEHOLD])
    assert order.state == "issued" and len(order.copies) == 2 and order.fee == 400
    seal, household = (
        open_copy(world, copy, terminal, order.order_id, session_id, resident) for copy in order.copies
    )
    assert seal.content["body"]["name"] == resident.name
    assert any(person["name"] == resident.name for person in household.content["body"]["persons"])
    assert [copy.issue_number for copy in order.copies] == [
        seal.issue_number.text,
        household.issue_number.text,
    ]

    again = client.place_order(session_id, key, [SEAL, HOUSEHOLD])  # a retry after a lost answer
    assert again == order
    with pytest.raises(CenterRefusal) as conflict:
        client.place_order(session_id, key, [SEAL])
    assert conflict.value.code == "idempotency_conflict"

    numbers = [copy.issue_number for copy in order.copies]
    code = code_of(world, order.copies[0], terminal, order, session_id, resident)
    assert verify(client, numbers[0], code)["status"] == "not_printed"
    with pytest.raises(CenterRefusal) as unannounced:  # a job is announced before it goes to the printer
        client.printed(order.order_id, numbers)
    assert (unannounced.value.code, unannounced.value.details["state"]) == ("order_state", "issued")
    assert client.printing(order.order_id).state == "printing"
    assert client.printing(order.order_id).state == "printing"  # said twice: the same
    assert verify(client, numbers[0], code)["status"] == "not_printed"
    assert client.printed(order.order_id, numbers).state == "printed"
    found = verify(client, numbers[0] + "/01", code.lower().replace("-", ""))  # a page's number, typed
    assert found == {
        "issue_number": numbers[0],
        "status": "valid",
        "municipality": CODE,
        "issued_on": seal.issue_number.day.isoformat(),
        "pages": 1,
        "content_hash": seal.content_hash(),
    }
    assert verify(client, numbers[0], "0000-0000-0000") == {"issue_number": numbers[0], "status": "unknown"}
    assert verify(client, numbers[1], code)["status"] == "unknown"  # another copy's code
    assert client.http.get("/v1/verify", params={"issue_number": "12345", "code": code}).status_code == 400
    assert client.http.get("/v1/verify", params={"issue_number": numbers[0], "code": "U"}).status_code == 400
    assert client.printed(order.order_id, numbers).state == "printed"  # said twice: the same
    with pytest.raises(CenterRefusal) as other:
        client.printed(order.order_id, numbers[:1])
    assert other.value.status == 409 and other.value.code == "printed_differs"
    with pytest.raises(CenterRefusal) as wrong:
        client.settle(order.order_id, 300)
    assert wrong.value.code == "wrong_amount"
    assert client.settle(order.order_id, 400).state == "settled"
    assert client.settle(order.order_id, 400).state == "settled"  # said twice: once in the ledger
    assert ledger_rows(world, order.order_id) == {
        "municipality": 400 - 2 * 115,
        "center": 120,
        "store": 110,
    }
    assert municipal_status(world, order.order_id) == {"printed"}
    with pytest.raises(CenterRefusal) as printed:
        client.void(order.order_id, "cancelled")
    assert printed.value.status == 409 and printed.value.code == "order_state"
    assert printed.value.details["state"] == "settled"  # the order's state, in the refusal's body
    client.close()


def test_a_partly_printed_order_is_paid_for_its_whole_copies_and_voids_the_rest(world: World) -> None:
    """Two copies ordered, the printer stopped in the second: the first is printed and paid, the
    second is void at the municipality and at the verification, its fee not due; settling the
    whole fee is refused and audited."""
    terminal, client = world.terminal("T-0113")
    resident = world.resident()
    session_id = authenticate(world, client, resident)
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL, HOUSEHOLD])
    first, second = (copy.issue_number for copy in order.copies)
    client.printing(order.order_id)
    printed = client.printed(order.order_id, [first])
    assert printed.state == "printed" and printed.reason == "partly_printed"
    assert municipal_copies(world.stack, [order.order_id]) == {first: "printed", second: "voided"}
    code = code_of(world, order.copies[1], terminal, order, session_id, resident)
    assert verify(client, second, code)["status"] == "voided"
    with pytest.raises(CenterRefusal) as whole:
        client.settle(order.order_id, order.fee)
    assert whole.value.code == "wrong_amount" and whole.value.details["due"] == 200
    assert client.settle(order.order_id, 200).state == "settled"
    assert ledger_rows(world, order.order_id) == {"municipality": 200 - 115, "center": 60, "store": 55}
    assert ("order_settle_refused", "refused", "wrong_amount") in audited(world.stack, "T-0113")
    client.close()


def test_a_refused_order_is_voided_and_refunded(world: World) -> None:
    terminal, client = world.terminal("T-0102")
    resident = world.resident("no_seal")
    session_id = authenticate(world, client, resident)
    key = secrets.token_hex(8)
    with pytest.raises(CenterRefusal) as refused:
        client.place_order(session_id, key, [SEAL])
    # the center reads one code for every refusal about a person; the reason is sealed to the kiosk
    assert refused.value.status == 422 and refused.value.code == "refused_by_municipality"
    assert "印鑑" not in refused.value.details["message_ja"]
    reason = sealed_reason(world, terminal, refused.value, session_id)
    assert reason.code == "no_seal_registered" and "印鑑登録" in reason.message_ja
    order_id = refused.value.details["order_id"]
    assert client.order(order_id).state == "voided"
    assert client.order(order_id).reason == "refused_by_municipality"
    again = client.place_order(session_id, key, [SEAL])  # the same key: the same voided order, asked nothing
    assert again.order_id == order_id and again.state == "voided" and not again.copies
    assert client.refunded(order_id).state == "refunded"
    assert municipal_status(world, order_id) == set()  # nothing was ever issued
    client.close()


def test_a_cancelled_order_voids_its_copies_at_the_municipality(world: World) -> None:
    terminal, client = world.terminal("T-0103")
    resident = world.resident()
    session_id = authenticate(world, client, resident)
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL])
    assert client.void(order.order_id, "print_timeout").state == "voided"
    assert municipal_status(world, order.order_id) == {"voided"}
    code = code_of(world, order.copies[0], terminal, order, session_id, resident)
    assert verify(client, order.copies[0].issue_number, code)["status"] == "voided"
    with pytest.raises(CenterRefusal) as late:
        client.printed(order.order_id, [order.copies[0].issue_number])
    assert late.value.code == "order_state"
    with pytest.raises(CenterRefusal) as too_late:
        client.printing(order.order_id)
    assert too_late.value.code == "order_state"
    assert client.refunded(order.order_id).state == "refunded"
    assert client.refunded(order.order_id).state == "refunded"
    assert ledger_rows(world, order.order_id) == {}
    client.close()


def test_orders_belong_to_their_terminal_and_session(world: World) -> None:
    terminal, client = world.terminal("T-0104")
    _other_terminal, other = world.terminal("T-0105")
    resident = world.resident()
    session_id = authenticate(world, client, resident)
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL])
    with pytest.raises(CenterRefusal) as foreign:
        other.order(order.order_id)
    assert foreign.value.code == "unknown_order"
    with pytest.raises(CenterRefusal) as stolen:  # another terminal cannot order in this session
        other.place_order(session_id, secrets.token_hex(8), [SEAL])
    assert stolen.value.code == "unknown_session"
    fresh = client.open_session()  # opened, never authenticated
    with pytest.raises(CenterRefusal) as early:
        client.place_order(fresh.session_id, secrets.token_hex(8), [SEAL])
    assert early.value.code == "session_not_authenticated"
    with pytest.raises(BindingMismatch) as mismatch:  # a copy is opened only for its own order
        open_copy(world, order.copies[0], terminal, "another-order", session_id, resident)
    assert mismatch.value.field == "order_id"
    with pytest.raises(CenterRefusal) as malformed:
        client.place_order(
            session_id,
            secrets.token_hex(8),
            [{"certificate_type": "seal_registration", "copies": 1, "options": {"members": [1]}}],
        )
    assert malformed.value.status == 400 and malformed.value.code == "invalid_order"
    client.close()
    other.close()


def test_many_terminals_at_once_each_get_only_their_own_residents_copies(world: World) -> None:
    """The Kawasaki / Yokohama / Takamatsu class of failure: 200 orders at once from 200 terminals
    for 200 residents of one municipality (50 in flight at any moment), twice. Every terminal
    opens its copies with its own key and binding, every copy names the terminal's own resident,
    and no issue number is given twice."""
    count = 200
    terminals = [world.terminal(f"T-{2000 + index}") for index in range(count)]
    for _round in range(2):
        residents = [world.resident() for _ in range(count)]

        def one(index: int, residents: list[Resident] = residents) -> tuple[str, str, set[str]]:
            terminal, client = terminals[index]
            resident = residents[index]
            session_id = authenticate(world, client, resident)
            order = client.place_order(session_id, secrets.token_hex(8), [SEAL, HOUSEHOLD])
            names = {
                open_copy(world, copy, terminal, order.order_id, session_id, resident)
                .content["body"]
                .get("name", resident.name)
                for copy in order.copies
            }
            household = open_copy(world, order.copies[1], terminal, order.order_id, session_id, resident)
            assert resident.name in {person["name"] for person in household.content["body"]["persons"]}
            numbers = {copy.issue_number for copy in order.copies}
            client.printing(order.order_id)
            client.printed(order.order_id, sorted(numbers))
            client.settle(order.order_id, order.fee)
            return resident.name, order.order_id, names | numbers

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(one, range(count)))
        for (name, _order_id, seen), resident in zip(results, residents, strict=True):
            assert name == resident.name and name in seen
        numbers = [number for _name, _order, seen in results for number in seen if "/" in number]
        assert len(numbers) == len(set(numbers)) == 2 * count
    for _terminal, client in terminals:
        client.close()


def test_no_name_in_the_center_s_or_the_municipality_s_log(world: World) -> None:
    """Every resident this module's tests served (one at least, ordered here): no part of their
    name in either server's log."""
    _terminal, client = world.terminal("T-0110")
    session_id = authenticate(world, client, world.resident())
    client.place_order(session_id, secrets.token_hex(8), [SEAL, HOUSEHOLD])
    client.close()
    logs = world.stack.center_log.read_text(errors="replace") + (
        world.stack.root / f"municipal-{CODE}.log"
    ).read_text(errors="replace")
    assert "/v1/issue" in logs  # the municipality's access log is there
    names = [world.town.name_of(resident) for resident in world.used if resident]
    assert names and not [part for name in names for part in name.split("　") if part in logs]


def test_the_daily_settlement_adds_up(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Every settled order's fee is split once between the municipality, the center and the store
    (per settlement day in Japan: a run across midnight has two)."""
    from koufu.cli import main as koufu

    _terminal, client = world.terminal("T-0106")
    session_id = authenticate(world, client, world.resident())
    order = client.place_order(session_id, secrets.token_hex(8), [SEAL, SEAL])
    client.printing(order.order_id)
    client.printed(order.order_id, [copy.issue_number for copy in order.copies])
    client.settle(order.order_id, order.fee)
    client.close()
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                sa.select(sa.func.count()).select_from(orders).where(orders.c.state == "settled")
            ).scalar_one()
            fees = connection.execute(  # of the copies printed whole: a copy void is not paid for
                sa.select(sa.func.sum(order_copies.c.fee))
                .join(orders, orders.c.id == order_copies.c.order_id)
                .where(orders.c.state == "settled", order_copies.c.printed_at.is_not(None))
            ).scalar_one()
            days = sorted(connection.execute(sa.select(ledger.c.day).distinct()).scalars())
    finally:
        engine.dispose()
    settlements = []
    for day in days:
        assert koufu(["center", "settlement", "--dir", str(world.stack.center_dir), "--day", str(day)]) == 0
        settlements.append(json.loads(capsys.readouterr().out))
    assert count >= 1 and sum(s["orders"] for s in settlements) == count
    assert sum(s["collected"] for s in settlements) == fees
    for settlement in settlements:
        assert set(settlement["municipalities"]) == {CODE} and set(settlement["stores"]) == {"テスト店"}
        assert settlement["center"] * 55 == settlement["stores"]["テスト店"] * 60
    assert koufu(["center", "bridge-key", "--dir", str(world.stack.center_dir)]) == 0
    published = capsys.readouterr().out.strip()
    trusted = json.loads((world.town.directory / municipal_service.CENTER_KEYS_FILE).read_text())["keys"]
    assert trusted == [published]  # the municipality trusts exactly this center's key


def test_the_offer_shows_the_household_only_to_the_terminal(world: World) -> None:
    """After the card's proof: what can be issued, with fees; the household members by name,
    sealed so that only this terminal, for this session and card, reads them."""
    from documents.offer import open_offer

    terminal, client = world.terminal("T-0107")
    resident = world.resident()
    session_id = authenticate(world, client, resident)
    offered = client.offer(session_id)
    assert offered["municipality"] == CODE and offered["max_copies"] == 10
    seal = offered["certificates"]["seal_registration"]
    assert seal == {"fee": 200, "max_copies": 10, "available": True, "reason": None}
    assert resident.name.split("　")[0] not in json.dumps(offered, ensure_ascii=False)  # names only sealed
    personal = open_offer(
        unb64url(offered["sealed"]),
        terminal_id=terminal.terminal_id,
        terminal_key=terminal.key,
        trust=world.trust,
        session_id=session_id,
        holder_certificate=Binding.holder_hash(resident.certificate),
        now=dt.datetime.now(dt.UTC),
    )
    holder = [member for member in personal["household"] if member["holder"]]
    assert [member["name"] for member in holder] == [resident.name]
    assert personal["tax_years"] and personal["my_number"] is False
    no_seal = world.resident("no_seal")
    _other_terminal, other = world.terminal("T-0108")
    other_session = authenticate(world, other, no_seal)
    no_seal_offer = other.offer(other_session)
    assert no_seal_offer["certificates"]["seal_registration"] == {
        "fee": 200,
        "max_copies": 10,
        "available": False,
        "reason": "refused_by_municipality",  # the center learns no reason about the person
    }
    sealed = open_offer(
        unb64url(no_seal_offer["sealed"]),
        terminal_id=_other_terminal.terminal_id,
        terminal_key=_other_terminal.key,
        trust=world.trust,
        session_id=other_session,
        holder_certificate=Binding.holder_hash(no_seal.certificate),
        now=dt.datetime.now(dt.UTC),
    )
    assert sealed["reasons"]["seal_registration"] == "no_seal_registered"  # for the kiosk only
    moved_in = world.resident("moved_in_today")
    third_session = authenticate(world, other, moved_in)
    with pytest.raises(CenterRefusal) as refused:
        other.offer(third_session)
    assert refused.value.status == 422 and refused.value.code == "refused_by_municipality"
    assert sealed_reason(world, _other_terminal, refused.value, third_session).code == "moved_in_today"
    client.close()
    other.close()


def test_a_municipality_not_connected_is_refused_and_never_asked_to_void(world: World) -> None:
    _terminal, client = world.terminal("T-0109")
    key = world.keys[0]
    with world.stack.authority() as authority:  # a card of a municipality the center has no server for
        certificate = authority.issue_user_auth(
            key.public_key(), birth_date=dt.date(1980, 4, 1), municipality="131041"
        )
    stranger = Resident(0, "", key, certificate.public_bytes(serialization.Encoding.DER))
    session_id = authenticate(world, client, stranger)
    with pytest.raises(CenterRefusal) as refused:
        client.place_order(session_id, secrets.token_hex(8), [SEAL])
    assert refused.value.status == 503 and refused.value.code == "municipality_not_connected"
    order_id = refused.value.details["order_id"]
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            pending = connection.execute(
                sa.select(orders.c.void_pending).where(orders.c.id == order_id)
            ).scalar_one()
    finally:
        engine.dispose()
    assert not pending and client.order(order_id).state == "voided"
    assert client.refunded(order_id).state == "refunded"
    client.close()


def void_pending(world: World, order_id: str) -> bool:
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            pending = connection.execute(
                sa.select(orders.c.void_pending).where(orders.c.id == order_id)
            ).scalar_one()
    finally:
        engine.dispose()
    return bool(pending)


def test_a_void_tells_the_municipality_of_its_own_order_only(world: World) -> None:
    """A terminal's void is told to the municipality inline for that order alone; a void still to
    be told for another order is the housekeeping's (its round is a minute here), or that
    order's own repeated void's."""
    _terminal, client = world.terminal("T-0112")
    first = client.place_order(authenticate(world, client, world.resident()), secrets.token_hex(8), [SEAL])
    second = client.place_order(authenticate(world, client, world.resident()), secrets.token_hex(8), [SEAL])
    process = world.town.process
    assert process is not None
    process.terminate()
    process.wait(10)
    try:
        assert client.void(first.order_id, "cancelled").state == "voided"
        assert void_pending(world, first.order_id)
    finally:
        world.stack.start_town(CODE)
    assert client.void(second.order_id, "cancelled").state == "voided"
    assert not void_pending(world, second.order_id) and municipal_status(world, second.order_id) == {"voided"}
    assert void_pending(world, first.order_id) and municipal_status(world, first.order_id) == {"issued"}
    assert client.void(first.order_id, "cancelled").state == "voided"  # the kiosk's retry tells it
    assert not void_pending(world, first.order_id) and municipal_status(world, first.order_id) == {"voided"}
    for order in (first, second):
        assert client.refunded(order.order_id).state == "refunded"
    client.close()
