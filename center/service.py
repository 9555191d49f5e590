"""The center's use cases, free of HTTP: authenticate a terminal's request, open a session,
authenticate the resident in it. The web layer (``center/app.py``) only translates.

Every decision writes one audit line; a refusal writes nothing else (a failed transaction is
rolled back and the audit line is written in its own).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography import x509

from center import audit, terminals
from center.audit import AuditEntry
from center.authority_client import AuthorityClient
from center.calendar import CertificateType, Closed, Decision
from center.calendar_store import CalendarCache
from center.errors import CenterError, Conflict, NotFound, ResidentRefused, ServiceClosed
from center.jpki_verify import verify_resident
from center.protocol import resident_binding
from center.store.tables import sessions

log = logging.getLogger(__name__)

CHALLENGE_BYTES = 32
SESSION_LIFETIME = dt.timedelta(seconds=180)  # from "place your card" to the card's signature


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

    def _audit(self, entry: AuditEntry) -> None:
        with self.engine.begin() as connection:
            audit.append(connection, entry, self.clock())
        log.info("audit %s %s %s terminal=%s", entry.event, entry.outcome, entry.reason or "",
                 entry.terminal_id or "-")

    def _refused(self, event: str, error: CenterError, **fields: str | None) -> CenterError:
        self._audit(AuditEntry(event, "refused", error.code, **fields))
        return error

    # -- terminals -----------------------------------------------------------------------------

    def authenticate_terminal(self, headers: dict[str, str], method: str, path: str, body: bytes) -> str:
        claimed = headers.get("x-koufu-terminal") or None
        try:
            credentials = terminals.RequestCredentials.from_headers(headers)
            with self.engine.begin() as connection:
                return terminals.authenticate(connection, credentials, method, path, body, self.clock())
        except CenterError as error:
            raise self._refused("terminal_request", error, terminal_id=_printable(claimed)) from None

    # -- sessions ------------------------------------------------------------------------------

    def open_session(self, terminal_id: str) -> SessionOpened:
        now = self.clock()
        decision = self.calendar.get(now).check(now)
        if isinstance(decision, Closed):
            raise self._refused("session_opened", refusal(decision), terminal_id=terminal_id)
        opened = SessionOpened(str(uuid.uuid4()), secrets.token_bytes(CHALLENGE_BYTES),
                               now + self.session_lifetime)
        with self.engine.begin() as connection:
            connection.execute(sessions.insert().values(
                id=opened.session_id, terminal_id=terminal_id, challenge=opened.challenge,
                created_at=now, expires_at=opened.expires_at, status="open"))
            audit.append(connection, AuditEntry("session_opened", "accepted", None, terminal_id,
                                                opened.session_id), now)
        return opened

    def authenticate_resident(self, terminal_id: str, session_id: str, certificate_der: bytes,
                              signature: bytes) -> ResidentAccepted:
        """Verify the card's proof for this session; consume the challenge exactly once."""
        fields: dict[str, str | None] = {"terminal_id": terminal_id, "session_id": session_id}
        try:
            now = self.clock()
            challenge = self._usable_challenge(terminal_id, session_id, now)
            verified = verify_resident(
                certificate_der, signature, resident_binding(session_id, terminal_id, challenge),
                anchors=self.anchors, revocation=self.authority, now=now,
            )
            fields["subject"] = audit.subject_of(verified.serial, self.audit_secret)
            record = self.authority.record(verified.serial)
            if record.status != "good":
                raise ResidentRefused("certificate_revoked", "the card's certificate has been revoked")
            calendar = self.calendar.get(now)
            decision = calendar.check(now, record.municipality)
            if isinstance(decision, Closed):
                raise refusal(decision)
            offered = calendar.open_types(now, record.municipality, list(CertificateType))
            with self.engine.begin() as connection:
                consumed = connection.execute(
                    sessions.update()
                    .where(sessions.c.id == session_id, sessions.c.terminal_id == terminal_id,
                           sessions.c.consumed_at.is_(None))
                    .values(consumed_at=now, status="authenticated", subject=fields["subject"],
                            municipality=record.municipality)
                ).rowcount
                if consumed != 1:
                    raise Conflict("challenge_used", "this session's challenge was already used")
                audit.append(connection, AuditEntry("resident_authenticated", "accepted", None,
                                                    **fields), now)
            return ResidentAccepted(session_id, record.municipality, offered)
        except CenterError as error:
            raise self._refused("resident_authentication", error, **fields) from None

    def _usable_challenge(self, terminal_id: str, session_id: str, now: dt.datetime) -> bytes:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(sessions.c.challenge, sessions.c.expires_at, sessions.c.consumed_at)
                .where(sessions.c.id == session_id, sessions.c.terminal_id == terminal_id)
            ).one_or_none()
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
