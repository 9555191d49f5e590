"""Operators' stops of issuance (交付停止, ``center/incidents.py``): ``issuance_stops``, in force
while not lifted, kept after (the history is audit material); and on the audit log, who did an
operator's action and what it concerned (``actor``, ``detail``; the console's changes fill them
too).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "issuance_stops",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("target", sa.String(32), nullable=True),
        sa.Column("reason_ja", sa.String(160), nullable=False),
        sa.Column("reason_en", sa.String(160), nullable=False),
        sa.Column("stopped_by", sa.String(64), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.String(64), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "scope IN ('all', 'terminal', 'municipality', 'certificate_type')",
            name="ck_issuance_stops_scope",
        ),
        sa.CheckConstraint("(scope = 'all') = (target IS NULL)", name="ck_issuance_stops_target"),
        sa.CheckConstraint("(lifted_by IS NULL) = (lifted_at IS NULL)", name="ck_issuance_stops_lifted"),
    )
    op.create_index(
        "ix_issuance_stops_in_force",
        "issuance_stops",
        ["id"],
        postgresql_where=sa.text("lifted_at IS NULL"),
        sqlite_where=sa.text("lifted_at IS NULL"),
    )
    op.add_column("audit_log", sa.Column("actor", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("detail", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as audit_log:
        audit_log.drop_column("detail")
        audit_log.drop_column("actor")
    op.drop_index("ix_issuance_stops_in_force", "issuance_stops")
    op.drop_table("issuance_stops")
