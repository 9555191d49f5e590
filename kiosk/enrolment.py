"""The terminal's side of its enrolment (端末登録): its key pair made on the kiosk, and what the
center issued for that key installed beside it. The private key never leaves the kiosk.

1. :func:`request_enrolment` makes the key (``terminal.key``, 0600) and the certificate signing
   request (``terminal.csr``, PEM) in the terminal's directory; the operator takes the request
   to the center (the console's Fleet page, or ``koufu center enroll-terminal --csr``).
2. :func:`install_enrolment` installs the center's :class:`~center.enrolment_request.EnrolmentBundle`
   (``terminal.crt``, ``center-tls.crt``, ``terminal-id``), once its certificate is known to
   certify the key on disk and to name the terminal: the directory is then what
   :meth:`center.enrolment.EnrolledTerminal.load` reads.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from center.enrolment import EnrolmentBundle, make_request
from center.private_files import write_private
from documents.issue_number import is_terminal_id
from kiosk.errors import EnrolmentError

KEY, REQUEST = "terminal.key", "terminal.csr"
CERTIFICATE, CENTER_TLS, TERMINAL_ID = "terminal.crt", "center-tls.crt", "terminal-id"


def request_enrolment(directory: Path, terminal_id: str) -> x509.CertificateSigningRequest:
    """A new key pair for ``terminal_id`` in ``directory`` and its request to the center (both
    written there). ``key_exists`` if the directory holds a key already: a terminal's key is
    replaced only by a person who removes it first."""
    if not is_terminal_id(terminal_id):  # the center's rule, as documents states it
        raise EnrolmentError("bad_terminal_id", "terminal ids are 1-32 of A-Z, 0-9 and '-'")
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / KEY
    if key_path.exists():
        raise EnrolmentError("key_exists", f"{key_path} exists: this terminal has a key already")
    key = ec.generate_private_key(ec.SECP256R1())
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    request = make_request(key, terminal_id)
    (directory / REQUEST).write_bytes(request.public_bytes(serialization.Encoding.PEM))
    return request


def install_enrolment(directory: Path, bundle_text: str | bytes) -> EnrolmentBundle:
    """Install the center's bundle in the terminal's ``directory``, after checking it certifies
    the key made there (``key_mismatch``) for this terminal (``other_terminal``)."""
    try:
        bundle = EnrolmentBundle.from_json(bundle_text)
    except ValueError as error:
        raise EnrolmentError("bad_bundle", str(error)) from None
    key_path = directory / KEY
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    except FileNotFoundError:
        raise EnrolmentError("no_key", f"no {key_path}: make the request on this terminal first") from None
    public = bundle.certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(public, ec.EllipticCurvePublicKey):
        raise EnrolmentError("key_mismatch", "the certificate does not certify this terminal's key")
    if _spki(public) != _spki(key.public_key()):
        raise EnrolmentError("key_mismatch", "the certificate does not certify this terminal's key")
    names = bundle.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [name.value for name in names] != [bundle.terminal_id]:
        raise EnrolmentError("other_terminal", "the certificate names another terminal than the bundle")
    request = directory / REQUEST
    if request.exists():
        asked = x509.load_pem_x509_csr(request.read_bytes()).subject
        if any(
            name.value != bundle.terminal_id for name in asked.get_attributes_for_oid(NameOID.COMMON_NAME)
        ):
            raise EnrolmentError("other_terminal", "the bundle is for another terminal than the request")
    (directory / CERTIFICATE).write_bytes(bundle.certificate.public_bytes(serialization.Encoding.PEM))
    (directory / CENTER_TLS).write_bytes(bundle.center_tls)
    (directory / TERMINAL_ID).write_text(bundle.terminal_id + "\n")
    return bundle


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
