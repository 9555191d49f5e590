"""The center's use cases, free of HTTP: authenticate a terminal's request, open a session,
authenticate the resident in it. The web layer (``center/app.py``) only translates.

They are coroutines on the process's event loop: the database (psycopg's asyncio support, or
aiosqlite), the authority (httpx) and the audit writer are awaited, never waited for in a thread.

Every decision writes one audit line; a refusal writes nothing else. A decision's audit line and
its state change (the session opened, the challenge consumed) commit together, through the
process's :class:`~center.audit.AuditWriter`, which puts decisions arriving together into one
transaction. Refusals of requests no enrolled terminal can be held to (unsigned, malformed, an
unknown terminal) are the exception: they are counted (:mod:`center.refusal_tally`) and the
housekeeping writes the counts, so junk never waits for the audit chain's lock, nor makes a real
decision wait.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Unpack

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519

from center import audit, heartbeats, terminals
from center.audit import AuditEntry, Change, Who
from center.authority_client import AuthorityClient, CertificateRecord, Revocation
from center.calendar import Closed, Decision
from center.calendar_store import CalendarCache
from center.errors import (
    BadRequest,
    CenterError,
    Conflict,
    IssuanceStopped,
    NotFound,
    ResidentRefused,
    ServiceClosed,
    UnattributedRequest,
)
from center.heartbeat_batch import Beat, HeartbeatBatches
from center.heartbeats import Heartbeat
from center.incidents import ActiveStops, IssuanceStop
from center.incidents_store import in_force
from center.jpki_verify import VerifiedResident, check_proof, check_revocation
from center.municipal_client import MunicipalClient
from center.orders import (
    DEFAULT_SHARES,
    ORDER_DEADLINE,
    FeeShares,
    OrderService,
    PlacedOrder,
    forget_holders,
)
from center.protocol import resident_binding
from center.refusal_tally import RefusalTally, summary_lines
from center.registration_relay import RegistrationRelay
from center.sealing_keys import SealingKeys
from center.signing import MAX_CLOCK_SKEW, Target
from center.store.driver import Database, Sql, stored_time
from documents import CertificateType, b64url_encode

log = logging.getLogger(__name__)

Source = Literal["residence", "domicile"]  # whose certificates: the residence's or the registered domicile's
CHALLENGE_BYTES = 32
SESSION_LIFETIME = dt.timedelta(seconds=180)  # from "place your card" to the card's signature
HOUSEKEEPING_INTERVAL = 60.0  # seconds


@dataclass(frozen=True)
class TerminalRequest:
    """A request as a terminal sent it: what its signature covers (header names lower-case)."""

    headers: dict[str, str]
    method: str
    path: str
    body: bytes
    query: str = "?"  # "?" and the query as sent (a bare "?" when there is none)


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
    stopped: dict[CertificateType, IssuanceStop]  # the types an operator stopped (交付停止)


def refusal(decision: Closed) -> ServiceClosed:
    reopens = decision.reopens_at.isoformat() if decision.reopens_at else None
    return ServiceClosed.from_decision(
        decision.reason_code.value, decision.message_ja, decision.message_en, reopens
    )


_INSERT_SESSION = Sql(
    "INSERT INTO sessions (id, terminal_id, challenge, created_at, expires_at, status) "
    "VALUES (:id, :terminal_id, :challenge, :created_at, :expires_at, 'open')"
)
_CHALLENGE = Sql(
    "SELECT challenge, expires_at, consumed_at FROM sessions "
    "WHERE id = :session_id AND terminal_id = :terminal_id"
)
_CONSUME = Sql(
    "UPDATE sessions SET consumed_at = :now, status = 'authenticated', subject = :subject, "
    "municipality = :municipality, holder_proof = :proof "
    "WHERE id = :session_id AND terminal_id = :terminal_id AND consumed_at IS NULL"
)


class CenterService:
    """The use cases of one center process, as coroutines of its event loop."""

    def __init__(
        self,
        database: Database,
        *,
        anchors: Sequence[x509.Certificate],
        authority: AuthorityClient,
        audit_secret: bytes,
        audit_chain_key: bytes,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        session_lifetime: dt.timedelta = SESSION_LIFETIME,
        municipalities: MunicipalClient | None = None,
        shares: FeeShares = DEFAULT_SHARES,
        order_deadline: dt.timedelta = ORDER_DEADLINE,
        housekeeping_interval: float = HOUSEKEEPING_INTERVAL,
    ) -> None:
        self.database = database
        self.session_lifetime = session_lifetime
        self.anchors = list(anchors)
        self.authority = authority
        self.audit_secret = audit_secret
        self.clock = clock
        self.calendar = CalendarCache(database)
        self.decisions = audit.AuditWriter(database, audit_chain_key)
        self.terminals = terminals.Authenticator(database)
        self.heartbeat_batches = HeartbeatBatches(database) if database.dialect == "postgresql" else None
        self.unattributed = RefusalTally(clock())
        self.municipalities = municipalities or MunicipalClient(ed25519.Ed25519PrivateKey.generate(), {})
        self.orders = OrderService(
            database, self.municipalities, self.decisions, shares=shares, clock=clock, deadline=order_deadline
        )
        self.sealing_keys = SealingKeys(database, self.municipalities, clock=clock)
        self.registrations = RegistrationRelay(
            database,
            self.municipalities,
            authority,
            self.sealing_keys,
            self.decisions,
            audit_secret=audit_secret,
            anchors=self.anchors,
            clock=clock,
        )
        self.housekeeping_interval = housekeeping_interval

    async def keep_house(self, every: float | None = None) -> None:
        """Forever, every ``every`` seconds: forget request nonces too old to be replayed, the
        holders of sessions too old to order in and terminals' history older than a week
        (:func:`center.heartbeats.prune`), and void the orders past their deadline; and,
        on a round of its own, tell the municipalities of voided orders, so a municipality that
        does not answer holds up no deadline (each center process does both; a second pass finds
        nothing); and, from its start, collect the municipalities' sealing keys that are missing
        or stale (:mod:`center.sealing_keys`). Errors are logged, never raised."""
        interval = self.housekeeping_interval if every is None else every
        await asyncio.gather(
            self._keep_records(interval), self._tell_voids(interval), self._collect_sealing_keys(interval)
        )

    async def _keep_records(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.write_unattributed()
            try:
                async with self.database.connection() as connection:
                    purged = await terminals.purge_nonces(connection, self.clock())
                    forgotten = await forget_holders(connection, self.clock())
                    pruned = await heartbeats.prune(connection, self.clock())
                log.debug(
                    "housekeeping: forgotten %d request nonces, %d sessions' holders, %d history rows",
                    purged,
                    forgotten,
                    pruned,
                )
                voided = await self.orders.expire()
                if voided:
                    log.info("housekeeping: %d orders past their deadline voided", voided)
            except Exception as error:
                log.warning("housekeeping failed (%s); trying again later", type(error).__name__)

    async def _tell_voids(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.orders.tell_voids()
            except Exception as error:
                log.warning("telling voids failed (%s); trying again later", type(error).__name__)

    async def _collect_sealing_keys(self, interval: float) -> None:
        while True:
            try:
                await self.sealing_keys.collect()
            except Exception as error:
                log.warning("collecting sealing keys failed (%s); trying again later", type(error).__name__)
            await asyncio.sleep(interval)

    async def write_unattributed(self) -> int:
        """The refusals counted since the last time (:mod:`center.refusal_tally`), one audit line
        per code; kept for the next time if they cannot be written. Returns how many were written."""
        since, counts = self.unattributed.take(self.clock())
        lines = summary_lines(counts)
        if not lines:
            return 0
        now = self.clock()
        try:
            await asyncio.gather(*(self.decisions.record(line, now) for line in lines))
        except Exception as error:
            self.unattributed.give_back(since, counts)
            log.warning("unattributed refusals not written (%s); kept for later", type(error).__name__)
            return 0
        total = sum(counts.values())
        log.info(
            "audit unattributed_requests: %d refused since %s (%s)",
            total,
            since.isoformat(timespec="seconds"),
            ", ".join(f"{code} {number}" for code, number in sorted(counts.items())),
        )
        return total

    async def close(self) -> None:
        await self.write_unattributed()  # what this process counted since its last housekeeping
        await self.decisions.close()
        if self.heartbeat_batches is not None:
            await self.heartbeat_batches.close()
        await self.authority.close()
        await self.municipalities.close()
        await self.database.close()

    async def _audit(self, entry: AuditEntry) -> None:
        await self.decisions.record(entry, self.clock())
        log.info(
            "audit %s %s %s terminal=%s",
            entry.event,
            entry.outcome,
            entry.reason or "",
            entry.terminal_id or "-",
        )

    async def _refused(self, event: str, error: CenterError, **fields: Unpack[Who]) -> CenterError:
        stop = error.stop_id if isinstance(error, IssuanceStopped) else None
        detail = None if stop is None else f"stop {stop}"  # which operator's stop refused it
        await self._audit(AuditEntry(event, "refused", error.code, **fields, detail=detail))
        return error

    async def stops_in_force(self) -> ActiveStops:
        """The operators' stops in force, read now (never cached: :mod:`center.incidents_store`)."""
        async with self.database.connection() as connection:
            return await in_force(connection)

    # -- terminals -----------------------------------------------------------------------------

    async def authenticate_terminal(self, request: TerminalRequest) -> str:
        claimed = None
        try:
            credentials = terminals.request_credentials(request.headers, request.body)
            claimed = credentials.signer
            target = Target(request.method, request.path, request.query)
            return await self.terminals.authenticate(credentials, target, self.clock())
        except UnattributedRequest as error:
            self.unattributed.count(error.code)  # counted, not audited: see center.refusal_tally
            raise error from None
        except CenterError as error:
            raise await self._refused("terminal_request", error, terminal_id=_printable(claimed)) from None

    async def terminal_alarm(self, terminal_id: str, causes: str, state: str) -> None:
        """A terminal's door or tamper alarm, or wrong staff codes in a row (``staff_code``), raised or
        cleared: one audit line (the operators' console lists them); the terminal itself refuses
        residents while a door or tamper alarm is raised."""
        log.warning("terminal %s alarm %s: %s", terminal_id, causes, state)
        await self._audit(AuditEntry("terminal_alarm", state, causes.replace("+", "_"), terminal_id))

    async def heartbeat(self, terminal_id: str, beat: Heartbeat) -> dt.datetime:
        """A terminal's heartbeat (死活監視), kept as its latest state (and a history row when that
        changed): the center's time of it. Not audited and not logged: thousands a second, and
        none is a decision. A last session that ends in the center's future (beyond the clock
        skew a signature may have) is no state of a terminal: ``invalid_body``."""
        now = self.clock()
        if _session_in_future(beat, now):
            raise BadRequest("invalid_body", "the last session cannot have ended in the future")
        async with self.database.connection() as connection:
            await heartbeats.record(connection, terminal_id, beat, now)
        return now

    async def signed_heartbeat(self, request: TerminalRequest, beat: Heartbeat) -> dt.datetime | None:
        """A terminal's heartbeat, authenticated and kept in one statement with the others this
        process receives meanwhile (:mod:`center.heartbeat_batch`): the center's time of it. Only
        on PostgreSQL, for a terminal whose key this process remembers and whose signature
        verifies with it; the refusals of the batch (a replay, a terminal not active) are audited
        as :meth:`authenticate_terminal` audits them. ``None`` when the full path must decide
        (:meth:`authenticate_terminal`, then :meth:`heartbeat`): then nothing was written, so the
        full path refuses in its own words, or accepts, as if this had not been tried."""
        now = self.clock()
        if self.heartbeat_batches is None or _session_in_future(beat, now):
            return None
        try:
            credentials = terminals.request_credentials(request.headers, request.body)
        except CenterError:
            return None
        target = Target(request.method, request.path, request.query)
        remembered = self.terminals.remembered(credentials, target, now)
        if remembered is None:
            return None
        signed, key = remembered
        verdict = await self.heartbeat_batches.keep(Beat(signed.signer, key, signed.nonce, beat, now))
        try:
            accepted = terminals.decided(verdict.status, verdict.same_key, verdict.recorded)
        except CenterError as error:
            terminal_id = _printable(signed.signer)
            raise await self._refused("terminal_request", error, terminal_id=terminal_id) from None
        return now if accepted else None

    # -- sessions ------------------------------------------------------------------------------

    async def open_session(self, terminal_id: str) -> SessionOpened:
        now = self.clock()
        decision = await self.calendar.check(now)
        if isinstance(decision, Closed):
            raise await self._refused("session_opened", refusal(decision), terminal_id=terminal_id)
        stop = (await self.stops_in_force()).for_session(terminal_id)
        if stop is not None:
            raise await self._refused("session_opened", stop.refusal(), terminal_id=terminal_id)
        opened = SessionOpened(
            str(uuid.uuid4()), secrets.token_bytes(CHALLENGE_BYTES), now + self.session_lifetime
        )
        insert = Change(
            _INSERT_SESSION,
            {
                "id": opened.session_id,
                "terminal_id": terminal_id,
                "challenge": opened.challenge,
                "created_at": now,
                "expires_at": opened.expires_at,
            },
        )
        await self.decisions.record(
            AuditEntry("session_opened", "accepted", None, terminal_id, opened.session_id), now, change=insert
        )
        return opened

    async def authenticate_resident(
        self, terminal_id: str, session_id: str, certificate_der: bytes, signature: bytes
    ) -> ResidentAccepted:
        """Verify the card's proof for this session; consume the challenge exactly once."""
        fields: Who = {"terminal_id": terminal_id, "session_id": session_id}
        try:
            now = self.clock()
            challenge = await self._usable_challenge(terminal_id, session_id, now)
            verified = check_proof(
                certificate_der,
                signature,
                resident_binding(session_id, terminal_id, challenge),
                anchors=self.anchors,
                now=now,
            )
            fields["subject"] = audit.subject_of(verified.serial, self.audit_secret)
            record, revocation = await self._ask_authority(verified)
            decision = await self.calendar.check(now, record.municipality)
            if isinstance(decision, Closed):
                raise refusal(decision)
            stops = await self.stops_in_force()
            stop = stops.for_resident(terminal_id, record.municipality)
            if stop is not None:
                raise stop.refusal()
            offered = await self.calendar.open_types(now, record.municipality)
            stopped = {kind: s for kind in CertificateType if (s := stops.for_certificate(kind.value))}
        except CenterError as error:
            raise await self._refused("resident_authentication", error, **fields) from None

        # matches no row if the challenge was used meanwhile (by another request or process)
        consume = Change(
            _CONSUME,
            {
                "session_id": session_id,
                "terminal_id": terminal_id,
                "now": now,
                "subject": fields["subject"],
                "municipality": record.municipality,
                "proof": json.dumps(
                    {  # for the municipality to check itself (center.municipal.holder_proof)
                        "certificate": b64url_encode(certificate_der),
                        "signature": b64url_encode(signature),
                        "challenge": b64url_encode(challenge),
                        "revocation": b64url_encode(revocation.ocsp),
                    }
                ),
            },
            refusal=Conflict("challenge_used", "this session's challenge was already used"),
        )

        def refused(error: CenterError) -> AuditEntry:
            log.info("audit resident_authentication refused %s terminal=%s", error.code, terminal_id)
            return AuditEntry("resident_authentication", "refused", error.code, **fields)

        # a refusal here (the challenge used meanwhile) is audited by the writer itself
        await self.decisions.record(
            AuditEntry("resident_authenticated", "accepted", None, **fields),
            now,
            change=consume,
            refused=refused,
        )
        return ResidentAccepted(session_id, record.municipality, offered, stopped)

    async def offer(self, terminal_id: str, session_id: str, source: Source = "residence") -> dict[str, Any]:
        """What the session's resident can have now: the offer of their municipality, or of the
        registered domicile they are routed to (``source`` ``domicile``: ``no_registration`` if
        none, :mod:`center.registration_relay`), each certificate also closed where an operator
        stopped it (:meth:`OrderService.offer`) or the service calendar closes it for that
        municipality (its reason and words then; the calendar's are said first)."""
        domicile = None
        if source == "domicile":
            domicile = await self.registrations.domicile_of(terminal_id, session_id)
        offered = await self.orders.offer(terminal_id, session_id, municipality=domicile)
        asked = domicile or offered["municipality"]
        decisions = await self.calendar.open_types(self.clock(), asked)
        for kind, decision in decisions.items():
            entry = offered["certificates"].get(kind.value)
            if entry is not None and isinstance(decision, Closed):
                entry.update(
                    available=False,
                    reason=decision.reason_code.value,
                    message_ja=decision.message_ja,
                    message_en=decision.message_en,
                )
        return offered

    async def place_order(
        self,
        terminal_id: str,
        session_id: str,
        idempotency_key: str,
        order: dict[str, Any],
        source: Source = "residence",
    ) -> PlacedOrder:
        """Place the session's order (:meth:`OrderService.place`) with their municipality, or
        (``source`` ``domicile``) with the registered domicile they are routed to: then the
        service calendar must let each certificate ordered be issued there now (else 403 with
        its reason, audited; the residence's was asked at the card's proof)."""
        if source == "residence":
            return await self.orders.place(terminal_id, session_id, idempotency_key, order)
        domicile = await self.registrations.domicile_of(terminal_id, session_id)
        now = self.clock()
        decisions = await self.calendar.open_types(now, domicile)
        for item in order.get("items") or []:
            kind = _certificate_type(item.get("certificate_type"))
            decision = None if kind is None else decisions.get(kind)
            if isinstance(decision, Closed):
                fields: Who = {"terminal_id": terminal_id, "session_id": session_id}
                raise await self._refused("order_placement", refusal(decision), **fields)
        return await self.orders.place(
            terminal_id, session_id, idempotency_key, {**order, "source": source}, municipality=domicile
        )

    async def _ask_authority(self, verified: VerifiedResident) -> tuple[CertificateRecord, Revocation]:
        """The card's municipality and its revocation status (the authority's signed OCSP answer,
        kept for the municipality to check too), asked of the authority at once: a card not seen
        before costs one round trip, not two. Only a good card passes."""
        revocation, record = await asyncio.gather(
            self.authority.revocation(verified.certificate, verified.issuer),
            self.authority.record(verified.serial),
            return_exceptions=True,
        )
        if isinstance(revocation, BaseException):
            raise revocation
        check_revocation(revocation.status)
        if isinstance(record, BaseException):
            raise record
        if record.status != "good":
            raise ResidentRefused("certificate_revoked", "the card's certificate has been revoked")
        return record, revocation

    async def _usable_challenge(self, terminal_id: str, session_id: str, now: dt.datetime) -> bytes:
        async with self.database.connection() as connection:
            row = await connection.one(_CHALLENGE, {"session_id": session_id, "terminal_id": terminal_id})
        if row is None:
            raise NotFound("unknown_session", "no such session for this terminal")
        if row["consumed_at"] is not None:
            raise Conflict("challenge_used", "this session's challenge was already used")
        if now >= stored_time(row["expires_at"]):
            raise Conflict("challenge_expired", "this session's challenge has expired")
        return bytes(row["challenge"])


def _certificate_type(value: object) -> CertificateType | None:
    """The certificate type an order's item names, if it names one (else the municipality's
    request format refuses the item)."""
    try:
        return CertificateType(str(value))
    except ValueError:
        return None


def _session_in_future(beat: Heartbeat, now: dt.datetime) -> bool:
    """Whether ``beat``'s last session ends in the center's future, beyond the clock skew a
    signature may have: no state of a terminal (``invalid_body``)."""
    return beat.last_session_at is not None and beat.last_session_at > now + MAX_CLOCK_SKEW


def _printable(text: str | None) -> str | None:
    """A claimed terminal id for the audit log, only if it looks like one (never raw input)."""
    if text is None:
        return None
    try:
        return terminals.check_terminal_id(text)
    except CenterError:
        return None
