"""One error hierarchy for the JPKI authority simulator (認証局のエラー).

Every failure the authority can report is an :class:`AuthorityError`. Each class has a stable
``code`` (the ``"error"`` member of the HTTP JSON body) and the HTTP status it maps to, so the web
layer translates errors in one table and the command line prints ``str(error)``. Domain facts
travel in the error (``serial``, ``generation``); secrets (tokens) never do.
"""

from __future__ import annotations


class AuthorityError(Exception):
    """Base of every error of ``center.authority``."""

    code = "authority_error"
    http_status = 400


class AuthorityStateError(AuthorityError):
    """The authority directory or database is unusable (missing keys, unreadable PEM, schema)."""

    code = "authority_unavailable"
    http_status = 503


class NoCurrentGenerationError(AuthorityStateError):
    """No CA generation is valid at the requested time (run ``koufu authority init`` again)."""

    code = "no_current_generation"


class UnknownGenerationError(AuthorityError):
    """No CA of that kind and generation exists here (a CRL was asked for a wrong generation)."""

    code = "unknown_generation"
    http_status = 404

    def __init__(self, kind: str, generation: object) -> None:
        self.kind = kind
        self.generation = generation
        super().__init__(f"no {kind} CA of generation {generation}")


class UnknownIssuerError(AuthorityError):
    """A certificate was not issued (by key and signature) by any CA generation offered."""

    code = "unknown_issuer"


class IssuanceRefusedError(AuthorityError):
    """The authority does not issue this certificate (e.g. a signing certificate under 15)."""

    code = "issuance_refused"
    http_status = 409


class InvalidMunicipalityError(AuthorityError):
    """Not a 地方公共団体コード: six digits whose last one is the check digit of the first five."""

    code = "invalid_municipality"


class InvalidSerialError(AuthorityError):
    """A certificate serial that no certificate of this authority can have (not 1 … 2**63-1)."""

    code = "invalid_serial"


class UnknownCertificateError(AuthorityError):
    """No certificate with this serial was issued by this authority."""

    code = "unknown_certificate"
    http_status = 404

    def __init__(self, serial: int) -> None:
        self.serial = serial
        super().__init__(f"no certificate with serial {serial}")


class CertificateStateError(AuthorityError):
    """The certificate is in a state that forbids the operation (already revoked, renewed…)."""

    code = "certificate_state"
    http_status = 409

    def __init__(self, serial: int, message: str) -> None:
        self.serial = serial
        super().__init__(f"certificate {serial}: {message}")


class AlreadyRevokedError(CertificateStateError):
    """失効済み: the certificate is already revoked."""

    code = "already_revoked"


class AlreadyRenewedError(CertificateStateError):
    """更新済み: a newer certificate already replaces this one."""

    code = "already_renewed"


class InvalidReasonError(AuthorityError):
    """Not a revocation reason the authority accepts (``removeFromCRL`` is for delta CRLs only)."""

    code = "invalid_reason"


class MalformedOcspRequestError(AuthorityError):
    """The bytes are not one OCSP request this responder understands (RFC 6960 malformedRequest)."""

    code = "malformed_request"


class VerifierError(AuthorityError):
    """Registration of verifiers (署名検証者 / 利用者証明検証者) failed."""

    code = "verifier_error"


class DuplicateVerifierError(VerifierError):
    """A verifier of that name is already registered."""

    code = "verifier_exists"
    http_status = 409


class UnknownVerifierError(VerifierError):
    """No active verifier of that name."""

    code = "unknown_verifier"
    http_status = 404


class UnauthorizedError(AuthorityError):
    """The request carries no bearer token, or one of no active registered verifier."""

    code = "unauthorized"
    http_status = 401


class RequestTooLargeError(AuthorityError):
    """The request body is larger than the endpoint accepts."""

    code = "request_too_large"
    http_status = 413

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body larger than {limit} bytes")


class UnsupportedMediaTypeError(AuthorityError):
    """The request body is not of the type the endpoint takes (OCSP: application/ocsp-request)."""

    code = "unsupported_media_type"
    http_status = 415
