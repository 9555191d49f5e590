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
    NotMyNumberCardError,
    PinBlockedError,
    TransportError,
)
from hardware.card.holder import HolderAuthentication, HolderProof
from hardware.card.pin import PinBuffer
from hardware.card.profile import USER_AUTH_PIN
from hardware.card.transport import CardConnection
from kiosk.errors import CardRemoved, CardUnreadable, NotMyNumberCard, PinLocked, WrongPin

PIN_LENGTH = USER_AUTH_PIN.max_length  # 4 digits (利用者証明用暗証番号)


def pin_buffer() -> PinBuffer:
    """An empty buffer for the user-authentication PIN."""
    return PinBuffer(USER_AUTH_PIN)


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
