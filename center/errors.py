"""One error hierarchy for the center: every refusal has a stable code, an HTTP status and words.

The code is what a kiosk (and a test) relies on; the message is safe to show and to log — it never
contains a certificate serial, a name or anything a resident typed.
"""

from __future__ import annotations


class CenterError(Exception):
    """A refusal: ``code`` (stable, snake_case), ``status`` (HTTP) and a message."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, str | int | None] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        if status is not None:
            self.status = status


class BadRequest(CenterError):
    status = 400


class TerminalAuthError(CenterError):
    """The request does not come from an enrolled, active terminal, or was replayed."""

    status = 401


class UnattributedRequest(TerminalAuthError):
    """A request that no enrolled terminal can be held to: unsigned, its signature headers
    malformed, or naming a terminal that is not enrolled (also with a clock off). It says nothing
    about any terminal, so it is counted (``center.refusal_tally``), not audited one by one: a
    flood of such requests must not queue real decisions behind the audit chain's lock."""


class TerminalForbidden(CenterError):
    """A known terminal that may not be served (suspended or revoked)."""

    status = 403


class NotFound(CenterError):
    status = 404


class Conflict(CenterError):
    """The session is not in a state that allows this (challenge used or expired)."""

    status = 409


class UnsupportedMediaType(CenterError):
    """A request body not declared ``application/json`` (:mod:`center.json_body`)."""

    status = 415


class ResidentRefused(CenterError):
    """The resident's certificate or signature does not pass (422: well-formed but refused)."""

    status = 422


class ServiceClosed(CenterError):
    """Outside service hours, a maintenance window or a suspension: the calendar's reason code,
    its words in Japanese and English, and when the service reopens (if known)."""

    status = 403

    @classmethod
    def from_decision(
        cls, reason_code: str, message_ja: str, message_en: str, reopens_at: str | None
    ) -> ServiceClosed:
        return cls(reason_code, message_en, details={"message_ja": message_ja, "reopens_at": reopens_at})


class IssuanceStopped(CenterError):
    """An operator stopped issuance (交付停止, :mod:`center.incidents`) where this request applies:
    always the code ``issuance_stopped``, with the reason residents are shown (``message`` in
    English, ``message_ja`` in Japanese). No reopening is known: the stop lasts until lifted."""

    status = 403
    code = "issuance_stopped"
    stop_id: int | None = None  # the stop, for the audit line of the refusal (never sent)

    @classmethod
    def of(cls, reason_ja: str, reason_en: str, stop_id: int) -> IssuanceStopped:
        refusal = cls(cls.code, reason_en, details={"message_ja": reason_ja})
        refusal.stop_id = stop_id
        return refusal


class DependencyUnavailable(CenterError):
    """The JPKI authority cannot be asked: refuse, never accept unchecked (503)."""

    status = 503
