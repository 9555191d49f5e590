"""The workflow controller: runs one step at a time, moves by the transition table, lets the UI
approve each change, enforces the timeouts, and wipes the session at every end.

A step is an object with ``async run(context) -> Outcome``: it talks to the card, the center,
the printer or the resident (through the UI) and says how it ended. It also says how long its
screen may be left untouched (``timeout``) and whether the resident is warned before
(``warned``): the state classes of :mod:`kiosk.workflow.states` carry both. The controller knows
no device and no screen: the Kivy app and the headless driver of the tests and load runs give it
the same steps and their own :class:`Approver`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, cast

from kiosk.errors import TerminalAlarm
from kiosk.workflow.context import SessionContext
from kiosk.workflow.steps import ENDS, NO_SESSION_LIMIT, UNTIMED, Outcome, Step, next_step

log = logging.getLogger(__name__)

SESSION_LIMIT = 600.0  # seconds from the first touch to the end, whatever happens
WARN_BEFORE = 15.0  # seconds before a screen times out that the resident is warned
ACTIVITY_POLL = 0.1  # seconds between looks at the resident's last action while a screen waits


def failure_code(step: Step, error: Exception) -> str:
    """Why a session failed, as a code the center accepts (``printing_printer_error``)."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()
    return f"{step.value}_{re.sub(r'[^a-z_]', '', name)}"[:40]


class Activity:
    """When the resident last did something — a touch, a card placed, a coin dropped. A screen
    times out after its time without any (the time counts again from each), so a resident who is
    slowly choosing is not cut off; one who walked away is."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last = clock()

    def mark(self) -> None:
        self.last = self.clock()


class LastSession:
    """When the last resident session ended, to the minute (最終利用時刻): what the terminal's
    heartbeat says of its sessions, and nothing else of them. Whoever ``subscribe`` s is told
    at once (on the workflow's loop: they must not block)."""

    def __init__(self, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.clock = clock
        self.at: dt.datetime | None = None  # none since the kiosk started
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def ended(self) -> None:
        self.at = self.clock().astimezone(dt.UTC).replace(second=0, microsecond=0)
        for listener in list(self._listeners):
            try:
                listener()
            except Exception as error:  # never the session's problem
                log.warning("a listener of the session's end failed: %s", type(error).__name__)


class StepHandler(Protocol):
    """One step. It may say ``timeout`` (seconds its screen may be left untouched; ``None`` or
    not said: only the session's limit) and ``warned`` (whether the resident is warned before it
    times out; not said: warned, like on every screen a resident works on)."""

    async def run(self, context: SessionContext) -> Outcome: ...


def timeout_of(handler: StepHandler) -> float | None:
    return cast("float | None", getattr(handler, "timeout", None))


def warned_of(handler: StepHandler) -> bool:
    return bool(getattr(handler, "warned", True))


class Approver(Protocol):
    """The UI's part: it is told every change before it happens and returns when the next screen
    may start (the headless driver approves at once)."""

    async def approve(self, current: Step, following: Step, context: SessionContext) -> None: ...

    def forget(self) -> None:
        """The session is over however it ended (also by a crash of a step or the task being
        cancelled): nothing of it may stay on any screen."""

    def warn(self, step: Step, seconds: float | None) -> None:
        """``step``'s screen times out in ``seconds`` unless the resident does something (``None``:
        they did; the warning goes)."""


class Workflow:
    def __init__(
        self,
        steps: Mapping[Step, StepHandler],
        ui: Approver,
        *,
        timeouts: Mapping[Step, float] | None = None,
        session_limit: float = SESSION_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        activity: Activity | None = None,
        warn_before: float = WARN_BEFORE,
        alarms: Callable[[], Awaitable[str]] | None = None,
        last_session: LastSession | None = None,
    ) -> None:
        missing = [step for step in Step if step not in steps]
        if missing:
            raise ValueError(f"no handler for {', '.join(step.value for step in missing)}")
        self.steps = dict(steps)
        self.ui = ui
        # seconds each screen may be left untouched: the step's own, or ``timeouts``' (tests, rehearsals)
        self.timeouts = {
            step: limit for step, handler in self.steps.items() if (limit := timeout_of(handler)) is not None
        }
        self.timeouts.update(timeouts or {})
        self.warned = frozenset(step for step, handler in self.steps.items() if warned_of(handler))
        self.session_limit = session_limit
        self.clock = clock
        self.activity = activity or Activity(clock)
        self.warn_before = warn_before
        self.alarms = alarms  # until the door or tamper alarm is latched: it ends any step at once
        self.last_session = last_session or LastSession()  # told when a session reaches its end
        self.step = Step.IDLE
        self.context = SessionContext()
        self.history: list[tuple[Step, Outcome, Step]] = []  # steps and outcomes only: nothing personal
        self._started: float | None = None

    async def run_session(self) -> Step:
        """From the start screen through one resident's session to its end screen and back to the
        start; returns how it ended. The context is wiped whatever happens, even if this task is
        cancelled or a step crashes."""
        try:
            while True:
                current = self.step
                await self.advance()
                if current in ENDS:
                    return current
        finally:
            self.context.wipe()
            self.ui.forget()
            self._started = None
            self.step = Step.IDLE

    async def advance(self) -> Step:
        """Run the current step once and move to the step its outcome leads to."""
        current = self.step
        outcome = await self._outcome(current)
        following = next_step(current, outcome)
        self.history.append((current, outcome, following))
        log.info("step %s → %s (%s)", current.value, following.value, outcome.value)
        if current is Step.IDLE:
            self._started = self.clock()
        if following in ENDS:
            self.context.ended = following
            self.context.reason = self.context.reason or outcome.value
            self.last_session.ended()
        await self.ui.approve(current, following, self.context)
        self.step = following
        return following

    async def _outcome(self, step: Step) -> Outcome:
        self.activity.mark()  # the screen's time counts from now
        deadline = self._deadline(step)
        if deadline is not None and deadline <= self.clock():  # the session's time is up
            return Outcome.NEXT if step in ENDS else Outcome.TIMEOUT
        task = asyncio.ensure_future(self._guarded(step))
        try:
            if await self._until_done_or_timed_out(step, task):
                return task.result()
            return Outcome.NEXT if step in ENDS else Outcome.TIMEOUT  # an end screen times out to the start
        except Exception as error:  # a device, the center: the session fails, cleanly
            log.warning("step %s failed: %s", step.value, type(error).__name__)
            if step in ENDS:
                return Outcome.NEXT
            self.context.reason = failure_code(step, error)
            return Outcome.ERROR
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _guarded(self, step: Step) -> Outcome:
        """``step`` run, unless the door or tamper alarm comes first: then :class:`TerminalAlarm`
        (the session fails, voiding and refunding; the start screen stays out of service). The
        start screen, the end screens, the staff's maintenance mode (where an alarm is cleared),
        printing (which stops the job and settles what came out) and the documents in the tray
        (printed and paid: the resident takes them) are not interrupted: they handle the alarm
        themselves, or the start screen does."""
        run = asyncio.ensure_future(self.steps[step].run(self.context))
        if self.alarms is None or step in (Step.IDLE, Step.MAINTENANCE, *NO_SESSION_LIMIT) or step in ENDS:
            return await run
        alarm = asyncio.ensure_future(self.alarms())
        try:
            await asyncio.wait({run, alarm}, return_when=asyncio.FIRST_COMPLETED)
            if run.done():
                return run.result()
            raise TerminalAlarm(alarm.result())
        finally:
            for task in (run, alarm):
                if not task.done():
                    task.cancel()
            await asyncio.gather(run, alarm, return_exceptions=True)

    async def _until_done_or_timed_out(self, step: Step, task: asyncio.Future[Outcome]) -> bool:
        """Whether ``task`` finished before its screen timed out; warns the resident before (and
        takes the warning away as soon as they act, or when the screen goes).

        The resident's actions are looked at every ``ACTIVITY_POLL`` seconds, so a touch right
        after the warning takes it away at once and the time counts afresh from the touch (the
        warning comes again ``warn_before`` seconds before the new end)."""
        warned = False
        armed = False  # the screen's end was further away than the warning: warn when it comes near
        acted = self.activity.last
        try:
            while True:
                deadline = self._deadline(step)
                if deadline is None:
                    await asyncio.wait({task})
                    return True
                if warned and self.activity.last != acted:  # the resident did something
                    self.ui.warn(step, None)
                    warned = False
                remaining = deadline - self.clock()
                if remaining <= 0:
                    return False
                if step in self.warned and not warned:
                    if remaining > self.warn_before:
                        armed = True
                    elif armed:
                        self.ui.warn(step, self.warn_before)
                        warned, armed, acted = True, False, self.activity.last
                until_warning = remaining - self.warn_before if armed else remaining
                wait = max(0.0, min(remaining, until_warning, ACTIVITY_POLL))
                done, _pending = await asyncio.wait({task}, timeout=wait)
                if done:
                    return True
        finally:
            if warned:
                self.ui.warn(step, None)

    def _deadline(self, step: Step) -> float | None:
        """When ``step``'s screen times out: its time after the resident's last action, and no
        later than the session's limit (``None``: the start screen waits for ever, and printing
        is never timed: paper is moving)."""
        if step is Step.IDLE or step in UNTIMED:
            return None
        limit = self.timeouts.get(step)
        deadline = None if limit is None else self.activity.last + limit
        if self._started is not None and step not in ENDS and step not in NO_SESSION_LIMIT:
            end = self._started + self.session_limit
            deadline = end if deadline is None else min(deadline, end)
        return deadline
