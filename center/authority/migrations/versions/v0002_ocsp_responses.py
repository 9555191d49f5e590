"""Pre-produced OCSP answers: the last answer signed for each certificate, and its thisUpdate.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jpki_certificates") as table:
        table.add_column(sa.Column("ocsp_response", sa.LargeBinary(), nullable=True))
        table.add_column(sa.Column("ocsp_produced_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jpki_certificates") as table:
        table.drop_column("ocsp_produced_at")
        table.drop_column("ocsp_response")
