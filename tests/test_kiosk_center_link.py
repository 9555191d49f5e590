"""The kiosk's business with the center, with an emulated My Number Card (the real card code path
in-process) and real authority, center and municipal server processes: prove with the PIN, read
the offer, order, check every copy, printed, settled; a wrong PIN; a copy that fails the kiosk's
check is never handed out and its order is voided."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from center.client import CenterClient
from hardware.card.errors import InvalidPinError
from hardware.card.holder import HolderAuthentication
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from kiosk.center_link import KioskError, KioskSession
from koufu.cards import issue_card
from support.world import CODE, SEAL, World, running_world


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "kiosk-link", 120)


def card_of(world: World, tmp_path: Path) -> tuple[Path, int]:
    """An emulated card of the town's next ordinary resident: (its state file, the resident)."""
    person = next(p for p in world.town.people.ordinary if p.resident_id not in world.used)
    world.used.add(person.resident_id)
    path = tmp_path / "card.json"
    issue_card(
        path,
        authority_dir=world.stack.authority_dir,
        authority_db=world.stack.authority_db,
        holder=Holder(municipality=CODE),
    )
    reading = insert(path).read()
    assert reading.certificate is not None
    world.town.link_card(reading.certificate.certificate.serial_number, person.resident_id)
    return path, person.resident_id


def insert(path: Path) -> HolderAuthentication:
    reader = InProcessReader()
    reader.insert(VirtualCard.open(path))
    return HolderAuthentication(reader.connect())


def session_for(world: World, terminal_id: str) -> tuple[KioskSession, CenterClient]:
    _terminal, client = world.terminal(terminal_id)
    world.stack.wait_until_open(client)
    return KioskSession(client, world.trust), client


def test_a_resident_s_whole_business(world: World, tmp_path: Path) -> None:
    path, resident_id = card_of(world, tmp_path)
    kiosk, client = session_for(world, "T-0301")
    card = insert(path)
    card.read()
    offered = kiosk.prove(card, PinBuffer.of(USER_AUTH_PIN, "1234"))
    card.finish()
    name = world.town.name_of(resident_id)
    assert offered.municipality == CODE and offered.certificates["seal_registration"]["available"]
    assert [m["name"] for m in offered.personal["household"] if m["holder"]] == [name]
    ordered = kiosk.place([SEAL])
    assert [copy.document.content["body"]["name"] for copy in ordered.copies] == [name]
    kiosk.printing()
    kiosk.printed(ordered.issue_numbers)
    kiosk.settle(ordered.fee)
    assert client.order(ordered.order_id).state == "settled"
    kiosk.forget()
    assert kiosk.order is None and kiosk.session_id is None and not ordered.copies
    client.close()


def test_a_wrong_pin_says_the_tries_left_and_proves_nothing(world: World, tmp_path: Path) -> None:
    path, _resident = card_of(world, tmp_path)
    kiosk, client = session_for(world, "T-0302")
    card = insert(path)
    tries = card.read().tries_left
    with pytest.raises(InvalidPinError) as wrong:
        kiosk.prove(card, PinBuffer.of(USER_AUTH_PIN, "9999"))
    assert wrong.value.attempts_remaining == tries - 1
    card.finish()
    card = insert(path)
    card.read()
    kiosk.prove(card, PinBuffer.of(USER_AUTH_PIN, "1234"))  # the right one, in a new center session
    assert insert(path).read().tries_left == tries  # a good PIN restores the count
    client.close()


def test_a_copy_that_fails_the_kiosk_s_check_is_never_handed_out(world: World, tmp_path: Path) -> None:
    path, _resident = card_of(world, tmp_path)
    kiosk, client = session_for(world, "T-0303")
    card = insert(path)
    card.read()
    kiosk.prove(card, PinBuffer.of(USER_AUTH_PIN, "1234"))
    kiosk.holder_certificate = "0" * 64  # as if the kiosk held another card's session
    with pytest.raises(KioskError, match="nothing printed"):
        kiosk.place([SEAL])
    assert kiosk.order is not None and kiosk.order.copies == []
    assert client.order(kiosk.order.order_id).state == "voided"
    client.close()
