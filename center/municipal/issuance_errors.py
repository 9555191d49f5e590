"""The root of the municipal issuer's errors, apart from the issuer so that the modules it uses
(the stored settings, usage registrations) can raise them without importing it."""

from __future__ import annotations


class IssuanceError(Exception):
    """A request the issuer cannot serve for a reason other than eligibility (``code`` is stable)."""

    code = "issuance_error"


class NotConfigured(IssuanceError):
    code = "not_configured"
