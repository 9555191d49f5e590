"""A municipality issuing from its record stores: every certificate and option, every refusal,
idempotent orders, copies sealed only to trusted terminals and bound to what asked for them.

A synthetic town (``devtools.synthetic``) on each database, its settings a typical
municipality's; the kiosk's side is ``documents.open_sealed`` with the terminal's key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from center.municipal import schema
from center.municipal.holder_proof import PROOF_LIFETIME
from center.municipal.issuer import (
    Issued,
    Issuer,
    OrderConflict,
    OrderVoided,
    StatusConflict,
    UnknownOrder,
    UnprovenHolder,
    UntrustedTerminal,
    store_settings,
)
from center.municipal.refusals import RefusalCode, Refused
from center.municipal.requests import (
    AttachmentOptions,
    IssueItem,
    IssueRequest,
    NoOptions,
    Options,
    RegisterOptions,
    RegisterScope,
    ResidentRecordOptions,
    TaxOptions,
)
from center.municipal.service import VERSIONS
from center.municipal.settings import TaxKind, typical
from center.store.schema_versions import make_engine
from center.terminals import TerminalCA
from devtools.card_proofs import Cards
from devtools.synthetic import Person, Population, generate
from documents import JST, Binding, BindingMismatch, CertificateType, IssueNumber, MunicipalKey, open_sealed
from documents.keys import TrustList

CODE = "131016"
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=JST)  # a Tuesday morning
TODAY = NOW.date()
_orders = itertools.count(1)


@dataclass
class Terminal:
    terminal_id: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.certificate.public_bytes(Encoding.DER)


@dataclass
class Town:
    engine: sa.Engine
    people: Population
    key: MunicipalKey
    issuer: Issuer
    terminal: Terminal
    stranger: Terminal  # a terminal whose certificate comes from a CA the town does not trust
    cards: Cards  # the residents' cards, from a JPKI authority the town trusts
    terminal_ca_dir: Path  # the terminal CA the town trusts

    def request(
        self,
        person: Person,
        *items: tuple[CertificateType, Options, int],
        order_id: str | None = None,
        terminal: Terminal | None = None,
        serial: int | None = None,
        at: dt.datetime | None = None,
    ) -> IssueRequest:
        terminal = terminal or self.terminal
        # a session at another time is another session (a proof serves its own, for ten minutes)
        session_id = f"S-{person.resident_id}" + ("" if at is None else f"-{at:%Y%m%d%H%M}")
        card = self.cards.card(serial or person.certificate_serial, self.engine, municipality=CODE)
        return IssueRequest(
            order_id=order_id or f"O-{next(_orders)}",
            session_id=session_id,
            terminal_id=terminal.terminal_id,
            store="千代田神田店",
            printer=1,
            holder_proof=self.cards.proof(card, session_id, terminal.terminal_id, at=at),
            terminal_certificate=terminal.der,
            items=tuple(IssueItem(kind, options, copies) for kind, options, copies in items),
        )

    def open(self, issued: Issued, request: IssueRequest, index: int = 0) -> dict[str, Any]:
        opened = open_sealed(
            issued.copies[index].sealed,
            terminal_id=request.terminal_id,
            terminal_key=self.terminal.key,
            trust=TrustList([self.key.trusted()]),
            expected=Binding(request.order_id, request.session_id, request.terminal_id, holder_of(request)),
            now=NOW,
        )
        content: dict[str, Any] = opened.document.content
        return content

    def count(self, table: sa.Table) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def holder_of(request: IssueRequest) -> str:
    """What the copies of ``request`` are bound to: the hash of the card's certificate it proves."""
    return Binding.holder_hash(request.holder_proof.certificate)


def _terminal(ca: TerminalCA, terminal_id: str) -> Terminal:
    key = ec.generate_private_key(ec.SECP256R1())
    return Terminal(terminal_id, key, ca.issue(terminal_id, key.public_key(), now=NOW))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def town(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    root = tmp_path_factory.mktemp("town")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'municipal.db'}"
        database: Any = None
    else:
        database = request.getfixturevalue("postgres_server").fresh_database("town")
        url = database.__enter__()
    engine = make_engine(url)
    VERSIONS.upgrade(engine)
    settings = typical(CODE, "千代田区", "Chiyoda City", "東京都", "千代田区長　山田　太郎")
    offers = dict(settings.offers)
    offers[CertificateType.RESIDENT_RECORD] = dataclasses.replace(
        offers[CertificateType.RESIDENT_RECORD], my_number=True, max_copies=3
    )
    settings = dataclasses.replace(settings, offers=offers)
    with engine.begin() as connection:
        store_settings(connection, settings, NOW)
        people = generate(
            connection,
            municipality=CODE,
            name="千代田区",
            prefecture="東京都",
            households=300,
            seed=20261124,
            today=TODAY,
            first_serial=5000,
        )
    key = MunicipalKey.generate(CODE)
    ca = TerminalCA.load_or_create(root / "terminal-ca", now=NOW)
    other_ca = TerminalCA.load_or_create(root / "other-ca", now=NOW)
    cards = Cards.open(root / "authority", NOW)
    issuer = Issuer(engine, key, [ca.certificate], jpki_anchors=cards.anchors, clock=lambda: NOW)
    yield Town(
        engine,
        people,
        key,
        issuer,
        _terminal(ca, "T-0001"),
        _terminal(other_ca, "T-0001"),
        cards,
        root / "terminal-ca",
    )
    cards.close()
    engine.dispose()
    if database is not None:
        database.__exit__(None, None, None)


_picked: dict[int, set[int]] = {}


def ordinary(town: Town) -> Person:
    """An ordinary resident not used by another test of this module (on this database)."""
    used = _picked.setdefault(id(town), set())
    person = next(p for p in town.people.ordinary if p.resident_id not in used)
    used.add(person.resident_id)
    return person


HOUSEHOLD = (CertificateType.RESIDENT_RECORD, ResidentRecordOptions(), 1)
SEAL = (CertificateType.SEAL_REGISTRATION, NoOptions(), 1)
REGISTER = (CertificateType.FAMILY_REGISTER, RegisterOptions(RegisterScope.FULL), 1)


def newest_tax(kind: TaxKind = TaxKind.COMBINED) -> tuple[CertificateType, Options, int]:
    return CertificateType.TAX, TaxOptions(kind, 2026), 1


# -- every certificate and option -----------------------------------------------------------------


def test_a_household_copy_names_the_household_and_only_the_options_asked(town: Town) -> None:
    person = ordinary(town)
    plain = town.request(person, HOUSEHOLD)
    issued = town.issuer.issue(plain)
    content = town.open(issued, plain)
    assert content["title"] == "住民票の写し" and content["municipality"]["code"] == CODE
    assert content["certified_on"] == "令和８年１１月２４日"
    body = content["body"]
    assert body["persons"] and any(char in body["address"] for char in "０１２３４５６７８９")
    assert all(
        "my_number" not in p and "relationship" not in p and "domicile" not in p for p in body["persons"]
    )
    assert "head" not in body

    full = town.request(
        person,
        (
            CertificateType.RESIDENT_RECORD,
            ResidentRecordOptions(head_and_relationship=True, domicile=True, my_number=True),
            1,
        ),
    )
    body = town.open(town.issuer.issue(full), full)["body"]
    assert body["head"] and all("relationship" in p and len(p["my_number"]) == 12 for p in body["persons"])
    assert all("domicile" in p for p in body["persons"] if "foreign_resident" not in p)


def test_chosen_members_and_the_holders_own_entries(town: Town) -> None:
    person = ordinary(town)
    alone = town.request(
        person, (CertificateType.RESIDENT_RECORD, ResidentRecordOptions(members=(person.resident_id,)), 1)
    )
    content = town.open(town.issuer.issue(alone), alone)
    assert len(content["body"]["persons"]) == 1
    entries = town.request(
        person,
        (CertificateType.RESIDENT_RECORD_ENTRIES, ResidentRecordOptions(members=(person.resident_id,)), 1),
    )
    content = town.open(town.issuer.issue(entries), entries)
    assert content["title"] == "住民票記載事項証明書" and len(content["body"]["persons"]) == 1


def test_seal_tax_register_and_attachment(town: Town) -> None:
    person = ordinary(town)
    request = town.request(
        person,
        SEAL,
        newest_tax(TaxKind.INCOME),
        newest_tax(TaxKind.PAYMENT),
        REGISTER,
        (CertificateType.FAMILY_REGISTER, RegisterOptions(RegisterScope.INDIVIDUAL), 1),
        (CertificateType.FAMILY_REGISTER_ATTACHMENT, AttachmentOptions(domicile=True), 2),
    )
    issued = town.issuer.issue(request)
    assert len(issued.copies) == 7 and issued.fee == 200 + 300 + 300 + 450 + 450 + 2 * 300
    seal, income, payment, full, individual, attachment, _second = (
        town.open(issued, request, i) for i in range(7)
    )
    assert seal["title"] == "印鑑登録証明書" and seal["body"]["registration_number"]
    assert income["title"] == "所得証明書" and income["body"]["tax_year"] == "令和８年度"
    assert "total_income" in income["body"] and "municipal_tax" not in income["body"]
    assert payment["title"] == "納税証明書" and {"paid", "outstanding"} <= set(payment["body"])
    assert full["title"] == "戸籍全部事項証明書" and individual["title"] == "戸籍個人事項証明書"
    assert len(individual["body"]["members"]) == 1 <= len(full["body"]["members"])
    assert attachment["title"] == "戸籍の附票の写し" and attachment["body"]["domicile"]
    assert all(member["addresses"] for member in attachment["body"]["members"] if not member["removed"])
    # issue numbers: consecutive, today, this terminal and printer
    numbers = [IssueNumber.parse(copy.issue_number) for copy in issued.copies]
    assert [n.sequence for n in numbers] == list(range(numbers[0].sequence, numbers[0].sequence + 7))
    assert {(n.day, n.municipality, n.terminal_id, n.printer) for n in numbers} == {
        (TODAY, CODE, "T-0001", 1)
    }


def test_a_foreign_resident_s_record_carries_the_foreign_resident_fields(town: Town) -> None:
    person = town.people.foreign[0]
    request = town.request(
        person, (CertificateType.RESIDENT_RECORD, ResidentRecordOptions(members=(person.resident_id,)), 1)
    )
    (entry,) = town.open(town.issuer.issue(request), request)["body"]["persons"]
    assert {"nationality", "residence_card_number", "residence_status"} <= set(entry["foreign_resident"])


# -- refusals ---------------------------------------------------------------------------------------


REFUSALS = [
    ("minors", HOUSEHOLD, RefusalCode.UNDER_AGE),
    ("deceased", HOUSEHOLD, RefusalCode.DECEASED),
    ("moved_out", HOUSEHOLD, RefusalCode.MOVED_OUT),
    ("moving_out", SEAL, RefusalCode.MOVING_OUT),
    ("moving_out_household", HOUSEHOLD, RefusalCode.MOVING_OUT),
    ("protected", SEAL, RefusalCode.NOT_ISSUABLE_HERE),
    ("issuance_stopped", SEAL, RefusalCode.NOT_ISSUABLE_HERE),
    ("no_seal", SEAL, RefusalCode.NO_SEAL),
    ("not_resident_january_1", newest_tax(), RefusalCode.NOT_RESIDENT_ON_JANUARY_1),
    ("tax_not_filed", newest_tax(), RefusalCode.TAX_NOT_FILED),
    ("register_pending", REGISTER, RefusalCode.REGISTER_PENDING),
    ("register_closed", REGISTER, RefusalCode.REGISTER_CLOSED),
    ("pending_characters", SEAL, RefusalCode.PENDING_CHARACTERS),
    ("moved_in_today", SEAL, RefusalCode.MOVED_IN_TODAY),
    ("linked_today", SEAL, RefusalCode.LINKED_TODAY),
    ("foreign", REGISTER, RefusalCode.NO_REGISTER_HERE),
    ("domicile_elsewhere", REGISTER, RefusalCode.NO_REGISTER_HERE),
]


@pytest.mark.parametrize(("case", "item", "code"), REFUSALS, ids=[case for case, _item, _code in REFUSALS])
def test_each_case_is_refused_with_its_code_and_nothing_is_written(
    town: Town, case: str, item: tuple[CertificateType, Options, int], code: RefusalCode
) -> None:
    people = getattr(town.people, case)
    assert people, f"the synthetic town has no {case}"
    before = (town.count(schema.issuance_history), town.count(schema.issue_requests))
    for person in people:
        with pytest.raises(Refused) as refused:
            town.issuer.issue(town.request(person, item))
        assert refused.value.code is code, (case, person)
    assert (town.count(schema.issuance_history), town.count(schema.issue_requests)) == before


def test_refusals_of_the_request_itself(town: Town) -> None:
    person = ordinary(town)

    def refused(*items: tuple[CertificateType, Options, int], serial: int | None = None) -> RefusalCode:
        with pytest.raises(Refused) as caught:
            town.issuer.issue(town.request(person, *items, serial=serial))
        return caught.value.code

    assert refused(SEAL, serial=999_999_999) is RefusalCode.NOT_LINKED
    assert (
        refused((CertificateType.RESIDENT_RECORD, ResidentRecordOptions(), 4)) is RefusalCode.TOO_MANY_COPIES
    )
    assert refused(*[SEAL] * 11) is RefusalCode.TOO_MANY_COPIES  # more than the order allows
    stranger = next(p for p in town.people.ordinary if p.household_id != person.household_id)
    assert (
        refused((CertificateType.RESIDENT_RECORD, ResidentRecordOptions(members=(stranger.resident_id,)), 1))
        is RefusalCode.NOT_IN_HOUSEHOLD
    )
    with town.engine.connect() as connection:
        household = connection.execute(
            sa.select(schema.residents.c.id).where(
                schema.residents.c.household_id == person.household_id,
                schema.residents.c.status == "resident",
            )
        ).scalars()
        others = [member for member in household if member != person.resident_id]
    assert others, "an ordinary resident living alone"
    both = ResidentRecordOptions(members=(person.resident_id, others[0]))
    assert (
        refused((CertificateType.RESIDENT_RECORD_ENTRIES, both, 1)) is RefusalCode.BAD_OPTIONS
    )  # own entries only
    assert (
        refused((CertificateType.TAX, TaxOptions(TaxKind.COMBINED, 2022), 1))
        is RefusalCode.TAX_YEAR_NOT_OFFERED
    )
    assert (
        refused((CertificateType.TAX, TaxOptions(TaxKind.COMBINED, 2027), 1))
        is RefusalCode.TAX_YEAR_NOT_OFFERED
    )


def test_the_settings_decide(town: Town) -> None:
    """Hours, offers and My Number come from the settings in the database, read per request."""
    from center.municipal.issuer import load_settings

    person = ordinary(town)
    with town.engine.begin() as connection:
        settings = load_settings(connection)
        offers = dict(settings.offers)
        offers[CertificateType.RESIDENT_RECORD] = dataclasses.replace(
            offers[CertificateType.RESIDENT_RECORD], my_number=False
        )
        offers[CertificateType.TAX] = dataclasses.replace(
            offers[CertificateType.TAX], tax_kinds=(TaxKind.INCOME,)
        )
        del offers[CertificateType.SEAL_REGISTRATION]
        store_settings(connection, dataclasses.replace(settings, offers=offers), NOW)
    try:

        def code(
            *items: tuple[CertificateType, Options, int], at: dt.datetime = NOW, who: Person = person
        ) -> RefusalCode:
            issuer = Issuer(
                town.engine,
                town.key,
                town.issuer.terminal_cas,
                jpki_anchors=town.cards.anchors,
                clock=lambda: at,
            )
            with pytest.raises(Refused) as caught:
                issuer.issue(town.request(who, *items, at=at))
            return caught.value.code

        assert code(SEAL) is RefusalCode.NOT_OFFERED
        assert (
            code((CertificateType.RESIDENT_RECORD, ResidentRecordOptions(my_number=True), 1))
            is RefusalCode.MY_NUMBER_NOT_OFFERED
        )
        assert code(newest_tax(TaxKind.COMBINED)) is RefusalCode.TAX_KIND_NOT_OFFERED
        saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=JST)
        evening = dt.datetime(2026, 11, 24, 17, 30, tzinfo=JST)
        assert code(REGISTER, at=saturday) is RefusalCode.OUTSIDE_HOURS
        assert code(REGISTER, at=evening) is RefusalCode.OUTSIDE_HOURS
        # whose register is elsewhere is told so at any hour (the kiosk sends them to their
        # registered domicile), not that it is closed
        elsewhere = town.people.domicile_elsewhere[0]
        for at in (NOW, saturday, evening):
            assert code(REGISTER, at=at, who=elsewhere) is RefusalCode.NO_REGISTER_HERE
    finally:
        with town.engine.begin() as connection:
            store_settings(connection, settings, NOW)


# -- orders -------------------------------------------------------------------------------------------


def test_an_order_asked_again_gets_the_same_copies_and_another_request_is_refused(town: Town) -> None:
    person = ordinary(town)
    request = town.request(person, SEAL, HOUSEHOLD)
    first = town.issuer.issue(request)
    history = town.count(schema.issuance_history)
    assert town.issuer.issue(request) == first  # byte for byte, no new issue numbers
    assert town.count(schema.issuance_history) == history
    with pytest.raises(OrderConflict):
        town.issuer.issue(dataclasses.replace(request, items=request.items[:1]))


def test_printed_and_voided_copies(town: Town) -> None:
    person = ordinary(town)
    printed = town.issuer.issue(town.request(person, SEAL))
    numbers = [copy.issue_number for copy in printed.copies]
    town.issuer.printed(printed.order_id, numbers)
    town.issuer.printed(printed.order_id, numbers)  # said twice: the same
    with pytest.raises(StatusConflict):
        town.issuer.void(printed.order_id, "kiosk timeout")
    voided = town.issuer.issue(town.request(person, SEAL))
    assert town.issuer.void(voided.order_id, "printer jam") == [voided.copies[0].issue_number]
    with pytest.raises(StatusConflict):
        town.issuer.printed(voided.order_id, [voided.copies[0].issue_number])
    with town.engine.connect() as connection:
        rows = dict(
            connection.execute(
                sa.select(schema.issuance_history.c.issue_number, schema.issuance_history.c.disposal).where(
                    schema.issuance_history.c.order_id.in_([printed.order_id, voided.order_id])
                )
            ).all()
        )
    assert rows == {numbers[0]: None, voided.copies[0].issue_number: "printer jam"}


def test_a_partly_printed_order_voids_only_the_copies_not_printed(town: Town) -> None:
    order = town.issuer.issue(town.request(ordinary(town), SEAL, HOUSEHOLD))
    first, second = (copy.issue_number for copy in order.copies)
    town.issuer.printed(order.order_id, [first])
    with pytest.raises(StatusConflict):  # a printed copy is never voided
        town.issuer.void(order.order_id, "partly_printed", [first, second])
    assert town.issuer.void(order.order_id, "partly_printed", [second]) == [second]
    assert town.issuer.void(order.order_id, "partly_printed", [second]) == [second]  # said twice
    with pytest.raises(UnknownOrder):
        town.issuer.void(order.order_id, "partly_printed", ["not-a-copy"])
    with town.engine.connect() as connection:
        history = schema.issuance_history.c
        statuses = dict(
            connection.execute(
                sa.select(history.issue_number, history.status).where(history.order_id == order.order_id)
            ).all()
        )
    assert statuses == {first: "printed", second: "voided"}


def test_a_void_that_comes_before_its_request_keeps_the_order_from_being_issued(town: Town) -> None:
    """The center voided the order (its deadline) while the request was still on its way (a pause):
    the late request issues nothing, so no copy exists that nobody will void."""
    request = town.request(ordinary(town), SEAL)
    history = town.count(schema.issuance_history)
    assert town.issuer.void(request.order_id, "order_timeout") == []
    with pytest.raises(OrderVoided):
        town.issuer.issue(request)
    assert town.count(schema.issuance_history) == history


def test_copies_are_sealed_only_to_a_trusted_terminal_and_bound_to_their_request(town: Town) -> None:
    person = ordinary(town)
    with pytest.raises(UntrustedTerminal):
        town.issuer.issue(town.request(person, SEAL, terminal=town.stranger))
    other = dataclasses.replace(town.terminal, terminal_id="T-0002")  # T-0001's certificate, another id
    with pytest.raises(UntrustedTerminal):
        town.issuer.issue(town.request(person, SEAL, terminal=other))
    with pytest.raises(UntrustedTerminal):
        town.issuer.issue(dataclasses.replace(town.request(person, SEAL), terminal_certificate=b"\x30\x03"))
    request = town.request(person, SEAL)
    issued = town.issuer.issue(request)
    for field, value in (
        ("order_id", "O-other"),
        ("session_id", "S-other"),
        ("holder_certificate", "0" * 64),
    ):
        expected = dataclasses.replace(
            Binding(request.order_id, request.session_id, request.terminal_id, holder_of(request)),
            **{field: value},
        )
        with pytest.raises(BindingMismatch) as mismatch:
            open_sealed(
                issued.copies[0].sealed,
                terminal_id="T-0001",
                terminal_key=town.terminal.key,
                trust=TrustList([town.key.trusted()]),
                expected=expected,
                now=NOW,
            )
        assert mismatch.value.field == field


def test_concurrent_orders_each_get_their_own_residents_copies(town: Town) -> None:
    """Thirty orders at once for thirty residents: each answer opens to its own resident, and
    no issue number is given twice (the full run through the center is the orders' test)."""
    people = [ordinary(town) for _ in range(30)]
    requests = [town.request(person, SEAL) for person in people]
    answers: dict[str, Issued] = {}
    errors: list[BaseException] = []

    def issue(request: IssueRequest) -> None:
        try:
            answers[request.order_id] = town.issuer.issue(request)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=issue, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    numbers = [copy.issue_number for answer in answers.values() for copy in answer.copies]
    assert len(numbers) == len(set(numbers)) == 30
    for request, person in zip(requests, people, strict=True):
        content = town.open(answers[request.order_id], request)
        with town.engine.connect() as connection:
            row = connection.execute(
                sa.select(schema.residents.c.family_name, schema.residents.c.given_name).where(
                    schema.residents.c.id == person.resident_id
                )
            ).one()
        assert content["body"]["name"] == f"{row.family_name}　{row.given_name}"


def test_the_history_records_what_the_standard_asks(town: Town, tmp_path: Path) -> None:
    person = ordinary(town)
    request = town.request(person, HOUSEHOLD)
    issued = town.issuer.issue(request)
    with town.engine.connect() as connection:
        row = connection.execute(
            sa.select(schema.issuance_history).where(schema.issuance_history.c.order_id == request.order_id)
        ).one()
    assert row.issue_number == issued.copies[0].issue_number and row.terminal_id == "T-0001"
    assert row.store == "千代田神田店" and row.printer == 1 and row.requester_id == person.resident_id
    assert row.certificate_type == "resident_record" and row.pages >= 1 and row.status == "issued"
    assert '"scope": "household"' in row.printed_items and str(person.resident_id) in row.subjects
    assert bytes(row.sealed) == issued.copies[0].sealed


def test_names_and_addresses_beyond_what_a_certificate_prints_are_refused(town: Town) -> None:
    from center.municipal.eligibility import ADDRESS_LIMIT, NAME_LIMIT

    holder, neighbour = ordinary(town), ordinary(town)
    residents, households = schema.residents, schema.households
    with town.engine.begin() as connection:
        connection.execute(
            residents.update()
            .where(residents.c.id == holder.resident_id)
            .values(given_name="長" * (NAME_LIMIT - 2))
        )
        connection.execute(
            households.update()
            .where(households.c.id == neighbour.household_id)
            .values(address="東京都千代田区" + "一" * ADDRESS_LIMIT)
        )
    with pytest.raises(Refused) as long_name:
        town.issuer.issue(town.request(holder, SEAL))
    assert long_name.value.code is RefusalCode.BEYOND_CHARACTER_LIMITS
    with pytest.raises(Refused) as long_address:
        town.issuer.issue(town.request(neighbour, HOUSEHOLD))
    assert long_address.value.code is RefusalCode.BEYOND_CHARACTER_LIMITS
    assert town.issuer.issue(town.request(neighbour, SEAL)).copies  # the seal certificate prints no address


# -- a lying center: the municipality checks the card's proof itself ----------------------------------


def refused_as_unproven(town: Town, request: IssueRequest) -> str:
    """The municipality refuses ``request`` as not proving its holder, and writes nothing; why."""
    before = (town.count(schema.issuance_history), town.count(schema.issue_requests))
    with pytest.raises(UnprovenHolder) as refused:
        town.issuer.issue(request)
    assert (town.count(schema.issuance_history), town.count(schema.issue_requests)) == before
    return refused.value.reason


def test_a_center_that_swaps_two_sessions_proofs_gets_nothing_issued(town: Town) -> None:
    """The Kawasaki / Adachi class: two orders at once, and the center pairs each with the other
    session's proof. The card signed its own session's binding, so neither proves its holder."""
    a, b = ordinary(town), ordinary(town)
    for_a, for_b = town.request(a, SEAL), town.request(b, SEAL)
    assert (
        refused_as_unproven(town, dataclasses.replace(for_a, holder_proof=for_b.holder_proof))
        == "bad_signature"
    )
    assert (
        refused_as_unproven(town, dataclasses.replace(for_b, holder_proof=for_a.holder_proof))
        == "bad_signature"
    )
    assert town.open(town.issuer.issue(for_a), for_a)["body"]["name"]  # the honest orders still go through


def test_a_proof_replayed_into_another_session_or_terminal_is_refused(town: Town) -> None:
    person = ordinary(town)
    request = town.request(person, SEAL)
    assert refused_as_unproven(town, dataclasses.replace(request, session_id="S-another")) == "bad_signature"
    other_terminal = _terminal(TerminalCA.load_or_create(town.terminal_ca_dir, now=NOW), "T-0002")
    elsewhere = dataclasses.replace(request, terminal_id="T-0002", terminal_certificate=other_terminal.der)
    assert refused_as_unproven(town, elsewhere) == "bad_signature"


def test_a_certificate_that_is_not_the_card_s_is_refused(town: Town) -> None:
    """The serial comes from the checked certificate only: the center cannot name another card's
    (its certificate with this card's signature), a certificate from outside the JPKI, or one the
    authority does not call good."""
    person, other = ordinary(town), ordinary(town)
    request = town.request(person, SEAL)
    others = town.request(other, SEAL).holder_proof
    swapped = dataclasses.replace(
        request, holder_proof=dataclasses.replace(request.holder_proof, certificate=others.certificate)
    )
    assert refused_as_unproven(town, swapped) in ("bad_signature", "revocation_unusable")
    stale_answer = dataclasses.replace(request.holder_proof, revocation=others.revocation)  # another card's
    assert (
        refused_as_unproven(town, dataclasses.replace(request, holder_proof=stale_answer))
        == "revocation_unusable"
    )
    outsider = Cards.open(town.terminal_ca_dir.parent / "another-authority", NOW, foreign=True)
    try:
        card = outsider.card(None, municipality=CODE)
        foreign = outsider.proof(card, request.session_id, request.terminal_id)
        assert (
            refused_as_unproven(town, dataclasses.replace(request, holder_proof=foreign))
            == "untrusted_certificate"
        )
    finally:
        outsider.close()
    revoked_person = ordinary(town)
    card = town.cards.card(revoked_person.certificate_serial, town.engine, municipality=CODE)
    town.cards.authority.revoke(card.certificate.serial_number, "key_compromise", now=NOW)
    assert refused_as_unproven(town, town.request(revoked_person, SEAL)) == "certificate_revoked"


def test_a_proof_serves_its_session_for_ten_minutes_only(town: Town) -> None:
    person = ordinary(town)
    request = town.request(person, SEAL)
    town.issuer.issue(request)
    town.issuer.issue(
        dataclasses.replace(request, order_id=f"O-{next(_orders)}")
    )  # another order, same session
    late = NOW + PROOF_LIFETIME + dt.timedelta(seconds=1)
    issuer = Issuer(
        town.engine, town.key, town.issuer.terminal_cas, jpki_anchors=town.cards.anchors, clock=lambda: late
    )
    fresh_answer = town.cards.proof(
        town.cards.card(person.certificate_serial, town.engine, municipality=CODE),
        request.session_id,
        request.terminal_id,
        at=late,
    )
    with pytest.raises(UnprovenHolder) as expired:
        issuer.issue(dataclasses.replace(request, order_id=f"O-{next(_orders)}", holder_proof=fresh_answer))
    assert expired.value.reason == "proof_expired"
