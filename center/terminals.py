"""Terminals (キオスク端末): their CA, enrolment, status, and authentication of each request.

The center runs a small CA for terminals (EC P-256). ``enroll`` makes a terminal's key pair and
certificate and registers its public key; the key goes to the terminal and nowhere else. A
terminal that made its own key sends a certificate signing request instead
(:mod:`center.terminal_enrolment`): the key never leaves the kiosk. A
terminal can be suspended (temporarily refused, e.g. a store closed for repairs) or revoked (key
compromised or machine retired; final): :mod:`center.terminal_status`, audited.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from center.calendar_rules import validate_municipality_code
from center.enrolment import EnrolledTerminal
from center.errors import (
    BadRequest,
    DependencyUnavailable,
    TerminalAuthError,
    TerminalForbidden,
    UnattributedRequest,
)
from center.private_files import write_private
from center.protocol import TERMINAL_REQUESTS
from center.signing import MAX_CLOCK_SKEW, Credentials, SignatureRefused, SignedRequest, Target
from center.store.driver import Connection, Database, Sql
from center.store.tables import terminals

ACTIVE, SUSPENDED, REVOKED = "active", "suspended", "revoked"
TERMINAL_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
CHAIN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def check_terminal_id(terminal_id: str) -> str:
    if not 1 <= len(terminal_id) <= 32 or not set(terminal_id) <= TERMINAL_ID_CHARS:
        raise BadRequest("bad_terminal_id", "terminal ids are 1-32 of A-Z, 0-9 and '-'")
    return terminal_id


@dataclass(frozen=True)
class TerminalCA:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def load(cls, directory: Path) -> TerminalCA:
        """The terminal CA kept in ``directory``; never made here: ``no_terminal_ca`` (503) when
        absent (a console pointed at the wrong directory must not found a second CA)."""
        key_path, cert_path = directory / "terminal-ca.key", directory / "terminal-ca.crt"
        if not key_path.is_file() or not cert_path.is_file():
            raise DependencyUnavailable("no_terminal_ca", "the center's terminal CA is not in its directory")
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise DependencyUnavailable("no_terminal_ca", "terminal-ca.key is not an EC private key")
        return cls(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))

    @classmethod
    def load_or_create(cls, directory: Path, *, now: dt.datetime | None = None) -> TerminalCA:
        """The terminal CA kept in ``directory``, created there (valid from a day before ``now``,
        for ten years) when absent."""
        key_path, cert_path = directory / "terminal-ca.key", directory / "terminal-ca.crt"
        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            return cls(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "koufu issuance center"),
                x509.NameAttribute(NameOID.COMMON_NAME, "koufu terminal CA"),
            ]
        )
        now = now or dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert)

    def issue(
        self, terminal_id: str, public_key: ec.EllipticCurvePublicKey, *, now: dt.datetime | None = None
    ) -> x509.Certificate:
        """A terminal's certificate, valid from five minutes before ``now`` for 825 days."""
        now = now or dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal_id)]))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )


def check_chain(chain: str) -> str:
    """A store chain's short name, as the fleet is filtered by it (e.g. ``familymart``)."""
    if not 1 <= len(chain) <= 32 or not set(chain) <= CHAIN_CHARS:
        raise BadRequest("bad_chain", "a chain is 1-32 of a-z, 0-9 and '-'")
    return chain


def check_municipality(municipality: str | None) -> str | None:
    """The code of a store's municipality (地方公共団体コード), if one is given."""
    if municipality is None:
        return None
    try:
        return validate_municipality_code(municipality)
    except ValueError:
        raise BadRequest("bad_municipality", "a municipality code is six digits") from None


def enroll(
    connection: sa.Connection,
    ca: TerminalCA,
    terminal_id: str,
    store: str,
    now: dt.datetime,
    *,
    municipality: str | None = None,
    chain: str | None = None,
) -> EnrolledTerminal:
    """A new terminal of ``store``, its key pair and certificate; where the store stands (its
    ``municipality``'s code and its ``chain``), when known, for the fleet's filters."""
    check_terminal_id(terminal_id)
    municipality = check_municipality(municipality)
    if chain is not None:
        check_chain(chain)
    if connection.execute(sa.select(terminals.c.id).where(terminals.c.id == terminal_id)).first():
        raise BadRequest("terminal_exists", f"terminal {terminal_id} is enrolled already", status=409)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue(terminal_id, key.public_key(), now=now)
    connection.execute(
        terminals.insert().values(
            id=terminal_id,
            store=store,
            public_key=key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            certificate=cert.public_bytes(serialization.Encoding.DER),
            status=ACTIVE,
            municipality=municipality,
            chain=chain,
            enrolled_at=now,
            updated_at=now,
        )
    )
    return EnrolledTerminal(terminal_id, key, cert)


def request_credentials(headers: Mapping[str, str], body: bytes) -> Credentials:
    """The signature of one request whose body matched its digest (``unsigned_request``,
    ``bad_digest``, ``malformed_signature``: a request no terminal can be held to); ``headers`` by
    lower-case name."""
    try:
        return TERMINAL_REQUESTS.credentials(headers, body)
    except SignatureRefused as refused:
        raise UnattributedRequest(refused.code, refused.message) from None


def check_request(
    credentials: Credentials, target: Target, now: dt.datetime
) -> SignedRequest[ec.EllipticCurvePublicKey]:
    """The checks that need no database: the signature's profile (``malformed_signature``: a
    request no terminal can be held to) and the terminal's clock (``clock_skew``: held to the
    terminal it names if that one is enrolled, see :meth:`Authenticator.authenticate`)."""
    try:
        return TERMINAL_REQUESTS.check(credentials, target, now)
    except SignatureRefused as refused:
        if refused.code == "clock_skew":
            raise TerminalAuthError(refused.code, refused.message) from None
        raise UnattributedRequest(refused.code, refused.message) from None


@functools.lru_cache(maxsize=65536)
def _public_key(der: bytes) -> ec.EllipticCurvePublicKey:
    public_key = serialization.load_der_public_key(der)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return public_key


_TERMINAL = Sql("SELECT public_key, status FROM terminals WHERE id = :terminal_id")
_ENROLLED = Sql("SELECT 1 AS enrolled FROM terminals WHERE id = :terminal_id")
_RECORD_NONCE = Sql(
    "INSERT INTO request_nonces (terminal_id, nonce, seen_at) "
    "VALUES (:terminal_id, :nonce, :seen_at) ON CONFLICT DO NOTHING"
)
# PostgreSQL, a terminal whose key this process knows: its status read, its key compared with the
# one that verified the signature, and the nonce recorded if both are right, in one statement
_RECORD_IF_ACTIVE = Sql(f"""
WITH terminal AS (
    SELECT status, public_key = :public_key AS same_key FROM terminals WHERE id = :terminal_id
), recorded AS (
    INSERT INTO request_nonces (terminal_id, nonce, seen_at)
    SELECT :terminal_id, :nonce, :seen_at FROM terminal WHERE status = '{ACTIVE}' AND same_key
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT status, same_key, (SELECT count(*) FROM recorded) AS recorded FROM terminal
""")


def decided(status: str | None, same_key: bool, recorded: bool) -> bool:
    """Whether a request verified with a remembered key is accepted, from what the database said
    in the same statement that recorded its nonce (if the terminal was active with that key):
    its terminal's ``status`` (``None``: not enrolled), whether the key is the same, whether the
    nonce was recorded now. ``False``: the key changed or the terminal is gone, nothing was
    recorded, the full path decides; raises the refusals of a terminal not active and of a
    replay."""
    if status is None or not same_key:
        return False
    if status != ACTIVE:
        raise TerminalForbidden(f"terminal_{status}", f"this terminal is {status}")
    if not recorded:
        raise TerminalAuthError("replayed_request", "this request was already received")
    return True


async def _authenticate_checked(
    connection: Connection, request: SignedRequest[ec.EllipticCurvePublicKey], now: dt.datetime
) -> bytes:
    """The database's part of authenticating a request, in the caller's transaction: the
    terminal's key, its status, the nonce recorded. Returns the terminal's key (DER)."""
    row = await connection.one(_TERMINAL, {"terminal_id": request.signer})
    if row is None:
        raise UnattributedRequest("unknown_terminal", "this terminal is not enrolled")
    key = bytes(row["public_key"])
    if not request.verifies_with(_public_key(key)):
        raise TerminalAuthError("bad_request_signature", "terminal signature does not verify")
    if row["status"] != ACTIVE:
        raise TerminalForbidden(f"terminal_{row['status']}", f"this terminal is {row['status']}")
    inserted = await connection.execute(
        _RECORD_NONCE, {"terminal_id": request.signer, "nonce": request.nonce, "seen_at": now}
    )
    if inserted != 1:
        raise TerminalAuthError("replayed_request", "this request was already received")
    return key


class Authenticator:
    """Authenticates each request of a terminal: its signature, status, clock and nonce (the nonce
    is recorded, so the request cannot be replayed, even to another center process).

    It remembers the key of each terminal it has authenticated. On PostgreSQL a request from such
    a terminal is verified with that key first; then one statement reads the terminal's status,
    compares its key in the database with the remembered one, and records the nonce if the
    terminal is active and the key the same. Anything else (an unknown terminal, a changed key, a
    signature that does not verify, SQLite) is decided step by step, in a transaction.

    Its refusals of requests that no enrolled terminal can be held to are
    :class:`~center.errors.UnattributedRequest`: unsigned or malformed, from a terminal not
    enrolled, or with a clock off and naming no enrolled terminal. The others (a bad signature,
    a replay, a clock off, a suspended or revoked terminal) concern the enrolled terminal named.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._fast = database.dialect == "postgresql"
        self._keys: dict[str, bytes] = {}

    async def authenticate(self, credentials: Credentials, target: Target, now: dt.datetime) -> str:
        try:
            request = check_request(credentials, target, now)
        except UnattributedRequest:
            raise
        except TerminalAuthError as refused:  # the clock: whose, if anyone's?
            if not await self._enrolled(credentials.signer):
                raise UnattributedRequest(refused.code, refused.message) from None
            raise
        known = self._verified_key(request)
        if known is not None:
            async with self.database.connection() as connection:
                row = await connection.one(
                    _RECORD_IF_ACTIVE,
                    {
                        "terminal_id": request.signer,
                        "public_key": known,
                        "nonce": request.nonce,
                        "seen_at": now,
                    },
                )
            if row is not None and decided(row["status"], row["same_key"], row["recorded"] == 1):
                return request.signer
        async with self.database.connection() as connection, connection.transaction():
            self._keys[request.signer] = await _authenticate_checked(connection, request, now)
        return request.signer

    def remembered(
        self, credentials: Credentials, target: Target, now: dt.datetime
    ) -> tuple[SignedRequest[ec.EllipticCurvePublicKey], bytes] | None:
        """A request that passes the checks needing no database and verifies with the key this
        process remembers for its terminal (PostgreSQL only), with that key (DER): what the
        database is then asked in the same statement as the request's work (:func:`decided`).
        ``None`` when :meth:`authenticate` must decide, and say why if it refuses."""
        if not self._fast:
            return None
        try:
            request = check_request(credentials, target, now)
        except TerminalAuthError:
            return None
        known = self._verified_key(request)
        return None if known is None else (request, known)

    def _verified_key(self, request: SignedRequest[ec.EllipticCurvePublicKey]) -> bytes | None:
        """The key (DER) this process remembers for the request's terminal, if it does (on
        PostgreSQL) and the request's signature verifies with it."""
        known = self._keys.get(request.signer) if self._fast else None
        return known if known is not None and request.verifies_with(_public_key(known)) else None

    async def _enrolled(self, terminal_id: str) -> bool:
        """Whether ``terminal_id`` names an enrolled terminal (one read, no transaction, no lock)."""
        if terminal_id in self._keys:
            return True
        async with self.database.connection() as connection:
            return await connection.one(_ENROLLED, {"terminal_id": terminal_id}) is not None


_PURGE_NONCES = Sql("DELETE FROM request_nonces WHERE seen_at < :horizon")


async def purge_nonces(connection: Connection, now: dt.datetime) -> int:
    """Forget nonces older than twice the allowed clock skew: a request that old is refused for
    its timestamp, so its nonce need not be remembered to refuse a replay."""
    return await connection.execute(_PURGE_NONCES, {"horizon": now - 2 * MAX_CLOCK_SKEW})
