"""RSA keys, serial numbers and key identifiers of the authority.

A key identifier here is always the SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 §4.2.1.2
method 1), the same bytes as a CA's subjectKeyIdentifier, the authorityKeyIdentifier of what it
issues, and the ``issuerKeyHash`` of an OCSP CertID made with SHA-1. CA generations share one
name (reference §8), so this identifier is how anyone tells them apart.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from center.authority.errors import AuthorityStateError
from center.private_files import write_private

KEY_SIZE = 2048

KeyFactory = Callable[[], rsa.RSAPrivateKey]


def generate_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key (what J-LIS and the card both use)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def new_serial() -> int:
    """JPKI end-entity serials are 4 bytes: positive, high bit clear, never zero."""
    return secrets.randbelow(0x7FFFFFFF) + 1


def public_key_bits(public_key: rsa.RSAPublicKey) -> bytes:
    """The content of the subjectPublicKey BIT STRING (the PKCS#1 RSAPublicKey DER)."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def key_hash(public_key: rsa.RSAPublicKey, algorithm: hashes.HashAlgorithm) -> bytes:
    """Hash of the public key bits: an OCSP ``issuerKeyHash`` (SHA-1 gives the key identifier)."""
    digest = hashes.Hash(algorithm)
    digest.update(public_key_bits(public_key))
    return digest.finalize()


def key_identifier(public_key: rsa.RSAPublicKey) -> bytes:
    return key_hash(public_key, hashes.SHA1())


def authority_key_id(certificate: x509.Certificate) -> bytes | None:
    """The keyIdentifier of a certificate's or CRL's authorityKeyIdentifier, if any."""
    try:
        aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    return aki.value.key_identifier


def write_private_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    """Write a PEM private key readable by its owner only (mode 0600 from the first byte)."""
    write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def read_private_key(path: Path) -> rsa.RSAPrivateKey:
    """Load a CA key written by :func:`write_private_key`.

    OpenSSL's RSA consistency check (~50 ms a key) is skipped: these are the authority's own
    keys in its own private folder, and the loader compares each with its certificate.
    """
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (OSError, ValueError, TypeError) as exc:
        raise AuthorityStateError(f"cannot load the key {path.name}: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthorityStateError(f"the key {path.name} is not RSA")
    return key
