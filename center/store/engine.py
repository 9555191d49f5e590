"""Database engines and schema migrations for the center.

SQLite (WAL, foreign keys, a busy timeout) is the embedded default; PostgreSQL
(``postgresql+psycopg://``) is production. Both get exactly the schema of ``center/migrations``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# A pooled PostgreSQL connection idle for longer than this is tested (a ping) before it is
# handed out; one in use moments ago is not (SQLAlchemy's ``pool_pre_ping`` would test it every
# time: one more round trip for every statement a request makes).
PING_AFTER_IDLE = 10.0  # seconds


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
    engine = sa.create_engine(url, **options)
    if not options.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: sa.Engine) -> None:
    """Test a connection idle for :data:`PING_AFTER_IDLE` before use; a dead one is replaced.

    (A connection that breaks while in use fails its statement; SQLAlchemy then discards every
    connection of the pool opened before, so the next requests get new ones.)
    """

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # as pool_pre_ping does (outside a transaction)
        except Exception as error:
            raise sa.exc.DisconnectionError(f"pooled connection is dead: {error}") from error


_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def write_lock(engine: sa.Engine) -> contextlib.AbstractContextManager[object]:
    """Held around a write transaction on SQLite: the process's writers take turns on a Python
    lock, which wakes the next one at once, instead of SQLite's busy handler, which sleeps up to
    100 ms between tries (other processes still wait on SQLite's own lock). Elsewhere: nothing."""
    if not is_sqlite(engine):
        return contextlib.nullcontext()
    key = str(engine.url)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


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
