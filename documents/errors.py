"""One error hierarchy for documents: every refusal a kiosk (or a municipality) can meet.

Each class has a stable ``code`` (what callers and tests rely on) and a message that never contains
a name, an address, an id value or anything else from the document: it is safe to log and to report
to the center. Opening a sealed document raises nothing but these, whatever the bytes.
"""

from __future__ import annotations


class DocumentError(Exception):
    """A refused document: ``code`` (stable, snake_case) and a message safe to log."""

    code = "document_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class MalformedDocument(DocumentError):
    """Not the format: not deterministic CBOR, wrong types, missing or unknown fields, over its size."""

    code = "malformed_document"


class NotForThisTerminal(DocumentError):
    """The envelope names another terminal as its recipient (宛先端末違い)."""

    code = "wrong_recipient"


class NotForThisMunicipality(DocumentError):
    """An envelope sealed by a terminal names another municipality as its recipient (宛先団体違い)."""

    code = "wrong_municipality"


class UndecryptableDocument(DocumentError):
    """The envelope does not decrypt with this terminal's key (HPKE: the AES-GCM tag fails, as under
    another key, another info or another enc)."""

    code = "undecryptable"


class UntrustedSigner(DocumentError):
    """The signing key is not in the trust list, belongs to another municipality, or has expired."""

    code = "untrusted_signer"


class BadSignature(DocumentError):
    """The municipality's signature (電子署名) does not verify over the document."""

    code = "bad_signature"


class BindingMismatch(DocumentError):
    """The document was issued for another order, session, terminal or card (紐付け不一致).

    ``field`` names the first binding field that differs: ``order_id``, ``session_id``,
    ``terminal_id`` or ``holder_certificate``. The values themselves are never in the message.
    """

    code = "binding_mismatch"

    def __init__(self, field: str) -> None:
        super().__init__(f"the document's {field} is not this session's")
        self.field = field


class BadIssueNumber(DocumentError):
    """An issue number (交付番号) out of range or not in its exact text form."""

    code = "bad_issue_number"


class BadVerificationCode(DocumentError):
    """A verification code (検証コード) that is not 12 Crockford base32 symbols."""

    code = "bad_verification_code"


class ExpiredStatement(DocumentError):
    """A municipality's signed statement past its ``not_after`` (e.g. its sealing key's, 期限切れ)."""

    code = "expired_statement"
