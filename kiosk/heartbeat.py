"""The terminal's heartbeat (死活監視): what it tells the center of itself about every 30 seconds,
and the sender that does it beside the sessions (no UI here).

:func:`report_of` reads the terminal's parts as the heartbeat (``center.messages.HeartbeatReport``)
says them: the software's build and the settings' fingerprint (:meth:`KioskConfig.fingerprint`),
the printer's condition, whether the card reader is attached, the peripheral controller (``up``,
``down``, or ``absent`` for a terminal without one), its latched door or tamper alarm, the change
its hoppers could not pay, and the minute the last session ended. Nothing else: no session id, no
order, nothing a resident did or is.

:class:`HeartbeatSender` sends it on a thread of its own, with a center client of its own: every
``interval`` seconds, and ``soonest`` seconds after :meth:`~HeartbeatSender.poke` (a state changed:
an alarm, a session ended). Reading a device or the center may take a moment (CUPS, pcscd, a
center out of reach for the client's timeout): none of it is on the screen's loop or in a
session's way. A failure is logged by its kind only (the type, or the center's refusal code) when
sending starts to fail and when it works again, and the next heartbeat comes as usual: a
heartbeat is never sent twice.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from typing import Protocol, get_args

from center.client import CenterRefusal
from center.messages import AlarmCauses, HeartbeatRecorded, HeartbeatReport
from kiosk.errors import DeviceError
from kiosk.terminal import Terminal

log = logging.getLogger(__name__)

INTERVAL = 30.0  # seconds between heartbeats
SOONEST = 2.0  # seconds after a change before its heartbeat (changes in a burst: one heartbeat)
ALARMS = frozenset(get_args(AlarmCauses))  # door, tamper, door+tamper


def build_version() -> str:
    """The kiosk software's version, as its package says it."""
    try:
        return importlib.metadata.version("koufu")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def report_of(terminal: Terminal, *, build: str, config_hash: str) -> HeartbeatReport:
    """The terminal's state now. The peripheral controller is ``absent`` when the terminal has
    none (no door or tamper guard: the stand-ins), ``down`` when its board does not answer or
    its state cannot be read."""
    controller, alarm, owed = "absent", None, 0
    if terminal.guard is not None and terminal.maintenance is not None:
        try:
            status = terminal.maintenance.status()
        except DeviceError:
            controller, alarm = "down", _alarm(terminal.guard.alarm)
        else:
            controller = "up" if status.get("connected") else "down"
            alarm = _alarm(status.get("alarm"))
            owed = _count(status.get("owed"))
    return HeartbeatReport.model_validate(
        {
            "build": build,
            "config_hash": config_hash,
            "printer": terminal.printer.condition().value,
            "card_reader": terminal.slot.attached(),
            "controller": controller,
            "alarm": alarm,
            "change_owed": owed,
            "last_session_at": terminal.last_session.at,
        }
    )


def _alarm(causes: object) -> str | None:
    """The latched alarm as the protocol names it. One the kiosk cannot name (a bit it does not
    know) is reported as the case's, ``tamper``: someone must look, and a heartbeat the center
    refuses would say nothing at all."""
    if not isinstance(causes, str) or not causes:
        return None
    return causes if causes in ALARMS else "tamper"


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class HeartbeatLink(Protocol):
    """Where heartbeats go (:class:`center.client.CenterClient`)."""

    def heartbeat(self, report: HeartbeatReport) -> HeartbeatRecorded: ...


class Report(Protocol):
    def __call__(self) -> HeartbeatReport: ...


class HeartbeatSender:
    """Sends ``report()`` to ``link`` every ``interval`` seconds on its own thread, and soon after
    a :meth:`poke`; ``sent`` and ``failed`` count them."""

    def __init__(
        self, link: HeartbeatLink, report: Report, *, interval: float = INTERVAL, soonest: float = SOONEST
    ) -> None:
        self.link = link
        self.report = report
        self.interval = interval
        self.soonest = soonest
        self.sent = 0
        self.failed = 0
        self._failing: str | None = None  # the kind of the failure going on, if one is
        self._poked = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> HeartbeatSender:
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """No more heartbeats (one being sent is let finish, for at most ``timeout`` seconds)."""
        self._stopping.set()
        self._poked.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poke(self) -> None:
        """The terminal's state changed: a heartbeat soon. Never blocks (any thread may call it)."""
        self._poked.set()

    def send_once(self) -> bool:
        """One heartbeat now; whether the center took it. Never raises."""
        try:
            self.link.heartbeat(self.report())
        except Exception as error:
            self.failed += 1
            kind = (
                f"{error.status} {error.code}" if isinstance(error, CenterRefusal) else type(error).__name__
            )
            if kind != self._failing:
                log.warning("heartbeat not sent (%s); trying again in %g s", kind, self.interval)
            self._failing = kind
            return False
        self.sent += 1
        if self._failing is not None:
            log.info("heartbeats reach the center again (after %s)", self._failing)
            self._failing = None
        return True

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.send_once()
            if self._poked.wait(self.interval) and not self._stopping.is_set():
                self._stopping.wait(self.soonest)  # a burst of changes: one heartbeat
            self._poked.clear()
