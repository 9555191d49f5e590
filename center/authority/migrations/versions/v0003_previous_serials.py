"""Each certificate's chain of renewed serials, stated in its OCSP answers (koufuPreviousSerials).

Rows of renewed certificates gain their chain, read from the ``previous_serial`` links, and lose
their kept OCSP answer (signed without the chain; the responder signs one anew when asked).

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

MAX_PREVIOUS_SERIALS = 16  # as center.previous_serials; a migration does not import the code it outlives


def upgrade() -> None:
    with op.batch_alter_table("jpki_certificates") as table:
        table.add_column(sa.Column("previous_serials", sa.String(400), nullable=True))
    connection = op.get_bind()
    links: dict[int, int] = dict(
        connection.execute(
            sa.text("SELECT serial, previous_serial FROM jpki_certificates WHERE previous_serial IS NOT NULL")
        ).all()
    )
    for serial, previous in links.items():
        chain = [previous]
        while chain[-1] in links and len(chain) < MAX_PREVIOUS_SERIALS:
            chain.append(links[chain[-1]])
        connection.execute(
            sa.text(
                "UPDATE jpki_certificates SET previous_serials = :chain, ocsp_response = NULL,"
                " ocsp_produced_at = NULL WHERE serial = :serial"
            ),
            {"chain": " ".join(str(link) for link in chain), "serial": serial},
        )


def downgrade() -> None:
    with op.batch_alter_table("jpki_certificates") as table:
        table.drop_column("previous_serials")
