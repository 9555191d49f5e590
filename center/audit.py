"""The audit log (監査ログ): append-only, tamper-evident, free of personal data.

Every security decision — a terminal's request refused, a session opened, a resident accepted or
refused, an operator's stop of issuance set or lifted (with the operator's name) — is one row.
Each row's hash covers its content and the previous row's hash, so editing, deleting or
reordering any row breaks every hash after it (:func:`verify_chain`). The hash is an
HMAC-SHA256 under the chain's key (``audit-chain.key``), kept in the center's directory and never
in the database: with a plain hash, whoever may write the database could rewrite a row and
recompute every hash after it; without the key they cannot. (Deleting the newest rows leaves a
shorter chain that verifies: ``koufu center audit-verify`` prints the head, for an operator to
note elsewhere.) Writers take a lock (an advisory lock on PostgreSQL; SQLite serialises writers
itself) so concurrent center processes extend one chain. Residents appear only as ``subject``: an
HMAC of their certificate serial under the center's secret (another key: ``audit.secret``), so the
log cannot be reversed by trying all 2^31 serials.

A center process writes its decisions through one :class:`AuditWriter`: each decision's audit
line commits together with the state change it stands for (a session opened, a challenge
consumed), and decisions arriving together share one transaction and one take of the chain's
lock (group commit), so the lock is not fought over once per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import sqlalchemy as sa

from center.errors import CenterError
from center.store.driver import Connection, Database, Reply, Sql
from center.store.tables import audit_log

log = logging.getLogger(__name__)

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x6B6F7566  # "kouf": PostgreSQL advisory lock id of the audit chain


def subject_of(serial: int, secret: bytes) -> str:
    """The keyed hash by which the center refers to one resident's certificate."""
    return hmac.new(secret, f"jpki-user-auth:{serial}".encode(), hashlib.sha256).hexdigest()


class Who(TypedDict, total=False):
    """Whom a decision's audit line is about: the fields of :class:`AuditEntry` that name someone."""

    terminal_id: str | None
    session_id: str | None
    subject: str | None


@dataclass(frozen=True)
class AuditEntry:
    event: str
    outcome: str
    reason: str | None = None
    terminal_id: str | None = None
    session_id: str | None = None
    subject: str | None = None
    occurrences: int | None = None  # a count of refusals (center.refusal_tally), else one decision
    actor: str | None = None  # who did an operator's action: a console account, or cli:USER
    detail: str | None = None  # what an operator's action concerned, or the stop that refused


CHAIN_CONTEXT = "koufu-audit-chain/1"  # what the chain's key signs, and nothing else


def _row_hash(key: bytes, prev_hash: str, at: dt.datetime, entry: AuditEntry) -> str:
    """The row's link in the chain: an HMAC under the chain's key of the previous row's hash and
    everything the row says. ``actor`` and ``detail`` (an operator's action) are linked only on a
    row that has one, after the other fields: the rows written before they existed verify as they
    were written."""
    operation = [] if entry.actor is None and entry.detail is None else [entry.actor, entry.detail]
    body = json.dumps(
        [
            CHAIN_CONTEXT,
            prev_hash,
            at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            entry.event,
            entry.outcome,
            entry.reason,
            entry.terminal_id,
            entry.session_id,
            entry.subject,
            entry.occurrences,
            *operation,
        ],
        separators=(",", ":"),
    )
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


_HEAD = Sql("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
# PostgreSQL: the chain's lock, held to the end of the transaction; the head is read after it is
# taken (READ COMMITTED: each statement sees what was committed before it began). SQLite: the
# transaction began with the database's write lock (BEGIN IMMEDIATE).
_CHAIN_LOCK = Sql(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY})")
_INSERT = Sql(
    "INSERT INTO audit_log (at, event, outcome, reason, terminal_id, session_id, subject, "
    "occurrences, actor, detail, prev_hash, hash) VALUES (:at, :event, :outcome, :reason, "
    ":terminal_id, :session_id, :subject, :occurrences, :actor, :detail, :prev_hash, :hash)"
)


async def chain_head(connection: Connection) -> Reply:
    """Take the chain's lock, held until the transaction ends, and ask for the chain's head."""
    if connection.dialect == "postgresql":
        await connection.send(_CHAIN_LOCK)
    return await connection.send(_HEAD)


async def append_many(
    connection: Connection, head: Reply, entries: Sequence[tuple[AuditEntry, dt.datetime]], key: bytes
) -> list[str]:
    """Add ``entries``, in this order, after ``head`` (from :func:`chain_head`, in the caller's
    transaction), linked under the chain's ``key``; returns their hashes."""
    last = await head.one()
    prev_hash = GENESIS if last is None else str(last["hash"])
    rows, hashes = [], []
    for entry, at in entries:
        digest = _row_hash(key, prev_hash, at, entry)
        rows.append(
            {
                "at": at,
                "event": entry.event,
                "outcome": entry.outcome,
                "reason": entry.reason,
                "terminal_id": entry.terminal_id,
                "session_id": entry.session_id,
                "subject": entry.subject,
                "occurrences": entry.occurrences,
                "actor": entry.actor,
                "detail": entry.detail,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        hashes.append(digest)
        prev_hash = digest
    await connection.execute_many(_INSERT, rows)
    return hashes


@dataclass(frozen=True)
class Change:
    """A decision's state change: one statement and its parameters. With ``refusal``, it must
    change exactly one row (an ``UPDATE … WHERE`` that still matches); if it changes none, the
    decision is refused with that error and nothing of it is written but its refusal line."""

    sql: Sql
    params: Mapping[str, Any]
    refusal: CenterError | None = None


@dataclass
class _Decision:
    entry: AuditEntry
    at: dt.datetime
    change: Change | None
    refused: Callable[[CenterError], AuditEntry] | None
    done: asyncio.Future[None]
    error: BaseException | None = None


class AuditWriter:
    """Writes one process's decisions: each with its state change, many in one transaction.

    :meth:`record` returns once its decision is committed. One task of the process's event loop
    writes; whatever arrives while it writes goes into its next transaction (so a lone decision
    waits for nothing, and under load the chain's lock is taken once per batch, not once per
    decision).
    """

    def __init__(self, database: Database, chain_key: bytes, *, max_batch: int = 64) -> None:
        if len(chain_key) < 32:
            raise ValueError("the audit chain's key must be at least 32 bytes")
        self.database = database
        self.chain_key = chain_key
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Decision] | None = None
        self._task: asyncio.Task[None] | None = None

    async def record(
        self,
        entry: AuditEntry,
        at: dt.datetime,
        *,
        change: Change | None = None,
        refused: Callable[[CenterError], AuditEntry] | None = None,
    ) -> None:
        """Commit ``entry``, and ``change`` with it.

        If the change refuses (see :class:`Change`), the line ``refused(error)`` is committed
        instead, and the error is raised here, already audited. A database error is raised as
        it is, with nothing written. A caller cancelled meanwhile (its client went away) does
        not withdraw its decision: it is written all the same.
        """
        if change is not None and change.refusal is not None and refused is None:
            raise ValueError("a change that may refuse needs its refusal line")
        decision = _Decision(entry, at, change, refused, asyncio.get_running_loop().create_future())
        self._writer().put_nowait(decision)
        await asyncio.shield(decision.done)
        if decision.error is not None:
            raise decision.error

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _writer(self) -> asyncio.Queue[_Decision]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(self._queue), name="audit-writer")
        return self._queue

    async def _run(self, decisions: asyncio.Queue[_Decision]) -> None:
        while True:
            batch = [await decisions.get()]
            while len(batch) < self.max_batch and not decisions.empty():
                batch.append(decisions.get_nowait())
            try:
                await self._write(batch)
            except Exception as error:
                # one decision's database error must not fail the others, nor a connection that
                # broke while idle (the database restarted) the decision that found it broken:
                # each is tried once more alone, on another connection
                log.warning(
                    "audit batch of %d failed (%s); writing its decisions one by one",
                    len(batch),
                    type(error).__name__,
                )
                for decision in batch:
                    try:
                        await self._write([decision])
                    except Exception as alone:
                        decision.error = alone
            finally:
                for decision in batch:
                    if not decision.done.done():
                        decision.done.set_result(None)

    async def _write(self, batch: list[_Decision]) -> None:
        """One transaction: the changes, then the chain's lock and head, then the audit lines.
        On PostgreSQL it is two round trips: everything up to the head travels together (the
        changes are sent before the lock is asked for, so a change waiting for a row that
        another process's batch holds never holds the chain's lock meanwhile), then the lines
        and the commit."""
        outcomes: list[CenterError | None] = []
        entries: list[tuple[AuditEntry, dt.datetime]] = []
        async with self.database.connection() as connection, connection.pipelined(), connection.transaction():
            replies = [
                None
                if decision.change is None
                else await connection.send(decision.change.sql, decision.change.params)
                for decision in batch
            ]
            head = await chain_head(connection)
            for decision, reply in zip(batch, replies, strict=True):
                refusal = decision.change.refusal if decision.change is not None else None
                changed = None if reply is None else await reply.changed()
                outcome = refusal if refusal is not None and changed != 1 else None
                entry = (
                    decision.entry
                    if outcome is None or decision.refused is None
                    else decision.refused(outcome)
                )
                entries.append((entry, decision.at))
                outcomes.append(outcome)
            await append_many(connection, head, entries, self.chain_key)
        for decision, outcome in zip(batch, outcomes, strict=True):
            decision.error = outcome


@dataclass(frozen=True)
class BrokenRow:
    """The first row that does not verify, and why: it does not follow the row before it (a row
    was deleted, inserted or reordered there), or its hash is not the chain key's (the row was
    changed, or written by someone without the key)."""

    seq: int
    at: dt.datetime | None  # None: the row is not there any more (an incremental check's mark)
    event: str
    why: str


@dataclass(frozen=True)
class ChainMark:
    """Where a verification that found the chain intact got to: its last row (``seq``, ``hash``)
    and how many rows there were up to it. An incremental verification starts from one."""

    seq: int = 0
    hash: str = GENESIS
    rows: int = 0


@dataclass(frozen=True)
class ChainReport:
    rows: int  # rows read: all of them, or up to the broken one (with a mark: counting its rows)
    broken: BrokenRow | None = None
    head: str = GENESIS  # the last row's hash, when intact: to be noted outside the database
    seq: int = 0  # the last row's seq, when intact
    checked: int = 0  # rows verified by this verification (incremental: those after its mark)

    @property
    def mark(self) -> ChainMark | None:
        """Where the next incremental verification may start (``None``: the chain is broken)."""
        return None if self.broken is not None else ChainMark(self.seq, self.head, self.rows)

    @property
    def broken_at(self) -> int | None:
        """The ``seq`` of the first row that does not verify."""
        return None if self.broken is None else self.broken.seq

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(connection: sa.Connection, key: bytes, *, since: ChainMark | None = None) -> ChainReport:
    """Every row in order, each against the row before it and the chain's ``key``; stops at the
    first that fails (every later one depends on it).

    With ``since`` (the :attr:`ChainReport.mark` of an earlier verification under this key), the
    **incremental** verification: only the rows after the mark are verified so, and the mark is
    checked to still hold (its row there, its hash the same and its link recomputed, as many rows
    up to it as then). That finds the new rows rewritten, the mark's row changed, and rows deleted
    or inserted before it; it does not find an older row changed in place, which only the full
    verification (without ``since``) finds."""
    prev_hash, rows, checked = GENESIS, 0, 0
    query = sa.select(audit_log).order_by(audit_log.c.seq)
    if since is not None and since.seq > 0:
        anchor = connection.execute(sa.select(audit_log).where(audit_log.c.seq == since.seq)).first()
        if anchor is None:
            return ChainReport(since.rows, BrokenRow(since.seq, None, "", "the row last verified is gone"))
        at = _aware(anchor.at)
        if anchor.hash != since.hash or not hmac.compare_digest(
            _row_hash(key, anchor.prev_hash, at, _entry(anchor)), anchor.hash
        ):
            return ChainReport(
                since.rows,
                BrokenRow(anchor.seq, at, anchor.event, "the row last verified was changed"),
            )
        before = connection.execute(
            sa.select(sa.func.count()).select_from(audit_log).where(audit_log.c.seq <= since.seq)
        ).scalar_one()
        if before != since.rows:
            moved = "rows before the row last verified were deleted or inserted"
            return ChainReport(since.rows, BrokenRow(anchor.seq, at, anchor.event, moved))
        prev_hash, rows = since.hash, since.rows
        query = query.where(audit_log.c.seq > since.seq)
    last_seq = since.seq if since is not None else 0
    for row in connection.execute(query):
        rows += 1
        checked += 1
        at = _aware(row.at)
        why = None
        if row.prev_hash != prev_hash:
            why = "it does not follow the row before it"
        elif not hmac.compare_digest(_row_hash(key, prev_hash, at, _entry(row)), row.hash):
            why = "its hash does not verify under the chain's key"
        if why is not None:
            return ChainReport(rows, BrokenRow(row.seq, at, row.event, why), checked=checked)
        prev_hash, last_seq = row.hash, row.seq
    return ChainReport(rows, None, prev_hash, last_seq, checked)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _entry(row: sa.Row[Any]) -> AuditEntry:
    """The decision a stored row says."""
    return AuditEntry(
        row.event,
        row.outcome,
        row.reason,
        row.terminal_id,
        row.session_id,
        row.subject,
        row.occurrences,
        row.actor,
        row.detail,
    )
