"""The first schema: the record stores, issuance blocks, issuance history

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
        "center_nonces",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_center_nonces")),
    )
    op.create_table(
        "family_registers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domicile", sa.Text(), nullable=False),
        sa.Column("head_name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("compiled_on", sa.Date(), nullable=False),
        sa.Column("filing_pending_since", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "status IN ('current', 'closed', 'pre_revision')", name=op.f("ck_family_registers_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_registers")),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("address_kana", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    op.create_table(
        "issue_requests",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_issue_requests")),
    )
    op.create_table(
        "issue_sequences",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_issue_sequences")),
    )
    op.create_table(
        "register_addresses",
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("register_id", "position", "seq", name=op.f("pk_register_addresses")),
        sa.UniqueConstraint(
            "register_id",
            "position",
            "from_date",
            name=op.f("uq_register_addresses_register_id_position_from_date"),
        ),
    )
    op.create_table(
        "settings",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_settings")),
    )
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name_kana", sa.Text(), nullable=False),
        sa.Column("given_name_kana", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("relationship", sa.Text(), nullable=False),
        sa.Column("became_resident_on", sa.Date(), nullable=False),
        sa.Column("moved_in_on", sa.Date(), nullable=False),
        sa.Column("previous_address", sa.Text(), nullable=True),
        sa.Column("domicile", sa.Text(), nullable=True),
        sa.Column("domicile_head", sa.Text(), nullable=True),
        sa.Column("my_number", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_on", sa.Date(), nullable=True),
        sa.Column("foreign_resident", sa.Boolean(), nullable=False),
        sa.Column("alias", sa.Text(), nullable=True),
        sa.Column("nationality", sa.Text(), nullable=True),
        sa.Column("residence_card_number", sa.String(length=12), nullable=True),
        sa.Column("residence_status", sa.Text(), nullable=True),
        sa.Column("residence_period_until", sa.Date(), nullable=True),
        sa.Column("pending_characters", sa.Boolean(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'resident') = (status_on IS NULL)", name=op.f("ck_residents_status_on")
        ),
        sa.CheckConstraint("sex IN ('male', 'female')", name=op.f("ck_residents_sex")),
        sa.CheckConstraint(
            "status IN ('resident', 'moving_out', 'moved_out', 'deceased')", name=op.f("ck_residents_status")
        ),
        sa.CheckConstraint("foreign_resident = (nationality IS NOT NULL)", name=op.f("ck_residents_foreign")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_residents_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["family_registers.id"], name=op.f("fk_residents_register_id_family_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("my_number", name=op.f("uq_residents_my_number")),
    )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.create_index("ix_residents_household", ["household_id"], unique=False)

    op.create_table(
        "card_links",
        sa.Column("certificate_serial", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("certificate_serial > 0", name=op.f("ck_card_links_serial")),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_card_links_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("certificate_serial", name=op.f("pk_card_links")),
    )
    with op.batch_alter_table("card_links", schema=None) as batch_op:
        batch_op.create_index("ix_card_links_resident", ["resident_id"], unique=False)

    op.create_table(
        "issuance_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('issuance_stop', 'protection_measure')", name=op.f("ck_issuance_blocks_kind")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_issuance_blocks_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuance_blocks")),
    )
    with op.batch_alter_table("issuance_blocks", schema=None) as batch_op:
        batch_op.create_index("ix_issuance_blocks_resident", ["resident_id"], unique=False)

    op.create_table(
        "issuance_history",
        sa.Column("issue_number", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("copy", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("store", sa.Text(), nullable=False),
        sa.Column("printer", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("certificate_type", sa.String(length=32), nullable=False),
        sa.Column("subjects", sa.Text(), nullable=False),
        sa.Column("printed_items", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disposal", sa.Text(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "status IN ('issued', 'printed', 'voided')", name=op.f("ck_issuance_history_status")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["issue_requests.order_id"],
            name=op.f("fk_issuance_history_order_id_issue_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["residents.id"], name=op.f("fk_issuance_history_requester_id_residents")
        ),
        sa.PrimaryKeyConstraint("issue_number", name=op.f("pk_issuance_history")),
        sa.UniqueConstraint("order_id", "item", "copy", name=op.f("uq_issuance_history_order_id_item_copy")),
    )
    op.create_table(
        "register_members",
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("father", sa.Text(), nullable=True),
        sa.Column("mother", sa.Text(), nullable=True),
        sa.Column("relationship", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("sex IN ('male', 'female')", name=op.f("ck_register_members_sex")),
        sa.ForeignKeyConstraint(
            ["register_id"],
            ["family_registers.id"],
            name=op.f("fk_register_members_register_id_family_registers"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_register_members_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("register_id", "position", name=op.f("pk_register_members")),
    )
    with op.batch_alter_table("register_members", schema=None) as batch_op:
        batch_op.create_index("ix_register_members_resident", ["resident_id"], unique=False)

    op.create_table(
        "seal_registrations",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("registration_number", sa.String(length=16), nullable=False),
        sa.Column("impression", sa.Text(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_seal_registrations_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_seal_registrations")),
        sa.UniqueConstraint("registration_number", name=op.f("uq_seal_registrations_registration_number")),
    )
    op.create_table(
        "tax_assessments",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("tax_year", sa.Integer(), nullable=False),
        sa.Column("resident_on_january_1", sa.Boolean(), nullable=False),
        sa.Column("filed", sa.Boolean(), nullable=False),
        sa.Column("total_income", sa.Integer(), nullable=False),
        sa.Column("deductions", sa.Integer(), nullable=False),
        sa.Column("taxable_income", sa.Integer(), nullable=False),
        sa.Column("municipal_tax", sa.Integer(), nullable=False),
        sa.Column("prefectural_tax", sa.Integer(), nullable=False),
        sa.Column("paid", sa.Integer(), nullable=False),
        sa.Column("outstanding", sa.Integer(), nullable=False),
        sa.CheckConstraint("tax_year BETWEEN 2000 AND 2100", name=op.f("ck_tax_assessments_year")),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_tax_assessments_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("resident_id", "tax_year", name=op.f("pk_tax_assessments")),
    )


def downgrade() -> None:
    op.drop_table("tax_assessments")
    op.drop_table("seal_registrations")
    with op.batch_alter_table("register_members", schema=None) as batch_op:
        batch_op.drop_index("ix_register_members_resident")

    op.drop_table("register_members")
    op.drop_table("issuance_history")
    with op.batch_alter_table("issuance_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_issuance_blocks_resident")

    op.drop_table("issuance_blocks")
    with op.batch_alter_table("card_links", schema=None) as batch_op:
        batch_op.drop_index("ix_card_links_resident")

    op.drop_table("card_links")
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index("ix_residents_household")

    op.drop_table("residents")
    op.drop_table("settings")
    op.drop_table("register_addresses")
    op.drop_table("issue_sequences")
    op.drop_table("issue_requests")
    op.drop_table("households")
    op.drop_table("family_registers")
    op.drop_table("center_nonces")
