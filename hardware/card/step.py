"""What every kiosk step with the card shares (カードとのやり取り): one connection with every APDU
bounded, an ISO 7816 channel counting its traffic, a JPKI session on it, and an end that logs the
card out and resets it for the next resident.

The steps themselves, :class:`~hardware.card.holder.HolderAuthentication` (利用者証明) and
:class:`~hardware.card.signing.SigningStep` (署名), each read before the secret, use it once, and
end with :meth:`CardStep.finish`.
"""

from __future__ import annotations

from hardware.card.deadline import DEFAULT_TIMEOUT, DeadlineConnection
from hardware.card.errors import CardError
from hardware.card.iso7816 import Iso7816Channel, TrafficCounter
from hardware.card.jpki import JpkiSession
from hardware.card.transport import CardConnection


class CardStep:
    def __init__(
        self,
        connection: CardConnection,
        *,
        extended: bool = True,
        command_timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        """``command_timeout`` bounds every APDU (``None``: trust the transport's own timeouts)."""
        if command_timeout is not None:
            connection = DeadlineConnection(connection, command_timeout)
        self.connection = connection
        self.channel = Iso7816Channel(connection, extended=extended)
        self.jpki = JpkiSession(self.channel)

    @property
    def traffic(self) -> TrafficCounter:
        return self.channel.traffic

    def finish(self) -> None:
        """Log the card out and reset it; quiet if the card is already gone."""
        try:
            self.jpki.logout()
            self.connection.reset()
        except CardError:
            pass
