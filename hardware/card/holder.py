"""The kiosk's card step (利用者証明): who holds this card, proven with the PIN and a signature.

:class:`HolderAuthentication` is what the kiosk workflow calls, in this order::

    reading = auth.read()               # certificate + PIN tries left (no try spent)
    signature = auth.prove(pin, challenge)   # VERIFY, then sign the center's challenge
    auth.finish()                       # log the card out and reset it for the next resident

On the plastic card this is seven APDUs; on a smartphone token, whose certificate opens only after
the PIN, the certificate is read after VERIFY (eight).
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.card.errors import SecurityStatusError
from hardware.card.jpki import UserAuthCertificate
from hardware.card.pin import PinBuffer
from hardware.card.step import CardStep


@dataclass(frozen=True)
class CardReading:
    """What the kiosk learns before the PIN: the certificate (if readable) and tries left."""

    certificate: UserAuthCertificate | None
    tries_left: int

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


@dataclass(frozen=True)
class HolderProof:
    """The result of the card step, sent to the center: certificate and signed challenge."""

    certificate: UserAuthCertificate
    signature: bytes


class HolderAuthentication(CardStep):
    _certificate: UserAuthCertificate | None = None  # read before the PIN, else after it
    _pin_selected = False  # the PIN's file selected by read(): prove() need not select it again

    def read(self) -> CardReading:
        try:
            self._certificate = self.jpki.read_user_auth_certificate()
        except SecurityStatusError:  # smartphone token: the certificate needs the PIN first
            self._certificate = None
        tries = self.jpki.auth_pin.tries_left()
        self._pin_selected = True
        return CardReading(self._certificate, tries)

    def prove(self, pin: PinBuffer, challenge: bytes) -> HolderProof:
        """VERIFY ``pin`` (wiped whatever happens), then sign ``challenge``.

        Raises :class:`InvalidPinError` (with ``attempts_remaining``) or :class:`PinBlockedError`.
        """
        selected, self._pin_selected = self._pin_selected, False
        self.jpki.auth_pin.verify(pin, selected=selected)
        if self._certificate is None:
            self._certificate = self.jpki.read_user_auth_certificate()
        signature = self.jpki.sign_with_auth_key(challenge)
        return HolderProof(self._certificate, signature)

    def finish(self) -> None:
        """Log the card out and reset it; quiet if the card is already gone."""
        self._certificate = None
        super().finish()
