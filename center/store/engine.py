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
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **options)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # As many pooled connections as a process has threads that may use one at once (the web
    # server's 40 worker threads): a connection opened beyond the pool is closed again after one
    # use, and a new one costs a PostgreSQL backend process and a SCRAM exchange.
    options.setdefault("pool_size", 40)
    options.setdefault("max_overflow", 10)
    options.setdefault("pool_use_lifo", True)
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **options)


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


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
