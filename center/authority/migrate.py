"""Open the authority's database and bring its schema to the newest Alembic revision.

Called by ``koufu authority init`` and at every start of the server or the service, so a database
is never used with a schema the code does not know. The default database is a SQLite file in the
authority directory; PostgreSQL works through a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine

from center.authority.errors import AuthorityStateError
from center.authority.schema import VERSION_TABLE
from center.store import schema_versions
from center.store.schema_versions import SchemaError, SchemaVersions

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_FILE = "authority.db"
DB_ENV = "KOUFU_AUTHORITY_DB"  # the database URL when no --db is given (keeps passwords off argv)
VERSIONS = SchemaVersions(MIGRATIONS, VERSION_TABLE, what="the authority database")

log = logging.getLogger(__name__)


def default_url(directory: Path) -> str:
    """The SQLite file in the authority directory, created empty with mode 0600 if absent."""
    return schema_versions.sqlite_file_url(Path(directory) / SQLITE_FILE)


def make_engine(url: str) -> Engine:
    try:
        return schema_versions.make_engine(url)
    except SchemaError as exc:
        raise AuthorityStateError(str(exc)) from exc


def head_revision() -> str:
    return VERSIONS.head()


def current_revision(engine: Engine) -> str | None:
    return VERSIONS.current(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration the database lacks (nothing when it is up to date)."""
    try:
        VERSIONS.upgrade(engine, revision)
    except SchemaError as exc:
        raise AuthorityStateError(str(exc)) from exc
    log.debug("authority database at schema revision %s", head_revision())
