"""The kiosk's side of the registered domicile (本籍地の利用登録) and of the issuance record
(交付履歴), with an emulated My Number Card in-process (the real card code path: PIN, then the
signing password) and real authority, center and two municipal server processes over TLS: the
application signed by the card, sealed to the domicile municipality and matched there against its
family registers; its status in a later session, pending then approved by the staff; a family
register ordered from the domicile, checked and settled; the record of it read back, merged; a
wrong 筆頭者 denied with words; another card, a municipality not verified, nothing sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography import x509

from center.client import CenterClient
from center.municipal import schema
from center.municipal.registrations import Registrations
from center.store.schema_versions import make_engine
from documents import JST
from hardware.card.pin import PinBuffer
from hardware.card.profile import SIGNING_PASSWORD, USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from kiosk.card import ResidentCard
from kiosk.center_link import KioskSession
from kiosk.errors import OtherCard
from kiosk.registration import ApplicationRefused
from koufu.cards import issue_card
from support.registration_world import DOMICILE, two_towns
from support.world import CODE, SEAL, World

FAMILY = {"certificate_type": "family_register", "copies": 1, "options": {"scope": "full"}}
SEXES = {"male": "1", "female": "2"}


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from two_towns(request, tmp_path_factory, "kiosk-domicile")


@dataclass(frozen=True)
class Entry:
    """A person in a current family register of the domicile municipality."""

    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    domicile: str  # 本籍
    head: str  # 筆頭者


_taken: set[tuple[int, int]] = set()


def entry_of(world: World) -> Entry:
    """An adult's entry, not removed, in a current register with nothing pending, whose name,
    birth date and sex no other entry shares (so the match is theirs alone)."""
    registers, members = schema.family_registers, schema.register_members
    engine = make_engine(world.stack.towns[DOMICILE].database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(members, registers.c.domicile, registers.c.head_name)
                .join(registers, registers.c.id == members.c.register_id)
                .where(
                    registers.c.status == "current",
                    registers.c.filing_pending_since.is_(None),
                    members.c.removed.is_(False),
                    members.c.birth_date < dt.date(1990, 1, 1),
                )
                .order_by(members.c.register_id, members.c.position)
            ).all()
    finally:
        engine.dispose()
    counted: dict[tuple[str, str, dt.date], int] = {}
    for row in rows:
        key = (row.family_name, row.given_name, row.birth_date)
        counted[key] = counted.get(key, 0) + 1
    for row in rows:
        if (row.register_id, row.position) in _taken:
            continue
        if counted[(row.family_name, row.given_name, row.birth_date)] == 1:
            _taken.add((row.register_id, row.position))
            return Entry(
                row.family_name, row.given_name, row.birth_date, row.sex, row.domicile, row.head_name
            )
    raise AssertionError("no entry left in the domicile's registers")


def card_for(world: World, tmp_path: Path, entry: Entry) -> Path:
    """The person's emulated card: its signing certificate names them as the register does; its
    user-authentication certificate is linked to a resident of the residence town."""
    resident = next(p for p in world.town.people.ordinary if p.resident_id not in world.used)
    world.used.add(resident.resident_id)
    path = tmp_path / f"card-{resident.resident_id}.json"
    holder = Holder(
        name=f"{entry.family_name}　{entry.given_name}",
        birth_date=entry.birth_date,
        sex=SEXES[entry.sex],
        municipality=CODE,
    )
    state = issue_card(
        path, authority_dir=world.stack.authority_dir, authority_db=world.stack.authority_db, holder=holder
    )
    serial = x509.load_der_x509_certificate(state.auth_cert).serial_number
    world.town.link_card(serial, resident.resident_id)
    return path


def placed(path: Path) -> tuple[ResidentCard, InProcessReader]:
    reader = InProcessReader()
    reader.insert(VirtualCard.open(path))
    card = ResidentCard(reader.connect())
    card.read()
    return card, reader


def proven(world: World, path: Path, terminal_id: str) -> tuple[KioskSession, CenterClient]:
    """A kiosk session whose holder the card proved with the PIN (the card then taken back)."""
    _terminal, client = world.terminal(terminal_id)
    world.stack.wait_until_open(client)
    kiosk = KioskSession(client, world.trust, clock=lambda: dt.datetime.now(dt.UTC))
    card, _reader = placed(path)
    kiosk.prove(card, PinBuffer.of(USER_AUTH_PIN, "1234"))
    card.finish()
    return kiosk, client


def password(text: str = "ABC123") -> PinBuffer:
    return PinBuffer.of(SIGNING_PASSWORD, text)


def registrations(world: World) -> tuple[Registrations, sa.Engine]:
    engine = make_engine(world.stack.towns[DOMICILE].database_url)
    return Registrations(engine), engine


def test_apply_pending_approved_order_from_the_domicile_and_the_record(world: World, tmp_path: Path) -> None:
    entry = entry_of(world)
    path = card_for(world, tmp_path, entry)
    kiosk, client = proven(world, path, "T-0811")
    assert kiosk.registration() is None
    chooser = kiosk.participating_municipalities()
    assert DOMICILE in [m.municipality for m in chooser.municipalities_of(DOMICILE[:2])]
    card, _reader = placed(path)
    typed = password()
    view = kiosk.apply_for_registration(card, typed, DOMICILE, entry.domicile, entry.head)
    card.finish()
    assert len(typed) == 0
    assert view.status == "pending" and view.municipality == DOMICILE and view.approves_at is not None
    assert view.approves_at > view.applied_at and kiosk.registration_view is view
    kiosk.forget()
    assert kiosk.registration_view is None and kiosk.session_id is None
    client.close()

    kiosk, client = proven(world, path, "T-0812")  # a later visit: still pending
    pending = kiosk.registration()
    assert pending is not None and pending.status == "pending"
    store, engine = registrations(world)
    try:
        found = [r for r in store.listed() if r.status.value == "pending"]
        assert found, "the application is recorded at the domicile"
        store.approve(found[-1].id, by="戸籍係　試験")
    finally:
        engine.dispose()
    approved = kiosk.registration()
    assert approved is not None and approved.approved and approved.decided_at is not None

    offered = kiosk.offered("domicile")
    assert offered.municipality == DOMICILE and kiosk.source == "domicile"
    assert offered.certificates["family_register"]["available"], offered.certificates["family_register"]
    ordered = kiosk.place([FAMILY])
    assert ordered.copies and all(c.document.issue_number.municipality == DOMICILE for c in ordered.copies)
    kiosk.printing()
    kiosk.printed(ordered.issue_numbers)
    kiosk.settle(ordered.fee)
    assert client.order(ordered.order_id).state == "settled"

    record = kiosk.issuance_record()
    mine = [row for row in record.rows if row.municipality == DOMICILE]
    assert [n for row in mine for n in row.issue_numbers] == list(ordered.issue_numbers)
    assert mine[0].certificate_type == "family_register" and mine[0].copies == 1
    assert mine[0].issued_at.astimezone(JST).date() == ordered.copies[0].document.issue_number.day
    assert {s.municipality for s in record.sources} == {CODE, DOMICILE} and record.complete
    assert kiosk.record is record
    canaries = [*ordered.issue_numbers, str(kiosk.holder_certificate), "approved"]
    assert all(any(c in text for text in kept_by(kiosk)) for c in canaries)  # the search finds them
    kiosk.forget()
    assert kiosk.record is None and kiosk.registration_view is None and kiosk.source == "residence"
    assert not [c for c in canaries if any(c in text for text in kept_by(kiosk))]
    client.close()


def kept_by(kiosk: KioskSession) -> list[str]:
    """Every text a session holds (its center client, trusted keys and clock aside), dates and
    views included, as a search for what it must forget."""
    found: list[str] = []
    seen: set[int] = set()
    stack: list[object] = [v for k, v in vars(kiosk).items() if k not in ("client", "trust", "clock")]
    while stack:
        value = stack.pop()
        if id(value) in seen or value is None or isinstance(value, (int, float, bool)):
            continue
        seen.add(id(value))
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, (bytes, bytearray)):
            found.append(bytes(value).decode("latin-1"))
        elif isinstance(value, dict):
            stack.extend([*value.keys(), *value.values()])
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        elif hasattr(value, "__dict__") or hasattr(type(value), "__dataclass_fields__"):
            stack.extend(getattr(value, name) for name in getattr(type(value), "__dataclass_fields__", {}))
            stack.extend(vars(value).values() if hasattr(value, "__dict__") else ())
        if isinstance(value, dt.datetime):
            found.append(value.isoformat())
    return found


def test_a_wrong_head_is_denied_in_words_and_may_apply_again(world: World, tmp_path: Path) -> None:
    entry = entry_of(world)
    path = card_for(world, tmp_path, entry)
    kiosk, client = proven(world, path, "T-0813")
    kiosk.participating_municipalities()
    card, _reader = placed(path)
    view = kiosk.apply_for_registration(card, password(), DOMICILE, entry.domicile, "試験　別人")
    card.finish()
    assert view.status == "denied" and view.may_apply and view.reason == "not_matched"
    assert view.message_ja and view.message_en and "試験" not in (view.message_ja + view.message_en)
    client.close()


def test_another_card_or_an_unverified_municipality_sends_nothing(world: World, tmp_path: Path) -> None:
    entry, other = entry_of(world), entry_of(world)
    path, other_path = card_for(world, tmp_path, entry), card_for(world, tmp_path, other)
    kiosk, client = proven(world, path, "T-0814")
    stranger, _reader = placed(other_path)
    typed = password()
    with pytest.raises(OtherCard):
        kiosk.apply_for_registration(stranger, typed, DOMICILE, other.domicile, other.head)
    assert len(typed) == 0
    assert stranger.signing_tries_left() == 5  # the password never reached the card
    card, _reader = placed(path)
    with pytest.raises(ApplicationRefused) as refused:
        kiosk.apply_for_registration(card, password(), "011002", entry.domicile, entry.head)
    assert refused.value.code == "unknown_municipality"
    with pytest.raises(ApplicationRefused) as refused:
        kiosk.apply_for_registration(card, password(), DOMICILE, "", entry.head)
    assert refused.value.code == "domicile_length"
    assert kiosk.registration() is None  # nothing reached the center
    card.finish()
    client.close()


def test_each_resident_s_record_holds_their_own_issuances_only(world: World, tmp_path: Path) -> None:
    """Two residents at two stores: each record shows exactly that card's copies, at that store."""
    issued: dict[str, tuple[list[str], str]] = {}
    paths = {}
    for terminal_id, store in (("T-0821", "駅前店"), ("T-0822", "大通り店")):
        entry = entry_of(world)
        paths[terminal_id] = card_for(world, tmp_path, entry)
        client = world.stack.client(world.stack.enroll(terminal_id, store=store))
        world.stack.wait_until_open(client)
        kiosk = KioskSession(client, world.trust)
        card, _reader = placed(paths[terminal_id])
        kiosk.prove(card, PinBuffer.of(USER_AUTH_PIN, "1234"))
        card.finish()
        ordered = kiosk.place([SEAL])
        kiosk.printing()
        kiosk.printed(ordered.issue_numbers)
        kiosk.settle(ordered.fee)
        issued[terminal_id] = (list(ordered.issue_numbers), store)
        kiosk.forget()
        client.close()
    for terminal_id, (numbers, store) in issued.items():
        kiosk, client = proven(world, paths[terminal_id], f"{terminal_id}-R")
        record = kiosk.issuance_record()
        assert [n for row in record.rows for n in row.issue_numbers] == numbers
        assert {row.store for row in record.rows} == {store}
        client.close()
