"""The center's database tables (SQLAlchemy Core). Migrations in ``center/migrations`` create them.

No table holds a name, an address, a PIN or a My Number. Residents appear only as a keyed hash of
their user-authentication certificate serial (``subject`` columns), and only where a decision
about them must be auditable.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

terminals = sa.Table(
    "terminals",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # e.g. "T-0001"
    sa.Column("store", sa.String(200), nullable=False),  # store name shown to operators
    sa.Column("public_key", sa.LargeBinary, nullable=False),  # DER SubjectPublicKeyInfo
    sa.Column("certificate", sa.LargeBinary, nullable=False),  # DER, from the terminal CA
    sa.Column("status", sa.String(16), nullable=False),  # active | suspended | revoked
    sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

request_nonces = sa.Table(
    "request_nonces",
    metadata,
    sa.Column("terminal_id", sa.String(32), primary_key=True),
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("terminal_id", sa.String(32), nullable=False, index=True),
    sa.Column("challenge", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("subject", sa.String(64), nullable=True),  # keyed hash of the certificate serial
    sa.Column("municipality", sa.String(6), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # open | authenticated | refused
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # accepted | refused
    sa.Column("reason", sa.String(40), nullable=True),
    sa.Column("terminal_id", sa.String(32), nullable=True),
    sa.Column("session_id", sa.String(36), nullable=True),
    sa.Column("subject", sa.String(64), nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)

service_calendar = sa.Table(
    "service_calendar",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # always 1: the calendar in force
    sa.Column("document", sa.Text, nullable=False),  # JSON, the format of docs/calendar.md
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
