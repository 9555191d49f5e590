"""The renderer's errors: each with a stable ``code`` and a message safe to log (never a name,
an address or any other value from the document).

- :class:`RenderRefused`: the document failed the checks made again before drawing (signer,
  signature, binding): nothing is drawn. It is a :class:`~documents.DocumentError`, so a printer
  treats it as every other refused document; ``reason`` is the failed check's own code.
- :class:`UnrenderableDocument`: a verified document whose content the layouts cannot print (an
  unknown certificate type, a missing field, another page count than the municipality's).
- :class:`FontMissing`: the terminal lacks a font it needs (an installation fault, not the document's).
- :class:`UnfitRecord`: an issuance record (交付履歴) the record's page cannot print (a field missing,
  of another type or out of its bounds, or a record longer than its pages may be).
"""

from __future__ import annotations

from documents import DocumentError


class RenderError(Exception):
    """Nothing was rendered: ``code`` (stable, snake_case) and a message safe to log."""

    code = "render_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class RenderRefused(RenderError, DocumentError):
    """印刷拒否: the signer, the signature or the binding did not pass again at the printer.

    ``reason`` is the code of the check that failed (``untrusted_signer``, ``bad_signature``,
    ``binding_mismatch``, ``bad_verification_code``); ``field`` names the binding field that
    differs, when that is the reason.
    """

    code = "render_refused"

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(f"not rendered: {message}")
        self.reason = reason
        self.field = field


class UnrenderableDocument(RenderError, DocumentError):
    """A verified document the layouts cannot print as it is."""

    code = "unrenderable_document"


class FontMissing(RenderError):
    """A font the certificates are printed in is not installed on this terminal."""

    code = "font_missing"


class UnfitRecord(RenderError):
    """An issuance record (交付履歴) whose content cannot be printed as it is: the message names the
    field (``issuances[3].issued_at``), never its value."""

    code = "unfit_record"
