"""Issuance from the registered domicile (本籍地), through the municipality's real HTTP API over
TLS, signed by the center: a holder who does not live here but whose usage registration
(本籍地の利用登録) is approved is offered and issued the register's certificates of their own
entry, and nothing else; a pending or suspended registration, or none, is refused with the
reason sealed to the terminal; a renewed card keeps issuing.

One world per module on one injected clock (``support.municipal_world``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from center.municipal import schema
from center.municipal.registrations import Status
from center.signing import unb64url
from devtools.card_proofs import Card
from documents import JST, open_sealed
from documents.offer import open_offer
from documents.refusal import GENERIC_REFUSAL, open_refusal
from support.municipal_world import World, municipal_world, outsider

START = dt.datetime(2026, 11, 24, 10, 0, tzinfo=JST)  # a Tuesday morning
FULL = ("family_register", {"scope": "full"}, 1)
INDIVIDUAL = ("family_register", {"scope": "individual"}, 1)
ATTACHMENT = ("family_register_attachment", {"domicile": True}, 1)
RECORD: tuple[str, dict[str, Any], int] = ("resident_record", {}, 1)
_orders = itertools.count(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with municipal_world(tmp_path_factory.mktemp("domicile-issuance"), START) as made:
        yield made


def order_id() -> str:
    return f"D-{next(_orders):04d}"


def offer(world: World, card: Card, session_id: str) -> httpx.Response:
    return world.post("/v1/offer", world.session(card, session_id, world.terminals[0]))


def sealed_reason(world: World, answer: httpx.Response, session_id: str) -> str:
    """The refusal's code as the terminal reads it (the center reads only the generic one)."""
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == GENERIC_REFUSAL and "registration" not in answer.text
    reason = open_refusal(
        unb64url(body["sealed"]),
        terminal_id=world.terminals[0].terminal_id,
        terminal_key=world.terminals[0].key,
        trust=world.trust,
        session_id=session_id,
        now=world.clock(),
    )
    assert reason.message_ja and reason.message_en
    return reason.code


def history(world: World, order: str) -> list[Any]:
    table = schema.issuance_history
    with world.engine.connect() as connection:
        return list(
            connection.execute(sa.select(table).where(table.c.order_id == order).order_by(table.c.item))
        )


def test_an_approved_holder_is_offered_the_register_s_certificates_only(world: World) -> None:
    card = world.outside_card()
    world.register(card, outsider(9001, 2))
    answer = offer(world, card, "S-offer-1")
    assert answer.status_code == 200, answer.text
    public = answer.json()
    assert set(public["certificates"]) == {"family_register", "family_register_attachment"}
    assert all(certificate["available"] for certificate in public["certificates"].values())
    personal = open_offer(
        unb64url(public["sealed"]),
        terminal_id="T-0001",
        terminal_key=world.terminals[0].key,
        trust=world.trust,
        session_id="S-offer-1",
        holder_certificate=card.holder_hash,
        now=world.clock(),
    )
    assert personal == {"household": [], "tax_years": [], "tax_kinds": [], "my_number": False, "reasons": {}}


def test_an_approved_holder_is_issued_their_entry_s_certificates(world: World) -> None:
    card = world.outside_card()
    person = outsider(9001, 2)
    registration = world.register(card, person)
    order, terminal = order_id(), world.terminals[0]
    answer = world.issue(card, order, terminal, INDIVIDUAL, FULL, ATTACHMENT)
    assert answer.status_code == 200, answer.text
    contents = [
        open_sealed(
            unb64url(copy["sealed"]),
            terminal_id=terminal.terminal_id,
            terminal_key=terminal.key,
            trust=world.trust,
            expected=world.binding(card, order, terminal),
            now=world.clock(),
        ).document.content
        for copy in answer.json()["copies"]
    ]
    individual, full, attachment = (content["body"] for content in contents)
    assert contents[0]["title"] == "戸籍個人事項証明書" and contents[1]["title"] == "戸籍全部事項証明書"
    assert [member["name"] for member in individual["members"]] == [person.name]  # their own entry
    assert (individual["domicile"], individual["head_name"]) == (person.domicile, person.head)
    assert [member["name"] for member in full["members"]] == ["試験　一郎", "試験　花子", "試験　次郎"]
    assert attachment["domicile"] == person.domicile and len(attachment["members"]) == 3
    rows = history(world, order)
    assert len(rows) == 3
    assert {(row.requester_id, row.registration_id) for row in rows} == {(None, registration.id)}


def test_a_registered_holder_gets_nothing_but_the_register_s_certificates(world: World) -> None:
    card = world.outside_card()
    world.register(card, outsider(9001, 3))
    order = order_id()
    answer = world.issue(card, order, world.terminals[0], INDIVIDUAL, RECORD)
    assert answer.status_code == 422
    assert answer.json()["error"] == "certificate_not_offered"  # the order's shape: public
    assert history(world, order) == []


def test_a_pending_or_suspended_registration_or_none_is_refused_with_the_sealed_reason(world: World) -> None:
    pending_card, suspended_card, unknown_card = (world.outside_card() for _ in range(3))
    world.register(pending_card, outsider(9002, 1), approve=False)
    suspended = world.register(suspended_card, outsider(9002, 2))
    world.registrations.suspend(suspended.id)
    for card, code in (
        (pending_card, "registration_pending"),
        (suspended_card, "registration_suspended"),
        (unknown_card, "card_not_registered"),
    ):
        session = "S-refused-" + code.replace("_", "-")
        assert sealed_reason(world, offer(world, card, session), session) == code
        order = order_id()
        answer = world.issue(card, order, world.terminals[0], INDIVIDUAL)
        assert sealed_reason(world, answer, f"S-{order}") == code
        assert history(world, order) == []


def test_a_renewed_card_keeps_issuing_and_resumes_a_registration_its_old_card_suspended(world: World) -> None:
    old = world.outside_card()
    registration = world.register(old, outsider(9002, 2))
    renewed = world.renewed(old, 1)
    answer = world.issue(renewed, order_id(), world.terminals[1], INDIVIDUAL)
    assert answer.status_code == 200, answer.text
    assert world.registrations.for_serial(renewed.certificate.serial_number) == world.registrations.get(
        registration.id
    )
    # suspended because the old card was revoked: the renewed card's proof resumes it
    world.registrations.suspend(registration.id)
    again = world.renewed(renewed, 2)
    answer = world.issue(again, order_id(), world.terminals[1], ATTACHMENT)
    assert answer.status_code == 200, answer.text
    assert world.registrations.get(registration.id).status is Status.APPROVED


def test_a_resident_is_served_as_before(world: World) -> None:
    person = world.people.ordinary[0]
    card = world.resident_card(person.certificate_serial)
    answer = offer(world, card, "S-resident")
    assert answer.status_code == 200 and "resident_record" in answer.json()["certificates"]
    order = order_id()
    assert world.issue(card, order, world.terminals[0], RECORD).status_code == 200
    assert [(row.requester_id, row.registration_id) for row in history(world, order)] == [
        (person.resident_id, None)
    ]


def test_the_history_holds_exactly_one_requester(world: World) -> None:
    person = world.people.ordinary[0]
    table = schema.issuance_history
    with world.engine.connect() as connection:
        row = connection.execute(sa.select(table).where(table.c.requester_id == person.resident_id)).first()
    assert row is not None
    registration = world.register(world.outside_card(), outsider(9001, 1))
    for requester_id, registration_id in ((None, None), (person.resident_id, registration.id)):
        copy = {**row._asdict(), "issue_number": "X", "item": 99}  # another item of the same order
        copy.update(requester_id=requester_id, registration_id=registration_id)
        with pytest.raises(sa.exc.IntegrityError), world.engine.begin() as connection:
            connection.execute(
                table.insert().values(
                    **copy | {"requester_id": requester_id, "registration_id": registration_id}
                )
            )
