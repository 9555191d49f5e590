"""Copies issued to a holder known by their usage registration (本籍地の利用登録), and the index of
a holder's own record (交付履歴の確認)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuance_history") as history:
        history.alter_column("requester_id", existing_type=sa.Integer(), nullable=True)
        history.add_column(sa.Column("registration_id", sa.String(length=32), nullable=True))
        history.create_foreign_key(
            op.f("fk_issuance_history_registration_id_domicile_registrations"),
            "domicile_registrations",
            ["registration_id"],
            ["id"],
        )
        history.create_check_constraint(
            op.f("ck_issuance_history_requester"), "(requester_id IS NULL) <> (registration_id IS NULL)"
        )
    op.create_index("ix_issuance_history_requester", "issuance_history", ["requester_id", "issued_at"])
    op.create_index("ix_issuance_history_registration", "issuance_history", ["registration_id", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_issuance_history_registration", table_name="issuance_history")
    op.drop_index("ix_issuance_history_requester", table_name="issuance_history")
    # a copy issued under a registration has no resident to keep it under: the history is never
    # cut short to go back
    kept = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM issuance_history WHERE registration_id IS NOT NULL"))
        .scalar_one()
    )
    if kept:
        raise RuntimeError(f"{kept} copies were issued under usage registrations: 0004 cannot be undone")
    with op.batch_alter_table("issuance_history") as history:
        history.drop_constraint(op.f("ck_issuance_history_requester"), type_="check")
        history.drop_constraint(
            op.f("fk_issuance_history_registration_id_domicile_registrations"), type_="foreignkey"
        )
        history.drop_column("registration_id")
        history.alter_column("requester_id", existing_type=sa.Integer(), nullable=False)
