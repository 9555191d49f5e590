"""The center's use cases, free of HTTP: authenticate a terminal's request, open a session,
authenticate the resident in it. The web layer (``center/app.py``) only translates.

Every decision writes one audit line; a refusal writes nothing else. A decision's audit line and
its state change (the session opened, the challenge consumed) commit together, through the
process's :class:`~center.audit.AuditWriter`, which puts decisions arriving together into one
transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from cryptography import x509

from center import audit, terminals
from center.audit import AuditEntry
from center.authority_client import AuthorityClient, CertificateRecord
from center.calendar import CertificateType, Closed, Decision
from center.calendar_store import CalendarCache
from center.errors import CenterError, Conflict, NotFound, ResidentRefused, ServiceClosed
from center.jpki_verify import RevocationStatus, verify_resident
from center.protocol import resident_binding
from center.store.tables import sessions

log = logging.getLogger(__name__)
T = TypeVar("T")

CHALLENGE_BYTES = 32
SESSION_LIFETIME = dt.timedelta(seconds=180)  # from "place your card" to the card's signature


@dataclass(frozen=True)
class TerminalRequest:
    """A request as a terminal sent it: what its signature covers (header names lower-case)."""

    headers: dict[str, str]
    method: str
    path: str
    body: bytes


@dataclass(frozen=True)
class SessionOpened:
    session_id: str
    challenge: bytes
    expires_at: dt.datetime


@dataclass(frozen=True)
class ResidentAccepted:
    session_id: str
    municipality: str
    certificate_types: dict[CertificateType, Decision]


def refusal(decision: Closed) -> ServiceClosed:
    reopens = decision.reopens_at.isoformat() if decision.reopens_at else None
    return ServiceClosed.from_decision(decision.reason_code.value, decision.message_ja,
                                       decision.message_en, reopens)


_INSERT_SESSION = sessions.insert()
_CHALLENGE = sa.select(sessions.c.challenge, sessions.c.expires_at, sessions.c.consumed_at).where(
    sessions.c.id == sa.bindparam("session_id"), sessions.c.terminal_id == sa.bindparam("terminal_id"))
_CONSUME = sessions.update().where(
    sessions.c.id == sa.bindparam("which_session"), sessions.c.terminal_id == sa.bindparam("which_terminal"),
    sessions.c.consumed_at.is_(None))


class _AuthorityQuestions:
    """The two questions about a card for the authority, asked at once.

    ``verify_resident`` asks for the revocation status only when the card's own checks have
    passed (chain, validity, signature); at that moment the municipality is asked for too, in
    another thread, so a card not seen before costs one round trip to the authority, not two.
    """

    def __init__(self, authority: AuthorityClient, pool: ThreadPoolExecutor) -> None:
        self._authority = authority
        self._pool = pool
        self._record: Future[CertificateRecord] | None = None

    def status(self, certificate: x509.Certificate, issuer: x509.Certificate) -> RevocationStatus:
        serial = certificate.serial_number
        if self._authority.cached_record(serial) is None:
            self._record = self._pool.submit(self._authority.record, serial)
        return self._authority.status(certificate, issuer)

    def record(self, serial: int) -> CertificateRecord:
        if self._record is not None:
            return self._record.result()
        return self._authority.record(serial)


class CenterService:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        anchors: Sequence[x509.Certificate],
        authority: AuthorityClient,
        audit_secret: bytes,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        session_lifetime: dt.timedelta = SESSION_LIFETIME,
    ) -> None:
        self.engine = engine
        self.session_lifetime = session_lifetime
        self.anchors = list(anchors)
        self.authority = authority
        self.audit_secret = audit_secret
        self.clock = clock
        self.calendar = CalendarCache(engine)
        self.decisions = audit.AuditWriter(engine)
        self.terminals = terminals.Authenticator(engine)
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")  # single statements
        self._questions = ThreadPoolExecutor(max_workers=32, thread_name_prefix="authority")

    def _audit(self, entry: AuditEntry) -> None:
        self.decisions.record(entry, self.clock())
        log.info("audit %s %s %s terminal=%s", entry.event, entry.outcome, entry.reason or "",
                 entry.terminal_id or "-")

    def _refused(self, event: str, error: CenterError, **fields: str | None) -> CenterError:
        self._audit(AuditEntry(event, "refused", error.code, **fields))
        return error

    # -- terminals -----------------------------------------------------------------------------

    def authenticate_terminal(self, request: TerminalRequest) -> str:
        claimed = request.headers.get("x-koufu-terminal") or None
        try:
            credentials = terminals.RequestCredentials.from_headers(request.headers)
            return self.terminals.authenticate(credentials, request.method, request.path, request.body,
                                               self.clock())
        except CenterError as error:
            raise self._refused("terminal_request", error, terminal_id=_printable(claimed)) from None

    def serve(self, request: TerminalRequest, work: Callable[[str], T]) -> T:
        """Authenticate the terminal that sent ``request``, then do ``work`` for it (its id)."""
        return work(self.authenticate_terminal(request))

    # -- sessions ------------------------------------------------------------------------------

    def open_session(self, terminal_id: str) -> SessionOpened:
        now = self.clock()
        decision = self.calendar.get(now).check(now)
        if isinstance(decision, Closed):
            raise self._refused("session_opened", refusal(decision), terminal_id=terminal_id)
        opened = SessionOpened(str(uuid.uuid4()), secrets.token_bytes(CHALLENGE_BYTES),
                               now + self.session_lifetime)

        def insert(connection: sa.Connection) -> None:
            connection.execute(_INSERT_SESSION, {
                "id": opened.session_id, "terminal_id": terminal_id, "challenge": opened.challenge,
                "created_at": now, "expires_at": opened.expires_at, "status": "open"})

        self.decisions.record(AuditEntry("session_opened", "accepted", None, terminal_id, opened.session_id),
                              now, apply=insert)
        return opened

    def authenticate_resident(self, terminal_id: str, session_id: str, certificate_der: bytes,
                              signature: bytes) -> ResidentAccepted:
        """Verify the card's proof for this session; consume the challenge exactly once."""
        fields: dict[str, str | None] = {"terminal_id": terminal_id, "session_id": session_id}
        try:
            now = self.clock()
            challenge = self._usable_challenge(terminal_id, session_id, now)
            questions = _AuthorityQuestions(self.authority, self._questions)
            verified = verify_resident(
                certificate_der, signature, resident_binding(session_id, terminal_id, challenge),
                anchors=self.anchors, revocation=questions, now=now,
            )
            fields["subject"] = audit.subject_of(verified.serial, self.audit_secret)
            record = questions.record(verified.serial)
            if record.status != "good":
                raise ResidentRefused("certificate_revoked", "the card's certificate has been revoked")
            calendar = self.calendar.get(now)
            decision = calendar.check(now, record.municipality)
            if isinstance(decision, Closed):
                raise refusal(decision)
            offered = calendar.open_types(now, record.municipality, list(CertificateType))
        except CenterError as error:
            raise self._refused("resident_authentication", error, **fields) from None

        def consume(connection: sa.Connection) -> None:
            consumed = connection.execute(_CONSUME, {
                "which_session": session_id, "which_terminal": terminal_id, "consumed_at": now,
                "status": "authenticated", "subject": fields["subject"],
                "municipality": record.municipality}).rowcount
            if consumed != 1:
                raise Conflict("challenge_used", "this session's challenge was already used")

        def refused(error: CenterError) -> AuditEntry:
            log.info("audit resident_authentication refused %s terminal=%s", error.code, terminal_id)
            return AuditEntry("resident_authentication", "refused", error.code, **fields)

        # a refusal here (the challenge used meanwhile) is audited by the writer itself
        self.decisions.record(AuditEntry("resident_authenticated", "accepted", None, **fields), now,
                              apply=consume, refused=refused)
        return ResidentAccepted(session_id, record.municipality, offered)

    def _usable_challenge(self, terminal_id: str, session_id: str, now: dt.datetime) -> bytes:
        with self._reads.connect() as connection:
            row = connection.execute(_CHALLENGE, {"session_id": session_id,
                                                  "terminal_id": terminal_id}).one_or_none()
        if row is None:
            raise NotFound("unknown_session", "no such session for this terminal")
        if row.consumed_at is not None:
            raise Conflict("challenge_used", "this session's challenge was already used")
        expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
        if now >= expires_at:
            raise Conflict("challenge_expired", "this session's challenge has expired")
        challenge: bytes = row.challenge
        return challenge


def _printable(text: str | None) -> str | None:
    """A claimed terminal id for the audit log, only if it looks like one (never raw input)."""
    if text is None:
        return None
    try:
        return terminals.check_terminal_id(text)
    except CenterError:
        return None
