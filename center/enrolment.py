"""A terminal's enrolment (端末登録) as the terminal holds it: its id, its private key and the
certificate the center's terminal CA issued for it, saved in a directory that is installed on that
kiosk only. The terminal's side of the center link: no database, no web framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from center.private_files import write_private


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
