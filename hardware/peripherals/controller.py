"""The host's driver for the peripheral controller: the link in a thread of its own, turned into
events for the kiosk and commands from it (周辺機器制御基板のドライバ).

One thread, ``peripheral-link``, owns the :class:`firmware.link.Link` (which is not thread-safe): it
sends the commands queued by any thread, calls ``poll()``, decodes every message the board sends
with :mod:`firmware.messages`, keeps the board's last known state (:class:`BoardState`) and hands
each :class:`Event` to the subscribers. Subscribers are called on that thread and must not block;
the kiosk's adapters (``kiosk/devices/peripherals.py``) pass them on to their asyncio loop.

Besides the board's own events the driver makes three of its own: ``LINK_UP`` and ``LINK_DOWN``
when the link changes state, and ``RESET`` when the board's BOOTED arrives after it had already
started once (a power cut, the watchdog) — by then the board has returned the coins in escrow.
A ``GET_STATUS`` goes out every ``heartbeat`` seconds, so a board that stopped answering is noticed
even when nothing else is said.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import secrets
import select
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Protocol

from firmware import link, messages
from hardware.peripherals.errors import CommandRefused, ControllerUnavailable

log = logging.getLogger(__name__)

LINK_UP = "LINK_UP"
LINK_DOWN = "LINK_DOWN"
RESET = "RESET"
HEARTBEAT = 1.0  # seconds between GET_STATUS questions
ANSWER_TIMEOUT = 5.0  # seconds a request waits for its answer (the link's retries included)


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def read(self) -> bytes: ...

    def fileno(self) -> int: ...


@dataclass(frozen=True)
class Event:
    """One thing the board said (``name`` from ``firmware.messages.NAMES``, its fields by name), or
    one of the driver's own: ``LINK_UP``, ``LINK_DOWN``, ``RESET``."""

    name: str
    fields: dict[str, int] = field(default_factory=dict)
    code: int | None = None

    def __getitem__(self, key: str) -> int:
        return self.fields[key]


@dataclass
class BoardState:
    """What the board last said about itself."""

    up: bool = False  # the link is up and the board has said BOOTED
    boots: int = 0  # BOOTED messages seen (a second one is a reset)
    alarm: int = 0  # ALARM_* bits, latched on the board
    card_present: bool = False
    paper_present: bool = False
    door_open: bool = False
    status: dict[str, int] = field(default_factory=dict)  # the last STATUS


Match = Callable[[Event], bool]


@dataclass
class _Request:
    code: int
    data: bytes
    answers: frozenset[str]  # event names that answer it
    future: Future[Event]
    where: Match | None = None  # of those events, the ones that answer it (None: every one)

    def answered_by(self, event: Event) -> bool:
        return event.name in self.answers and (self.where is None or self.where(event))


class PeripheralController:
    """The peripheral controller as the kiosk sees it. ``start()`` it, ``subscribe`` to its events,
    ``send`` commands (fire and forget) or ``request`` them (and wait for the answer)."""

    def __init__(
        self,
        transport: Transport,
        *,
        session: int | None = None,
        retry_ms: int = 100,
        max_attempts: int = 8,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self._transport = transport
        self._link = link.Link(
            transport,
            self._now_ms,
            secrets.randbelow(0x10000) if session is None else session,
            retry_ms=retry_ms,
            max_attempts=max_attempts,
            queue_limit=16,
        )
        self.heartbeat = heartbeat
        self.state = BoardState()
        self._subscribers: list[Callable[[Event], None]] = []
        self._outbox: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._waiting: list[_Request] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._link_up = False
        self._last_heartbeat = 0.0
        self._up_event = threading.Event()

    # -- the kiosk's side ---------------------------------------------------------------------------------

    def start(self) -> PeripheralController:
        self._thread = threading.Thread(target=self._run, name="peripheral-link", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._outbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._fail_waiting(ControllerUnavailable("the driver was closed"))

    def wait_until_up(self, timeout: float) -> bool:
        """Whether the board is up (the link is up and BOOTED arrived) within ``timeout`` seconds."""
        return self._up_event.wait(timeout)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback`` with every event (on the link thread); returns the unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def send(self, code: int, *values: int) -> None:
        """Queue a command; whether and how the board answered arrives as events."""
        self._outbox.put(_Request(code, messages.encode(code, *values), frozenset(), Future()))

    def send_raw(self, code: int, data: bytes) -> None:
        """Queue a message as bytes, unchecked (diagnostics and tests: what a broken host would send)."""
        self._outbox.put(_Request(code, bytes(data), frozenset(), Future()))

    def request(
        self,
        code: int,
        *values: int,
        answers: Iterable[str],
        where: Match | None = None,
        timeout: float = ANSWER_TIMEOUT,
    ) -> Event:
        """Send a command and wait for the first event named in ``answers`` that ``where`` (if given)
        accepts, e.g. one of the same payment (blocking; call it from a worker thread, or use
        :meth:`ask`). :class:`CommandRefused` when the board refuses it,
        :class:`ControllerUnavailable` when the link fails or nothing answers in ``timeout``."""
        try:
            return self.submit(code, *values, answers=answers, where=where).result(timeout=timeout)
        except FutureTimeout:
            raise ControllerUnavailable(f"no answer to {messages.NAMES[code]} in {timeout:g} s") from None

    async def ask(
        self,
        code: int,
        *values: int,
        answers: Iterable[str],
        where: Match | None = None,
        timeout: float = ANSWER_TIMEOUT,
    ) -> Event:
        """:meth:`request` for a coroutine: waits without blocking the event loop."""
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(self.submit(code, *values, answers=answers, where=where)), timeout
            )
        except TimeoutError:
            raise ControllerUnavailable(f"no answer to {messages.NAMES[code]} in {timeout:g} s") from None

    def submit(
        self, code: int, *values: int, answers: Iterable[str], where: Match | None = None
    ) -> Future[Event]:
        """:meth:`request` without waiting: the future is resolved on the link thread."""
        pending = _Request(code, messages.encode(code, *values), frozenset(answers), Future(), where)
        if self._stop.is_set():
            pending.future.set_exception(ControllerUnavailable("the driver is closed"))
        else:
            self._outbox.put(pending)
        return pending.future

    @property
    def link_statistics(self) -> dict[str, int]:
        decoder = self._link.decoder
        return {
            "crc_errors": decoder.crc_errors,
            "framing_errors": decoder.framing_errors,
            "retransmissions": self._link.retransmissions,
            "duplicates": self._link.duplicates,
            "peer_restarts": self._link.peer_restarts,
        }

    # -- the link thread -----------------------------------------------------------------------------------

    @staticmethod
    def _now_ms() -> int:
        return time.monotonic_ns() // 1_000_000

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._pass()
            except Exception:  # a driver bug must not end the thread silently: log it and go on
                log.exception("peripheral link pass failed")
            self._sleep()

    def _pass(self) -> None:
        self._drain_outbox()
        try:
            delivered = self._link.poll()
        except ControllerUnavailable as error:
            log.warning("peripheral link: %s", error)
            delivered = []
        self._watch_link()
        for code, data in delivered:
            self._on_message(code, data)
        now = time.monotonic()
        if self._link_up and now - self._last_heartbeat >= self.heartbeat:
            self._last_heartbeat = now
            self._queue_on_link(_Request(messages.GET_STATUS, b"", frozenset(), Future()))

    def _sleep(self) -> None:
        """Until bytes arrive or 2 ms pass (the link's timers are in tens of milliseconds)."""
        try:
            select.select([self._transport.fileno()], [], [], 0.002)
        except (OSError, ValueError):
            time.sleep(0.002)

    def _drain_outbox(self) -> None:
        while True:
            try:
                pending = self._outbox.get_nowait()
            except queue.Empty:
                return
            if pending is not None:
                self._queue_on_link(pending)

    def _queue_on_link(self, pending: _Request) -> None:
        try:
            self._link.send(pending.code, pending.data)
        except link.LinkError as error:
            reason = "not up" if self._link.state == link.HANDSHAKE else type(error).__name__
            if not pending.future.done():
                pending.future.set_exception(ControllerUnavailable(f"the link is {reason}"))
            return
        if pending.answers:
            self._waiting.append(pending)

    def _watch_link(self) -> None:
        up = self._link.state == link.UP
        if up == self._link_up:
            return
        self._link_up = up
        if up:
            self._last_heartbeat = 0.0  # ask for the board's state at once
            self._publish(Event(LINK_UP))
        else:
            self.state.up = False
            self._up_event.clear()
            self._fail_waiting(ControllerUnavailable(f"the link went down: {self._link.failure}"))
            self._publish(Event(LINK_DOWN))

    def _on_message(self, code: int, data: bytes) -> None:
        try:
            values = messages.fields(code, data)
        except messages.BadMessage as error:
            log.warning("peripheral link: %s", error)
            return
        event = Event(messages.NAMES[code], values, code)
        self._remember(event)
        if event.name == "BOOTED" and self.state.boots > 1:
            self._fail_waiting(ControllerUnavailable("the controller started again"))
            self._publish(Event(RESET, values, code))
        # the subscribers first: a coroutine woken by the answer must not act (open the next payment)
        # before they have seen the event (the previous payment's PAYMENT_RETURNED)
        self._publish(event)
        self._answer(event)

    def _remember(self, event: Event) -> None:
        state = self.state
        if event.name == "BOOTED":
            state.boots += 1
            state.up = True
            self._up_event.set()
        elif event.name == "ALARM":
            state.alarm = event["causes"]
        elif event.name == "CARD_TRAY":
            state.card_present = bool(event["present"])
        elif event.name == "PAPER_TRAY":
            state.paper_present = bool(event["present"])
        elif event.name == "DOOR":
            state.door_open = bool(event["open"])
        elif event.name == "STATUS":
            state.status = dict(event.fields)
            state.alarm = event["alarm"]
            flags = event["flags"]
            state.card_present = bool(flags & messages.STATUS_CARD_PRESENT)
            state.paper_present = bool(flags & messages.STATUS_PAPER_PRESENT)
            state.door_open = bool(flags & messages.STATUS_DOOR_OPEN)
            if not state.up:  # a board already running when this host started: it is up all the same
                state.up = True
                self._up_event.set()

    def _answer(self, event: Event) -> None:
        for pending in list(self._waiting):
            refused = event.name == "REFUSED" and event["command"] == pending.code
            if refused or pending.answered_by(event):
                self._waiting.remove(pending)
                if pending.future.done():
                    continue
                if refused:
                    refusal = CommandRefused(messages.NAMES[pending.code], event["reason"])
                    pending.future.set_exception(refusal)
                else:
                    pending.future.set_result(event)
                return

    def _fail_waiting(self, error: Exception) -> None:
        waiting, self._waiting = self._waiting, []
        for pending in waiting:
            if not pending.future.done():
                pending.future.set_exception(error)

    def _publish(self, event: Event) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("peripheral event subscriber failed on %s", event.name)
