"""The resident's card as the kiosk's steps use it (利用者証明用電子証明書): read when placed,
proving its holder with the PIN, then logged out.

:class:`ResidentCard` is the card step's adapter on :class:`hardware.card.holder.HolderAuthentication`:
the card layer's errors become the kiosk's (:mod:`kiosk.errors`), with what the step needs: a card
that cannot be read or is no My Number Card, a wrong PIN with the tries left, a locked PIN, a card
taken away. Other faults of the card (one that breaks the protocol) are raised as they are and
fail the session.

The PIN travels in the card layer's :class:`~hardware.card.pin.PinBuffer` (a wipeable buffer),
from the keypad to the card only.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.card.errors import (
    CardError,
    InvalidPinError,
    NoSigningCertificateError,
    NotMyNumberCardError,
    PinBlockedError,
    SecurityStatusError,
    TransportError,
)
from hardware.card.holder import HolderAuthentication, HolderProof
from hardware.card.pin import PinBuffer
from hardware.card.profile import SIGNING_PASSWORD, USER_AUTH_PIN
from hardware.card.signing import SignedMessage, SigningStep
from hardware.card.transport import CardConnection
from kiosk.errors import (
    CardRemoved,
    CardUnreadable,
    NoSigningCertificate,
    NotMyNumberCard,
    PinLocked,
    WrongPin,
)

PIN_LENGTH = USER_AUTH_PIN.max_length  # 4 digits (利用者証明用暗証番号)
PASSWORD_LENGTHS = (SIGNING_PASSWORD.min_length, SIGNING_PASSWORD.max_length)  # 署名用パスワード: 6-16
PASSWORD_ALPHABET = SIGNING_PASSWORD.alphabet  # 0-9 and A-Z


def pin_buffer() -> PinBuffer:
    """An empty buffer for the user-authentication PIN."""
    return PinBuffer(USER_AUTH_PIN)


def password_buffer() -> PinBuffer:
    """An empty buffer for the signing password (署名用パスワード: 6-16 of A-Z and 0-9)."""
    return PinBuffer(SIGNING_PASSWORD)


@dataclass(frozen=True)
class CardReading:
    """What the card says before the PIN (no try spent): its tries left and its certificate
    for user authentication (DER; ``None`` on a token that opens it only after the PIN)."""

    tries_left: int
    certificate: bytes | None


class ResidentCard:
    """The card placed on the reader."""

    def __init__(self, connection: CardConnection) -> None:
        self._card = HolderAuthentication(connection)

    def read(self) -> CardReading:
        """:class:`NotMyNumberCard` or :class:`CardUnreadable` when it cannot be read."""
        try:
            reading = self._card.read()
        except NotMyNumberCardError as error:
            raise NotMyNumberCard(type(error).__name__) from error
        except CardError as error:
            raise CardUnreadable(type(error).__name__) from error
        certificate = reading.certificate
        return CardReading(reading.tries_left, None if certificate is None else certificate.der)

    def prove(self, pin: PinBuffer, challenge: bytes) -> HolderProof:
        """VERIFY ``pin`` (wiped whatever happens), then sign ``challenge``: :class:`WrongPin`
        (with the tries left), :class:`PinLocked`, or :class:`CardRemoved` when it cannot."""
        try:
            return self._card.prove(pin, challenge)
        except InvalidPinError as error:
            raise WrongPin(error.attempts_remaining) from error
        except PinBlockedError as error:
            raise PinLocked() from error
        except TransportError as error:  # no card, removed, not answering
            raise CardRemoved(type(error).__name__) from error

    def finish(self) -> None:
        """Log the card out and reset it; quiet if the card is already gone."""
        self._card.finish()


@dataclass(frozen=True)
class SigningReading:
    """What the card placed to sign says before the password (no try spent): the password's tries
    left and its user-authentication certificate (DER; ``None`` on a token that opens it only
    after the PIN), to check it is the card of the session's holder."""

    tries_left: int
    certificate: bytes | None


class SigningCard:
    """The card placed again to sign an application (署名用電子証明書): read, then
    :meth:`sign` with the signing password, then :meth:`finish`. Same errors as
    :class:`ResidentCard`, and :class:`NoSigningCertificate` for a card without one."""

    def __init__(self, connection: CardConnection) -> None:
        try:
            self._step = SigningStep(connection)  # selects the JPKI application
        except NotMyNumberCardError as error:
            raise NotMyNumberCard(type(error).__name__) from error
        except TransportError as error:
            raise CardRemoved(type(error).__name__) from error
        except CardError as error:
            raise CardUnreadable(type(error).__name__) from error
        self._reading: SigningReading | None = None

    def read(self) -> SigningReading:
        """The tries left and the user-authentication certificate (two free reads)."""
        try:
            try:
                certificate: bytes | None = self._step.jpki.read_user_auth_certificate().der
            except SecurityStatusError:  # smartphone token: only after the PIN
                certificate = None
            reading = self._step.read()
        except NotMyNumberCardError as error:
            raise NotMyNumberCard(type(error).__name__) from error
        except NoSigningCertificateError as error:
            raise NoSigningCertificate(type(error).__name__) from error
        except TransportError as error:
            raise CardRemoved(type(error).__name__) from error
        except CardError as error:
            raise CardUnreadable(type(error).__name__) from error
        self._reading = SigningReading(reading.tries_left, certificate)
        return self._reading

    def holder_certificate(self) -> bytes | None:
        """The card's user-authentication certificate (DER), read if it was not yet."""
        return (self._reading or self.read()).certificate

    def sign(self, password: PinBuffer, message: bytes) -> SignedMessage:
        """VERIFY ``password`` (wiped whatever happens), then sign ``message`` with the signing key:
        :class:`WrongPin` (with the tries left), :class:`PinLocked`, :class:`NoSigningCertificate`
        or :class:`CardRemoved` when it cannot."""
        try:
            return self._step.sign(password, message)
        except InvalidPinError as error:
            raise WrongPin(error.attempts_remaining) from error
        except PinBlockedError as error:
            raise PinLocked() from error
        except NoSigningCertificateError as error:
            raise NoSigningCertificate(type(error).__name__) from error
        except TransportError as error:
            raise CardRemoved(type(error).__name__) from error

    def finish(self) -> None:
        """Log the card out and reset it; quiet if the card is already gone."""
        self._reading = None
        self._step.finish()
