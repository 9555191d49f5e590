"""Alembic migrations of the authority's database (applied by ``center.authority.migrate``)."""
