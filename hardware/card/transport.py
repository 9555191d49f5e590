"""The transport contract: one I/O call between the kiosk and a card.

A :class:`CardConnection` carries a complete command APDU to the card and brings back the complete
response APDU (data followed by SW1 SW2). Everything above it — APDU formatting, chaining, status
words, the JPKI application — is built on this single call, so the PC/SC adapter, the NFC adapter
and the in-process emulator are interchangeable.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self


class CardConnection(abc.ABC):
    """An open channel to one card in one reader (カードとの通信路)."""

    @abc.abstractmethod
    def transceive(self, command: bytes | bytearray) -> bytes:
        """Send one command APDU and return the response APDU including the status word.

        Raises :class:`hardware.card.errors.CardRemovedError` if the card went away and
        :class:`hardware.card.errors.TransportError` for any other failure of the link.
        """

    @abc.abstractmethod
    def reset(self) -> None:
        """Reset the card (warm reset or field off/on): every security state on it is cleared."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the card; the connection can no longer be used."""

    @property
    def contactless(self) -> bool:
        """True when the card is reached over ISO 14443 (slower, frame-size limited)."""
        return False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CardReader(abc.ABC):
    """A reader slot the kiosk watches for a card being placed and taken away (カードリーダー).

    Presence is reported as blocking waits with a timeout so the kiosk's worker thread can turn
    them into events (card placed → start the session; card removed → stop the reminder).
    """

    name: str

    @abc.abstractmethod
    def wait_for_card(self, timeout: float) -> CardConnection | None:
        """Block until a card is present and connected; ``None`` when ``timeout`` seconds pass."""

    @abc.abstractmethod
    def wait_for_removal(self, timeout: float) -> bool:
        """Block until no card is present; ``False`` when ``timeout`` seconds pass first."""

    @abc.abstractmethod
    def card_present(self) -> bool:
        """Whether a card is in the reader's field or slot right now."""

    def attached(self) -> bool:
        """Whether the reader itself is there (plugged in, known to its driver): what the kiosk's
        heartbeat reports. A reader that is opened once and held open is there while it is."""
        return True
