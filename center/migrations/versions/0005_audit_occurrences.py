"""An audit line may stand for many refusals: ``occurrences``, how many requests that no enrolled
terminal can be held to (unsigned, malformed, from an unknown terminal) one center process refused
with that code since its previous such line. Empty on every other line (one decision each).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("occurrences", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as audit_log:
        audit_log.drop_column("occurrences")
