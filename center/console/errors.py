"""The console's refusals: one hierarchy, each with a stable code and an HTTP status. The web
layer (:mod:`center.console.app`) answers them as a page, or as JSON to the page's script; the
command line as one line. No message holds a token, a session id or a credential."""

from __future__ import annotations

from center.errors import CenterError


class ConsoleError(CenterError):
    """Anything the console refuses."""

    status = 400


class SignedOut(ConsoleError):
    """No session, or one that ended, idled out or outlived its lifetime (``reason``)."""

    status = 401


class NotAllowed(ConsoleError):
    """The account's role may not do this (an auditor changing anything, a page not for the role)."""

    status = 403


class OutOfScope(ConsoleError):
    """Municipal staff asking about another municipality: answered as if there were nothing there,
    so the answer does not even confirm what exists elsewhere."""

    status = 404


class CsrfRefused(ConsoleError):
    """A change without the session's CSRF token, or not from the console's own origin."""

    status = 403


class BadInput(ConsoleError):
    """A parameter or form field that is not what the page takes."""

    status = 400


class AccountRefused(ConsoleError):
    """An account cannot be made or changed: its name is taken, its role needs a municipality, it
    does not exist."""

    status = 400


class EnrolmentRefused(ConsoleError):
    """The enrolment link is unknown (404), expired or already used (410)."""

    status = 410


class PasskeyRefused(ConsoleError):
    """A WebAuthn ceremony failed; the subclass says how."""

    status = 400


class CeremonyUnknown(PasskeyRefused):
    """The ceremony the answer names is not one in flight: never begun, already used, or timed out."""


class WrongChallenge(PasskeyRefused):
    """The authenticator signed another challenge than this ceremony's."""


class UnknownCredential(PasskeyRefused):
    """No account has this passkey."""

    status = 401


class PasskeyNotVerified(PasskeyRefused):
    """The answer does not verify: signature, origin, relying party, user verification, counter."""

    status = 401


class AccountDisabled(PasskeyRefused):
    """The passkey's account is disabled."""

    status = 403


class PasskeyRevoked(PasskeyRefused):
    """The passkey was revoked (the account's other passkeys may still sign in)."""

    status = 403


class OrderRefused(ConsoleError):
    """An order cannot be handled so (:mod:`center.order_desk`): it moved meanwhile, it is not
    past its deadline, the count is not what is due, it has no void pending; its code says which."""

    status = 409
