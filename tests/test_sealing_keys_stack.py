"""The participating municipalities over the real stack (authority, center and municipal server
processes over TLS): the center collects the town's sealing key statement at its start, serves it
to a terminal (``GET /v1/municipalities``), the kiosk keeps it because it verifies against the
kiosk's trusted municipal keys, and what the kiosk seals to it the municipality opens with its own
``sealing.key``. A statement the center altered in its database is dropped by the kiosk."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator

import cbor2
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from center.client import CenterClient
from center.config import CenterConfig
from center.municipal import service as municipal_service
from center.store.tables import municipal_sealing_keys
from documents import MunicipalKey, open_from_terminal, seal_to_municipality, sign_sealing_key
from documents.sealing_key import SealingKey, read_sealing_key
from kiosk.center_link import KioskSession
from kiosk.municipalities import fetch_municipalities
from support.world import CODE, World, running_world

APPLICATION = {
    "kind": "domicile_registration",
    "domicile": "東京都千代田区九段南一丁目２番地",
    "head": "試験　太郎",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "sealing-keys", 20)


def served(client: CenterClient) -> list[str]:
    """The codes the center lists, once it has collected a statement (its housekeeping's first
    round runs at its start)."""
    deadline = time.monotonic() + 30
    while True:
        codes = [entry.code for entry in client.municipalities().municipalities]
        if codes or time.monotonic() > deadline:
            return codes
        time.sleep(0.2)


def stored_statement(world: World) -> bytes:
    engine = CenterConfig.load(world.stack.center_dir).migrated_engine()
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.select(municipal_sealing_keys.c.statement)).one()
    finally:
        engine.dispose()
    return bytes(row.statement)


def store_statement(world: World, statement: bytes) -> None:
    engine = CenterConfig.load(world.stack.center_dir).migrated_engine()
    try:
        with engine.begin() as connection:
            connection.execute(
                municipal_sealing_keys.update()
                .where(municipal_sealing_keys.c.municipality == CODE)
                .values(statement=statement)
            )
    finally:
        engine.dispose()


def test_the_center_serves_the_town_and_the_town_opens_what_the_kiosk_seals(world: World) -> None:
    terminal, client = world.terminal("T-SEAL-1")
    try:
        assert served(client) == [CODE]
        chosen = KioskSession(client, world.trust).participating_municipalities()
    finally:
        client.close()
    assert dict(chosen.dropped) == {}
    assert [(p.code, p.name) for p in chosen.prefectures()] == [("13", "東京都")]
    [town] = chosen.municipalities_of("13")
    assert (town.municipality, town.name, town.prefecture) == (CODE, "千代田区", "東京都")
    assert town.not_after > dt.datetime.now(dt.UTC)

    sealed = seal_to_municipality(APPLICATION, town, session_id="S-1", terminal_id=terminal.terminal_id)
    own_key = municipal_service.read_sealing_key(world.town.directory)
    assert (
        open_from_terminal(
            sealed, municipality=CODE, sealing_key=own_key, session_id="S-1", terminal_id=terminal.terminal_id
        )
        == APPLICATION
    )
    assert "千代田" not in world.stack.center_log.read_text(errors="replace")


def test_a_statement_the_center_altered_is_dropped_by_the_kiosk(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    _terminal, client = world.terminal("T-SEAL-2")
    try:
        assert served(client) == [CODE]
        original = stored_statement(world)
        genuine = read_sealing_key(original).sealing_key
        # the center's own sealing key, stated under a key of its own that claims the town
        swapped = SealingKey(
            CODE,
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            genuine.name,
            genuine.name_en,
            genuine.prefecture,
            genuine.not_after,
        )
        # its not_after a minute later, the signature kept
        cose = cbor2.loads(original)
        later = (genuine.not_after + dt.timedelta(minutes=1)).isoformat().encode()
        payload = cose.value[2].replace(genuine.not_after.isoformat().encode(), later)
        assert payload != cose.value[2]
        flipped = cbor2.dumps(cbor2.CBORTag(18, [*cose.value[:2], payload, cose.value[3]]), canonical=True)
        for altered, kind in (
            (sign_sealing_key(swapped, MunicipalKey.generate(CODE)), "untrusted_signer"),
            (flipped, "bad_signature"),
        ):
            store_statement(world, altered)
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="kiosk.municipalities"):
                chosen = fetch_municipalities(client, world.trust)
            assert chosen.keys == {} and dict(chosen.dropped) == {kind: 1}
            assert kind in caplog.text and "千代田" not in caplog.text
        store_statement(world, original)
        assert set(fetch_municipalities(client, world.trust).keys) == {CODE}
    finally:
        client.close()
