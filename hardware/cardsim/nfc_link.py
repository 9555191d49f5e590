"""An emulated card as an ISO 14443 Type B card on nfcpy's UDP driver (非接触カードの模擬).

nfcpy's ``udp`` driver (``udp:HOST:PORT``) lets one process play the reader and another the card
without hardware: each frame is a datagram ``"106B <hex>"``, and a reader that switches its field
off sends ``RFOFF``. This module is the card: :meth:`ContactlessFrontend.listen` answers the
reader's SENSB_REQ with ``50 || PUPI || application data || protocol info`` and hands over the
ATTRIB; from there :class:`~hardware.cardsim.isodep.IsoDepCard` runs the block protocol and the
card's APDUs run on a worker thread, so that the link can ask for waiting-time extensions
(S(WTX)) while a signature is computed.

"Placed" means listening, "removed" means not: :meth:`NfcCardLink.attach` and
:meth:`NfcCardLink.detach` may be repeated. A removed card just goes silent, as a real one does;
the reader notices through its own timeouts. The card is powered on at each activation and off
when the activation ends (reader field off, S(DESELECT), the reader polling anew, removal).

Timing of nfcpy's UDP driver that shapes this module: ``listen`` waits at least 0.5 s, so a
detach takes up to about that long; a reader's RFOFF followed at once by a new SENSB_REQ can
lose the SENSB_REQ while the card re-opens its socket (readers should leave the field off for a
few milliseconds, as :mod:`hardware.card.nfc` does).

Logging shows APDU headers and status words only (see
:func:`hardware.cardsim.vpcd_link.describe_command`): PINs and personal data never appear.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import nfc
import nfc.clf

from hardware.card.nfc import silence_nfcpy_frame_logging
from hardware.cardsim.card import ContactlessParameters
from hardware.cardsim.isodep import (
    Deselected,
    Execute,
    IsoDepCard,
    IsoDepStats,
    Send,
    WaitingTimeExtended,
)
from hardware.cardsim.vpcd_link import describe_command, describe_response

log = logging.getLogger(__name__)


LISTEN_TIMEOUT = 0.5  # one listen() call (nfcpy's UDP driver waits at least 0.5 s anyway)
IDLE_POLL = 0.1  # how long one receive waits while no APDU runs (bounds the detach latency)
BUSY_POLL = 0.005  # the same while an APDU runs: the link must notice its end promptly
WTX_FRACTION = 0.5  # ask for more time once this fraction of the granted waiting time is used
BIND_RETRY = 0.2  # pause when the UDP port is taken by another listener


def free_udp_path(host: str = "127.0.0.1") -> str:
    """An nfcpy UDP device path (``udp:HOST:PORT``) on a port free now, for a simulated radio.

    The port must also have no service name: nfcpy's UDP driver reads its port back with
    ``getnameinfo`` without ``NI_NUMERICSERV``, so a port named in ``/etc/services`` (60177 is
    "tfido") comes back as a name and the driver fails to open.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        try:
            socket.getservbyport(port, "udp")
        except OSError:  # no name: usable
            return f"udp:{host}:{port}"


class LinkedCard(Protocol):
    """What the link needs from a card (:class:`hardware.cardsim.card.VirtualCard` has it all)."""

    @property
    def contactless(self) -> ContactlessParameters: ...

    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...

    def process(self, command: bytes) -> bytes: ...


class NfcLinkError(Exception):
    """The nfcpy device given by the path cannot be opened."""


@dataclass
class LinkStats:
    """What happened on the link (tests and diagnostics): activations, APDUs, and the block
    protocol's counts over all activations."""

    activations: int = 0
    apdus: int = 0
    blocks: IsoDepStats = field(default_factory=IsoDepStats)

    def plus(self, iso: IsoDepStats) -> LinkStats:
        """These counts with those of one activation's block protocol added."""
        return replace(self, blocks=self.blocks + iso)


def _is_sensb_req(frame: bytes) -> bool:
    return len(frame) == 3 and frame[0] == 0x05


class NfcCardLink:
    """One emulated card in the field of nfcpy's UDP reader at ``path`` (``udp:HOST:PORT``).

    ``attach()`` starts listening on a background thread (the card is placed on the reader),
    ``detach()`` stops it (the card is taken away). :meth:`serve` is the same loop in the
    caller's thread.
    """

    def __init__(self, card: LinkedCard, path: str, *, wtxm: int = 1) -> None:
        silence_nfcpy_frame_logging()
        self.card = card
        self.path = path
        self.wtxm = wtxm
        params = card.contactless
        self.pupi, self.protocol_info = params.pupi, params.protocol_info
        self.sensb_res = params.sensb_res
        IsoDepCard(self.pupi, self.protocol_info, default_wtxm=wtxm)  # validates the parameters
        self._counts = LinkStats()  # of finished activations, plus activations and APDUs
        self._machine: IsoDepCard | None = None  # of the activation under way
        self._stats_lock = threading.Lock()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def stats(self) -> LinkStats:
        """Counts since the link was made, the activation under way included."""
        with self._stats_lock:
            machine = self._machine
            return self._counts.plus(machine.stats if machine is not None else IsoDepStats())

    # -- placing and removing ------------------------------------------------------------------

    @property
    def attached(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def attach(self) -> None:
        """Place the card on the reader: listen in a background thread (no-op if attached)."""
        with self._lock:
            if self.attached:
                return
            clf = self._open()
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._serve_and_close, args=(clf, self._stop), name="nfc-card", daemon=True
            )
            self._thread.start()

    def detach(self, timeout: float = 10.0) -> None:
        """Take the card away: stop listening and answering; returns once the card is silent."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("card link on %s did not stop within %.1f s", self.path, timeout)

    def serve(self, stop: threading.Event) -> None:
        """Keep the card in the field until ``stop`` is set (blocking)."""
        self._serve_and_close(self._open(), stop)

    def __enter__(self) -> NfcCardLink:
        self.attach()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.detach()

    # -- the loop ------------------------------------------------------------------------------

    def _open(self) -> Any:
        try:
            return nfc.ContactlessFrontend(self.path)
        except (OSError, ValueError) as exc:
            raise NfcLinkError(f"cannot open nfcpy device {self.path!r}: {exc}") from exc

    def _serve_and_close(self, clf: Any, stop: threading.Event) -> None:
        log.info("card listening as Type B on %s", self.path)
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nfc-card-cpu") as cpu:
                while not stop.is_set():
                    target = self._listen(clf)
                    if target is not None:
                        self._activation(clf, target, cpu, stop)
        except Exception:
            log.exception("card link on %s failed", self.path)
            raise
        finally:
            clf.close()
            log.info("card removed from %s", self.path)

    def _listen(self, clf: Any) -> Any:
        """One listen period; the activated target (ATTRIB received) or ``None``."""
        started = time.monotonic()
        try:
            target = clf.listen(nfc.clf.LocalTarget("106B", sensb_res=self.sensb_res), LISTEN_TIMEOUT)
        except nfc.clf.CommunicationError as exc:  # no ATTRIB after our SENSB_RES, or RFOFF
            log.debug("activation abandoned: %r", exc)
            return None
        if target is None and time.monotonic() - started < LISTEN_TIMEOUT / 2:
            log.warning("cannot listen on %s (port in use?); retrying", self.path)
            time.sleep(BIND_RETRY)
        return target

    def _activation(self, clf: Any, target: Any, cpu: ThreadPoolExecutor, stop: threading.Event) -> None:
        """From ATTRIB to the end of this activation; the card is powered throughout."""
        machine = IsoDepCard(self.pupi, self.protocol_info, default_wtxm=self.wtxm)
        answer = machine.receive(bytes(target.tt4_cmd or b""))
        if not isinstance(answer, Send):
            log.debug("first frame after SENSB_RES was not our ATTRIB")
            return
        self.card.power_on()  # before answering, so that the reader finds it ready
        with self._stats_lock:
            self._counts.activations += 1
            self._machine = machine
        running: list[Future[bytes]] = []
        try:
            clf.exchange(answer.frame, 0)  # send only
            log.info("activated (CID %d, reader frames of %d bytes)", machine.cid, machine.fsd)
            self._exchange(clf, machine, cpu, running, stop)
        except nfc.clf.CommunicationError as exc:
            log.debug("activation ended by a link error: %r", exc)
        finally:
            for future in running:  # never power off under a running command
                future.exception()
            self.card.power_off()
            with self._stats_lock:
                self._counts = self._counts.plus(machine.stats)
                self._machine = None
            log.info("deactivated")

    def _exchange(
        self,
        clf: Any,
        machine: IsoDepCard,
        cpu: ThreadPoolExecutor,
        running: list[Future[bytes]],
        stop: threading.Event,
    ) -> None:
        """Block exchange until the field goes off, the reader deselects or polls, or ``stop``."""
        outgoing: bytes | None = None
        job: Future[bytes] | None = None
        wtx_due = math.inf
        while not stop.is_set():
            if outgoing is None and job is not None:  # our turn to speak, and an APDU runs
                if job.done():
                    sent = machine.complete(self._result(job))
                    job = None
                    outgoing = sent.frame if sent is not None else None
                elif time.monotonic() >= wtx_due:
                    outgoing = machine.request_wtx(self.wtxm)
                    wtx_due = math.inf  # until the reader answers
            try:
                received = clf.exchange(outgoing, BUSY_POLL if job else IDLE_POLL)
            except nfc.clf.BrokenLinkError:
                log.debug("reader switched its field off")
                return
            except nfc.clf.CommunicationError:  # nothing received, or a broken datagram
                received = None
            outgoing = None
            if received is None:
                continue
            frame = bytes(received)
            if _is_sensb_req(frame):
                log.debug("reader polls anew: this activation is over")
                return
            action = machine.receive(frame)
            if isinstance(action, Send):
                outgoing = action.frame
            elif isinstance(action, Execute):
                log.debug("> %s", describe_command(action.apdu))
                self._counts.apdus += 1
                job = cpu.submit(self.card.process, action.apdu)
                running[:] = [job]
                wtx_due = time.monotonic() + WTX_FRACTION * machine.fwt
            elif isinstance(action, WaitingTimeExtended):
                wtx_due = time.monotonic() + WTX_FRACTION * action.wtxm * machine.fwt
            elif isinstance(action, Deselected):
                clf.exchange(action.frame, 0)
                log.debug("deselected by the reader")
                return

    @staticmethod
    def _result(job: Future[bytes]) -> bytes:
        try:
            response = bytes(job.result())
        except Exception:  # a card must answer something: "no precise diagnosis"
            log.exception("card failed while processing a command")
            response = b"\x6f\x00"
        log.debug("< %s", describe_response(response))
        return response


def run_nfc(card: LinkedCard, path: str, stop: threading.Event) -> None:
    """Serve ``card`` as a Type B card on nfcpy device ``path`` until ``stop`` is set
    (``koufu card attach CARD --nfc udp:HOST:PORT``)."""
    NfcCardLink(card, path).serve(stop)
