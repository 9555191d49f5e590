"""A municipality's settings as its database keeps them (設定): one JSON document, read in the
caller's transaction (:class:`~center.municipal.settings.MunicipalSettings`)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from center.municipal import schema
from center.municipal.issuance_errors import NotConfigured
from center.municipal.settings import MunicipalSettings

SETTINGS_NAME = "municipality"


def load_settings(connection: sa.Connection) -> MunicipalSettings:
    text = connection.execute(
        sa.select(schema.settings.c.document).where(schema.settings.c.name == SETTINGS_NAME)
    ).scalar_one_or_none()
    if text is None:
        raise NotConfigured("the municipality has no settings yet")
    return MunicipalSettings.loads(text)


def store_settings(connection: sa.Connection, settings: MunicipalSettings, now: dt.datetime) -> None:
    table = schema.settings
    document = json.dumps(settings.to_json(), ensure_ascii=False)
    updated = connection.execute(
        table.update().where(table.c.name == SETTINGS_NAME).values(document=document, updated_at=now)
    ).rowcount
    if not updated:
        connection.execute(table.insert().values(name=SETTINGS_NAME, document=document, updated_at=now))
