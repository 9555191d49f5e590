"""The center's database tables (SQLAlchemy Core). Migrations in ``center/migrations`` create them.

No table holds a name, an address, a PIN or a My Number. Residents appear as a keyed hash of
their user-authentication certificate serial (``subject`` columns) where a decision about them
must be auditable, and by the serial itself only in an open session (the order is placed for it).
Orders hold what the municipality must be asked (``municipal_request``: the serial, the options;
household members by the municipality's own ids) and never a document: the copies are relayed
sealed to the terminal and only their issue numbers and content hashes are kept.
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
    # where it stands (0010), for the fleet's filters: its store's municipality and chain, if told
    sa.Column("municipality", sa.String(6), nullable=True),
    sa.Column("chain", sa.String(32), nullable=True),
    sa.Index("ix_terminals_municipality", "municipality", "id"),
    sa.Index("ix_terminals_chain", "chain", "id"),
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
    # the card's proof as the center verified it (certificate, signature, challenge, the
    # authority's OCSP answer; JSON, base64url), relayed to the municipality, which checks it
    # itself: from the proof until the session is too old to order in (orders.forget_holders)
    sa.Column("holder_proof", sa.Text, nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # accepted | refused
    sa.Column("reason", sa.String(40), nullable=True),
    sa.Column("terminal_id", sa.String(32), nullable=True),
    sa.Column("session_id", sa.String(36), nullable=True),
    sa.Column("subject", sa.String(64), nullable=True),
    # on a line that counts refusals no enrolled terminal can be held to (center.refusal_tally):
    # how many; empty on a line of one decision
    sa.Column("occurrences", sa.Integer, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    # on a line of an operator's action (a console change, an issuance stop set or lifted, an order
    # handled by hand): who did it (a console account's name, or cli:USER) and what it concerned
    # ("stop 3: municipality 131016"); the detail also names the stop that refused a request, and
    # on a line about one order that order ("order ID"); empty on every other line
    sa.Column("actor", sa.String(64), nullable=True),
    sa.Column("detail", sa.String(120), nullable=True),
)

service_calendar = sa.Table(
    "service_calendar",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # always 1: the calendar in force
    sa.Column("document", sa.Text, nullable=False),  # JSON, the format of docs/calendar.md
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

orders = sa.Table(
    "orders",
    metadata,
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
    sa.Column("void_pending", sa.Boolean, nullable=False),  # the municipality must still be told
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("terminal_id", "idempotency_key", name="uq_orders_idempotency"),
)

order_copies = sa.Table(
    "order_copies",
    metadata,
    sa.Column("issue_number", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("item", sa.Integer, nullable=False),
    sa.Column("copy", sa.Integer, nullable=False),
    sa.Column("pages", sa.Integer, nullable=False),
    sa.Column("fee", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),  # of the printed verification code
    # when it came out whole (empty: not printed, void once the order ends); the volumes count these
    sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True, index=True),
    sa.Column("certificate_type", sa.String(32), nullable=False),  # its item's, from the order's request
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("account", sa.String(16), nullable=False),  # municipality | center | store
    sa.Column("municipality", sa.String(6), nullable=False),
    sa.Column("store", sa.String(200), nullable=False),
    sa.Column("terminal_id", sa.String(32), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),  # yen
    sa.Column("day", sa.Date, nullable=False),  # the settlement day in Japan
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("order_id", "account", name="uq_ledger_order_account"),
)

# 交付停止: operators' stops of issuance (center.incidents), in force while lifted_at is empty; a
# lifted stop stays (the history is audit material). The request path reads the stops in force
# on every request that one may refuse (a partial index keeps that read off the history).
issuance_stops = sa.Table(
    "issuance_stops",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(16), nullable=False),  # all | terminal | municipality | certificate_type
    sa.Column("target", sa.String(32), nullable=True),  # the code, type or terminal id; empty for all
    sa.Column("reason_ja", sa.String(160), nullable=False),  # shown to residents
    sa.Column("reason_en", sa.String(160), nullable=False),
    sa.Column("stopped_by", sa.String(64), nullable=False),  # an operator's name
    sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lifted_by", sa.String(64), nullable=True),
    sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(
        "scope IN ('all', 'terminal', 'municipality', 'certificate_type')", name="ck_issuance_stops_scope"
    ),
    sa.CheckConstraint("(scope = 'all') = (target IS NULL)", name="ck_issuance_stops_target"),
    sa.CheckConstraint("(lifted_by IS NULL) = (lifted_at IS NULL)", name="ck_issuance_stops_lifted"),
    sa.Index(
        "ix_issuance_stops_in_force",
        "id",
        postgresql_where=sa.text("lifted_at IS NULL"),
        sqlite_where=sa.text("lifted_at IS NULL"),
    ),
)

# -- the operators' console (center/console) ---------------------------------------------------
SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")

console_operators = sa.Table(
    "console_operators",
    metadata,
    sa.Column("id", SEQ, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),  # the account's name, in the audit log
    sa.Column("role", sa.String(16), nullable=False),  # operator | municipal | auditor
    sa.Column("municipality", sa.String(6), nullable=True),  # municipal staff's 地方公共団体コード
    sa.Column("user_handle", sa.String(64), nullable=False, unique=True),  # WebAuthn user id, base64url
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
)

console_credentials = sa.Table(
    "console_credentials",
    metadata,
    sa.Column("credential_id", sa.String(1400), primary_key=True),  # base64url
    sa.Column("operator_id", SEQ, sa.ForeignKey("console_operators.id"), nullable=False, index=True),
    sa.Column("public_key", sa.LargeBinary, nullable=False),  # COSE_Key
    sa.Column("sign_count", sa.BigInteger, nullable=False),
    sa.Column("transports", sa.String(200), nullable=False),  # comma-separated, as the browser said
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),  # no longer signs in
)

console_enrolments = sa.Table(
    "console_enrolments",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # SHA-256 of the link's token
    sa.Column("operator_id", SEQ, sa.ForeignKey("console_operators.id"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
)

console_ceremonies = sa.Table(
    "console_ceremonies",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(16), nullable=False),  # register | sign_in
    sa.Column("challenge", sa.LargeBinary, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=True),  # a registration's enrolment link
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
)

console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # SHA-256 of the cookie's session id
    sa.Column("operator_id", SEQ, sa.ForeignKey("console_operators.id"), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("credential_id", sa.String(1400), nullable=True),  # the passkey it was opened with
)

# -- terminals' heartbeats (死活監視): what each terminal last said of itself, and its changes -------
# Nothing about a person: builds, devices, an alarm, yen of change owed, the minute of the last
# session (center/heartbeats.py, docs/center.md).


def _reported() -> list[sa.Column[object]]:
    """What a heartbeat reports, the same columns in the latest state and in the history."""
    return [
        sa.Column("build", sa.String(40), nullable=False),  # the kiosk's version
        sa.Column("config_hash", sa.String(64), nullable=False),  # SHA-256 of its settings, no secret
        sa.Column("printer", sa.String(12), nullable=False),  # ready, paper_low, … (messages.PRINTER_STATES)
        sa.Column("card_reader", sa.Boolean, nullable=False),  # the card reader is attached
        sa.Column("controller", sa.String(8), nullable=False),  # up, down, absent
        sa.Column("alarm", sa.String(12), nullable=True),  # door, tamper, door+tamper: latched
        sa.Column("change_owed", sa.Integer, nullable=False),  # yen the hoppers could not pay
        sa.Column("last_session_at", sa.DateTime(timezone=True), nullable=True),  # to the minute
    ]


terminal_states = sa.Table(
    "terminal_states",
    metadata,
    sa.Column("terminal_id", sa.String(32), sa.ForeignKey("terminals.id"), primary_key=True),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),  # in this state, unbroken, since
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),  # the last heartbeat
    *_reported(),
)

terminal_history = sa.Table(
    "terminal_history",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("terminal_id", sa.String(32), sa.ForeignKey("terminals.id"), nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False, index=True),  # its first heartbeat
    sa.Column("previous_seen", sa.DateTime(timezone=True), nullable=True),  # the heartbeat before it
    *_reported(),
    sa.Index("ix_terminal_history_terminal", "terminal_id", "id"),
)

# 地方公共団体コード → the statement of its sealing key, signed by the municipality, as collected from
# it (center/sealing_keys.py): relayed to terminals as it came, never trusted by the center itself
municipal_sealing_keys = sa.Table(
    "municipal_sealing_keys",
    metadata,
    sa.Column("municipality", sa.String(6), primary_key=True),
    sa.Column("statement", sa.LargeBinary, nullable=False),  # the COSE_Sign1's bytes
    sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),  # as the statement says
    sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
)

# 本籍地の利用登録の経路: a card holder (the keyed hash of the card's serial, as ``subject`` above)
# → the domicile municipality their usage registration went to and its id there
# (center/registration_relay.py); replaced by a later application; nothing else about it
registration_routes = sa.Table(
    "registration_routes",
    metadata,
    sa.Column("subject", sa.String(64), primary_key=True),
    sa.Column("municipality", sa.String(6), nullable=False),
    sa.Column("registration_id", sa.String(64), nullable=False),
)
