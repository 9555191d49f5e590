"""A municipal issuance server's directory and the objects one process serves with.

``koufu municipal init --dir DIR --code 131016 …`` writes:

- ``municipal.json``: the municipality's code (the server refuses to start on a database or key
  of another municipality);
- ``municipal.key``: the municipality's Ed25519 signing key (mode 0600), and
  ``public-key.json``: its public half, for the center's trust list (配信される検証鍵);
- ``sealing.key``: its P-256 HPKE receiving key (mode 0600), to which terminals seal what only the
  municipality may read (:mod:`documents.to_municipality`); its public half goes out in a
  statement the municipality signs (:meth:`MunicipalServer.sealing_statement`,
  :mod:`documents.sealing_key`). A directory made before it gets one with
  ``koufu municipal sealing-key --dir DIR`` (:func:`ensure_sealing_key`);
- ``center-keys.json``: the center keys whose requests are accepted (Ed25519, base64url);
- ``terminal-cas.pem``: the terminal CA certificates whose terminals copies may be sealed to;
- ``jpki-anchors.pem``: the JPKI user-authentication CA, every generation (a card's proof chains
  to it), and ``jpki-signing-anchors.pem``: the JPKI signing CA, every generation (a usage
  registration's signing certificate, 署名用電子証明書, chains to it: :mod:`center.municipal.
  application`); a directory made before the second file has none and refuses every application;
- ``municipal.db``: the SQLite database (default; PostgreSQL with ``--db``), and a development
  TLS identity ``tls.crt`` / ``tls.key``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from center import bridge_protocol
from center.config import write_tls_identity
from center.municipal import schema
from center.municipal.issuer import Issuer, load_settings, store_settings
from center.municipal.schema import VERSION_TABLE
from center.municipal.settings import MunicipalSettings
from center.private_files import write_private
from center.signing import MAX_CLOCK_SKEW, unb64url
from center.store import schema_versions
from center.store.schema_versions import SchemaVersions
from documents import MunicipalKey, SealingKey, b64url_encode, sign_sealing_key

log = logging.getLogger(__name__)

CONFIG_FILE = "municipal.json"
KEY_FILE = "municipal.key"
PUBLIC_KEY_FILE = "public-key.json"
SEALING_KEY_FILE = "sealing.key"  # P-256: HPKE's receiving key for what terminals seal to it
STATEMENT_LIFETIME = dt.timedelta(days=7)  # a sealing key statement's not_after, from its hour
CENTER_KEYS_FILE = "center-keys.json"
TERMINAL_CAS_FILE = "terminal-cas.pem"
JPKI_ANCHORS_FILE = "jpki-anchors.pem"  # the JPKI user-authentication CA, every generation
JPKI_SIGNING_ANCHORS_FILE = "jpki-signing-anchors.pem"  # the JPKI signing CA, every generation
SQLITE_FILE = "municipal.db"
DB_ENV = "KOUFU_MUNICIPAL_DB"
PURGE_EVERY = dt.timedelta(minutes=1)
VERSIONS = SchemaVersions(
    Path(__file__).with_name("migrations"), VERSION_TABLE, what="the municipal database"
)


class MunicipalConfigError(Exception):
    """The directory is missing, malformed, or does not belong to this municipality."""


def default_url(directory: Path) -> str:
    return schema_versions.sqlite_file_url(Path(directory) / SQLITE_FILE)


def open_database(url: str) -> sa.Engine:
    try:
        engine = schema_versions.make_engine(url)
        VERSIONS.upgrade(engine)
    except schema_versions.SchemaError as error:
        raise MunicipalConfigError(str(error)) from error
    return engine


def write_center_keys(directory: Path, keys: Iterable[ed25519.Ed25519PublicKey]) -> None:
    raw = [
        b64url_encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        for key in keys
    ]
    (directory / CENTER_KEYS_FILE).write_text(json.dumps({"keys": raw}, indent=1) + "\n")


def read_center_keys(directory: Path) -> dict[str, ed25519.Ed25519PublicKey]:
    try:
        document = json.loads((directory / CENTER_KEYS_FILE).read_text())
        keys = [ed25519.Ed25519PublicKey.from_public_bytes(unb64url(text)) for text in document["keys"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MunicipalConfigError(f"{CENTER_KEYS_FILE}: {error}") from None
    return {bridge_protocol.key_id(key): key for key in keys}


def write_terminal_cas(directory: Path, certificates: Iterable[x509.Certificate]) -> None:
    pem = b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in certificates)
    (directory / TERMINAL_CAS_FILE).write_bytes(pem)


def read_terminal_cas(directory: Path) -> list[x509.Certificate]:
    """The trusted terminal CAs (none yet: every request is refused as from an untrusted terminal)."""
    try:
        pem = (directory / TERMINAL_CAS_FILE).read_bytes()
        return x509.load_pem_x509_certificates(pem) if pem.strip() else []
    except (OSError, ValueError) as error:
        raise MunicipalConfigError(f"{TERMINAL_CAS_FILE}: {error}") from None


def write_jpki_anchors(directory: Path, certificates: Iterable[x509.Certificate]) -> None:
    pem = b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in certificates)
    (directory / JPKI_ANCHORS_FILE).write_bytes(pem)


def read_jpki_anchors(directory: Path) -> list[x509.Certificate]:
    """The JPKI user-authentication CAs a card's certificate must chain to (none: no holder is
    proven, every request is refused)."""
    try:
        pem = (directory / JPKI_ANCHORS_FILE).read_bytes()
        return x509.load_pem_x509_certificates(pem) if pem.strip() else []
    except (OSError, ValueError) as error:
        raise MunicipalConfigError(f"{JPKI_ANCHORS_FILE}: {error}") from None


def write_jpki_signing_anchors(directory: Path, certificates: Iterable[x509.Certificate]) -> None:
    pem = b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in certificates)
    (directory / JPKI_SIGNING_ANCHORS_FILE).write_bytes(pem)


def read_jpki_signing_anchors(directory: Path) -> list[x509.Certificate]:
    """The JPKI signing CAs a usage registration's signing certificate must chain to (none, or
    no file: every application is refused as not proven)."""
    path = directory / JPKI_SIGNING_ANCHORS_FILE
    if not path.exists():
        return []
    try:
        pem = path.read_bytes()
        return x509.load_pem_x509_certificates(pem) if pem.strip() else []
    except (OSError, ValueError) as error:
        raise MunicipalConfigError(f"{JPKI_SIGNING_ANCHORS_FILE}: {error}") from None


def ensure_sealing_key(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, bool]:
    """The municipality's sealing key, made (``sealing.key``, PEM PKCS#8, 0600) if it has none:
    the key, and whether it was made now. Idempotent; refuses a file that is not a P-256 key."""
    path = directory / SEALING_KEY_FILE
    if path.exists():
        return read_sealing_key(directory), False
    key = ec.generate_private_key(ec.SECP256R1())
    write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    return key, True


def read_sealing_key(directory: Path) -> ec.EllipticCurvePrivateKey:
    """``sealing.key``; :class:`MunicipalConfigError` if it is missing or not a P-256 key."""
    try:
        key = serialization.load_pem_private_key((directory / SEALING_KEY_FILE).read_bytes(), None)
    except (OSError, ValueError, TypeError) as error:
        raise MunicipalConfigError(f"{SEALING_KEY_FILE}: {error}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise MunicipalConfigError(f"{SEALING_KEY_FILE} is not an EC P-256 key")
    return key


def initialise(
    directory: Path,
    settings: MunicipalSettings,
    *,
    db_url: str | None = None,
    center_keys: Iterable[ed25519.Ed25519PublicKey] = (),
    terminal_cas: Iterable[x509.Certificate] = (),
    jpki_anchors: Iterable[x509.Certificate] = (),
    jpki_signing_anchors: Iterable[x509.Certificate] = (),
    now: dt.datetime | None = None,
) -> MunicipalKey:
    """A new municipal directory: key, trust, database with ``settings`` (refuses an existing one)."""
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / CONFIG_FILE).exists():
        raise MunicipalConfigError(f"{directory} already holds a municipality")
    key = MunicipalKey.generate(settings.municipality)
    key_path = directory / KEY_FILE
    write_private(
        key_path,
        key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    (directory / PUBLIC_KEY_FILE).write_text(json.dumps(key.trusted().to_json(), indent=1) + "\n")
    ensure_sealing_key(directory)
    write_center_keys(directory, center_keys)
    write_terminal_cas(directory, terminal_cas)
    write_jpki_anchors(directory, jpki_anchors)
    write_jpki_signing_anchors(directory, jpki_signing_anchors)
    write_tls_identity(directory, "tls", ["localhost", "127.0.0.1"])
    engine = open_database(db_url or default_url(directory))
    try:
        with engine.begin() as connection:
            store_settings(connection, settings, now or dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
    (directory / CONFIG_FILE).write_text(json.dumps({"municipality": settings.municipality}) + "\n")
    return key


@dataclass
class MunicipalServer:
    """What one municipal server process works with."""

    directory: Path
    municipality: str
    engine: sa.Engine
    key: MunicipalKey
    issuer: Issuer
    center_keys: dict[str, ed25519.Ed25519PublicKey]
    sealing_key: ec.EllipticCurvePrivateKey | None = None  # None: a directory made before it
    # the JPKI signing CA, every generation: what a usage registration's signer chains to
    signing_anchors: list[x509.Certificate] = field(default_factory=list)
    _purged_at: dt.datetime | None = None

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        db_url: str | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> MunicipalServer:
        """Open ``directory``; refuses a key, database or settings of another municipality."""
        try:
            municipality = json.loads((directory / CONFIG_FILE).read_text())["municipality"]
            private = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), None)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise MunicipalConfigError(f"{directory} is not a municipal directory: {error}") from None
        if not isinstance(private, ed25519.Ed25519PrivateKey):
            raise MunicipalConfigError(f"{KEY_FILE} is not an Ed25519 key")
        key = MunicipalKey(municipality, private)
        engine = open_database(db_url or default_url(directory))
        with engine.connect() as connection:
            configured = load_settings(connection).municipality
        if configured != municipality:
            engine.dispose()
            raise MunicipalConfigError(
                f"the database holds {configured}'s settings, this directory is {municipality}'s"
            )
        issuer = Issuer(
            engine, key, read_terminal_cas(directory), jpki_anchors=read_jpki_anchors(directory), clock=clock
        )
        sealing = read_sealing_key(directory) if (directory / SEALING_KEY_FILE).exists() else None
        return cls(
            directory,
            municipality,
            engine,
            key,
            issuer,
            read_center_keys(directory),
            sealing,
            read_jpki_signing_anchors(directory),
        )

    def sealing_statement(self, now: dt.datetime) -> bytes | None:
        """The statement of its sealing key, signed now by its signing key, with its names as its
        settings give them, valid :data:`STATEMENT_LIFETIME` from the start of ``now``'s hour (the
        same bytes all the hour); ``None`` without a sealing key. ``ValueError`` if the settings'
        prefecture is not the code's."""
        if self.sealing_key is None:
            return None
        with self.engine.connect() as connection:
            settings = load_settings(connection)
        hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
        stated = SealingKey(
            self.municipality,
            self.sealing_key.public_key(),
            settings.name,
            settings.name_en,
            settings.prefecture,
            hour + STATEMENT_LIFETIME,
        )
        return sign_sealing_key(stated, self.key)

    def record_nonce(self, nonce: str, now: dt.datetime) -> bool:
        """Remember a center request's nonce; False if it was seen before (a replay). Nonces
        older than twice the allowed clock skew are forgotten now and then: a request that old
        is refused for its time anyway."""
        nonces = schema.center_nonces
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                if self._purged_at is None or now - self._purged_at > PURGE_EVERY:
                    connection.execute(nonces.delete().where(nonces.c.seen_at < now - 2 * MAX_CLOCK_SKEW))
                    self._purged_at = now
                try:
                    with connection.begin_nested():
                        connection.execute(nonces.insert().values(nonce=nonce, seen_at=now))
                except sa.exc.IntegrityError:
                    return False
        return True

    def close(self) -> None:
        self.engine.dispose()
