"""The kiosk's NFC reader adapter (NFCリーダー) over nfcpy: the My Number Card as ISO 14443 Type B.

:class:`NfcReader` opens ``nfc.ContactlessFrontend(path)`` — ``"usb"`` for a Sony RC-S380,
``"udp:127.0.0.1:50000"`` for nfcpy's simulated radio (see :mod:`hardware.cardsim.nfc_link`) —
polls for a Type B card at 106 kbps and activates it with ATTRIB (nfcpy's ``Type4BTag``).
:class:`NfcConnection` carries one APDU per :meth:`~NfcConnection.transceive` through nfcpy's
ISO-DEP initiator, which chains long commands (extended APDUs included: ISO-DEP does not look
inside), collects chained responses with R(ACK) and honours the card's S(WTX) requests.

Presence is polled: with an open connection by nfcpy's ISO-DEP presence check (R(NAK), the card
stays activated); without one by switching the field off for :data:`FIELD_OFF_TIME` and sending
SENSB_REQ, which also resets any card in the field.

Errors: a card that stops answering (nfcpy gives up after its R(NAK) retries, about four FWTs)
or a field that breaks down raises :class:`~hardware.card.errors.CardRemovedError`; any other
failure of nfcpy or the device :class:`~hardware.card.errors.TransportError`; the original
exception is the ``__cause__``. After such an error the connection refuses further commands
until :meth:`NfcConnection.reset` re-activates the card (ISO-DEP block numbers are lost).

nfcpy logs every frame at DEBUG level, VERIFY data included; :class:`NfcReader` therefore keeps
the ``nfc`` logger at INFO unless the application configured it. This module's own log shows APDU
headers, lengths and status words, never data.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import nfc
import nfc.clf
import nfc.tag

from hardware.card.errors import CardRemovedError, ProtocolError, TransportError
from hardware.card.transport import CardConnection, CardReader

log = logging.getLogger(__name__)

FIELD_OFF_TIME = 0.02  # the field stays off this long before polling, so a card in it resets
POLL_INTERVAL = 0.1  # between two presence polls (seconds)
DESELECT_TIMEOUT = 0.1
S_DESELECT = b"\xc2"

_NFCPY_ERRORS: tuple[type[BaseException], ...] = (
    nfc.tag.TagCommandError,
    nfc.clf.Error,
    OSError,
    IndexError,  # nfcpy's ISO-DEP code indexes into frames without checking their length
)


def silence_nfcpy_frame_logging() -> None:
    """Keep nfcpy's loggers at INFO unless the application set a level for ``nfc`` itself:
    at DEBUG they print every frame in hex, PINs of VERIFY included."""
    nfcpy_log = logging.getLogger("nfc")
    if nfcpy_log.level == logging.NOTSET:
        nfcpy_log.setLevel(logging.INFO)


def is_iso_dep(sensb_res: bytes | bytearray) -> bool:
    """Whether a SENSB_RES announces an ISO/IEC 14443-4 card (protocol type bit b1)."""
    return len(sensb_res) >= 12 and sensb_res[0] == 0x50 and bool(sensb_res[10] & 0x01)


def _translate(exc: BaseException, what: str) -> TransportError:
    """An nfcpy (or socket) exception as one of ours; the caller raises it ``from exc``."""
    if isinstance(exc, nfc.tag.TagCommandError):
        if exc.errno == nfc.tag.TIMEOUT_ERROR:
            return CardRemovedError(f"{what}: the card stopped answering ({exc})")
        return TransportError(f"{what}: {exc}")
    if isinstance(exc, nfc.clf.TimeoutError | nfc.clf.BrokenLinkError):
        return CardRemovedError(f"{what}: the card stopped answering ({exc!r})")
    if isinstance(exc, IndexError):
        return TransportError(f"{what}: malformed ISO-DEP block from the card")
    return TransportError(f"{what}: {exc!r}")


class NfcConnection(CardConnection):
    """An activated ISO-DEP card in an :class:`NfcReader` (handed out by ``wait_for_card``)."""

    def __init__(self, reader: NfcReader, tag: Any) -> None:
        self._reader = reader
        self._tag = tag
        self._closed = False
        self._failure: TransportError | None = None

    @property
    def contactless(self) -> bool:
        return True

    @property
    def sensb_res(self) -> bytes:
        """The card's answer to polling: ``50 || PUPI || application data || protocol info``."""
        return bytes(self._tag.target.sensb_res)

    @property
    def usable(self) -> bool:
        """Open and not broken by an earlier link failure."""
        return not self._closed and self._failure is None

    def transceive(self, command: bytes | bytearray) -> bytes:
        if not command:
            raise ValueError("empty command APDU")
        with self._reader.lock:
            self._check_usable()
            started = time.monotonic()
            try:
                response = self._tag.transceive(bytearray(command))
            except _NFCPY_ERRORS as exc:
                error = _translate(exc, f"APDU INS {bytes(command[1:2]).hex().upper() or '--'}")
                self._failure = error
                log.info("%s", error)
                raise error from exc
        if response is None or len(response) < 2:
            raise ProtocolError("the card answered without a status word")
        response = bytes(response)
        log.debug(
            "INS %s: %d bytes out, %d bytes back, SW %s, %.3f s",
            bytes(command[1:2]).hex().upper() or "--",
            len(command),
            len(response) - 2,
            response[-2:].hex().upper(),
            time.monotonic() - started,
        )
        return response

    def reset(self) -> None:
        """Field off, then poll and ATTRIB again: the card restarts and forgets every PIN."""
        with self._reader.lock:
            if self._closed:
                raise TransportError("reset of a closed connection")
            tag = self._reader.activate()
            if tag is None:
                self._failure = CardRemovedError("no card answered after the field was reset")
                raise self._failure
            self._tag, self._failure = tag, None

    def close(self) -> None:
        """Deselect the card (S(DESELECT), best effort); never raises."""
        with self._reader.lock:
            if self._closed:
                return
            self._closed = True
            if self._failure is None:
                try:
                    self._reader.clf.exchange(bytearray(S_DESELECT), DESELECT_TIMEOUT)
                except _NFCPY_ERRORS as exc:
                    log.debug("S(DESELECT) not answered: %r", exc)
            self._reader.forget(self)

    def present(self) -> bool:
        """ISO-DEP presence check (R(NAK) answered by R(ACK)); a failure breaks the connection."""
        with self._reader.lock:
            if not self.usable:
                return False
            try:
                alive = bool(self._tag.is_present)
            except _NFCPY_ERRORS as exc:
                log.debug("presence check failed: %r", exc)
                alive = False
            if not alive:
                self._failure = CardRemovedError("the card left the field")
            return alive

    def supersede(self) -> None:
        """Called by the reader when another activation replaced this one."""
        self._closed = True

    def _check_usable(self) -> None:
        if self._closed:
            raise TransportError("the connection is closed")
        if self._failure is not None:
            raise type(self._failure)(f"{self._failure}; reset() re-activates the card")


class NfcReader(CardReader):
    """One nfcpy reader polled for Type B cards.

    ``path`` is nfcpy's device path: ``"usb"``, ``"usb:054c:06c3"`` (RC-S380),
    ``"udp:HOST:PORT"``. Note that nfcpy's UDP driver waits 1 s for an answer to each poll, so
    with it ``wait_for_card`` and ``card_present`` take about a second when no card is there.
    """

    def __init__(self, path: str = "usb", *, poll_interval: float = POLL_INTERVAL) -> None:
        silence_nfcpy_frame_logging()
        self.path = path
        self.name = f"nfc:{path}"
        self.poll_interval = poll_interval
        self.lock = threading.RLock()  # one radio: one exchange at a time
        self._connection: NfcConnection | None = None
        try:
            self.clf: Any = nfc.ContactlessFrontend(path)
        except (OSError, ValueError, ImportError) as exc:
            raise TransportError(f"cannot open NFC reader {path!r}: {exc}") from exc

    def __repr__(self) -> str:
        return f"NfcReader({self.path!r})"

    def close(self) -> None:
        """Close the current connection and release the reader."""
        with self.lock:
            if self._connection is not None:
                self._connection.close()
            self.clf.close()

    def __enter__(self) -> NfcReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- presence ------------------------------------------------------------------------------

    def wait_for_card(self, timeout: float) -> NfcConnection | None:
        """Poll until an ISO-DEP Type B card is activated; the open connection if there is one."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                current = self._connection
                if current is not None and current.usable:
                    return current
                tag = self.activate()
                if tag is not None:
                    if current is not None:
                        current.supersede()
                    self._connection = NfcConnection(self, tag)
                    log.info("card activated on %s", self.name)
                    return self._connection
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(self.poll_interval, remaining))

    def wait_for_removal(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.card_present():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(self.poll_interval, remaining))
        return True

    def card_present(self) -> bool:
        with self.lock:
            current = self._connection
            if current is not None and current.usable:
                return current.present()
            return self._poll() is not None

    # -- radio ---------------------------------------------------------------------------------

    def activate(self) -> Any:
        """Reset the field, poll, and ATTRIB an ISO-DEP card: nfcpy's ``Type4BTag`` or ``None``."""
        with self.lock:
            target = self._poll()
            if target is None:
                return None
            if not is_iso_dep(target.sensb_res):
                log.info("a Type B card that does not speak ISO-DEP: ignored")
                return None
            try:
                return nfc.tag.activate(self.clf, target)
            except _NFCPY_ERRORS as exc:
                raise _translate(exc, "ATTRIB") from exc

    def forget(self, connection: NfcConnection) -> None:
        """Called by a connection that closes."""
        with self.lock:
            if self._connection is connection:
                self._connection = None

    def _poll(self) -> Any:
        """Field off for FIELD_OFF_TIME, then SENSB_REQ: the card's ``RemoteTarget`` or ``None``."""
        try:
            self.clf.sense()  # no target: only switches the field off
            time.sleep(FIELD_OFF_TIME)
            return self.clf.sense(nfc.clf.RemoteTarget("106B"), iterations=1)
        except _NFCPY_ERRORS as exc:
            raise _translate(exc, f"polling {self.name}") from exc
