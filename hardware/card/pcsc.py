"""The kiosk's PC/SC adapter (PC/SCリーダー): contact readers through ``pcscd`` and pyscard.

:class:`PcscReader` watches one reader with ``SCardGetStatusChange`` (no polling loop of our
own) and hands out :class:`PcscConnection` objects, which carry APDUs with pyscard's
``PCSCCardConnection``. Connections are exclusive (no other program can slip commands in while
a PIN is verified), prefer T=1 and reset the card when closed so no verified PIN outlives the
session.

Errors: a card that is gone raises :class:`~hardware.card.errors.CardRemovedError`, everything
else :class:`~hardware.card.errors.TransportError`, with pyscard's exception as ``__cause__``.
pcscd learns of a removal only at its next poll of the reader (a few hundred ms); a command
sent in between fails as a plain :class:`~hardware.card.errors.TransportError`
(``SCARD_E_NOT_TRANSACTED``). Ask :meth:`PcscReader.card_present` when the difference matters.
"""

from __future__ import annotations

import logging
import time

from smartcard import scard
from smartcard.CardConnection import CardConnection as _PyscardConnection
from smartcard.Exceptions import SmartcardException
from smartcard.pcsc.PCSCCardConnection import PCSCCardConnection

from hardware.card.errors import CardRemovedError, TransportError
from hardware.card.transport import CardConnection, CardReader

log = logging.getLogger(__name__)

_MASK = 0xFFFFFFFF  # hresults compared as unsigned 32-bit values (pyscard may give them signed)
_REMOVED = frozenset(
    code & _MASK
    for code in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_UNPOWERED_CARD)
)
_NO_EVENT = frozenset(code & _MASK for code in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED))
_PROTOCOLS = (_PyscardConnection.T1_protocol, _PyscardConnection.T0_protocol)  # T=1 first


def _hresult(exc: SmartcardException) -> int:
    return int(exc.hresult) & _MASK


def _describe(hresult: int) -> str:
    return f"{scard.SCardGetErrorMessage(hresult).rstrip('. ')} (0x{hresult & _MASK:08X})"


def _translate(exc: SmartcardException, what: str) -> TransportError:
    """pyscard's exception as one of ours (the caller raises it ``from exc``)."""
    hresult = _hresult(exc)
    detail = _describe(hresult) if hresult != _MASK else str(exc)  # -1: pyscard's own complaint
    if hresult in _REMOVED:
        return CardRemovedError(f"{what}: card removed: {detail}")
    return TransportError(f"{what}: {detail}")


def _check(hresult: int, what: str) -> None:
    if hresult != scard.SCARD_S_SUCCESS:
        raise TransportError(f"{what}: {_describe(hresult)}") from SmartcardException(hresult=hresult)


def list_readers() -> list[str]:
    """Names of the readers pcscd knows; empty when there are none (or pcscd is not running)."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return []
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        return list(readers) if hresult == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)


def is_contactless_atr(atr: bytes) -> bool:
    """A PC/SC contactless reader's synthesised ATR (PC/SC part 3: ``3B 8n 80 01 ...``)."""
    return len(atr) >= 4 and atr[0] == 0x3B and atr[1] & 0xF0 == 0x80 and atr[2:4] == b"\x80\x01"


class PcscConnection(CardConnection):
    """An exclusive connection to the card in one PC/SC reader."""

    def __init__(self, reader_name: str) -> None:
        self.reader_name = reader_name
        try:
            self._conn = PCSCCardConnection(reader_name)
        except SmartcardException as exc:
            raise TransportError(f"PC/SC context for {reader_name!r}: {exc}") from exc
        self._connect()
        self.atr = bytes(self._conn.getATR())

    def _connect(self) -> None:
        last: SmartcardException | None = None
        for protocol in _PROTOCOLS:
            try:
                self._conn.connect(protocol, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_RESET_CARD)
            except SmartcardException as exc:
                if _hresult(exc) != scard.SCARD_E_PROTO_MISMATCH & _MASK:
                    self._conn.release()
                    raise _translate(exc, f"connect to {self.reader_name!r}") from exc
                last = exc
            else:
                self._protocol = protocol
                return
        self._conn.release()
        assert last is not None
        raise TransportError(f"connect to {self.reader_name!r}: {last}") from last

    @property
    def contactless(self) -> bool:
        return is_contactless_atr(self.atr)

    def transceive(self, command: bytes | bytearray) -> bytes:
        try:
            data, sw1, sw2 = self._conn.transmit(list(command), self._protocol)
        except SmartcardException as exc:
            raise _translate(exc, "transmit") from exc
        return bytes(data) + bytes((sw1, sw2))

    def reset(self) -> None:
        """Warm reset through ``SCardReconnect(SCARD_RESET_CARD)``."""
        try:
            self._conn.reconnect(self._protocol, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_RESET_CARD)
        except SmartcardException as exc:
            raise _translate(exc, "reset") from exc

    def close(self) -> None:
        """Disconnect with a card reset (verified PINs are cleared); never raises."""
        for step in (self._conn.disconnect, self._conn.release):
            try:
                step()
            except SmartcardException as exc:
                log.debug("closing %r: %s", self.reader_name, exc)


class PcscReader(CardReader):
    """One PC/SC reader, watched with ``SCardGetStatusChange``.

    ``PcscReader("Virtual PCD 00 00")`` names the reader exactly;
    ``PcscReader.matching("Virtual PCD")`` takes the first reader whose name starts so.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._connection: PcscConnection | None = None
        hresult, self._context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check(hresult, "SCardEstablishContext (is pcscd running?)")

    @classmethod
    def matching(cls, prefix: str) -> PcscReader:
        """The first reader whose name starts with ``prefix``; TransportError if there is none."""
        for name in list_readers():
            if name.startswith(prefix):
                return cls(name)
        raise TransportError(f"no PC/SC reader whose name starts with {prefix!r}")

    def __repr__(self) -> str:
        return f"PcscReader({self.name!r})"

    def cancel(self) -> None:
        """Wake a thread blocked in a wait of this reader: the wait ends as on its timeout."""
        if self._context is not None:
            scard.SCardCancel(self._context)

    def close(self) -> None:
        """Release the PC/SC context; the reader can no longer be watched."""
        if self._context is not None:
            scard.SCardReleaseContext(self._context)
            self._context = None

    def __enter__(self) -> PcscReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _state(self, current: int, timeout: float) -> int | None:
        """The reader's event state once it differs from ``current``; ``None`` after ``timeout``
        (or :meth:`cancel`)."""
        millis = max(0, round(timeout * 1000))
        hresult, states = scard.SCardGetStatusChange(self._context, millis, [(self.name, current)])
        if hresult & _MASK in _NO_EVENT:
            return None
        _check(hresult, f"SCardGetStatusChange({self.name!r})")
        event_state = int(states[0][1])
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            raise TransportError(f"reader {self.name!r} is unknown or unavailable")
        return event_state & ~int(scard.SCARD_STATE_CHANGED)

    def _wait_until(self, wanted: bool, timeout: float) -> bool:
        """Wait until card presence equals ``wanted``; False when ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        state = self._state(scard.SCARD_STATE_UNAWARE, 0)  # answered at once, unless cancelled
        while state is not None and bool(state & scard.SCARD_STATE_PRESENT) != wanted:
            remaining = deadline - time.monotonic()
            state = self._state(state, remaining) if remaining > 0 else None
        return state is not None

    def card_present(self) -> bool:
        return self._wait_until(True, 0)

    def attached(self) -> bool:
        """Whether pcscd still lists this reader (it goes when its USB cable is pulled)."""
        return self.name in list_readers()

    def wait_for_removal(self, timeout: float) -> bool:
        return self._wait_until(False, timeout)

    def wait_for_card(self, timeout: float) -> PcscConnection | None:
        """Wait for a card and connect to it; a card pulled out while connecting is waited past.

        The connection this reader handed out before is closed first: pcscd keeps an exclusive
        connection's claim on the reader even after its card is gone, so a connection left open
        after a removal would make every later card fail with a sharing violation.
        """
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        deadline = time.monotonic() + timeout
        while self._wait_until(True, max(0.0, deadline - time.monotonic())):
            try:
                self._connection = PcscConnection(self.name)
                return self._connection
            except CardRemovedError:
                log.info("card left %r while connecting; waiting again", self.name)
                if not self.wait_for_removal(max(0.0, deadline - time.monotonic())):
                    return None
        return None
