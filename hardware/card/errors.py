"""One error hierarchy for the card layer (カード層のエラー).

Every failure a card, a reader or a malicious answer can cause ends up as a :class:`CardError`
subclass. Errors carry domain facts (status word, tries remaining) so the UI can say something
useful; the original exception is kept as ``__cause__`` when one layer translates another's error.
"""

from __future__ import annotations

from hardware.card.status import describe_sw


class CardError(Exception):
    """Base of every error raised by ``hardware.card``."""


class TransportError(CardError):
    """The link to the reader or the card failed (reader gone, socket closed, timeout)."""


class NoCardError(TransportError):
    """No card is present in the reader."""


class CardRemovedError(TransportError):
    """The card was removed (or lost power) while it was being used."""


class ProtocolError(CardError):
    """The card answered something that breaks ISO 7816 or the JPKI profile.

    Truncated or oversized answers, a missing status word, endless ``61xx`` chains, a response
    where none was expected: a broken or malicious card. Never a reason to retry a PIN.
    """


class ApduError(CardError):
    """The card refused a command with a status word other than ``90 00``."""

    def __init__(self, sw: int, data: bytes = b"", message: str | None = None) -> None:
        self.sw = sw
        self.data = data
        super().__init__(message or f"card answered {describe_sw(sw)}")


class FileNotFoundOnCardError(ApduError):
    """``6A 82``: the application or file does not exist (not a My Number Card?)."""


class SecurityStatusError(ApduError):
    """``69 82``: the command needs a PIN that has not been verified."""


class InvalidPinError(ApduError):
    """A wrong PIN: ``63 Cx``, with ``attempts_remaining`` = x (0 means now blocked)."""

    def __init__(self, sw: int, attempts_remaining: int) -> None:
        self.attempts_remaining = attempts_remaining
        super().__init__(sw, message=f"wrong PIN, {attempts_remaining} tries remaining")


class PinBlockedError(ApduError):
    """``69 84`` (or ``63 C0``): the PIN is locked; only the municipal counter can unlock it."""

    def __init__(self, sw: int) -> None:
        self.attempts_remaining = 0
        super().__init__(sw, message="PIN is blocked")


class WrongLengthError(ApduError):
    """``67 00``: the card rejected the length of the command data."""


class InvalidPinFormatError(CardError):
    """The PIN typed does not have the form the card requires (raised before anything is sent)."""


class CardDataError(CardError):
    """Data read from the card is not what the profile promises (certificate not DER, bad TLV,
    signature of the wrong size). The card is broken or malicious."""


class NotMyNumberCardError(CardError):
    """The card has no JPKI application: not a My Number Card (or a smartphone without the app)."""


class CardTimeoutError(TransportError):
    """The card (or the reader) did not answer within the deadline; the connection is unusable."""


class NoSigningCertificateError(CardError):
    """The card holds no signing certificate (署名用電子証明書): issued to a holder under 15, or
    not chosen at the counter. Nothing can be signed with it."""
