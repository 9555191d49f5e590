"""An order may be ``printing``: its terminal's job went to the printer, and from then on only the
terminal ends it (no deadline voids an order that may have paper out).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"

BEFORE = "('requested', 'issued', 'printed', 'settled', 'voided', 'refunded')"
AFTER = "('requested', 'issued', 'printing', 'printed', 'settled', 'voided', 'refunded')"


def _states(states: str) -> None:
    with op.batch_alter_table("orders") as orders:
        orders.drop_constraint("ck_orders_state", type_="check")
        orders.create_check_constraint("ck_orders_state", f"state IN {states}")


def upgrade() -> None:
    _states(AFTER)


def downgrade() -> None:
    _states(BEFORE)
