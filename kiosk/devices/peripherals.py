"""The kiosk's ports on the peripheral controller (周辺機器): the coin mechanism with its escrow, the
light and buzzer, the output tray's sensor and the alarm of the maintenance door and tamper switch,
each an adapter on :class:`hardware.peripherals.PeripheralController`.

The controller's events arrive on its link thread; each adapter keeps what it needs under a lock
and wakes the kiosk's asyncio loop with ``call_soon_threadsafe``. The loop is the one running when
the adapter is first used from a coroutine.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading

from firmware import messages
from hardware.peripherals import CommandRefused, Event, PeripheralController, PeripheralError
from hardware.peripherals.controller import LINK_DOWN, RESET
from kiosk.errors import DeviceError, PaymentError, TerminalAlarm
from kiosk.ports import ReminderKind

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 5.0  # seconds for the board to answer a command
CHANGE_TIMEOUT = 30.0  # seconds to accept a payment: the hoppers pay the change coin by coin
BUZZER = {
    ReminderKind.TAKE_CARD: messages.BUZZER_TAKE_CARD,
    ReminderKind.TAKE_DOCUMENTS: messages.BUZZER_TAKE_DOCUMENTS,
}
ALARM_NAMES = {messages.ALARM_DOOR: "door", messages.ALARM_TAMPER: "tamper"}
# the board's events about one payment, each naming it by its number (``payment``)
PAYMENT_EVENTS = frozenset(messages.NAMES[code] for code in messages.PAYMENT_MESSAGES if code >= 0x80)


def alarm_causes(bits: int) -> str:
    """``door``, ``tamper`` or ``door+tamper``."""
    return "+".join(name for bit, name in sorted(ALARM_NAMES.items()) if bits & bit) or "unknown"


class _Wakeable:
    """An asyncio event that a foreign thread may set."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def attach(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._event is None:
            self._loop, self._event = loop, asyncio.Event()
        return self._event

    def wake(self) -> None:
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


class LinkedCashbox:
    """The coin mechanism (硬貨投入口) as the kiosk's :class:`~kiosk.ports.Cashbox`.

    A payment fails (:class:`PaymentError` from :meth:`wait_for_coins`) when the board refuses to
    open it, restarts (it returned the escrow at its start), returns the escrow by itself (an
    alarm), or cannot be reached (it returns the escrow by itself when the host stays silent).

    Each payment gets the next number (1..65535 in turn, from a random one at start, so a restarted
    kiosk does not reuse its last numbers); the board names it in every event about the payment.
    An event of another payment (one the board sent again after its link failed and came back,
    after this kiosk had already closed that payment and opened the next) counts for nothing."""

    def __init__(
        self,
        controller: PeripheralController,
        *,
        answer_timeout: float = ANSWER_TIMEOUT,
        change_timeout: float = CHANGE_TIMEOUT,
    ) -> None:
        self.controller = controller
        self.answer_timeout = answer_timeout
        self.change_timeout = change_timeout
        self.fee: int | None = None
        self.payment = messages.NO_PAYMENT  # the open payment's number
        self._last_payment = secrets.randbelow(messages.LAST_PAYMENT) + 1
        self.owed = 0  # change the hoppers could not pay, for the clerk (yen, summed)
        self._held = 0
        self._fault: DeviceError | None = None
        self._lock = threading.Lock()
        self._changed = _Wakeable()
        controller.subscribe(self._on_event)

    def open(self, fee: int) -> None:
        self._changed.attach().clear()
        with self._lock:
            if self.fee is not None or self._held:
                raise PaymentError("coins are still held from another payment")
            if not self.controller.state.up:
                raise PaymentError("the coin mechanism does not answer")
            if self.controller.state.alarm:
                raise TerminalAlarm(alarm_causes(self.controller.state.alarm))
            self._last_payment = payment = messages.next_payment(self._last_payment)
            self.fee, self.payment, self._held, self._fault = fee, payment, 0, None
        self.controller.send(messages.OPEN_PAYMENT, payment, fee)

    async def wait_for_coins(self) -> int:
        changed = self._changed.attach()
        await changed.wait()
        changed.clear()
        with self._lock:
            if self._fault is not None:
                raise self._fault
            return self._held

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    async def accept(self, amount: int) -> int:
        with self._lock:
            fee, payment = self.fee, self.payment
        if fee is None:
            raise PaymentError("no payment is open")
        if not 0 < amount <= fee:
            raise PaymentError("not an amount of this payment")
        try:
            answer = await self.controller.ask(
                messages.ACCEPT_PAYMENT,
                payment,
                amount,
                answers={"PAYMENT_ACCEPTED"},
                where=lambda event: event["payment"] == payment,
                timeout=self.change_timeout,
            )
        except PeripheralError as error:
            raise PaymentError(f"the coins could not be accepted: {error}") from None
        finally:
            self._close()
        if answer["owed"]:
            self.owed += answer["owed"]
            log.warning("change of %d yen not paid out: the hoppers are empty", answer["owed"])
        return int(answer["change"] - answer["owed"])  # the change due, less what the hoppers lacked

    async def return_all(self) -> int:
        with self._lock:
            fee, held, payment = self.fee, self._held, self.payment
        if fee is None and not held:
            return 0
        try:
            answer = await self.controller.ask(
                messages.RETURN_PAYMENT,
                payment,
                answers={"PAYMENT_RETURNED"},
                where=lambda event: event["payment"] == payment,
                timeout=self.answer_timeout,
            )
            returned = int(answer["returned"])
        except CommandRefused:  # nothing open on the board: it already gave the coins back
            returned = held
        except PeripheralError as error:  # the board returns the escrow by itself when left alone
            log.warning("coins not returned on command (%s); the board returns them itself", error.code)
            returned = held
        finally:
            self._close()
        return returned

    def _close(self) -> None:
        with self._lock:
            self.fee, self.payment, self._held = None, messages.NO_PAYMENT, 0

    def _on_event(self, event: Event) -> None:  # the link thread
        with self._lock:
            if event.name in PAYMENT_EVENTS and event["payment"] != self.payment:
                # sent again after the board's link failed and came back, about a payment this
                # kiosk has closed since (the board refuses coins while none is open: 0)
                log.debug(
                    "%s of payment %d, not the open one (%d): ignored",
                    event.name,
                    event["payment"],
                    self.payment,
                )
                return
            if self.fee is None:
                if event.name == "STATUS" and event["payment"] != messages.NO_PAYMENT:
                    # a payment this kiosk does not know of (the kiosk restarted in the middle of
                    # one): its coins go back to the resident; the journal voids the order
                    log.warning("a payment left open on the board: its coins are returned")
                    self.controller.send(messages.RETURN_PAYMENT, event["payment"])
                return
            if event.name == "COIN":
                if event["held"] <= self._held:
                    # sent again after the board's link failed and came back (the held total only
                    # grows within a payment): counted already, nothing changed
                    return
                self._held = event["held"]
            elif event.name == "REFUSED" and event["command"] == messages.OPEN_PAYMENT:
                self._fault = PaymentError("the coin mechanism refused the payment")
            elif event.name == RESET:
                self._fault = PaymentError("the coin mechanism restarted and gave the coins back")
                self.fee, self.payment, self._held = None, messages.NO_PAYMENT, 0
            elif event.name == "PAYMENT_RETURNED":
                self._fault = PaymentError("the coin mechanism gave the coins back by itself")
                self.fee, self.payment, self._held = None, messages.NO_PAYMENT, 0
            elif event.name == LINK_DOWN:
                self._fault = PaymentError("the coin mechanism does not answer")
            elif event.name == "ALARM" and event["causes"]:
                self._fault = TerminalAlarm(alarm_causes(event["causes"]))
            else:
                return
        self._changed.wake()


class LinkedReminder:
    """The card tray's light and the buzzer (取り忘れ防止) as the kiosk's :class:`~kiosk.ports.Reminder`:
    the board repeats the pattern by itself until told to stop."""

    def __init__(self, controller: PeripheralController) -> None:
        self.controller = controller
        self.active: ReminderKind | None = None

    def start(self, kind: ReminderKind) -> None:
        if kind is self.active:
            return
        self.active = kind
        self.controller.send(messages.SET_LIGHT, messages.LIGHT_BLINK)
        self.controller.send(messages.SET_BUZZER, BUZZER[kind])

    def stop(self) -> None:
        self.active = None
        self.controller.send(messages.SET_LIGHT, messages.LIGHT_OFF)
        self.controller.send(messages.SET_BUZZER, messages.BUZZER_QUIET)


class LinkedPaperTray:
    """The printer's output tray sensor (排紙トレイ) for :class:`kiosk.devices.printer.RenderingPrinter`."""

    def __init__(self, controller: PeripheralController) -> None:
        self.controller = controller
        self._changed = _Wakeable()
        controller.subscribe(self._on_event)

    async def wait_until_empty(self) -> None:
        changed = self._changed.attach()
        while self.controller.state.paper_present:
            changed.clear()
            await changed.wait()

    def _on_event(self, event: Event) -> None:
        if event.name in ("PAPER_TRAY", "STATUS"):
            self._changed.wake()


class LinkedGuard:
    """The maintenance door and the tamper switch (保守扉・筐体開放検知): an alarm the board latched
    until staff clear it in maintenance mode."""

    def __init__(self, controller: PeripheralController) -> None:
        self.controller = controller
        self._changed = _Wakeable()
        controller.subscribe(self._on_event)

    @property
    def alarm(self) -> str | None:
        bits = self.controller.state.alarm
        return alarm_causes(bits) if bits else None

    async def wait_for_alarm(self) -> str:
        changed = self._changed.attach()
        while self.alarm is None:
            changed.clear()
            await changed.wait()
        return self.alarm

    async def wait_until_cleared(self) -> None:
        changed = self._changed.attach()
        while self.alarm is not None:
            changed.clear()
            await changed.wait()

    def _on_event(self, event: Event) -> None:
        if event.name in ("ALARM", "STATUS", RESET):
            self._changed.wake()


class LinkedMaintenance:
    """The controller's maintenance mode (保守モード) as the kiosk's :class:`~kiosk.ports.Maintenance`."""

    def __init__(
        self,
        controller: PeripheralController,
        cashbox: LinkedCashbox | None = None,
        *,
        answer_timeout: float = ANSWER_TIMEOUT,
    ) -> None:
        self.controller = controller
        self.cashbox = cashbox
        self.answer_timeout = answer_timeout

    def enter(self) -> None:
        self.controller.send(messages.SET_MAINTENANCE, 1)

    def leave(self) -> None:
        self.controller.send(messages.SET_MAINTENANCE, 0)

    async def clear_alarm(self) -> None:
        try:
            answer = await self.controller.ask(
                messages.CLEAR_ALARM, answers={"ALARM"}, timeout=self.answer_timeout
            )
        except PeripheralError as error:
            raise DeviceError(f"the alarm was not cleared: {error}") from None
        if answer["causes"]:  # latched again at once: the tamper switch is still tripped
            raise DeviceError(f"the alarm is still raised: {alarm_causes(answer['causes'])}")

    def status(self) -> dict[str, object]:
        state = self.controller.state
        return {
            "alarm": alarm_causes(state.alarm) if state.alarm else None,
            "door_open": state.door_open,
            "connected": state.up,
            "owed": 0 if self.cashbox is None else self.cashbox.owed,
        }
