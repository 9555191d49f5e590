"""The operators' console (center/console): its accounts, their passkeys (WebAuthn credentials),
one-time enrolment links (only their SHA-256 is kept), the WebAuthn ceremonies in flight (each
challenge used once) and the console's sessions (only the session id's SHA-256 is kept). The
audit log's ``actor``, who made a change, is 0008's.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

TS = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "console_operators",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("municipality", sa.String(6), nullable=True),
        sa.Column("user_handle", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("disabled_at", TS, nullable=True),
        sa.CheckConstraint("role IN ('operator', 'municipal', 'auditor')", name="ck_console_operators_role"),
        sa.CheckConstraint(
            "(role = 'municipal') = (municipality IS NOT NULL)", name="ck_console_operators_municipality"
        ),
    )
    op.create_table(
        "console_credentials",
        sa.Column("credential_id", sa.String(1400), primary_key=True),
        sa.Column("operator_id", SEQ, sa.ForeignKey("console_operators.id"), nullable=False, index=True),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("sign_count", sa.BigInteger, nullable=False),
        sa.Column("transports", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
    )
    op.create_table(
        "console_enrolments",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", SEQ, sa.ForeignKey("console_operators.id"), nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_table(
        "console_ceremonies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("challenge", sa.LargeBinary, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False, index=True),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", SEQ, sa.ForeignKey("console_operators.id"), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "console_sessions",
        "console_ceremonies",
        "console_enrolments",
        "console_credentials",
        "console_operators",
    ):
        op.drop_table(table)
