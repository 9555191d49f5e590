"""One database's schema and its Alembic migrations, for the servers that keep their own
database beside the center: the JPKI authority simulator and each municipal issuance server.

There is no ``alembic.ini``: each server's migrations directory has an ``env.py`` that runs on the
connection handed over in ``config.attributes["connection"]``, with its own version table. A
database is brought to the newest revision at every start (``upgrade``), so no server ever works
on a schema its code does not know.

SQLite gets WAL, foreign keys and a busy timeout; a transaction that will write can take the
write lock at BEGIN (execution option ``sqlite_immediate``), so two writers never deadlock on
lock upgrades. PostgreSQL works through ``postgresql+psycopg://`` URLs.
"""

from __future__ import annotations

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


class SchemaError(Exception):
    """The database cannot be opened or brought to the code's schema."""


def sqlite_file_url(path: Path) -> str:
    """``sqlite:///`` for ``path``, created empty with mode 0600 if absent (it will hold data
    that is nobody else's business)."""
    path = Path(path).resolve()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite: WAL, foreign keys, busy timeout, ``sqlite_immediate``)."""
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ArgumentError, ImportError, ValueError) as exc:
        raise SchemaError(f"unusable database URL: {exc}") from exc
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


class SchemaVersions:
    """The migrations in ``directory`` (an Alembic script directory) and their version table."""

    def __init__(self, directory: Path, version_table: str, *, what: str) -> None:
        self.directory = directory
        self.version_table = version_table
        self.what = what  # "the authority database", in messages

    def config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.directory))
        config.set_main_option("path_separator", "os")
        return config

    def head(self) -> str:
        head = ScriptDirectory.from_config(self.config()).get_current_head()
        assert head is not None
        return head

    def current(self, engine: Engine) -> str | None:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": self.version_table})
            return context.get_current_revision()

    def upgrade(self, engine: Engine, revision: str = "head") -> None:
        """Apply every migration the database lacks, up to ``revision`` (nothing when it is up
        to date), in one transaction."""
        config = self.config()
        try:
            with engine.connect() as connection:
                connection.execution_options(sqlite_immediate=True)
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
        except CommandError as exc:
            raise SchemaError(f"{self.what} has an unknown schema: {exc}") from exc
        except SQLAlchemyError as exc:
            raise SchemaError(f"cannot migrate {self.what}: {exc}") from exc
