"""A terminal's enrolment request (端末の証明書署名要求, CSR) as the center checks it, before
certifying the key it carries (:mod:`center.terminal_enrolment`).

The kiosk made its key pair and a standard PKCS#10 request signed with that key
(:func:`center.enrolment.make_request`); :func:`check_request` accepts it only if it is a CSR, its
self-signature verifies (whoever sent it holds the key: proof of possession), its key is EC P-256,
and its subject names the terminal, if it names anything. The private key never reaches the center.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from center.errors import BadRequest

MAX_REQUEST = 16 * 1024  # a P-256 request in PEM is under 600 bytes


def check_request(pem: bytes | str, terminal_id: str) -> ec.EllipticCurvePublicKey:
    """The key a terminal's request asks to be certified, once the request passes: ``bad_csr`` (not
    a PEM certificate signing request), ``csr_signature`` (its signature does not verify: no proof
    the sender holds the key), ``csr_key`` (not an EC P-256 key), ``csr_subject`` (its common name
    is another terminal's)."""
    data = pem.encode() if isinstance(pem, str) else pem
    if len(data) > MAX_REQUEST or b"-----BEGIN CERTIFICATE REQUEST-----" not in data:
        raise BadRequest("bad_csr", "not a PEM certificate signing request (CSR)")
    try:
        request = x509.load_pem_x509_csr(data.strip())
        signature_valid = request.is_signature_valid
        public_key = request.public_key()
    except UnsupportedAlgorithm:
        raise BadRequest("csr_key", "a terminal's key is EC P-256 (secp256r1)") from None
    except (ValueError, TypeError):
        raise BadRequest("bad_csr", "not a PEM certificate signing request (CSR)") from None
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise BadRequest("csr_key", "a terminal's key is EC P-256 (secp256r1)")
    if not signature_valid:
        raise BadRequest("csr_signature", "the request's signature does not verify")
    names = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if any(name.value != terminal_id for name in names):
        raise BadRequest("csr_subject", "the request names another terminal")
    return public_key
