"""Municipalities' sealing keys: per municipality, the statement of its sealing key (P-256, for what
terminals seal to it), signed by the municipality, as the center last collected it from its server
(``center/sealing_keys.py``), with the statement's ``not_after`` and when it was fetched. The
center relays it to terminals and trusts it for nothing itself.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "municipal_sealing_keys",
        sa.Column("municipality", sa.String(6), primary_key=True),
        sa.Column("statement", sa.LargeBinary, nullable=False),
        sa.Column("not_after", TS, nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("municipal_sealing_keys")
