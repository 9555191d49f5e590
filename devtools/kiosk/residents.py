"""Residents for rehearsals and screenshots: an emulated My Number Card for a person of a
synthetic town (linked to them in the town's records), and a card whose PIN is already locked.

Test data only: the cards are the emulator's files; nothing is logged about their holders.
"""

from __future__ import annotations

from pathlib import Path

from devtools.stack import DevStack, Town
from hardware.card.errors import CardError
from hardware.card.holder import CardReading, HolderAuthentication
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from koufu.cards import issue_card

WRONG_PIN = "0000"  # the emulated cards' PIN is 1234


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
