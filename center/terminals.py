"""Terminals (キオスク端末): their CA, enrolment, status, and authentication of each request.

The center runs a small CA for terminals (EC P-256). ``enroll`` makes a terminal's key pair and
certificate and registers its public key; the key goes to the terminal and nowhere else. A
terminal can be suspended (temporarily refused, e.g. a store closed for repairs) or revoked (key
compromised or machine retired; final).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from center import protocol
from center.errors import BadRequest, NotFound, TerminalAuthError, TerminalForbidden
from center.store.tables import request_nonces, terminals

ACTIVE, SUSPENDED, REVOKED = "active", "suspended", "revoked"
TERMINAL_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def check_terminal_id(terminal_id: str) -> str:
    if not 1 <= len(terminal_id) <= 32 or not set(terminal_id) <= TERMINAL_ID_CHARS:
        raise BadRequest("bad_terminal_id", "terminal ids are 1-32 of A-Z, 0-9 and '-'")
    return terminal_id


@dataclass(frozen=True)
class TerminalCA:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def load_or_create(cls, directory: Path) -> TerminalCA:
        key_path, cert_path = directory / "terminal-ca.key", directory / "terminal-ca.crt"
        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            return cls(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "koufu issuance center"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "koufu terminal CA")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .sign(key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert)

    def issue(self, terminal_id: str, public_key: ec.EllipticCurvePublicKey) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal_id)]))
            .issuer_name(self.certificate.subject).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )


@dataclass(frozen=True)
class EnrolledTerminal:
    terminal_id: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def save(self, directory: Path) -> None:
        """The terminal's credentials, to be installed on that kiosk only."""
        directory.mkdir(parents=True, exist_ok=True)
        key_path = directory / "terminal.key"
        key_path.write_bytes(self.key.private_bytes(serialization.Encoding.PEM,
                                                    serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
        key_path.chmod(0o600)
        (directory / "terminal.crt").write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        (directory / "terminal-id").write_text(self.terminal_id + "\n")

    @classmethod
    def load(cls, directory: Path) -> EnrolledTerminal:
        key = serialization.load_pem_private_key((directory / "terminal.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        cert = x509.load_pem_x509_certificate((directory / "terminal.crt").read_bytes())
        return cls((directory / "terminal-id").read_text().strip(), key, cert)


def enroll(connection: sa.Connection, ca: TerminalCA, terminal_id: str, store: str,
           now: dt.datetime) -> EnrolledTerminal:
    check_terminal_id(terminal_id)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue(terminal_id, key.public_key())
    connection.execute(terminals.insert().values(
        id=terminal_id, store=store,
        public_key=key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo),
        certificate=cert.public_bytes(serialization.Encoding.DER),
        status=ACTIVE, enrolled_at=now, updated_at=now,
    ))
    return EnrolledTerminal(terminal_id, key, cert)


def set_status(connection: sa.Connection, terminal_id: str, status: str, now: dt.datetime) -> None:
    if status not in (ACTIVE, SUSPENDED, REVOKED):
        raise BadRequest("bad_status", f"unknown terminal status {status!r}")
    current = connection.execute(
        sa.select(terminals.c.status).where(terminals.c.id == terminal_id)).scalar_one_or_none()
    if current is None:
        raise NotFound("unknown_terminal", f"no terminal {terminal_id}")
    if current == REVOKED:
        raise BadRequest("terminal_revoked", "a revoked terminal stays revoked")
    connection.execute(terminals.update().where(terminals.c.id == terminal_id)
                       .values(status=status, updated_at=now))


@dataclass(frozen=True)
class RequestCredentials:
    """The signature headers of one request, as received."""

    terminal_id: str
    timestamp: str
    nonce: str
    signature: str

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> RequestCredentials:
        lowered = {k.lower(): v for k, v in headers.items()}
        values = [lowered.get(h.lower()) for h in (protocol.HEADER_TERMINAL, protocol.HEADER_TIMESTAMP,
                                                   protocol.HEADER_NONCE, protocol.HEADER_SIGNATURE)]
        if any(v is None or v == "" for v in values):
            raise TerminalAuthError("unsigned_request", "terminal signature headers are missing")
        return cls(*[str(v) for v in values])


def authenticate(connection: sa.Connection, credentials: RequestCredentials, method: str, path: str,
                 body: bytes, now: dt.datetime) -> str:
    """Check the terminal's signature, status, clock and nonce; record the nonce; return its id."""
    try:
        timestamp_ms = int(credentials.timestamp)
        signature = protocol.unb64url(credentials.signature)
        nonce_raw = protocol.unb64url(credentials.nonce)
    except ValueError:
        raise TerminalAuthError("malformed_signature", "terminal signature headers are malformed") from None
    if len(nonce_raw) != protocol.NONCE_BYTES or credentials.nonce != protocol.b64url(nonce_raw):
        raise TerminalAuthError("malformed_signature", "nonce must be 16 bytes in canonical base64")
    sent = dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC) if abs(timestamp_ms) < 2**42 else None
    if sent is None or abs(sent - now) > protocol.MAX_CLOCK_SKEW:
        raise TerminalAuthError("clock_skew", "the terminal's clock is off by more than 2 minutes")
    row = connection.execute(sa.select(terminals.c.public_key, terminals.c.status)
                             .where(terminals.c.id == credentials.terminal_id)).one_or_none()
    if row is None:
        raise TerminalAuthError("unknown_terminal", "this terminal is not enrolled")
    public_key = serialization.load_der_public_key(row.public_key)
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    message = protocol.canonical_request(method, path, timestamp_ms, credentials.nonce, body)
    try:
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise TerminalAuthError("bad_request_signature", "terminal signature does not verify") from None
    if row.status != ACTIVE:
        raise TerminalForbidden(f"terminal_{row.status}", f"this terminal is {row.status}")
    inserted = connection.execute(
        request_nonces.insert().prefix_with("OR IGNORE", dialect="sqlite")
        .values(terminal_id=credentials.terminal_id, nonce=credentials.nonce, seen_at=now)
    ) if connection.dialect.name == "sqlite" else connection.execute(
        sa.text("INSERT INTO request_nonces (terminal_id, nonce, seen_at) VALUES (:t, :n, :s) "
                "ON CONFLICT DO NOTHING"),
        {"t": credentials.terminal_id, "n": credentials.nonce, "s": now},
    )
    if inserted.rowcount != 1:
        raise TerminalAuthError("replayed_request", "this request was already received")
    return credentials.terminal_id


def purge_nonces(connection: sa.Connection, now: dt.datetime) -> int:
    """Nonces older than twice the allowed skew can no longer be replayed (their timestamp fails)."""
    horizon = now - 2 * protocol.MAX_CLOCK_SKEW
    return connection.execute(request_nonces.delete().where(request_nonces.c.seen_at < horizon)).rowcount
