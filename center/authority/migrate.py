"""Open the authority's database and bring its schema to the newest Alembic revision.

Called by ``koufu authority init`` and at every start of the server or the service, so a database
is never used with a schema the code does not know. The default database is a SQLite file in the
authority directory; PostgreSQL works through a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from center.authority.errors import AuthorityStateError
from center.authority.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_FILE = "authority.db"
DB_ENV = "KOUFU_AUTHORITY_DB"  # the database URL when no --db is given (keeps passwords off argv)

log = logging.getLogger(__name__)


def default_url(directory: Path) -> str:
    """The SQLite file in the authority directory, created empty with mode 0600 if absent."""
    path = Path(directory).resolve() / SQLITE_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE
    for the transactions that write (execution option ``sqlite_immediate``)."""
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ArgumentError, ImportError, ValueError) as exc:
        raise AuthorityStateError(f"unusable database URL: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine) -> None:
    """Apply every migration the database lacks (nothing when it is up to date)."""
    config = _config()
    try:
        with engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    except CommandError as exc:
        raise AuthorityStateError(f"the authority database has an unknown schema: {exc}") from exc
    except SQLAlchemyError as exc:
        raise AuthorityStateError(f"cannot migrate the authority database: {exc}") from exc
    log.debug("authority database at schema revision %s", head_revision())
