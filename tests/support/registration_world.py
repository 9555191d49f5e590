"""The world of the center's registered-domicile tests: the orders world (``support.world``) with a
second municipality, the registered domicile (本籍地) of the routes, started before the center so
that the center knows both and collects both sealing keys."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator

import pytest

from center.authority.keys import generate_key
from center.municipal import service as municipal_service
from center.municipal.stored_settings import load_settings, store_settings
from center.store.schema_versions import make_engine
from documents import TrustedKey, TrustList
from support.backend_stack import backend_stack
from support.world import CODE, World

DOMICILE = "271276"  # 大阪市北区


def two_towns(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[World]:
    """The residence town (``CODE``, the world's ``town``) and the domicile (``DOMICILE``), both
    trusted by the world's kiosk side, on the backend ``request.param``."""
    towns = {CODE: ("千代田区", 40), DOMICILE: ("大阪市北区", 20)}
    with backend_stack(request, tmp_path_factory, name, towns=towns) as stack:
        published = [
            TrustedKey.from_json(json.loads((town.directory / municipal_service.PUBLIC_KEY_FILE).read_text()))
            for town in stack.towns.values()
        ]
        issued_at_any_hour(stack.towns[DOMICILE].database_url)
        yield World(stack, stack.towns[CODE], TrustList(published), [generate_key() for _ in range(3)], set())


def issued_at_any_hour(database_url: str) -> None:
    """The municipality issues every certificate at any hour (its family registers are on weekdays
    9-17 by default): the tests must pass at any time of day."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            settings = load_settings(connection)
            offers = {kind: dataclasses.replace(offer, hours=None) for kind, offer in settings.offers.items()}
            store_settings(connection, dataclasses.replace(settings, offers=offers), dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
