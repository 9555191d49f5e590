"""The audit log (監査ログ): append-only, tamper-evident, free of personal data.

Every security decision — a terminal request refused, a session opened, a resident accepted or
refused — is one row. Each row's hash covers its content and the previous row's hash, so editing,
deleting or reordering any row breaks every hash after it (:func:`verify_chain`). Writers take a
lock (an advisory lock on PostgreSQL; SQLite serialises writers itself) so concurrent center
processes extend one chain. Residents appear only as ``subject``: an HMAC of their certificate
serial under the center's secret, so the log cannot be reversed by trying all 2^31 serials.

A center process writes its decisions through one :class:`AuditWriter`: each decision's audit
line commits together with the state change it stands for (a session opened, a challenge
consumed), and decisions arriving together share one transaction and one take of the chain's
lock (group commit), so the lock is not fought over once per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from center.errors import CenterError
from center.store.engine import write_lock
from center.store.tables import audit_log

log = logging.getLogger(__name__)

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


_HEAD = sa.select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
_INSERT = audit_log.insert()
# PostgreSQL: take the lock, then read the head, in one round trip (two statements of one simple
# query: the second reads with a snapshot taken after the first has the lock)
_LOCKED_HEAD = (f"SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY}); "
                "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")


def append(connection: sa.Connection, entry: AuditEntry, at: dt.datetime) -> str:
    """Add ``entry`` in the caller's transaction; returns its hash."""
    return append_many(connection, [(entry, at)])[-1]


def append_many(connection: sa.Connection, entries: Sequence[tuple[AuditEntry, dt.datetime]]) -> list[str]:
    """Add ``entries``, in this order, in the caller's transaction; returns their hashes.

    The chain's head is read under the chain's lock, held until the transaction ends: on
    PostgreSQL an advisory lock; on SQLite the database's write lock, taken first.
    """
    if connection.dialect.name == "postgresql":
        prev_hash = _locked_head(connection) or GENESIS
    else:
        if connection.dialect.name == "sqlite":
            _sqlite_write_lock(connection)
        prev_hash = connection.execute(_HEAD).scalar_one_or_none() or GENESIS
    rows, hashes = [], []
    for entry, at in entries:
        digest = _row_hash(prev_hash, at, entry)
        rows.append({"at": at, "event": entry.event, "outcome": entry.outcome, "reason": entry.reason,
                     "terminal_id": entry.terminal_id, "session_id": entry.session_id,
                     "subject": entry.subject, "prev_hash": prev_hash, "hash": digest})
        hashes.append(digest)
        prev_hash = digest
    connection.execute(_INSERT, rows)
    return hashes


def _locked_head(connection: sa.Connection) -> str | None:
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(_LOCKED_HEAD)
        cursor.nextset()
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else str(row[0])


def _sqlite_write_lock(connection: sa.Connection) -> None:
    """Take SQLite's write lock now, before the chain's head is read (Python's sqlite3 begins a
    transaction only at the first write, so a read before it could see a head another process
    is about to extend)."""
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class _Decision:
    entry: AuditEntry
    at: dt.datetime
    apply: Callable[[sa.Connection], None] | None
    refused: Callable[[CenterError], AuditEntry] | None
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class AuditWriter:
    """Writes one process's decisions: each with its state change, many in one transaction.

    :meth:`record` returns once its decision is committed. One thread writes; whatever arrives
    while it writes goes into its next transaction (so a lone decision waits for nothing, and
    under load the chain's lock is taken once per batch, not once per decision).
    """

    def __init__(self, engine: sa.Engine, *, max_batch: int = 64) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Decision] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._connection: sa.Connection | None = None  # the writer thread's own, kept between batches

    def record(self, entry: AuditEntry, at: dt.datetime, *,
               apply: Callable[[sa.Connection], None] | None = None,
               refused: Callable[[CenterError], AuditEntry] | None = None) -> None:
        """Commit ``entry``, and ``apply``'s changes with it.

        ``apply`` runs in the transaction and may raise a :class:`CenterError` to refuse, before it
        changes anything (e.g. an ``UPDATE … WHERE`` that matched no row): then the line
        ``refused(error)`` is committed instead, and the error is raised here, already audited.
        A database error is raised as it is, with nothing written.
        """
        decision = _Decision(entry, at, apply, refused)
        self._ensure_thread()
        self._queue.put(decision)
        decision.done.wait()
        if decision.error is not None:
            raise decision.error

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except Exception as error:
                # one decision's database error must not fail the others, nor a connection that
                # broke while idle (the database restarted) the decision that found it broken:
                # each is tried once more alone, on a fresh connection
                log.warning("audit batch of %d failed (%s); writing its decisions one by one",
                            len(batch), type(error).__name__)
                for decision in batch:
                    try:
                        self._write([decision])
                    except Exception as alone:
                        decision.error = alone
            finally:
                for decision in batch:
                    decision.done.set()

    def _write(self, batch: list[_Decision]) -> None:
        if self._connection is None:
            self._connection = self.engine.connect()
        try:
            with write_lock(self.engine):
                self._write_on(self._connection, batch)
        except Exception:  # the connection may be broken: the next batch gets another one
            connection, self._connection = self._connection, None
            try:
                connection.invalidate()
                connection.close()
            except Exception:
                log.debug("discarding the audit writer's connection failed", exc_info=True)
            raise

    def _write_on(self, connection: sa.Connection, batch: list[_Decision]) -> None:
        outcomes: list[CenterError | None] = []
        entries: list[tuple[AuditEntry, dt.datetime]] = []
        with connection.begin():
            if connection.dialect.name == "sqlite":
                _sqlite_write_lock(connection)
            for decision in batch:
                outcome = None
                if decision.apply is not None:
                    try:
                        decision.apply(connection)
                    except CenterError as error:  # an apply refuses before it changes anything
                        outcome = error
                if outcome is not None and decision.refused is None:
                    raise RuntimeError("a refused decision needs its refusal line")
                entry = decision.entry if outcome is None or decision.refused is None \
                    else decision.refused(outcome)
                entries.append((entry, decision.at))
                outcomes.append(outcome)
            append_many(connection, entries)
        for decision, outcome in zip(batch, outcomes, strict=True):
            decision.error = outcome


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
