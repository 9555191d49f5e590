"""Orders, their copies (the certificate store: what the public verification answers from) and the
fee ledger; a session keeps its holder's certificate serial and
certificate hash until it ends (an order is placed for them).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

TS = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")
STATES = "('requested', 'issued', 'printed', 'settled', 'voided', 'refunded')"


def upgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        sessions.add_column(sa.Column("certificate_serial", sa.BigInteger, nullable=True))
        sessions.add_column(sa.Column("holder_certificate", sa.String(64), nullable=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("terminal_id", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False, index=True),
        sa.Column("municipality", sa.String(6), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("store", sa.String(200), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("fee", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("municipal_request", sa.Text, nullable=False),
        sa.Column("void_pending", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.UniqueConstraint("terminal_id", "idempotency_key", name="uq_orders_idempotency"),
        sa.CheckConstraint(f"state IN {STATES}", name="ck_orders_state"),
    )
    op.create_index("ix_orders_open", "orders", ["state", "deadline"])
    op.create_table(
        "order_copies",
        sa.Column("issue_number", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, index=True),
        sa.Column("item", sa.Integer, nullable=False),
        sa.Column("copy", sa.Integer, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("fee", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("printed_at", TS, nullable=True),
    )
    op.create_table(
        "ledger",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("account", sa.String(16), nullable=False),  # municipality | center | store
        sa.Column("municipality", sa.String(6), nullable=False),
        sa.Column("store", sa.String(200), nullable=False),
        sa.Column("terminal_id", sa.String(32), nullable=False),
        sa.Column("amount", sa.Integer, nullable=False),  # yen
        sa.Column("day", sa.Date, nullable=False),  # the settlement day in Japan
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("order_id", "account", name="uq_ledger_order_account"),  # settled once
        sa.CheckConstraint("account IN ('municipality', 'center', 'store')", name="ck_ledger_account"),
    )
    op.create_index("ix_ledger_day", "ledger", ["day", "municipality"])


def downgrade() -> None:
    op.drop_table("ledger")
    op.drop_table("order_copies")
    op.drop_index("ix_orders_open", "orders")
    op.drop_table("orders")
    with op.batch_alter_table("sessions") as sessions:
        sessions.drop_column("holder_certificate")
        sessions.drop_column("certificate_serial")
