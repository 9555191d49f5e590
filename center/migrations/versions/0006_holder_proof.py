"""A session keeps the card's proof (certificate, signature, the authority's revocation answer) for
the municipality to check itself, instead of the serial and hash the center read from it; kept
only while an order may be placed in the session, like them.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        sessions.add_column(sa.Column("holder_proof", sa.Text, nullable=True))
        sessions.drop_column("holder_certificate")
        sessions.drop_column("certificate_serial")


def downgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        sessions.add_column(sa.Column("certificate_serial", sa.BigInteger, nullable=True))
        sessions.add_column(sa.Column("holder_certificate", sa.String(64), nullable=True))
        sessions.drop_column("holder_proof")
