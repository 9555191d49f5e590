"""Usage-registration routes (本籍地の利用登録の経路): per card holder, the domicile municipality
(本籍地) their usage registration was applied to and the id that municipality gave it, so that
the holder's family-register orders, offers and issuance record go there. Nothing else: no
status, no name, no 本籍 (the municipality keeps those; its answers are sealed to the terminal).

The holder is keyed by ``subject``, the keyed hash of the user-authentication certificate's serial
that the sessions and the audit log already use (``center.audit.subject_of``), never the serial:
the table outlives every session, and without the center's secret it cannot be read back to
serials by trying them all. A later application of the same card replaces the row.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    op.create_table(
        "registration_routes",
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("municipality", sa.String(6), nullable=False),
        sa.Column("registration_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("registration_routes")
