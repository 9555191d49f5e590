"""Terminals' heartbeats (死活監視): ``terminal_states``, what each terminal last said of itself (one
row per terminal, written over by every heartbeat), and ``terminal_history``, a row each time that
changed or the terminal came back after a silence, kept for a week and at most 500 rows per
terminal (``center/heartbeats.py``). Nothing about a person.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

TS = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")
PRINTER = "('ready', 'paper_low', 'paper_out', 'toner_low', 'jam', 'offline', 'error')"
CONTROLLER = "('up', 'down', 'absent')"
ALARM = "('door', 'tamper', 'door+tamper')"


def _reported(table: str) -> list[sa.Column[object] | sa.CheckConstraint]:
    return [
        sa.Column("build", sa.String(40), nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("printer", sa.String(12), nullable=False),
        sa.Column("card_reader", sa.Boolean, nullable=False),
        sa.Column("controller", sa.String(8), nullable=False),
        sa.Column("alarm", sa.String(12), nullable=True),
        sa.Column("change_owed", sa.Integer, nullable=False),
        sa.Column("last_session_at", TS, nullable=True),
        sa.CheckConstraint(f"printer IN {PRINTER}", name=f"ck_{table}_printer"),
        sa.CheckConstraint(f"controller IN {CONTROLLER}", name=f"ck_{table}_controller"),
        sa.CheckConstraint(f"alarm IS NULL OR alarm IN {ALARM}", name=f"ck_{table}_alarm"),
        sa.CheckConstraint("change_owed >= 0", name=f"ck_{table}_change_owed"),
    ]


def upgrade() -> None:
    op.create_table(
        "terminal_states",
        sa.Column("terminal_id", sa.String(32), sa.ForeignKey("terminals.id"), primary_key=True),
        sa.Column("since", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        *_reported("terminal_states"),
    )
    op.create_table(
        "terminal_history",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("terminal_id", sa.String(32), sa.ForeignKey("terminals.id"), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("previous_seen", TS, nullable=True),
        *_reported("terminal_history"),
    )
    op.create_index("ix_terminal_history_since", "terminal_history", ["since"])
    op.create_index("ix_terminal_history_terminal", "terminal_history", ["terminal_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_terminal_history_terminal", "terminal_history")
    op.drop_index("ix_terminal_history_since", "terminal_history")
    op.drop_table("terminal_history")
    op.drop_table("terminal_states")
