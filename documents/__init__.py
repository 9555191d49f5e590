"""The certificate document (証明書データ): its deterministic CBOR form and COSE signature, issue
numbers, sealing by a municipality and opening by a kiosk, and the domain's basics every side shares
(Japan Standard Time, the certificate types, URL-safe base64). Shared by both sides; imports no web
framework and nothing else of the project."""

from documents.basics import JST, CertificateType, b64url_decode, b64url_encode
from documents.cbor import MAX_DOCUMENT_BYTES
from documents.errors import (
    BadIssueNumber,
    BadSignature,
    BadVerificationCode,
    BindingMismatch,
    DocumentError,
    MalformedDocument,
    NotForThisTerminal,
    UndecryptableDocument,
    UntrustedSigner,
)
from documents.issue_number import IssueNumber, tokyo_day
from documents.keys import MunicipalKey, TrustedKey, TrustList, key_id_of
from documents.model import DOCUMENT_FORMAT, Binding, Document
from documents.sealing import (
    SEALED_FORMAT,
    OpenedDocument,
    SignedDocument,
    open_sealed,
    seal,
    sign,
)
from documents.verification_code import code_digest, parse_verification_code, verification_code

__all__ = [
    "DOCUMENT_FORMAT",
    "JST",
    "MAX_DOCUMENT_BYTES",
    "SEALED_FORMAT",
    "BadIssueNumber",
    "BadSignature",
    "BadVerificationCode",
    "Binding",
    "BindingMismatch",
    "CertificateType",
    "Document",
    "DocumentError",
    "IssueNumber",
    "MalformedDocument",
    "MunicipalKey",
    "NotForThisTerminal",
    "OpenedDocument",
    "SignedDocument",
    "TrustList",
    "TrustedKey",
    "UndecryptableDocument",
    "UntrustedSigner",
    "b64url_decode",
    "b64url_encode",
    "code_digest",
    "key_id_of",
    "open_sealed",
    "parse_verification_code",
    "seal",
    "sign",
    "tokyo_day",
    "verification_code",
]
