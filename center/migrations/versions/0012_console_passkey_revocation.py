"""One passkey of a console account revoked (パスキーの失効): when (``console_credentials.
revoked_at``; a revoked passkey no longer signs in, and is kept so that its refusal names the
account), and which passkey each session was opened with (``console_sessions.credential_id``;
a session opened before this revision has none), so that revoking a passkey ends its sessions.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    with op.batch_alter_table("console_credentials") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("console_sessions") as batch:
        batch.add_column(sa.Column("credential_id", sa.String(1400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_sessions") as batch:
        batch.drop_column("credential_id")
    with op.batch_alter_table("console_credentials") as batch:
        batch.drop_column("revoked_at")
