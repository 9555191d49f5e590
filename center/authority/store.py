"""The authority's records (発行・失効の記録) in SQLite or PostgreSQL, through SQLAlchemy Core.

:class:`AuthorityStore` is the only module that speaks SQL. Every state change is one statement
or one transaction whose outcome the database decides (conditional UPDATEs, unique constraints),
so several server processes over one PostgreSQL database, or a server and the command line over
one SQLite file, never revoke twice or renew twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from center.authority import migrate
from center.authority.errors import (
    AlreadyRenewedError,
    AlreadyRevokedError,
    AuthorityStateError,
    CertificateStateError,
    DuplicateVerifierError,
    UnknownCertificateError,
    UnknownVerifierError,
)
from center.authority.reasons import RevocationReason
from center.authority.schema import certificates, crls, verifiers
from center.previous_serials import MAX_PREVIOUS_SERIALS


@dataclass(frozen=True)
class CertificateRecord:
    """What the authority remembers of one certificate: no personal fact, no certificate body."""

    serial: int
    kind: str  # "user-auth" or "signing" (CaKind values)
    generation: int
    municipality: str
    not_before: dt.datetime
    not_after: dt.datetime
    issued_at: dt.datetime
    revoked_at: dt.datetime | None = None
    revocation_reason: RevocationReason | None = None
    previous_serial: int | None = None
    # every serial this one renewed, newest first (``previous_serial`` first), at most 16
    previous_serials: tuple[int, ...] = ()
    answer: ProducedAnswer | None = None  # the pre-produced OCSP answer, if any

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def chain_after(renewed: CertificateRecord) -> tuple[int, ...]:
    """The previous serials of the certificate that renews ``renewed``: its serial, then its
    own chain, the 16 newest (older ones are left out)."""
    return (renewed.serial, *renewed.previous_serials)[:MAX_PREVIOUS_SERIALS]


@dataclass(frozen=True)
class ProducedAnswer:
    """An OCSP answer signed earlier for one certificate (RFC 5019 "pre-produced"): DER bytes and
    their thisUpdate."""

    der: bytes
    this_update: dt.datetime


@dataclass(frozen=True)
class RevokedEntry:
    serial: int
    revoked_at: dt.datetime
    reason: RevocationReason


@dataclass(frozen=True)
class StoredCrl:
    number: int
    this_update: dt.datetime
    next_update: dt.datetime
    content_digest: bytes
    der: bytes


class SerialTakenError(Exception):
    """Internal: the random serial is already used; the caller draws another."""


class AuthorityStore:
    """Certificates, verifiers and published CRLs; ``open(url)`` migrates before use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> AuthorityStore:
        engine = migrate.make_engine(url)
        migrate.upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise AuthorityStateError(f"authority database error: {type(exc).__name__}") from exc

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                connection.execution_options(sqlite_immediate=True)
                with connection.begin():
                    yield connection
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise AuthorityStateError(f"authority database error: {type(exc).__name__}") from exc

    # -- certificates ------------------------------------------------------------------------

    def add_certificate(self, record: CertificateRecord) -> None:
        """Record a newly issued certificate; :class:`SerialTakenError` if the serial is used."""
        try:
            with self._writing() as connection:
                connection.execute(insert(certificates).values(**_row(record)))
        except IntegrityError as exc:
            raise SerialTakenError(record.serial) from exc

    def get(self, serial: int) -> CertificateRecord | None:
        with self._reading() as connection:
            row = connection.execute(
                select(certificates).where(certificates.c.serial == serial)
            ).one_or_none()
        return _record(row) if row else None

    def require(self, serial: int) -> CertificateRecord:
        record = self.get(serial)
        if record is None:
            raise UnknownCertificateError(serial)
        return record

    def successor(self, serial: int) -> int | None:
        """The serial of the certificate that renewed ``serial``, if any."""
        with self._reading() as connection:
            value = connection.execute(
                select(certificates.c.serial).where(certificates.c.previous_serial == serial)
            ).scalar_one_or_none()
        return value

    def revoke(self, serial: int, reason: RevocationReason, at: dt.datetime) -> CertificateRecord:
        """失効: revoke a good certificate (:class:`AlreadyRevokedError` otherwise)."""
        with self._writing() as connection:
            changed = connection.execute(
                update(certificates)
                .where(certificates.c.serial == serial, certificates.c.revoked_at.is_(None))
                .values(revoked_at=at, revocation_reason=reason.value, **_NO_ANSWER)
            ).rowcount
        if not changed:
            record = self.require(serial)
            raise AlreadyRevokedError(serial, f"already revoked ({record.revocation_reason})")
        return self.require(serial)

    def release_hold(self, serial: int) -> CertificateRecord:
        """一時停止解除: lift a ``certificate_hold``; the only revocation that can be undone."""
        with self._writing() as connection:
            changed = connection.execute(
                update(certificates)
                .where(
                    certificates.c.serial == serial,
                    certificates.c.revocation_reason == RevocationReason.CERTIFICATE_HOLD.value,
                )
                .values(revoked_at=None, revocation_reason=None, **_NO_ANSWER)
            ).rowcount
        if not changed:
            self.require(serial)
            raise CertificateStateError(serial, "is not on hold")
        return self.require(serial)

    def add_renewal(self, record: CertificateRecord, at: dt.datetime) -> CertificateRecord:
        """更新: record ``record`` as the successor of ``record.previous_serial`` in one
        transaction, revoking the predecessor as superseded if it is still good. Its chain of
        previous serials must follow the predecessor's (:func:`chain_after`)."""
        previous = record.previous_serial
        assert previous is not None
        try:
            with self._writing() as connection:
                old = connection.execute(
                    select(certificates).where(certificates.c.serial == previous).with_for_update()
                ).one_or_none()
                if old is None:
                    raise UnknownCertificateError(previous)
                if record.previous_serials != chain_after(_record(old)):
                    raise CertificateStateError(previous, "a renewal's chain must follow its predecessor's")
                connection.execute(insert(certificates).values(**_row(record)))
                connection.execute(
                    update(certificates)
                    .where(certificates.c.serial == previous, certificates.c.revoked_at.is_(None))
                    .values(revoked_at=at, revocation_reason=RevocationReason.SUPERSEDED.value, **_NO_ANSWER)
                )
        except IntegrityError as exc:
            if self.successor(previous) is not None:
                raise AlreadyRenewedError(previous, "already renewed") from exc
            raise SerialTakenError(record.serial) from exc
        return self.require(record.serial)

    def keep_answer(self, record: CertificateRecord, answer: ProducedAnswer) -> bool:
        """Keep ``answer``, produced from ``record``, as the certificate's pre-produced OCSP
        answer, unless its status changed meanwhile (the row's revocation is compared in the
        same statement that writes, so an answer about a status that no longer holds is never
        kept). True if kept."""
        with self._writing() as connection:
            changed = connection.execute(
                update(certificates)
                .where(
                    certificates.c.serial == record.serial,
                    certificates.c.revoked_at.is_not_distinct_from(record.revoked_at),
                    certificates.c.revocation_reason.is_not_distinct_from(
                        record.revocation_reason.value if record.revocation_reason else None
                    ),
                )
                .values(ocsp_response=answer.der, ocsp_produced_at=answer.this_update)
            ).rowcount
        return bool(changed)

    def revoked_entries(self, kind: str, generation: int, now: dt.datetime) -> list[RevokedEntry]:
        """Revoked, unexpired certificates of one CA generation, by serial (a CRL's content)."""
        table = certificates.c
        with self._reading() as connection:
            rows = connection.execute(
                select(table.serial, table.revoked_at, table.revocation_reason)
                .where(
                    and_(
                        table.ca_kind == kind,
                        table.generation == generation,
                        table.revoked_at.is_not(None),
                        table.not_after >= now,
                    )
                )
                .order_by(table.serial)
            ).all()
        return [
            RevokedEntry(row.serial, row.revoked_at, RevocationReason(row.revocation_reason)) for row in rows
        ]

    # -- CRLs --------------------------------------------------------------------------------

    def latest_crl(self, kind: str, generation: int) -> StoredCrl | None:
        with self._reading() as connection:
            row = connection.execute(
                select(crls).where(crls.c.ca_kind == kind, crls.c.generation == generation)
            ).one_or_none()
        if row is None:
            return None
        return StoredCrl(row.number, row.this_update, row.next_update, row.content_digest, row.der)

    def publish_crl(self, kind: str, generation: int, crl: StoredCrl) -> bool:
        """Store ``crl`` as the latest if its number follows the stored one (compare and swap).

        False when another process published that number first: the caller reads it instead.
        """
        values = {
            "number": crl.number,
            "this_update": crl.this_update,
            "next_update": crl.next_update,
            "content_digest": crl.content_digest,
            "der": crl.der,
        }
        try:
            with self._writing() as connection:
                if crl.number == 1:
                    connection.execute(insert(crls).values(ca_kind=kind, generation=generation, **values))
                    return True
                changed = connection.execute(
                    update(crls)
                    .where(
                        crls.c.ca_kind == kind,
                        crls.c.generation == generation,
                        crls.c.number == crl.number - 1,
                    )
                    .values(**values)
                ).rowcount
                return bool(changed)
        except IntegrityError:
            return False

    # -- verifiers ---------------------------------------------------------------------------

    def add_verifier(self, name: str, token_hash: bytes, at: dt.datetime) -> None:
        try:
            with self._writing() as connection:
                connection.execute(insert(verifiers).values(name=name, token_hash=token_hash, created_at=at))
        except IntegrityError as exc:
            raise DuplicateVerifierError(f"a verifier named {name!r} is already registered") from exc

    def verifier_by_token_hash(self, token_hash: bytes) -> str | None:
        with self._reading() as connection:
            name: str | None = connection.execute(
                select(verifiers.c.name).where(verifiers.c.token_hash == token_hash)
            ).scalar_one_or_none()
        return name

    def remove_verifier(self, name: str) -> None:
        with self._writing() as connection:
            removed = connection.execute(delete(verifiers).where(verifiers.c.name == name)).rowcount
        if not removed:
            raise UnknownVerifierError(f"no verifier named {name!r}")

    def verifier_names(self) -> Sequence[str]:
        with self._reading() as connection:
            return list(connection.execute(select(verifiers.c.name).order_by(verifiers.c.name)).scalars())


_NO_ANSWER: dict[str, object] = {"ocsp_response": None, "ocsp_produced_at": None}


def _row(record: CertificateRecord) -> dict[str, object]:
    return {
        "serial": record.serial,
        "ca_kind": record.kind,
        "generation": record.generation,
        "municipality": record.municipality,
        "not_before": record.not_before,
        "not_after": record.not_after,
        "issued_at": record.issued_at,
        "revoked_at": record.revoked_at,
        "revocation_reason": record.revocation_reason.value if record.revocation_reason else None,
        "previous_serial": record.previous_serial,
        "previous_serials": " ".join(str(serial) for serial in record.previous_serials) or None,
        "ocsp_response": record.answer.der if record.answer else None,
        "ocsp_produced_at": record.answer.this_update if record.answer else None,
    }


def _record(row: Row[tuple[object, ...]]) -> CertificateRecord:
    return record_from(row._mapping)


def record_from(
    mapping: Mapping[Any, Any], time: Callable[[Any], dt.datetime] = lambda v: v
) -> CertificateRecord:
    """A row of ``jpki_certificates`` (SQLAlchemy's, or a driver's with ``time`` to read its times)."""
    reason = mapping["revocation_reason"]
    answer = mapping["ocsp_response"]
    chain = mapping["previous_serials"]
    return CertificateRecord(
        serial=mapping["serial"],
        kind=mapping["ca_kind"],
        generation=mapping["generation"],
        municipality=mapping["municipality"],
        not_before=time(mapping["not_before"]),
        not_after=time(mapping["not_after"]),
        issued_at=time(mapping["issued_at"]),
        revoked_at=None if mapping["revoked_at"] is None else time(mapping["revoked_at"]),
        revocation_reason=RevocationReason(reason) if reason else None,
        previous_serial=mapping["previous_serial"],
        previous_serials=tuple(int(serial) for serial in chain.split()) if chain else (),
        answer=(
            ProducedAnswer(bytes(answer), time(mapping["ocsp_produced_at"])) if answer is not None else None
        ),
    )
