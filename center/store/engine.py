"""Database engines and schema migrations for the center.

SQLite (WAL, foreign keys, a busy timeout) is the embedded default; PostgreSQL
(``postgresql+psycopg://``) is production. Both get exactly the schema of ``center/migrations``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, **options: Any) -> sa.Engine:
    """A SQLAlchemy engine: migrations, the command line, operators' tools and tests. (The
    request path of a center process speaks to the drivers directly: ``driver.py``.)"""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **options)
        _sqlite_pragmas(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **options)


def _sqlite_pragmas(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
