"""The kiosk's business with the center, with an emulated My Number Card (the real card code path
in-process) and real authority, center and municipal server processes: prove with the PIN, read
the offer, order, check every copy, printed, settled; a wrong PIN; a copy that fails the kiosk's
check is never handed out and its order is voided."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from center.client import CenterClient, CenterRefusal
from center.tls import trust
from documents import (
    Binding,
    MunicipalKey,
    SignedDocument,
    TrustList,
    b64url_decode,
    b64url_encode,
    open_sealed,
    seal,
)
from documents.refusal import RefusalReason, seal_refusal
from hardware.card.errors import InvalidPinError
from hardware.card.holder import HolderAuthentication
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.inprocess import InProcessReader
from hardware.cardsim.personalize import Holder
from kiosk.center_link import KioskError, KioskSession
from kiosk.config import KioskConfig
from kiosk.errors import Refusal
from koufu.cards import issue_card
from printing.page_signing import PageCodeMismatch
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


def test_a_copy_carrying_another_copy_s_page_codes_is_never_handed_out(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each copy's page codes must state its own pages: two genuine copies of one order with their
    codes swapped inside the sealed envelopes (as a lying issuer could) void the order."""
    path, _resident = card_of(world, tmp_path)
    kiosk, client = session_for(world, "T-0304")
    card = insert(path)
    card.read()
    kiosk.prove(card, PinBuffer.of(USER_AUTH_PIN, "1234"))
    placed = client.place_order

    def swapping_codes(*args: Any, **kwargs: Any) -> Any:
        answer = placed(*args, **kwargs)
        opened = [
            open_sealed(
                b64url_decode(copy.sealed),
                terminal_id=client.terminal.terminal_id,
                terminal_key=client.terminal.key,
                trust=world.trust,
                expected=Binding(
                    answer.order_id, str(kiosk.session_id), kiosk.terminal_id, str(kiosk.holder_certificate)
                ),
            )
            for copy in answer.copies
        ]
        assert len(opened) == 2 and opened[0].page_codes != opened[1].page_codes
        for copy, mine, theirs in zip(answer.copies, opened, reversed(opened), strict=True):
            swapped = SignedDocument(mine.document, mine.key_id, mine.signature, theirs.page_codes)
            copy.sealed = b64url_encode(
                seal(swapped, client.terminal.terminal_id, client.terminal.key.public_key())
            )
        return answer

    monkeypatch.setattr(client, "place_order", swapping_codes)
    with pytest.raises(KioskError, match="nothing printed") as refused:
        kiosk.place([{**SEAL, "copies": 2}])
    assert isinstance(refused.value.__cause__, PageCodeMismatch)
    assert kiosk.order is not None and kiosk.order.copies == []
    assert client.order(kiosk.order.order_id).state == "voided"
    client.close()


def test_the_center_s_municipal_keys_are_a_kiosk_s_trust_as_they_are(world: World) -> None:
    """One form of ``municipal-keys.json`` (docs/protocol.md 6.2): the center's file, its entries
    with the towns' names, and what it publishes at ``/verify/keys.json``, each given to a kiosk
    byte for byte, are the kiosk's trust list."""
    center_file = world.stack.center_dir / "municipal-keys.json"
    assert all("name" in entry for entry in json.loads(center_file.read_text()))  # the center's form
    config = KioskConfig.load(world.stack.kiosk_config("T-0309"))
    assert config.trust.read_bytes() == center_file.read_bytes()  # given as it is
    assert config.trust_list().to_json() == world.trust.to_json()
    with httpx.Client(base_url=world.stack.center_url, verify=trust(world.stack.center_tls)) as http:
        published = http.get("/verify/keys.json")
    assert published.status_code == 200 and published.json()[0]["name"] == "千代田区"
    config.trust.write_bytes(published.content)
    assert config.trust_list().to_json() == world.trust.to_json()


def test_a_sealed_refusal_shows_the_municipality_s_words_and_a_lying_center_the_generic_ones() -> None:
    """A refusal about a person reaches the center as ``refused_by_municipality``; the kiosk opens
    the reason sealed to it and shows its code and words. A sealed reason that does not open (a
    center that altered it, or passed on another session's or an unknown signer's) is the
    generic refusal, never a crash."""
    municipal = MunicipalKey.generate(CODE)
    terminal_key = ec.generate_private_key(ec.SECP256R1())
    client = SimpleNamespace(terminal=SimpleNamespace(terminal_id="T-0001", key=terminal_key))
    session = KioskSession(client, TrustList([municipal.trusted()]))  # type: ignore[arg-type]
    session.session_id = "S-1"
    reason = RefusalReason("no_seal_registered", "印鑑登録がないため…", "No seal is registered…")

    def sealed(key: MunicipalKey = municipal, session_id: str = "S-1") -> str:
        return b64url_encode(
            seal_refusal(
                reason,
                key=key,
                session_id=session_id,
                terminal_id="T-0001",
                terminal_public_key=terminal_key.public_key(),
                now=dt.datetime.now(dt.UTC),
            )
        )

    def refused(blob: object) -> Refusal:
        details = {"message_ja": "証明書を取得できません。", "sealed": blob, "order_id": "O-1"}
        return session.refusal(CenterRefusal(422, "refused_by_municipality", "cannot be issued", details))

    assert refused(sealed()) == Refusal("no_seal_registered", reason.message_en, reason.message_ja)
    generic = Refusal("refused_by_municipality", "cannot be issued", "証明書を取得できません。")
    good = sealed()
    altered = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
    for lie in (
        altered,
        sealed(session_id="S-2"),
        sealed(key=MunicipalKey.generate(CODE)),
        "not base64 at all!",
        None,
        42,
    ):
        assert refused(lie) == generic, lie
