"""Where a terminal stands, as the fleet's filters need it: the municipality of its store (全国地方
公共団体コード, six digits) and the store's chain (e.g. ``familymart``), both given at enrolment
and both optional (a terminal enrolled before this revision has neither, and is listed under no
municipality and no chain). Indexed: the console filters 55,000 terminals by them.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    with op.batch_alter_table("terminals") as batch:
        batch.add_column(sa.Column("municipality", sa.String(6), nullable=True))
        batch.add_column(sa.Column("chain", sa.String(32), nullable=True))
    op.create_index("ix_terminals_municipality", "terminals", ["municipality", "id"])
    op.create_index("ix_terminals_chain", "terminals", ["chain", "id"])


def downgrade() -> None:
    op.drop_index("ix_terminals_chain", "terminals")
    op.drop_index("ix_terminals_municipality", "terminals")
    with op.batch_alter_table("terminals") as batch:
        batch.drop_column("chain")
        batch.drop_column("municipality")
