"""Usage registrations of residents elsewhere whose family register is here (本籍地の利用登録)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domicile_registrations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("certificate_serial", sa.BigInteger(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approves_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("denial_reason", sa.String(length=16), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'denied', 'suspended')",
            name=op.f("ck_domicile_registrations_status"),
        ),
        sa.CheckConstraint(
            "denial_reason IN ('not_matched', 'register_closed', 'duplicate', 'other')",
            name=op.f("ck_domicile_registrations_denial_reason"),
        ),
        sa.CheckConstraint(
            "(status = 'denied') = (denial_reason IS NOT NULL)", name=op.f("ck_domicile_registrations_denied")
        ),
        sa.CheckConstraint(
            "(register_id IS NULL) = (position IS NULL)", name=op.f("ck_domicile_registrations_entry")
        ),
        sa.CheckConstraint(
            "register_id IS NOT NULL OR status = 'denied'", name=op.f("ck_domicile_registrations_matched")
        ),
        sa.CheckConstraint(
            "(status = 'suspended') = (suspended_at IS NOT NULL)",
            name=op.f("ck_domicile_registrations_suspended"),
        ),
        sa.CheckConstraint(
            "(decided_at IS NULL) = (decided_by IS NULL)", name=op.f("ck_domicile_registrations_decided")
        ),
        sa.CheckConstraint("certificate_serial > 0", name=op.f("ck_domicile_registrations_serial")),
        sa.ForeignKeyConstraint(
            ["register_id", "position"],
            ["register_members.register_id", "register_members.position"],
            name=op.f("fk_domicile_registrations_register_id_register_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domicile_registrations")),
    )
    op.create_index("ix_domicile_registrations_status", "domicile_registrations", ["status"])
    op.create_index("ix_domicile_registrations_entry", "domicile_registrations", ["register_id", "position"])
    op.create_table(
        "domicile_registration_serials",
        sa.Column("certificate_serial", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("registration_id", sa.String(length=32), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("certificate_serial > 0", name=op.f("ck_domicile_registration_serials_serial")),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["domicile_registrations.id"],
            name=op.f("fk_domicile_registration_serials_registration_id_domicile_registrations"),
        ),
        sa.PrimaryKeyConstraint("certificate_serial", name=op.f("pk_domicile_registration_serials")),
    )
    op.create_index(
        "ix_domicile_registration_serials_registration",
        "domicile_registration_serials",
        ["registration_id"],
    )
    op.create_index("ix_register_members_birth_date", "register_members", ["birth_date"])


def downgrade() -> None:
    op.drop_index("ix_register_members_birth_date", table_name="register_members")
    op.drop_index("ix_domicile_registration_serials_registration", table_name="domicile_registration_serials")
    op.drop_table("domicile_registration_serials")
    op.drop_index("ix_domicile_registrations_entry", table_name="domicile_registrations")
    op.drop_index("ix_domicile_registrations_status", table_name="domicile_registrations")
    op.drop_table("domicile_registrations")
