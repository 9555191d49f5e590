"""Residents for rehearsals, screenshots and the end-to-end tests: an emulated My Number Card for a
person of a synthetic town (linked to them in the town's records), a card for a person whose 本籍
is kept by a registered domicile of the stack (its signing certificate stating them as the
register does), and a card whose PIN is already locked.

Test data only: the cards are the emulator's files; nothing is logged about their holders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from center.municipal import schema
from center.store.schema_versions import make_engine
from devtools.stack import DevStack, Town
from documents.prefectures import prefecture_of
from hardware.card.errors import CardError
from hardware.card.holder import CardReading, HolderAuthentication
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from koufu.cards import issue_card

WRONG_PIN = "0000"  # the emulated cards' PIN is 1234
SEXES = {"male": "1", "female": "2"}  # as a signing certificate states the sex


@dataclass(frozen=True)
class DomicileHolder:
    """A resident of a town whose 本籍 is kept elsewhere, with their card: what they would type
    when they apply (the 本籍 and the 筆頭者, as the town's records state them)."""

    card: Path
    resident_id: int
    name: str  # 氏　名
    domicile: str  # 本籍
    head: str  # 筆頭者


def card_for(stack: DevStack, town: Town, directory: Path, used: set[int], pool: str = "ordinary") -> Path:
    """A card of the next person of ``pool`` not in ``used`` (then added), linked in the town."""
    person = next(p for p in getattr(town.people, pool) if p.resident_id not in used)
    used.add(person.resident_id)
    path = directory / f"card-{person.resident_id}.json"
    issue_card(
        path,
        authority_dir=stack.authority_dir,
        authority_db=stack.authority_db,
        holder=Holder(municipality=town.code),
    )
    reading = _read(path)
    assert reading.certificate is not None
    town.link_card(reading.certificate.certificate.serial_number, person.resident_id)
    return path


def domicile_card_for(stack: DevStack, town: Town, directory: Path, used: set[int]) -> DomicileHolder:
    """A card of the next person of ``town`` whose 本籍 is elsewhere, not in ``used`` (then added),
    linked in the town; its signing certificate states their 基本4情報 (name, address, birth date,
    sex) as the town's records do, which are the register's of a domicile of the stack
    (:meth:`DevStack.add_domicile`)."""
    person = next(p for p in town.people.domicile_elsewhere if p.resident_id not in used)
    used.add(person.resident_id)
    residents, households = schema.residents, schema.households
    engine = make_engine(town.database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(residents, households.c.address)
                .join(households, households.c.id == residents.c.household_id)
                .where(residents.c.id == person.resident_id)
            ).one()
    finally:
        engine.dispose()
    name = f"{row.family_name}　{row.given_name}"
    path = directory / f"card-{person.resident_id}.json"
    holder = Holder(
        name=name,
        address=row.address,
        birth_date=row.birth_date,
        sex=SEXES[row.sex],
        prefecture=prefecture_of(town.code),
        city=town.name,
        municipality=town.code,
    )
    issue_card(path, authority_dir=stack.authority_dir, authority_db=stack.authority_db, holder=holder)
    reading = _read(path)
    assert reading.certificate is not None
    town.link_card(reading.certificate.certificate.serial_number, person.resident_id)
    return DomicileHolder(path, person.resident_id, name, row.domicile, row.domicile_head)


def lock_pin(card: Path) -> None:
    """Wrong PINs until the card's user-authentication PIN is locked (3 tries)."""
    tries = _read(card).tries_left
    state = VirtualCard.open(card)
    for _ in range(tries or 0):
        reader = InProcessReader()
        reader.insert(state)
        holder = HolderAuthentication(reader.connect())
        holder.read()
        try:
            holder.jpki.auth_pin.verify(PinBuffer.of(USER_AUTH_PIN, WRONG_PIN))
        except CardError:
            continue
        raise AssertionError("a wrong PIN was accepted")
    if _read(card).tries_left != 0:
        raise AssertionError("the card's PIN is not locked")


def _read(card: Path) -> CardReading:
    reader = InProcessReader()
    reader.insert(VirtualCard.open(card))
    return HolderAuthentication(reader.connect()).read()
