"""The audit log (監査ログ): append-only, tamper-evident, free of personal data.

Every security decision — a terminal request refused, a session opened, a resident accepted or
refused — is one row. Each row's hash covers its content and the previous row's hash, so editing,
deleting or reordering any row breaks every hash after it (:func:`verify_chain`). Writers take a
lock (an advisory lock on PostgreSQL; SQLite serialises writers itself) so concurrent center
processes extend one chain. Residents appear only as ``subject``: an HMAC of their certificate
serial under the center's secret, so the log cannot be reversed by trying all 2^31 serials.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

import sqlalchemy as sa

from center.store.tables import audit_log

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x6B6F7566  # "kouf": PostgreSQL advisory lock id of the audit chain


def subject_of(serial: int, secret: bytes) -> str:
    """The keyed hash by which the center refers to one resident's certificate."""
    return hmac.new(secret, f"jpki-user-auth:{serial}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    event: str
    outcome: str
    reason: str | None = None
    terminal_id: str | None = None
    session_id: str | None = None
    subject: str | None = None


def _row_hash(prev_hash: str, at: dt.datetime, entry: AuditEntry) -> str:
    body = json.dumps(
        [prev_hash, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), entry.event,
         entry.outcome, entry.reason, entry.terminal_id, entry.session_id, entry.subject],
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(connection: sa.Connection, entry: AuditEntry, at: dt.datetime) -> str:
    """Add ``entry`` in the caller's transaction; returns its hash."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    last = connection.execute(
        sa.select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = last or GENESIS
    digest = _row_hash(prev_hash, at, entry)
    connection.execute(
        audit_log.insert().values(
            at=at, event=entry.event, outcome=entry.outcome, reason=entry.reason,
            terminal_id=entry.terminal_id, session_id=entry.session_id, subject=entry.subject,
            prev_hash=prev_hash, hash=digest,
        )
    )
    return digest


@dataclass(frozen=True)
class ChainReport:
    rows: int
    broken_at: int | None  # seq of the first row that does not verify

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain(connection: sa.Connection) -> ChainReport:
    prev_hash = GENESIS
    rows = 0
    for row in connection.execute(sa.select(audit_log).order_by(audit_log.c.seq)):
        rows += 1
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
        entry = AuditEntry(row.event, row.outcome, row.reason, row.terminal_id, row.session_id,
                           row.subject)
        if row.prev_hash != prev_hash or _row_hash(prev_hash, at, entry) != row.hash:
            return ChainReport(rows, row.seq)
        prev_hash = row.hash
    return ChainReport(rows, None)
