"""Migration 0013: a calendar stored under the looser rule for words (any text, up to 200
characters) is folded to the one the reader now requires, so the center still loads it."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from center.calendar_store import load_calendar
from center.store.engine import MIGRATIONS, make_engine, migrate
from center.store.tables import service_calendar

LONG = "設備点検のため" * 30  # 210 characters
STORED = {
    "format": 1,
    "service_hours": {"opens": "06:30", "closes": "23:00"},
    "year_end_closure": {"first": "12-29", "last": "01-03"},
    "maintenance": [
        {
            "start": "2026-12-24T02:00:00+09:00",
            "end": "2026-12-24T05:00:00+09:00",
            "message": {"ja": "  点検中です。\n<b>5時</b>に再開\u202e します  ", "en": "Closed\r\nfor work"},
        },
        {
            "start": "2026-12-25T02:00:00+09:00",
            "end": "2026-12-25T05:00:00+09:00",
            "message": {"ja": LONG, "en": "<>\n"},  # nothing left in English: the message goes
        },
    ],
    "municipality_stops": [],
    "certificate_hours": [],
    "suspensions": [
        {"id": "s-1", "since": "2026-12-20T00:00:00+09:00", "message": {"ja": LONG, "en": "x" * 200}}
    ],
}


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def test_migration_0013_folds_stored_words_so_the_calendar_loads(database_url: str) -> None:
    engine = make_engine(database_url)
    config = _config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0012")
        now = dt.datetime(2026, 12, 8, tzinfo=dt.UTC)
        with engine.begin() as connection:
            connection.execute(
                service_calendar.insert().values(id=1, document=json.dumps(STORED), updated_at=now)
            )
        migrate(engine)
        with engine.connect() as connection:
            calendar = load_calendar(connection)
            document = json.loads(connection.execute(sa.select(service_calendar.c.document)).scalar_one())
        first, second = calendar.maintenance
        assert first.message is not None
        assert (first.message.ja, first.message.en) == ("点検中です。 b5時/bに再開 します", "Closed for work")
        assert second.message is None  # its English had nothing left: the kiosk's own words
        (suspension,) = calendar.suspensions
        assert suspension.message is not None
        assert suspension.message.ja == LONG[:160] and suspension.message.en == "x" * 160
        assert document["service_hours"] == STORED["service_hours"]  # nothing else changes
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0012")  # nothing to undo; the folded words stay valid
            command.upgrade(config, "head")
        with engine.connect() as connection:
            assert load_calendar(connection).maintenance == (first, second)
    finally:
        engine.dispose()
