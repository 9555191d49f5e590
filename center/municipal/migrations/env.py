"""Alembic environment: always run programmatically on a connection given by ``SchemaVersions.upgrade``.

There is no ``alembic.ini``; the caller passes the open connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from center.municipal.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
