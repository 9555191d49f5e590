"""The center's configuration directory, and the checks that refuse a mismatched deployment.

``koufu center init --dir DIR`` writes ``DIR/center.json`` plus the terminal CA, a TLS server
certificate, the audit secret and the audit chain's key. Every private key and secret is a file
readable by its owner only from its first byte (:func:`center.private_files.write_private`).
The configuration names its topology: ``single`` (one process, SQLite allowed) or ``multi``
(several processes or servers: PostgreSQL required). A multi-server site running a single-server
configuration is exactly the 2023 failure; the center refuses to start in that case instead of
serving wrong certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from center.enrolment import EnrolledTerminal
from center.private_files import write_private
from center.terminals import TerminalCA, enroll

if TYPE_CHECKING:
    from center.service import CenterService

CONFIG_FILE = "center.json"
BRIDGE_KEY = "bridge.key"  # Ed25519: the center's signature on its requests to municipalities
AUDIT_SECRET = "audit.secret"  # HMAC key of residents' subjects in the audit log (a pseudonym)
AUDIT_CHAIN_KEY = "audit-chain.key"  # HMAC key of the audit log's hash chain (center.audit)
TOPOLOGIES = ("single", "multi")


class ConfigError(Exception):
    """The configuration is missing, malformed or does not fit the deployment."""


@dataclass
class AuthorityConfig:
    url: str = ""
    token: str = ""
    ca_bundle: str = ""  # TLS trust for the authority's server (file in the center directory)
    anchors: list[str] = field(default_factory=list)  # user-authentication CA certificates


@dataclass
class CenterConfig:
    directory: Path
    database_url: str
    topology: str = "single"
    authority: AuthorityConfig = field(default_factory=AuthorityConfig)
    session_lifetime_seconds: int = 180  # from "place your card" to the card's signature
    # 地方公共団体コード → {"url": …, "ca_bundle": file in the directory (optional)}
    municipalities: dict[str, dict[str, str]] = field(default_factory=dict)
    shares: dict[str, int] = field(default_factory=lambda: {"center": 60, "store": 55})  # yen per copy
    order_deadline_seconds: int = 600  # from the order to printed: else it is voided
    housekeeping_seconds: float = 60.0  # how often a process voids overdue orders, forgets nonces

    @classmethod
    def load(cls, directory: Path) -> CenterConfig:
        path = directory / CONFIG_FILE
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            config = cls(
                directory,
                doc["database_url"],
                doc.get("topology", "single"),
                AuthorityConfig(**doc.get("authority", {})),
                int(doc.get("session_lifetime_seconds", 180)),
                {str(code): dict(entry) for code, entry in doc.get("municipalities", {}).items()},
                {str(k): int(v) for k, v in doc.get("shares", {"center": 60, "store": 55}).items()},
                int(doc.get("order_deadline_seconds", 600)),
                float(doc.get("housekeeping_seconds", 60.0)),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        config.check()
        return config

    def save(self) -> None:
        doc = {
            "database_url": self.database_url,
            "topology": self.topology,
            "authority": asdict(self.authority),
            "session_lifetime_seconds": self.session_lifetime_seconds,
            "municipalities": self.municipalities,
            "shares": self.shares,
            "order_deadline_seconds": self.order_deadline_seconds,
            "housekeeping_seconds": self.housekeeping_seconds,
        }
        # private from the start: it holds the authority's verifier token once one is set
        write_private(self.directory / CONFIG_FILE, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))

    def check(self, *, workers: int = 1) -> None:
        """Refuse configurations that cannot be right for this deployment."""
        if self.topology not in TOPOLOGIES:
            raise ConfigError(f"topology must be one of {TOPOLOGIES}")
        sqlite = self.database_url.startswith("sqlite")
        if self.topology == "multi" and sqlite:
            raise ConfigError("a multi-server deployment needs PostgreSQL, not SQLite")
        if not 10 <= self.session_lifetime_seconds <= 900:
            raise ConfigError("session_lifetime_seconds must be 10..900")
        if workers > 1 and self.topology == "single":
            raise ConfigError("several workers need topology 'multi' (and PostgreSQL)")
        if not 1 <= self.order_deadline_seconds <= 3600 or not 0.1 <= self.housekeeping_seconds <= 3600:
            raise ConfigError("order_deadline_seconds must be 1..3600, housekeeping_seconds 0.1..3600")
        if set(self.shares) != {"center", "store"} or min(self.shares.values()) < 0:
            raise ConfigError("shares must give 'center' and 'store' yen per copy, not negative")
        for code, entry in self.municipalities.items():
            if not str(entry.get("url", "")).startswith("https://"):
                raise ConfigError(f"municipality {code}: its url must be https://…")

    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def audit_secret(self) -> bytes:
        return self.path(AUDIT_SECRET).read_bytes()

    @property
    def audit_chain_key(self) -> bytes:
        """The key of the audit chain (``audit-chain.key``): outside the database, so that write
        access to the database is not enough to rewrite the chain (see :mod:`center.audit`)."""
        try:
            return self.path(AUDIT_CHAIN_KEY).read_bytes()
        except FileNotFoundError:
            raise ConfigError(
                f"no {AUDIT_CHAIN_KEY} in {self.directory}: the directory predates the keyed audit "
                "chain (docs/decisions.md, 2026-12); a center starts its chain with its key"
            ) from None

    def anchors(self) -> list[x509.Certificate]:
        return [
            x509.load_pem_x509_certificate(self.path(name).read_bytes()) for name in self.authority.anchors
        ]

    def build_service(self) -> CenterService:
        from center.authority_client import AuthorityClient
        from center.municipal_client import MunicipalClient, MunicipalEndpoint
        from center.orders import FeeShares
        from center.service import CenterService
        from center.store.driver import Database

        if not self.authority.url or not self.authority.anchors:
            raise ConfigError("no JPKI authority configured (koufu center set-authority)")
        verify: str | bool = str(self.path(self.authority.ca_bundle)) if self.authority.ca_bundle else True
        client = AuthorityClient(self.authority.url, self.authority.token, verify=verify)
        municipalities = MunicipalClient(
            self.bridge_key(),
            {
                code: MunicipalEndpoint(
                    entry["url"], str(self.path(entry["ca_bundle"])) if entry.get("ca_bundle") else True
                )
                for code, entry in self.municipalities.items()
            },
        )
        return CenterService(
            Database(self.database_url),
            anchors=self.anchors(),
            authority=client,
            audit_secret=self.audit_secret,
            audit_chain_key=self.audit_chain_key,
            session_lifetime=dt.timedelta(seconds=self.session_lifetime_seconds),
            municipalities=municipalities,
            shares=FeeShares(self.shares["center"], self.shares["store"]),
            order_deadline=dt.timedelta(seconds=self.order_deadline_seconds),
            housekeeping_interval=self.housekeeping_seconds,
        )

    def migrated_engine(self) -> sa.Engine:
        """An engine on the center's database, its schema brought to the newest revision (the
        command line, operators' tools, the development stack; the request path uses the drivers)."""
        from center.store.engine import make_engine, migrate

        engine = make_engine(self.database_url)
        migrate(engine)
        return engine

    def enroll_terminal(
        self,
        terminal_id: str,
        store: str,
        out: Path,
        *,
        now: dt.datetime,
        municipality: str | None = None,
        chain: str | None = None,
    ) -> EnrolledTerminal:
        """A new terminal (``koufu center enroll-terminal``): registered (with its store's
        municipality and chain when given), its credentials and the center's TLS certificate
        written to ``out``, to be installed on that kiosk only."""
        engine = self.migrated_engine()
        try:
            with engine.begin() as connection:
                terminal = enroll(
                    connection,
                    TerminalCA.load_or_create(self.directory),
                    terminal_id,
                    store,
                    now,
                    municipality=municipality,
                    chain=chain,
                )
        finally:
            engine.dispose()
        terminal.save(out)
        shutil.copyfile(self.path("tls.crt"), out / "center-tls.crt")
        return terminal

    def use_authority(
        self, url: str, token: str, *, ca_bundle: Path | None = None, anchors: Sequence[Path] = ()
    ) -> None:
        """The JPKI authority the center asks (``koufu center set-authority``): its URL, the
        center's verifier token, its TLS certificate bundle and the user-authentication CA
        certificates trusted as anchors, copied into the directory; saved, readable by its owner only."""
        names = []
        for index, anchor in enumerate(anchors):
            name = f"anchor-{index}.crt"
            shutil.copyfile(anchor, self.path(name))
            names.append(name)
        bundle = ""
        if ca_bundle is not None:
            bundle = "authority-tls.crt"
            shutil.copyfile(ca_bundle, self.path(bundle))
        self.authority = AuthorityConfig(url, token, bundle, names)
        self.save()  # holds the verifier token: readable by its owner only (see save)

    def bridge_key(self) -> ed25519.Ed25519PrivateKey:
        """The key the center signs its requests to municipalities with (``bridge.key``)."""
        key = serialization.load_pem_private_key(self.path(BRIDGE_KEY).read_bytes(), None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigError(f"{BRIDGE_KEY} is not an Ed25519 key")
        return key


def initialise(directory: Path, database_url: str | None, topology: str) -> CenterConfig:
    directory.mkdir(parents=True, exist_ok=True)
    config = CenterConfig(
        directory, database_url or f"sqlite:///{directory.resolve() / 'center.db'}", topology
    )
    config.check()
    TerminalCA.load_or_create(directory)
    # two keys, one purpose each: the subjects' pseudonyms must never change nor leave the
    # center; the chain's key is what an auditor needs to verify the log (docs/decisions.md)
    for name in (AUDIT_SECRET, AUDIT_CHAIN_KEY):
        if not config.path(name).exists():
            write_private(config.path(name), secrets.token_bytes(32))
    if not config.path("tls.key").exists():
        write_tls_identity(directory, "tls", ["localhost", "127.0.0.1"])
    bridge = config.path(BRIDGE_KEY)
    if not bridge.exists():
        write_private(
            bridge,
            ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
    config.save()
    return config


def write_tls_identity(directory: Path, stem: str, names: list[str]) -> None:
    """A self-signed TLS server certificate for development (production uses the site's PKI)."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    write_private(
        directory / f"{stem}.key",
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    (directory / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
