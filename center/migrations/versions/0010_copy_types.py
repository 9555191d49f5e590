"""Each copy says its certificate type (``order_copies.certificate_type``), written when the copy is
recorded, from the order's request (its item). The volumes the operators' console charts (copies
per municipality, certificate type and hour or day) are counted from it, by the time the copy
came out whole (``printed_at``, now indexed), beside the refusals of the audit log (``at``, now
indexed). The copies recorded before are filled in from their order's request, which keeps its
items even once the order is final (``center.retention``); one whose request cannot be read is
``unknown``.

Revision ID: 0010
Revises: 0009 (another branch taking 0010 meanwhile: the chain is relinked when both are merged)
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"

UNKNOWN = "unknown"


def upgrade() -> None:
    with op.batch_alter_table("order_copies") as copies:
        copies.add_column(sa.Column("certificate_type", sa.String(32), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT c.issue_number, c.item, o.municipal_request FROM order_copies c "
            "JOIN orders o ON o.id = c.order_id"
        )
    ).all()
    for issue_number, item, request in rows:
        connection.execute(
            sa.text("UPDATE order_copies SET certificate_type = :kind WHERE issue_number = :number"),
            {"kind": _kind(request, item), "number": issue_number},
        )
    with op.batch_alter_table("order_copies") as copies:
        copies.alter_column("certificate_type", existing_type=sa.String(32), nullable=False)
        copies.create_index("ix_order_copies_printed_at", ["printed_at"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", "audit_log")
    with op.batch_alter_table("order_copies") as copies:
        copies.drop_index("ix_order_copies_printed_at")
        copies.drop_column("certificate_type")


def _kind(request: str, item: int) -> str:
    try:
        document: Any = json.loads(request)
        kind = document["items"][item]["certificate_type"]
    except (ValueError, KeyError, IndexError, TypeError):
        return UNKNOWN
    return kind if isinstance(kind, str) and 0 < len(kind) <= 32 else UNKNOWN
