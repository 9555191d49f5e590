"""The JPKI authority as one object: issue, revoke, renew, answer status, OCSP and CRLs.

:class:`AuthorityService` joins the CA key material (:class:`TestAuthority`) and the records
(:class:`AuthorityStore`). It is what the card personalisation, the command line, the HTTP
server and the tests of the center use in-process; it imports no web framework.

The database learns, per certificate, only the 地方公共団体コード of the municipality the holder
belongs to (the 住基ネット mapping). The birth date or the four facts needed to issue a certificate
are given by the caller (the municipality's counter, or the card emulator) and forgotten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from center.authority import issuance, migrate
from center.authority.ca import TestAuthority
from center.authority.crl import CRL_REFRESH, build_crl, content_digest
from center.authority.errors import (
    AlreadyRenewedError,
    AuthorityStateError,
    CertificateStateError,
    InvalidSerialError,
    IssuanceRefusedError,
    UnauthorizedError,
    UnknownGenerationError,
    VerifierError,
)
from center.authority.generation import CaKind, CertificationAuthority
from center.authority.issuance import SigningFacts
from center.authority.keys import KeyFactory, generate_key, new_serial
from center.authority.municipality import municipality_code
from center.authority.ocsp import OcspResponder
from center.authority.reasons import RevocationReason
from center.authority.store import (
    AuthorityStore,
    CertificateRecord,
    ProducedAnswer,
    SerialTakenError,
    StoredCrl,
    chain_after,
)

MAX_SERIAL = 2**63 - 1  # the database's BIGINT; JPKI serials are 4 bytes anyway
TOKEN_PREFIX = "kav_"  # koufu authority verifier: easy to spot in a leaked file
_SERIAL_ATTEMPTS = 8

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_digest(token: str) -> bytes:
    """What the database keeps of a bearer token: SHA-256 (tokens carry 256 random bits)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class CertificateStatus:
    """The answer of ``GET /v1/certificates/{serial}``: the 住基ネット mapping and the status."""

    serial: int
    municipality: str
    status: Literal["good", "revoked"]
    previous_serial: int | None

    @classmethod
    def of(cls, record: CertificateRecord) -> CertificateStatus:
        return cls(
            serial=record.serial,
            municipality=record.municipality,
            status="revoked" if record.revoked else "good",
            previous_serial=record.previous_serial,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "serial": self.serial,
            "municipality": self.municipality,
            "status": self.status,
            "previous_serial": self.previous_serial,
        }


class AuthorityService:
    """The authority: CA generations, records, OCSP responder, CRLs, registered verifiers."""

    def __init__(self, authority: TestAuthority, store: AuthorityStore, *, clock: Clock = utc_now) -> None:
        self.authority = authority
        self.store = store
        self.clock = clock
        self.responder = OcspResponder(authority, self._lookup, self._keep_answer)

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        db_url: str | None = None,
        create: bool = True,
        now: dt.datetime | None = None,
        generations: Sequence[int] | None = None,
        key_factory: KeyFactory = generate_key,
        clock: Clock = utc_now,
    ) -> AuthorityService:
        """Open (with ``create``: first make) the CAs in ``directory`` and migrate the database.

        ``db_url`` defaults to the SQLite file ``authority.db`` in ``directory``.
        """
        directory = Path(directory)
        if create:
            authority = TestAuthority.load_or_create(
                directory, now=now or clock(), generations=generations, key_factory=key_factory
            )
        else:
            authority = TestAuthority.load(directory)
        store = AuthorityStore.open(db_url or migrate.default_url(directory))
        return cls(authority, store, clock=clock)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> AuthorityService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- issuance ----------------------------------------------------------------------------

    def issue_user_auth(
        self,
        public_key: rsa.RSAPublicKey,
        *,
        birth_date: dt.date,
        municipality: str,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        """発行: a user-authentication certificate for the card of a resident of ``municipality``."""
        now = now or self.clock()
        ca = self.authority.current(CaKind.USER_AUTH, now)
        return self._issue(
            ca,
            municipality,
            now,
            None,
            lambda serial: issuance.user_auth_certificate(
                ca, public_key, birth_date=birth_date, now=now, serial=serial
            ),
        )

    def issue_signing(
        self,
        public_key: rsa.RSAPublicKey,
        facts: SigningFacts,
        *,
        municipality: str,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        """発行: a signing certificate (the facts go into the certificate, not the database)."""
        now = now or self.clock()
        ca = self.authority.current(CaKind.SIGNING, now)
        return self._issue(
            ca,
            municipality,
            now,
            None,
            lambda serial: issuance.signing_certificate(ca, public_key, facts, now=now, serial=serial),
        )

    def renew(
        self,
        serial: int,
        public_key: rsa.RSAPublicKey,
        *,
        birth_date: dt.date | None = None,
        facts: SigningFacts | None = None,
        municipality: str | None = None,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        """更新: a new certificate (new key, new serial) that names ``serial`` as its previous one.

        The old certificate is revoked as ``superseded`` if still good. A user-authentication
        renewal needs the holder's ``birth_date``, a signing renewal the ``facts``: the authority
        does not keep them. The municipality stays unless a new one is given.
        """
        now = now or self.clock()
        old = self.store.require(_checked(serial))
        if old.revocation_reason is RevocationReason.DECEASED:
            raise CertificateStateError(serial, "the holder is deceased; nothing to renew")
        if self.store.successor(serial) is not None:
            raise AlreadyRenewedError(serial, "already renewed")
        kind = CaKind(old.kind)
        ca = self.authority.current(kind, now)
        municipality = municipality or old.municipality
        if kind is CaKind.USER_AUTH:
            if birth_date is None:
                raise IssuanceRefusedError("renewing needs the holder's birth date")
            known_birth = birth_date
            return self._issue(
                ca,
                municipality,
                now,
                old,
                lambda new: issuance.user_auth_certificate(
                    ca, public_key, birth_date=known_birth, now=now, serial=new
                ),
            )
        if facts is None:
            raise IssuanceRefusedError("renewing a signing certificate needs the four facts")
        known_facts = facts
        return self._issue(
            ca,
            municipality,
            now,
            old,
            lambda new: issuance.signing_certificate(ca, public_key, known_facts, now=now, serial=new),
        )

    def _issue(
        self,
        ca: CertificationAuthority,
        municipality: str,
        now: dt.datetime,
        renewed: CertificateRecord | None,
        make: Callable[[int], x509.Certificate],
    ) -> x509.Certificate:
        municipality = municipality_code(municipality)
        previous = None if renewed is None else renewed.serial
        chain = () if renewed is None else chain_after(renewed)
        for _ in range(_SERIAL_ATTEMPTS):
            certificate = make(new_serial())
            record = CertificateRecord(
                serial=certificate.serial_number,
                kind=ca.kind.value,
                generation=ca.generation,
                municipality=municipality,
                not_before=certificate.not_valid_before_utc,
                not_after=certificate.not_valid_after_utc,
                issued_at=now,
                previous_serial=previous,
                # fixed now: every OCSP answer about it states the chain (koufuPreviousSerials)
                previous_serials=chain,
            )
            # the answer RFC 5019 verifiers will ask for, signed now (ocsp.py)
            record = dataclasses.replace(record, answer=self.responder.produce(record, now))
            try:
                if previous is None:
                    self.store.add_certificate(record)
                else:
                    self.store.add_renewal(record, now)
            except SerialTakenError:
                continue
            log.info(
                "issued %s certificate %d (generation %d, municipality %s%s)",
                ca.kind,
                record.serial,
                ca.generation,
                municipality,
                f", renews {previous}" if previous else "",
            )
            return certificate
        raise AuthorityStateError("no free certificate serial found")

    # -- revocation --------------------------------------------------------------------------

    def revoke(
        self, serial: int, reason: RevocationReason | str, *, now: dt.datetime | None = None
    ) -> CertificateRecord:
        """失効: revoke ``serial`` for ``reason`` (a :class:`RevocationReason` or its name)."""
        if not isinstance(reason, RevocationReason):
            reason = RevocationReason.parse(reason)
        record = self.store.revoke(_checked(serial), reason, now or self.clock())
        log.info("revoked certificate %d: %s", serial, reason.value)
        return record

    def release_hold(self, serial: int) -> CertificateRecord:
        """一時停止解除: a certificate on hold becomes good again (unless renewed meanwhile)."""
        if self.store.successor(_checked(serial)) is not None:
            raise AlreadyRenewedError(serial, "renewed while on hold; the hold stays")
        record = self.store.release_hold(serial)
        log.info("released the hold on certificate %d", serial)
        return record

    # -- questions verifiers ask --------------------------------------------------------------

    def record(self, serial: int) -> CertificateRecord:
        return self.store.require(_checked(serial))

    def status(self, serial: int) -> CertificateStatus:
        return CertificateStatus.of(self.record(serial))

    def municipality_of(self, serial: int) -> str:
        """住基ネット: the 地方公共団体コード the certificate ``serial`` belongs to."""
        return self.record(serial).municipality

    def previous_serial(self, serial: int) -> int | None:
        """The serial this certificate renewed, if it is a renewal."""
        return self.record(serial).previous_serial

    def ocsp_response(self, request_der: bytes, *, now: dt.datetime | None = None) -> bytes:
        """The DER OCSP response to ``request_der``; malformed input gets malformedRequest."""
        return self.responder.respond(request_der, now or self.clock())

    def crl(
        self, kind: CaKind | str, generation: int, *, now: dt.datetime | None = None
    ) -> x509.CertificateRevocationList:
        """The current CRL of one CA generation (published anew after any change)."""
        now = now or self.clock()
        if kind not in {member.value for member in CaKind}:
            raise UnknownGenerationError(str(kind), generation)
        ca = self.authority.generation(CaKind(kind), generation)
        for _ in range(_SERIAL_ATTEMPTS):
            entries = self.store.revoked_entries(ca.kind.value, generation, now)
            digest = content_digest(entries)
            latest = self.store.latest_crl(ca.kind.value, generation)
            if (
                latest is not None
                and latest.content_digest == digest
                and latest.this_update <= now < latest.this_update + CRL_REFRESH
            ):
                return x509.load_der_x509_crl(latest.der)
            number = latest.number + 1 if latest else 1
            crl = build_crl(ca, entries, number=number, this_update=now)
            stored = StoredCrl(
                number,
                crl.last_update_utc,
                _next_update(crl),
                digest,
                crl.public_bytes(serialization.Encoding.DER),
            )
            if self.store.publish_crl(ca.kind.value, generation, stored):
                log.info("published CRL %d of %s (%d entries)", number, ca.label, len(entries))
                return crl
        raise AuthorityStateError(f"could not publish a CRL for {ca.label}")

    # -- registered verifiers ----------------------------------------------------------------

    def add_verifier(self, name: str, *, now: dt.datetime | None = None) -> str:
        """Register a verifier; returns its bearer token, which is never shown again."""
        if not (1 <= len(name) <= 64 and name.isprintable() and name.strip() == name):
            raise VerifierError("a verifier name is 1 to 64 printable characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.store.add_verifier(name, token_digest(token), now or self.clock())
        log.info("registered verifier %r", name)
        return token

    def remove_verifier(self, name: str) -> None:
        self.store.remove_verifier(name)
        log.info("removed verifier %r", name)

    def authenticate(self, token: str) -> str:
        """The name of the verifier holding ``token``, else :class:`UnauthorizedError`."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            raise UnauthorizedError("not a verifier token")
        name = self.store.verifier_by_token_hash(token_digest(token))
        if name is None:
            raise UnauthorizedError("unknown or removed verifier token")
        return name

    def _keep_answer(self, record: CertificateRecord, answer: ProducedAnswer) -> bool:
        return self.store.keep_answer(record, answer)

    def _lookup(self, serial: int) -> CertificateRecord | None:
        if not 0 < serial <= MAX_SERIAL:
            return None
        return self.store.get(serial)


def _checked(serial: int) -> int:
    if not 0 < serial <= MAX_SERIAL:
        raise InvalidSerialError(f"certificate serials are 1 to {MAX_SERIAL}, got {serial}")
    return serial


def _next_update(crl: x509.CertificateRevocationList) -> dt.datetime:
    value = crl.next_update_utc
    assert value is not None
    return value
