"""The first schema: certificates, verifiers, the latest CRL of each CA generation.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jpki_certificates",
        sa.Column("serial", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ca_kind", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(6), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(32), nullable=True),
        sa.Column("previous_serial", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("ca_kind IN ('user-auth', 'signing')", name="ck_jpki_certificates_ca_kind"),
        sa.CheckConstraint("length(municipality) = 6", name="ck_jpki_certificates_municipality"),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revocation_reason IS NULL)", name="ck_jpki_certificates_revocation"
        ),
        sa.CheckConstraint("serial > 0", name="ck_jpki_certificates_serial"),
        sa.ForeignKeyConstraint(
            ["previous_serial"],
            ["jpki_certificates.serial"],
            name="fk_jpki_certificates_previous_serial_jpki_certificates",
        ),
        sa.PrimaryKeyConstraint("serial", name="pk_jpki_certificates"),
        sa.UniqueConstraint("previous_serial", name="uq_jpki_certificates_previous_serial"),
    )
    op.create_index("ix_jpki_certificates_crl", "jpki_certificates", ["ca_kind", "generation", "revoked_at"])
    op.create_table(
        "jpki_verifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jpki_verifiers"),
        sa.UniqueConstraint("name", name="uq_jpki_verifiers_name"),
        sa.UniqueConstraint("token_hash", name="uq_jpki_verifiers_token_hash"),
    )
    op.create_table(
        "jpki_crls",
        sa.Column("ca_kind", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("ca_kind", "generation", name="pk_jpki_crls"),
    )


def downgrade() -> None:
    op.drop_table("jpki_crls")
    op.drop_table("jpki_verifiers")
    op.drop_index("ix_jpki_certificates_crl", table_name="jpki_certificates")
    op.drop_table("jpki_certificates")
