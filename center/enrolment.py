"""A terminal's enrolment (端末登録) as the terminal holds it: its id, its private key and the
certificate the center's terminal CA issued for it, saved in a directory that is installed on that
kiosk only. The terminal's side of the center link: no database, no web framework.

A terminal that makes its own key (``koufu kiosk enrolment-request``) sends the center a standard
PKCS#10 request (:func:`make_request`; the center checks it, :mod:`center.enrolment_request`) and
gets back an :class:`EnrolmentBundle`: public material only (its certificate, the center's TLS
certificate and its id) in one JSON document, which ``koufu kiosk install-enrolment`` installs
beside the key. The private key never leaves the kiosk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from center.private_files import write_private

BUNDLE_FORMAT = "koufu-enrolment/1"


@dataclass(frozen=True)
class EnrolledTerminal:
    terminal_id: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def save(self, directory: Path) -> None:
        """The terminal's credentials, to be installed on that kiosk only."""
        directory.mkdir(parents=True, exist_ok=True)
        key_path = directory / "terminal.key"
        write_private(
            key_path,
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        (directory / "terminal.crt").write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        (directory / "terminal-id").write_text(self.terminal_id + "\n")

    @classmethod
    def load(cls, directory: Path) -> EnrolledTerminal:
        key = serialization.load_pem_private_key((directory / "terminal.key").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{directory / 'terminal.key'} is not an EC private key")
        cert = x509.load_pem_x509_certificate((directory / "terminal.crt").read_bytes())
        return cls((directory / "terminal-id").read_text().strip(), key, cert)


def make_request(key: ec.EllipticCurvePrivateKey, terminal_id: str) -> x509.CertificateSigningRequest:
    """The terminal's request for a certificate of ``key`` (signed with it), naming ``terminal_id``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal_id)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())


def fingerprint(certificate: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint, as ``AB:CD:…`` (what an operator reads out)."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


@dataclass(frozen=True)
class EnrolmentBundle:
    """What the center issued a terminal: public material only, for its kiosk to install."""

    terminal_id: str
    certificate: x509.Certificate
    center_tls: bytes  # the center's TLS certificate(s), PEM, as the kiosk trusts them

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": BUNDLE_FORMAT,
                "terminal_id": self.terminal_id,
                "certificate": self.certificate.public_bytes(serialization.Encoding.PEM).decode(),
                "center_tls": self.center_tls.decode(),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> EnrolmentBundle:
        """A bundle as :meth:`to_json` wrote it (``ValueError`` for anything else)."""
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
                raise ValueError(f"not an enrolment bundle ({BUNDLE_FORMAT})")
            terminal_id, certificate, center_tls = (
                document["terminal_id"],
                document["certificate"],
                document["center_tls"],
            )
            if not all(isinstance(item, str) for item in (terminal_id, certificate, center_tls)):
                raise ValueError("an enrolment bundle's members are strings")
            x509.load_pem_x509_certificates(center_tls.encode())
            return cls(terminal_id, x509.load_pem_x509_certificate(certificate.encode()), center_tls.encode())
        except (KeyError, json.JSONDecodeError) as error:
            raise ValueError(f"not an enrolment bundle ({BUNDLE_FORMAT}): {error}") from None
