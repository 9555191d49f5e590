"""Verifying a resident's proof (利用者証明の検証): certificate, chain, validity, signature, revocation.

Pure logic, used by the center and by each municipality alike: the trust anchors (every
generation of the user-authentication CA) are handed in; :func:`check_proof` makes every check
that needs no one else, :func:`judge_ocsp` judges the authority's signed revocation answer (OCSP,
whoever relays it, with the serials a renewed certificate replaced, :mod:`center.previous_serials`)
and :func:`check_revocation` accepts only a good one. Issuers are matched by
key — the certificate's AuthorityKeyIdentifier against each anchor's SubjectKeyIdentifier, then
the signature — never by name, since all generations share one name.
"""

from __future__ import annotations

import datetime as dt
import enum
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from center import previous_serials
from center.errors import ResidentRefused

MAX_CERTIFICATE_SIZE = 8192
MAX_OCSP_SIZE = 16384
CLOCK_TOLERANCE = dt.timedelta(minutes=5)


class UnusableRevocation(Exception):
    """An OCSP answer that cannot be trusted (not one, unsigned by the CA, about another
    certificate, stale): no status can be read from it."""


class RevocationStatus(enum.Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class JudgedRevocation:
    """What a trusted OCSP answer says of the certificate: its status, and the serials it renewed
    (newest first; ``()`` when the answer names none), both under the CA's signature."""

    status: RevocationStatus
    previous_serials: tuple[int, ...] = ()


@dataclass(frozen=True)
class VerifiedResident:
    certificate: x509.Certificate
    issuer: x509.Certificate

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


def load_certificate(der: bytes) -> x509.Certificate:
    if not der or len(der) > MAX_CERTIFICATE_SIZE or der[0] != 0x30:
        raise ResidentRefused("certificate_not_der", "the card's certificate is not DER")
    try:
        with warnings.catch_warnings():  # a non-positive serial only warns; it is refused below
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            certificate = x509.load_der_x509_certificate(der)
            serial = certificate.serial_number
        public_key = certificate.public_key()
        _ = certificate.extensions  # parsed lazily by the library: parse them now, not mid-check
    except (
        ValueError,
        TypeError,
        UnsupportedAlgorithm,
        x509.InvalidVersion,
        x509.DuplicateExtension,
        x509.UnsupportedGeneralNameType,
    ):
        raise ResidentRefused("certificate_not_der", "the card's certificate is not DER") from None
    if serial <= 0:
        raise ResidentRefused("certificate_not_der", "the card's certificate has an invalid serial number")
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ResidentRefused("certificate_not_jpki", "the card's certificate has no RSA key")
    return certificate


def find_issuer(certificate: x509.Certificate, anchors: Sequence[x509.Certificate]) -> x509.Certificate:
    try:
        aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        wanted = aki.key_identifier
    except x509.ExtensionNotFound:
        wanted = None
    for anchor in anchors:
        if wanted is not None:
            try:
                ski = anchor.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            except x509.ExtensionNotFound:
                continue
            if ski.digest != wanted:
                continue
        try:
            certificate.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return anchor
    raise ResidentRefused(
        "untrusted_certificate", "the certificate was not issued by a JPKI user-authentication CA"
    )


def check_proof(
    certificate_der: bytes,
    signature: bytes,
    message: bytes,
    *,
    anchors: Sequence[x509.Certificate],
    now: dt.datetime,
) -> VerifiedResident:
    """Every check of the card's proof that needs no one else: the certificate, its issuer among
    the anchors, its validity at ``now``, the signature over ``message``. Revocation is next."""
    certificate = load_certificate(certificate_der)
    issuer = find_issuer(certificate, anchors)
    if now < certificate.not_valid_before_utc:
        raise ResidentRefused("certificate_not_yet_valid", "the card's certificate is not valid yet")
    if now > certificate.not_valid_after_utc:
        raise ResidentRefused("certificate_expired", "the card's certificate has expired")
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    if len(signature) != public_key.key_size // 8:
        raise ResidentRefused("bad_signature_length", "the card's signature has the wrong length")
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ResidentRefused("bad_signature", "the card's signature does not verify") from None
    return VerifiedResident(certificate, issuer)


def check_revocation(status: RevocationStatus) -> None:
    """Only a certificate the authority calls good is accepted."""
    if status is RevocationStatus.REVOKED:
        raise ResidentRefused("certificate_revoked", "the card's certificate has been revoked")
    if status is not RevocationStatus.GOOD:
        raise ResidentRefused("certificate_unknown", "the authority does not know this certificate")


def judge_ocsp(
    raw: bytes, certificate: x509.Certificate, issuer: x509.Certificate, now: dt.datetime
) -> JudgedRevocation:
    """The status an OCSP answer gives ``certificate``, if the answer can be trusted: signed by
    ``issuer`` or a responder it delegated, about this certificate, without a nonce (RFC 5019:
    answers are signed ahead), and fresh by its own times; with the serials the certificate
    renewed, if the answer states them (``koufuPreviousSerials``, read only once the signature
    verified, and refused if malformed). Else :class:`UnusableRevocation`."""
    if not raw or len(raw) > MAX_OCSP_SIZE:
        raise UnusableRevocation("not an OCSP response")
    try:
        response = ocsp.load_der_ocsp_response(raw)
    except ValueError:
        raise UnusableRevocation("not an OCSP response") from None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise UnusableRevocation(f"responder said {response.response_status.name}")
    signer_key = ocsp_responder(response, issuer).public_key()
    if not isinstance(signer_key, rsa.RSAPublicKey) or response.signature_hash_algorithm is None:
        raise UnusableRevocation("responder key is not RSA")
    try:
        signer_key.verify(
            response.signature,
            response.tbs_response_bytes,
            padding.PKCS1v15(),
            response.signature_hash_algorithm,
        )
    except InvalidSignature:
        raise UnusableRevocation("signature does not verify") from None
    if sum(1 for _ in response.responses) != 1:  # its extensions could not say about which
        raise UnusableRevocation("not exactly one answer")
    if response.serial_number != certificate.serial_number:
        raise UnusableRevocation("answer is about another certificate")
    try:
        response.extensions.get_extension_for_class(x509.OCSPNonce)
    except x509.ExtensionNotFound:
        pass
    else:
        raise UnusableRevocation("the answer carries a nonce the question did not")
    if response.this_update_utc > now + CLOCK_TOLERANCE:
        raise UnusableRevocation("answer from the future")
    if response.next_update_utc is None:  # without a nonce, only its times make it fresh
        raise UnusableRevocation("answer without nextUpdate")
    if response.next_update_utc < now - CLOCK_TOLERANCE:
        raise UnusableRevocation("stale answer")
    try:
        renewed = previous_serials.read(response.extensions, certificate.serial_number)
    except previous_serials.MalformedPreviousSerials as error:
        raise UnusableRevocation(f"malformed previous serials: {error}") from None
    status = {
        ocsp.OCSPCertStatus.GOOD: RevocationStatus.GOOD,
        ocsp.OCSPCertStatus.REVOKED: RevocationStatus.REVOKED,
    }.get(response.certificate_status, RevocationStatus.UNKNOWN)
    return JudgedRevocation(status, renewed)


def ocsp_responder(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate:
    """The issuing CA itself, or a certificate it delegated OCSP signing to."""
    for candidate in response.certificates:
        try:
            candidate.verify_directly_issued_by(issuer)
            eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku:
            return candidate
    return issuer
