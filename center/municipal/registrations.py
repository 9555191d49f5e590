"""Usage registrations for the registered domicile (本籍地の利用登録): the domicile
municipality's side.

A resident of another municipality whose family register (戸籍) is kept here applies once, at a
terminal (利用登録申請); from its approval on, the terminal's 「本籍地」 choice issues this
municipality's 戸籍証明書 and 戸籍の附票の写し to them. How the application travels and where the
applicant's identity comes from is the protocol's business; this module is what the municipality
does with it:

- :meth:`Registrations.apply` matches the application to a register entry
  (:mod:`~center.municipal.domicile_match`). A match is recorded ``pending``, to be approved by the
  rule at the start of the Nth business day after the application day
  (:mod:`~center.municipal.business_days`, N from the settings); no match is recorded ``denied``
  at once and answered with :class:`RegistrationRefused`. A card that already has a live
  registration gets that one back, never a second.
- The staff decide sooner (:meth:`~Registrations.approve`, :meth:`~Registrations.deny` with a
  :class:`~center.municipal.domicile_match.DenialReason`); the protocol suspends a registration
  whose card was revoked and resumes it (:meth:`~Registrations.suspend`,
  :meth:`~Registrations.resume`).

What is kept: the matched entry (register id and position), the serial the card applied with,
the dates and the decision. Not kept: what the applicant typed (本籍, 筆頭者) nor their name; the
entry says all of it, in the register's own words, and a refused application keeps nothing
typed at all.

The rule's approvals are written at the first read after they are due, by whoever reads
(every method), with the instant the rule set (``decided_at`` is ``approves_at``, not the
reader's time): the record is the same whenever it is read, no periodic job is needed, and the
time is the server's clock (injected), never the machine's.

Each decision is one transaction and idempotent: the same decision again returns the
registration unchanged; a decision its state does not allow (approving a denied one, denying an
approved one: suspend it instead) is :class:`DecisionNotAllowed`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from center.municipal import schema
from center.municipal.business_days import approval_instant
from center.municipal.domicile_match import Applicant, DenialReason, Match, match
from center.municipal.stored_settings import load_settings

log = logging.getLogger(__name__)

RULE = schema.RULE
_TABLE = schema.domicile_registrations
_SERIALS = schema.domicile_registration_serials


class Status(StrEnum):
    PENDING = "pending"  # 審査中: approved by the rule when due, unless the staff decide sooner
    APPROVED = "approved"  # 登録済み: the 本籍地 choice issues its certificates
    DENIED = "denied"  # 不承認
    SUSPENDED = "suspended"  # 停止: the card was revoked (resumed when it is valid again)


class RegistrationError(Exception):
    """A usage registration request the municipality cannot serve (``code`` is stable)."""

    code = "registration_error"


class UnknownRegistration(RegistrationError):
    code = "unknown_registration"

    def __init__(self, registration_id: str) -> None:
        super().__init__(f"no usage registration {registration_id}")


class DecisionNotAllowed(RegistrationError):
    """The registration's state does not allow the decision (e.g. approving a denied one)."""

    code = "decision_not_allowed"

    def __init__(self, registration_id: str, status: Status, action: str) -> None:
        super().__init__(f"usage registration {registration_id} is {status.value}: it cannot be {action}")
        self.registration_id = registration_id
        self.status = status
        self.action = action


class BadStaffName(RegistrationError):
    code = "bad_staff_name"


class SerialTaken(RegistrationError):
    """A certificate serial is already known by another registration."""

    code = "serial_taken"


class RegistrationRefused(RegistrationError):
    """The application was refused at once (recorded ``denied``); words for the kiosk."""

    code = "registration_refused"

    def __init__(self, reason: DenialReason, registration_id: str) -> None:
        super().__init__(f"{reason.value}: {reason.message_en}")
        self.reason = reason
        self.registration_id = registration_id

    @property
    def message_ja(self) -> str:
        return self.reason.message_ja

    @property
    def message_en(self) -> str:
        return self.reason.message_en


@dataclass(frozen=True)
class Registration:
    """One usage registration as recorded."""

    id: str
    certificate_serial: int  # the card it was applied with
    entry: Match | None  # the register entry (none: refused at once)
    status: Status
    applied_at: dt.datetime
    approves_at: dt.datetime | None  # when the rule approves it (none: refused at once)
    decided_at: dt.datetime | None
    decided_by: str | None  # a staff member, or "rule"
    denial_reason: DenialReason | None
    suspended_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Registration:
        entry = Match(row.register_id, row.position) if row.register_id is not None else None
        reason = DenialReason(row.denial_reason) if row.denial_reason is not None else None
        return cls(
            row.id,
            row.certificate_serial,
            entry,
            Status(row.status),
            row.applied_at,
            row.approves_at,
            row.decided_at,
            row.decided_by,
            reason,
            row.suspended_at,
        )


def staff_name(text: str) -> str:
    """A staff member's name as recorded: 1-64 printable characters, and not ``rule``."""
    name = text.strip()
    if not 1 <= len(name) <= 64 or any(unicodedata.category(char)[0] == "C" for char in name):
        raise BadStaffName("a staff name is 1-64 printable characters")
    if name.casefold() == RULE:
        raise BadStaffName(f"{RULE!r} is the business-day rule, not a staff member")
    return name


def settle_due(connection: sa.Connection, now: dt.datetime) -> int:
    """Record the rule's approvals that are due by ``now`` (at their own instant); how many."""
    return connection.execute(
        _TABLE.update()
        .where(_TABLE.c.status == Status.PENDING.value, _TABLE.c.approves_at <= now)
        .values(status=Status.APPROVED.value, decided_at=_TABLE.c.approves_at, decided_by=RULE)
    ).rowcount


class Registrations:
    """The municipality's usage registrations, on its database, with its clock."""

    def __init__(
        self, engine: sa.Engine, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    ) -> None:
        self.engine = engine
        self.clock = clock

    @contextmanager
    def _transaction(self) -> Iterator[tuple[sa.Connection, dt.datetime]]:
        """One writing transaction (the rule's due approvals recorded first) and its instant."""
        now = self.clock()
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                settle_due(connection, now)
                yield connection, now

    # -- reading -----------------------------------------------------------------------------------

    def get(self, registration_id: str) -> Registration:
        with self._transaction() as (connection, _):
            return self._row(connection, registration_id)

    def for_serial(self, certificate_serial: int) -> Registration | None:
        """The live (not denied) registration this card's serial is known by."""
        with self._transaction() as (connection, _):
            return self._by_serial(connection, certificate_serial)

    def latest_denied(self, certificate_serials: Sequence[int]) -> Registration | None:
        """The newest denied registration applied for with one of these serials (a denial keeps
        no serial in the live mapping: this is how the applicant is told why, later)."""
        if not certificate_serials:
            return None
        with self._transaction() as (connection, _):
            row = connection.execute(
                sa.select(_TABLE)
                .where(
                    _TABLE.c.status == Status.DENIED.value,
                    _TABLE.c.certificate_serial.in_(list(certificate_serials)),
                )
                .order_by(_TABLE.c.applied_at.desc(), _TABLE.c.id)
                .limit(1)
            ).first()
            return Registration.from_row(row) if row is not None else None

    def newest_serials(self) -> list[tuple[Registration, int]]:
        """Every pending or approved registration and the newest serial it is known by (the one
        linked last: a renewed card's, else the one it was applied with)."""
        with self._transaction() as (connection, _):
            rows = connection.execute(
                sa.select(_TABLE, _SERIALS.c.certificate_serial.label("known_serial"))
                .join(_SERIALS, _SERIALS.c.registration_id == _TABLE.c.id)
                .where(_TABLE.c.status.in_((Status.PENDING.value, Status.APPROVED.value)))
                .order_by(_TABLE.c.id, _SERIALS.c.linked_at.desc(), _SERIALS.c.certificate_serial.desc())
            ).all()
        newest: dict[str, tuple[Registration, int]] = {}
        for row in rows:
            newest.setdefault(row.id, (Registration.from_row(row), row.known_serial))
        return list(newest.values())

    def listed(self, status: Status | None = None) -> list[Registration]:
        """Every registration (of one status), oldest application first."""
        query = sa.select(_TABLE).order_by(_TABLE.c.applied_at, _TABLE.c.id)
        if status is not None:
            query = query.where(_TABLE.c.status == status.value)
        with self._transaction() as (connection, _):
            return [Registration.from_row(row) for row in connection.execute(query)]

    # -- the application ---------------------------------------------------------------------------

    def apply(
        self, applicant: Applicant, domicile: str, head_name: str, certificate_serial: int
    ) -> Registration:
        """Record an application (利用登録申請): the existing live registration of this card, a
        new ``pending`` one, or :class:`RegistrationRefused` (recorded ``denied``)."""
        if certificate_serial < 1:
            raise ValueError("certificate serials are positive")
        registration_id = secrets.token_hex(16)
        with self._transaction() as (connection, now):
            existing = self._by_serial(connection, certificate_serial)
            if existing is not None:
                return existing
            found = match(connection, applicant, domicile, head_name)
            values: dict[str, Any] = {
                "id": registration_id,
                "certificate_serial": certificate_serial,
                "applied_at": now,
            }
            if isinstance(found, DenialReason):
                connection.execute(
                    _TABLE.insert().values(
                        **values,
                        status=Status.DENIED.value,
                        denial_reason=found.value,
                        decided_at=now,
                        decided_by=RULE,
                    )
                )
            else:
                days = load_settings(connection).registration_days
                try:
                    with connection.begin_nested():
                        connection.execute(
                            _TABLE.insert().values(
                                **values,
                                register_id=found.register_id,
                                position=found.position,
                                status=Status.PENDING.value,
                                approves_at=approval_instant(now, days),
                            )
                        )
                        connection.execute(
                            _SERIALS.insert().values(
                                certificate_serial=certificate_serial,
                                registration_id=registration_id,
                                linked_at=now,
                            )
                        )
                except sa.exc.IntegrityError:  # the same card applied at the same time
                    existing = self._by_serial(connection, certificate_serial)
                    if existing is None:
                        raise
                    return existing
                registration = self._row(connection, registration_id)
        if isinstance(found, DenialReason):
            log.info("usage registration %s refused: %s", registration_id, found.value)
            raise RegistrationRefused(found, registration_id)
        log.info("usage registration %s pending", registration_id)
        return registration

    # -- decisions ---------------------------------------------------------------------------------

    def approve(self, registration_id: str, by: str) -> Registration:
        """承認 by the staff, before the rule's day."""
        by = staff_name(by)
        with self._transaction() as (connection, now):
            current = self._row(connection, registration_id, lock=True)
            if current.status is Status.APPROVED:
                return current
            if current.status is not Status.PENDING:
                raise DecisionNotAllowed(registration_id, current.status, "approved")
            self._update(
                connection, registration_id, status=Status.APPROVED.value, decided_at=now, decided_by=by
            )
            registration = self._row(connection, registration_id)
        log.info("usage registration %s approved by the staff", registration_id)
        return registration

    def deny(self, registration_id: str, reason: DenialReason, by: str) -> Registration:
        """不承認 by the staff, with a reason the kiosk can show; the card's serials are let go
        (the applicant may apply again)."""
        by = staff_name(by)
        with self._transaction() as (connection, now):
            current = self._row(connection, registration_id, lock=True)
            if current.status is Status.DENIED and current.denial_reason is reason:
                return current
            if current.status is not Status.PENDING:
                raise DecisionNotAllowed(registration_id, current.status, "denied")
            self._update(
                connection,
                registration_id,
                status=Status.DENIED.value,
                denial_reason=reason.value,
                decided_at=now,
                decided_by=by,
            )
            connection.execute(_SERIALS.delete().where(_SERIALS.c.registration_id == registration_id))
            registration = self._row(connection, registration_id)
        log.info("usage registration %s denied: %s", registration_id, reason.value)
        return registration

    def suspend(self, registration_id: str) -> Registration:
        """停止 (the card was revoked): nothing is issued under it until it is resumed."""
        with self._transaction() as (connection, now):
            current = self._row(connection, registration_id, lock=True)
            if current.status is Status.SUSPENDED:
                return current
            if current.status is Status.DENIED:
                raise DecisionNotAllowed(registration_id, current.status, "suspended")
            self._update(connection, registration_id, status=Status.SUSPENDED.value, suspended_at=now)
            registration = self._row(connection, registration_id)
        log.info("usage registration %s suspended", registration_id)
        return registration

    def resume(self, registration_id: str) -> Registration:
        """The end of a suspension: approved again if it was decided, else pending (and approved
        by the rule when due)."""
        with self._transaction() as (connection, now):
            current = self._row(connection, registration_id, lock=True)
            if current.status in (Status.PENDING, Status.APPROVED):
                return current
            if current.status is Status.DENIED:
                raise DecisionNotAllowed(registration_id, current.status, "resumed")
            status = Status.APPROVED if current.decided_at is not None else Status.PENDING
            self._update(connection, registration_id, status=status.value, suspended_at=None)
            settle_due(connection, now)
            registration = self._row(connection, registration_id)
        log.info("usage registration %s resumed", registration_id)
        return registration

    def add_serial(self, registration_id: str, certificate_serial: int) -> Registration:
        """A renewed card's serial (the authority links renewals) is known by this registration."""
        if certificate_serial < 1:
            raise ValueError("certificate serials are positive")
        with self._transaction() as (connection, now):
            current = self._row(connection, registration_id, lock=True)
            if current.status is Status.DENIED:
                raise DecisionNotAllowed(registration_id, current.status, "given a serial")
            known = connection.execute(
                sa.select(_SERIALS.c.registration_id).where(
                    _SERIALS.c.certificate_serial == certificate_serial
                )
            ).scalar_one_or_none()
            if known is None:
                connection.execute(
                    _SERIALS.insert().values(
                        certificate_serial=certificate_serial,
                        registration_id=registration_id,
                        linked_at=now,
                    )
                )
            elif known != registration_id:
                raise SerialTaken(f"the serial is known by another registration than {registration_id}")
            return current

    # -- rows ----------------------------------------------------------------------------------------

    def _row(self, connection: sa.Connection, registration_id: str, lock: bool = False) -> Registration:
        query = sa.select(_TABLE).where(_TABLE.c.id == registration_id)
        row = connection.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise UnknownRegistration(registration_id)
        return Registration.from_row(row)

    def _by_serial(self, connection: sa.Connection, certificate_serial: int) -> Registration | None:
        row = connection.execute(
            sa.select(_TABLE)
            .join(_SERIALS, _SERIALS.c.registration_id == _TABLE.c.id)
            .where(_SERIALS.c.certificate_serial == certificate_serial)
        ).first()
        return Registration.from_row(row) if row is not None else None

    def _update(self, connection: sa.Connection, registration_id: str, **values: Any) -> None:
        connection.execute(_TABLE.update().where(_TABLE.c.id == registration_id).values(**values))
