"""A holder's own issuance record (交付履歴の確認, ``POST /v1/issuance-record``,
``koufu-issuance-record/1``), through the municipality's real HTTP API over TLS, signed by the
center: exactly the holder's own copies of the twelve months before the municipality's clock
(two residents at two stores; a registered holder's copies under their registration), voided
copies marked, the older ones left out, an empty record for a holder unknown here, and a record
that was tampered with or relabelled does not open. Then the content model, checked strictly.

One world per module on one injected clock (``support.municipal_world``): it starts twelve
months before the record is asked, so the oldest orders are really issued then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from center.signing import unb64url
from devtools.card_proofs import Card
from documents import JST, BindingMismatch, DocumentError, IssueNumber, MalformedDocument, MunicipalKey
from documents.issuance_record import (
    IssuanceRecord,
    RecordedIssuance,
    open_issuance_record,
    seal_issuance_record,
    year_before,
)
from support.municipal_world import ELSEWHERE, World, municipal_world, outsider

START = dt.datetime(2025, 11, 24, 9, 59, tzinfo=JST)  # a minute more than twelve months before ASKED
ASKED = dt.datetime(2026, 11, 24, 10, 0, tzinfo=JST)
MINUTE = dt.timedelta(minutes=1)
RECORD: tuple[str, dict[str, Any], int] = ("resident_record", {}, 2)
SEAL: tuple[str, dict[str, Any], int] = ("seal_registration", {}, 1)
INDIVIDUAL: tuple[str, dict[str, Any], int] = ("family_register", {"scope": "individual"}, 1)


class Orders:
    """The orders the world was given, as each card's record must show them (newest first)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}  # by holder name

    def add(self, whose: str, order_rows: list[dict[str, Any]]) -> None:
        """An order's rows (in its items' order) before the older ones."""
        self.rows[whose] = order_rows + self.rows.get(whose, [])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with municipal_world(tmp_path_factory.mktemp("issuance-record"), START) as made:
        yield made


@pytest.fixture(scope="module")
def cards(world: World) -> dict[str, Card]:
    residents = world.people.ordinary[:3]
    made = {
        whose: world.resident_card(person.certificate_serial)
        for whose, person in zip("abc", residents, strict=True)
    }
    made["registered"] = world.outside_card()
    world.register(made["registered"], outsider(9001, 2))
    return made


@pytest.fixture(scope="module")
def orders(world: World, cards: dict[str, Card]) -> Orders:
    """Orders over a year: A's first one just outside the twelve months, then A's, B's and the
    registered holder's at both stores; one of A's copies voided, another printed."""
    expected = Orders()
    kanda, kudan = world.terminals

    def issue(whose: str, order: str, terminal: Any, *items: tuple[str, dict[str, Any], int]) -> list[str]:
        answer = world.issue(cards[whose], order, terminal, *items)
        assert answer.status_code == 200, answer.text
        copies = answer.json()["copies"]
        rows = []
        for index, (kind, _, _) in enumerate(items):
            numbers = [copy["issue_number"] for copy in copies if copy["item"] == index]
            rows.append(
                {
                    "issued_at": world.clock().astimezone(JST).isoformat(),
                    "store": terminal.store,
                    "terminal_id": terminal.terminal_id,
                    "certificate_type": kind,
                    "copies": len(numbers),
                    "issue_numbers": numbers,
                    "voided": [],
                }
            )
        expected.add(whose, rows)
        return [copy["issue_number"] for copy in copies]

    issue("a", "R-0001", kanda, RECORD)
    expected.rows["a"].clear()  # a year and a minute before the record is asked: not in it
    world.clock.now += 2 * MINUTE
    issue("a", "R-0002", kanda, SEAL)
    world.clock.now = ASKED.astimezone(dt.UTC) - 30 * MINUTE
    issue("b", "R-0003", kudan, RECORD)
    world.clock.now += MINUTE
    issue("a", "R-0004", kanda, RECORD, SEAL)
    world.clock.now += MINUTE
    numbers = issue("a", "R-0005", kudan, RECORD)
    world.clock.now += MINUTE
    issue("registered", "R-0006", kudan, INDIVIDUAL)
    issue("c", "R-0007", kanda, SEAL)
    world.clock.now += MINUTE
    assert world.post("/v1/orders/R-0005/printed", {"issue_numbers": numbers[:1]}).status_code == 200
    voided = world.post("/v1/orders/R-0005/void", {"reason": "用紙詰まり", "issue_numbers": numbers[1:]})
    assert voided.status_code == 200, voided.text
    expected.rows["a"][0]["voided"] = numbers[1:]
    world.clock.now = ASKED.astimezone(dt.UTC)
    return expected


def ask(world: World, card: Card, session_id: str, terminal_index: int = 0) -> bytes:
    terminal = world.terminals[terminal_index]
    answer = world.post("/v1/issuance-record", world.session(card, session_id, terminal))
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"sealed"}
    return unb64url(answer.json()["sealed"])


def opened(
    world: World,
    sealed: bytes,
    card: Card,
    session_id: str,
    *,
    municipality: str = "131016",
    terminal_index: int = 0,
) -> IssuanceRecord:
    terminal = world.terminals[terminal_index]
    return open_issuance_record(
        sealed,
        municipality=municipality,
        terminal_id=terminal.terminal_id,
        terminal_key=terminal.key,
        trust=world.trust,
        session_id=session_id,
        holder_certificate=card.holder_hash,
        now=world.clock(),
    )


def test_each_resident_sees_exactly_their_own_copies_of_twelve_months(
    world: World, cards: dict[str, Card], orders: Orders
) -> None:
    for whose, terminal_index in (("a", 0), ("b", 1)):
        session = f"S-record-{whose}"
        record = opened(
            world,
            ask(world, cards[whose], session, terminal_index),
            cards[whose],
            session,
            terminal_index=terminal_index,
        )
        assert [row.content() for row in record.issuances] == orders.rows[whose]
        assert (record.municipality, record.name, record.name_en) == ("131016", "千代田区", "Chiyoda City")
        assert record.until == ASKED and record.since == dt.datetime(2025, 11, 24, 10, 0, tzinfo=JST)
    a = opened(world, ask(world, cards["a"], "S-record-a2"), cards["a"], "S-record-a2")
    # A's: four rows at both stores, newest first, the voided copy marked, the older order left out
    assert [
        (row.terminal_id, row.certificate_type.value, row.copies, len(row.voided)) for row in a.issuances
    ] == [
        ("T-0002", "resident_record", 2, 1),
        ("T-0001", "resident_record", 2, 0),
        ("T-0001", "seal_registration", 1, 0),
        ("T-0001", "seal_registration", 1, 0),
    ]
    b_numbers = {number for row in orders.rows["b"] for number in row["issue_numbers"]}
    assert b_numbers and not b_numbers & {number for row in a.issuances for number in row.issue_numbers}


def test_a_renewed_card_sees_the_same_record(world: World, cards: dict[str, Card], orders: Orders) -> None:
    renewed = world.renewed(cards["c"], 3)  # the town links the old card's serial only
    record = opened(world, ask(world, renewed, "S-record-renewed"), renewed, "S-record-renewed")
    assert [row.content() for row in record.issuances] == orders.rows["c"]


def test_a_registered_holder_sees_the_copies_of_their_registration(
    world: World, cards: dict[str, Card], orders: Orders
) -> None:
    record = opened(
        world, ask(world, cards["registered"], "S-record-reg"), cards["registered"], "S-record-reg"
    )
    assert [row.content() for row in record.issuances] == orders.rows["registered"]
    assert [row.certificate_type.value for row in record.issuances] == ["family_register"]


def test_a_holder_unknown_here_gets_an_empty_record(world: World, orders: Orders) -> None:
    stranger = world.outside_card()
    record = opened(world, ask(world, stranger, "S-record-stranger"), stranger, "S-record-stranger")
    assert record.issuances == () and record.municipality == "131016" and record.until == ASKED


def test_a_tampered_or_relabelled_record_does_not_open(
    world: World, cards: dict[str, Card], orders: Orders
) -> None:
    card = cards["a"]
    sealed = ask(world, card, "S-record-tamper")
    assert opened(world, sealed, card, "S-record-tamper").issuances
    tampered = bytearray(sealed)
    tampered[-20] ^= 0x01
    with pytest.raises(DocumentError):
        opened(world, bytes(tampered), card, "S-record-tamper")
    with pytest.raises(DocumentError):  # relayed under another municipality's code
        opened(world, sealed, card, "S-record-tamper", municipality=ELSEWHERE)
    with pytest.raises(BindingMismatch):  # another card's session
        opened(world, sealed, cards["b"], "S-record-tamper")
    with pytest.raises(BindingMismatch):
        opened(world, sealed, card, "S-record-other")
    with pytest.raises(DocumentError):  # another terminal's
        opened(world, sealed, card, "S-record-tamper", terminal_index=1)
    offer = world.post("/v1/offer", world.session(card, "S-record-offer", world.terminals[0]))
    with pytest.raises(MalformedDocument):  # an offer is not a record
        opened(world, unb64url(offer.json()["sealed"]), card, "S-record-offer")


def test_the_request_is_read_strictly_and_must_be_the_center_s(world: World, cards: dict[str, Card]) -> None:
    fields = world.session(cards["a"], "S-record-bad", world.terminals[0])
    malformed: list[Any] = [
        {**fields, "extra": 1},
        {k: v for k, v in fields.items() if k != "holder_proof"},
        [],
    ]
    for document in malformed:
        answer = world.post("/v1/issuance-record", document)
        assert (answer.status_code, answer.json()["error"]) == (400, "bad_request")
    unsigned = world.client.post("/v1/issuance-record", json=fields)
    assert unsigned.status_code == 401


# -- the content model ---------------------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=JST)


def _row(**changes: Any) -> dict[str, Any]:
    number = IssueNumber(NOW.date(), "131016", "T-0001", 1, 7).text
    row = {
        "issued_at": NOW.isoformat(),
        "store": "千代田神田店",
        "terminal_id": "T-0001",
        "certificate_type": "resident_record",
        "copies": 1,
        "issue_numbers": [number],
        "voided": [],
    }
    return row | changes


def _content(**changes: Any) -> dict[str, Any]:
    content = {
        "municipality": "131016",
        "name": "千代田区",
        "name_en": "Chiyoda City",
        "since": year_before(NOW).isoformat(),
        "until": NOW.isoformat(),
        "issuances": [_row()],
    }
    return content | changes


def test_a_record_reads_back_to_itself() -> None:
    record = IssuanceRecord.from_content(_content())
    assert IssuanceRecord.from_content(record.content()) == record
    assert record.issuances[0] == RecordedIssuance(
        NOW,
        "千代田神田店",
        "T-0001",
        record.issuances[0].certificate_type,
        record.issuances[0].issue_numbers,
        (),
    )
    assert year_before(dt.datetime(2028, 2, 29, 12, 0, tzinfo=JST)) == dt.datetime(
        2027, 2, 28, 12, 0, tzinfo=JST
    )


OTHER_NUMBER = IssueNumber(NOW.date(), "131016", "T-0001", 1, 8).text
MALFORMED: dict[str, Any] = {
    "not a map": [],
    "a field missing": {k: v for k, v in _content().items() if k != "name_en"},
    "a field more": _content(extra=1),
    "a bad municipality code": _content(municipality="13101"),
    "an empty name": _content(name=" "),
    "a time without offset": _content(until="2026-11-24T10:00:00"),
    "a period backwards": _content(since=NOW.isoformat(), until=year_before(NOW).isoformat()),
    "issuances not a list": _content(issuances={}),
    "a row field missing": _content(issuances=[{k: v for k, v in _row().items() if k != "store"}]),
    "a row outside the period": _content(issuances=[_row(issued_at=(NOW + MINUTE).isoformat())]),
    "an unknown certificate type": _content(issuances=[_row(certificate_type="passport")]),
    "copies not the numbers": _content(issuances=[_row(copies=2)]),
    "copies a bool": _content(issuances=[_row(copies=True)]),
    "a bad terminal id": _content(issuances=[_row(terminal_id="t 1")]),
    "not an issue number": _content(issuances=[_row(issue_numbers=["1234"])]),
    "another terminal's number": _content(
        issuances=[_row(issue_numbers=[IssueNumber(NOW.date(), "131016", "T-0002", 1, 7).text])]
    ),
    "another municipality's number": _content(
        issuances=[_row(issue_numbers=[IssueNumber(NOW.date(), "132012", "T-0001", 1, 7).text])]
    ),
    "a voided number not the row's": _content(issuances=[_row(voided=[OTHER_NUMBER])]),
    "a number twice": _content(issuances=[_row(), _row()]),
    "not newest first": _content(
        issuances=[
            _row(issued_at=(NOW - MINUTE).isoformat(), issue_numbers=[OTHER_NUMBER]),
            _row(),
        ]
    ),
}


@pytest.mark.parametrize("why", sorted(MALFORMED))
def test_a_malformed_record_is_refused(why: str) -> None:
    with pytest.raises(MalformedDocument):
        IssuanceRecord.from_content(MALFORMED[why])


def test_a_municipality_seals_its_own_record_only() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    record = IssuanceRecord.from_content(_content())
    with pytest.raises(ValueError, match="its own"):
        seal_issuance_record(
            record,
            key=MunicipalKey.generate(ELSEWHERE),
            session_id="S-1",
            terminal_id="T-0001",
            holder_certificate="0" * 64,
            terminal_public_key=ec.generate_private_key(ec.SECP256R1()).public_key(),
            now=NOW,
        )
