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
    ExpiredStatement,
    MalformedDocument,
    NotForThisMunicipality,
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
from documents.sealing_key import SEALING_KEY_FORMAT, SealingKey, sign_sealing_key, verify_sealing_key
from documents.to_municipality import TO_MUNICIPALITY_FORMAT, open_from_terminal, seal_to_municipality
from documents.verification_code import code_digest, parse_verification_code, verification_code

__all__ = [
    "DOCUMENT_FORMAT",
    "JST",
    "MAX_DOCUMENT_BYTES",
    "SEALED_FORMAT",
    "SEALING_KEY_FORMAT",
    "TO_MUNICIPALITY_FORMAT",
    "BadIssueNumber",
    "BadSignature",
    "BadVerificationCode",
    "Binding",
    "BindingMismatch",
    "CertificateType",
    "Document",
    "DocumentError",
    "ExpiredStatement",
    "IssueNumber",
    "MalformedDocument",
    "MunicipalKey",
    "NotForThisMunicipality",
    "NotForThisTerminal",
    "OpenedDocument",
    "SealingKey",
    "SignedDocument",
    "TrustList",
    "TrustedKey",
    "UndecryptableDocument",
    "UntrustedSigner",
    "b64url_decode",
    "b64url_encode",
    "code_digest",
    "key_id_of",
    "open_from_terminal",
    "open_sealed",
    "parse_verification_code",
    "seal",
    "seal_to_municipality",
    "sign",
    "sign_sealing_key",
    "tokyo_day",
    "verification_code",
    "verify_sealing_key",
]
