"""The resident's card as the kiosk's steps use it (利用者証明用電子証明書): read when placed,
proving its holder with the PIN, then logged out; placed again for a usage registration, signing
the application with the signing password (署名用電子証明書).

:class:`ResidentCard` is the card step's adapter on :class:`hardware.card.holder.HolderAuthentication`:
the card layer's errors become the kiosk's (:mod:`kiosk.errors`), with what the step needs: a card
that cannot be read or is no My Number Card, a wrong PIN with the tries left, a locked PIN, a card
taken away. Other faults of the card (one that breaks the protocol) are raised as they are and
fail the session.

The PIN and the signing password travel in the card layer's :class:`~hardware.card.pin.PinBuffer`
(a wipeable buffer; :func:`pin_buffer`, :func:`password_buffer`), from the keypad to the card only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hardware.card.errors import (
    CardError,
    InvalidPinError,
    NoSigningCertificateError,
    NotMyNumberCardError,
    PinBlockedError,
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
    """The card placed on the reader: it proves its holder with the PIN (:meth:`prove`) and, placed
    again for an application, signs with the signing password (:meth:`sign`)."""

    def __init__(self, connection: CardConnection) -> None:
        self._card = HolderAuthentication(connection)
        self._certificate: bytes | None = None
        self._signing: SigningStep | None = None

    def read(self) -> CardReading:
        """:class:`NotMyNumberCard` or :class:`CardUnreadable` when it cannot be read."""
        try:
            reading = self._card.read()
        except NotMyNumberCardError as error:
            raise NotMyNumberCard(type(error).__name__) from error
        except CardError as error:
            raise CardUnreadable(type(error).__name__) from error
        certificate = reading.certificate
        self._certificate = None if certificate is None else certificate.der
        return CardReading(reading.tries_left, self._certificate)

    def holder_certificate(self) -> bytes | None:
        """The user-authentication certificate (DER) :meth:`read` found, to tell the session's
        holder's card from another (``None``: not read, or opened only after the PIN)."""
        return self._certificate

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

    def signing_tries_left(self) -> int:
        """The signing password's tries left (no try spent): :class:`NoSigningCertificate`,
        :class:`CardRemoved` or :class:`CardUnreadable` when it cannot say."""
        with _signing_errors():
            return self._signing_step().read().tries_left

    def sign(self, password: PinBuffer, message: bytes) -> SignedMessage:
        """VERIFY the signing ``password`` (wiped whatever happens), then sign ``message`` with the
        signing key (署名用電子証明書): :class:`WrongPin` (with the tries left), :class:`PinLocked`,
        :class:`NoSigningCertificate` or :class:`CardRemoved` when it cannot. A card that breaks
        the protocol, or whose signature or certificate does not verify, is raised as the card
        layer's error and fails the session."""
        try:
            with _signing_errors(unreadable=False):
                step = self._signing_step()
                return step.sign(password, message)
        finally:
            password.wipe()

    def _signing_step(self) -> SigningStep:
        if self._signing is None:  # the connection already has its deadline
            self._signing = SigningStep(self._card.connection, command_timeout=None)
        return self._signing

    def finish(self) -> None:
        """Log the card out and reset it; quiet if the card is already gone."""
        self._certificate = None
        self._signing = None
        self._card.finish()


@contextmanager
def _signing_errors(*, unreadable: bool = True) -> Iterator[None]:
    """The card layer's errors of the signing path as the kiosk's (``unreadable``: any other card
    error too, as :class:`CardUnreadable`)."""
    try:
        yield
    except InvalidPinError as error:
        raise WrongPin(error.attempts_remaining) from error
    except PinBlockedError as error:
        raise PinLocked() from error
    except NoSigningCertificateError as error:
        raise NoSigningCertificate(type(error).__name__) from error
    except NotMyNumberCardError as error:
        raise NotMyNumberCard(type(error).__name__) from error
    except TransportError as error:
        raise CardRemoved(type(error).__name__) from error
    except CardError as error:
        if not unreadable:
            raise
        raise CardUnreadable(type(error).__name__) from error
