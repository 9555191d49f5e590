"""The kiosk's workflow as a state machine: the transition table, the controller's timeouts,
errors and approvals, and the wiping of the session at every end.

The steps here are scripted (each answers the outcomes a test gives it): they stand for the real
steps (card, center, printer), which are tested with the real components; what is under test is
the controller and its table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import Iterable

import pytest

from kiosk.workflow.context import Chosen, SessionContext
from kiosk.workflow.controller import LastSession, Workflow
from kiosk.workflow.steps import (
    ENDS,
    NO_CANCEL,
    TRANSITIONS,
    UNTIMED,
    NoSuchTransition,
    Outcome,
    Step,
    next_step,
)
from support.domicile_steps import APPLICATION_STEPS

CANARY = "佐藤　花子"
HAPPY = [
    Step.IDLE,
    Step.LANGUAGE,
    Step.PLACE_CARD,
    Step.WHOSE,
    Step.PIN,
    Step.TAKE_CARD,
    Step.CERTIFICATE_TYPE,
    Step.OPTIONS,
    Step.COPIES,
    Step.CONFIRM,
    Step.PAYMENT,
    Step.PRINTING,
    Step.TAKE_DOCUMENTS,
    Step.DONE,
    Step.IDLE,
]


class Crash(BaseException):
    """What the controller does not handle (like the process being stopped)."""


class Scripted:
    """A step that answers the given outcomes in turn (and fills the context like a real one)."""

    def __init__(
        self,
        step: Step,
        outcomes: Iterable[Outcome] = (),
        *,
        delay: float = 0.0,
        fail: BaseException | None = None,
    ) -> None:
        self.step = step
        self.outcomes = deque(outcomes)
        self.delay = delay
        self.fail = fail
        self.runs = 0

    async def run(self, context: SessionContext) -> Outcome:
        self.runs += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        if self.step is Step.PLACE_CARD:
            context.certificate.extend(b"\x30\x82certificate of " + CANARY.encode())
        if self.step is Step.PIN:
            context.session_id, context.offers = "S-1", {"household": [CANARY]}
        if self.step is Step.OPTIONS:
            context.choosing = Chosen("resident_record", {"members": [1]})
        if self.step is Step.PAYMENT:
            context.order_id, context.paid = "O-1", 200
            context.documents.append({"name": CANARY})
        return self.outcomes.popleft() if self.outcomes else Outcome.NEXT


class Screens:
    """The headless UI: approves at once, remembers every change it was shown."""

    def __init__(self) -> None:
        self.shown: list[tuple[Step, Step]] = []
        self.personal_at_end: list[bool] = []
        self.forgotten = False
        self.warnings: list[tuple[Step, float | None]] = []

    def forget(self) -> None:
        self.forgotten = True

    def warn(self, step: Step, seconds: float | None) -> None:
        self.warnings.append((step, seconds))

    async def approve(self, current: Step, following: Step, context: SessionContext) -> None:
        self.shown.append((current, following))
        if following in ENDS:
            self.personal_at_end.append(context.personal)


def workflow(overrides: dict[Step, Scripted] | None = None, **options: object) -> tuple[Workflow, Screens]:
    steps = {step: Scripted(step) for step in Step}
    steps.update(overrides or {})
    screens = Screens()
    return Workflow(steps, screens, **options), screens  # type: ignore[arg-type]


# -- the table --------------------------------------------------------------------------------------


def test_the_table_lets_every_step_be_cancelled_timed_out_or_failed() -> None:
    for step in Step:
        if step in ENDS:
            assert next_step(step, Outcome.NEXT) is Step.IDLE
        elif step in NO_CANCEL:  # the paper is coming out or waiting: nothing to cancel
            with pytest.raises(NoSuchTransition):
                next_step(step, Outcome.CANCEL)
            if step in UNTIMED:  # printing: no clock at all
                with pytest.raises(NoSuchTransition):
                    next_step(step, Outcome.TIMEOUT)
            else:  # the documents paid for and left in the tray: the session is done
                assert next_step(step, Outcome.TIMEOUT) is Step.DONE
            assert next_step(step, Outcome.ERROR) is Step.FAILED
        elif step is Step.MAINTENANCE:  # staff, not a resident: however it ends, the start screen
            for outcome in (Outcome.NEXT, Outcome.CANCEL, Outcome.TIMEOUT, Outcome.ERROR):
                assert next_step(step, outcome) is Step.IDLE
        elif step is Step.LEFT_CARD:  # nobody's card: nothing to cancel; taken or timed out, the start
            with pytest.raises(NoSuchTransition):
                next_step(step, Outcome.CANCEL)
            assert next_step(step, Outcome.NEXT) is next_step(step, Outcome.TIMEOUT) is Step.IDLE
            assert next_step(step, Outcome.ERROR) is Step.FAILED
        elif step is not Step.IDLE:
            assert next_step(step, Outcome.CANCEL) is Step.CANCELLED
            assert next_step(step, Outcome.TIMEOUT) is Step.CANCELLED
            assert next_step(step, Outcome.ERROR) is Step.FAILED
    with pytest.raises(NoSuchTransition):
        next_step(Step.IDLE, Outcome.BACK)


def test_every_step_is_reachable_and_every_path_ends() -> None:
    reachable, frontier = {Step.IDLE}, [Step.IDLE]
    while frontier:
        step = frontier.pop()
        for (source, _outcome), target in TRANSITIONS.items():
            if source is step and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(Step)
    # the card goes back before anything is chosen: no path from the PIN to a choice skips it
    after_pin = {target for (source, _o), target in TRANSITIONS.items() if source is Step.PIN}
    assert Step.CERTIFICATE_TYPE not in after_pin and Step.TAKE_CARD in after_pin


def test_no_step_is_a_dead_end() -> None:
    """From every step some outcome leads, step by step, to an end of the session (or, for the
    staff's and the left card's screens, back to the start screen)."""
    ending = set(ENDS) | {Step.IDLE}
    grew = True
    while grew:
        grew = False
        for (source, _outcome), target in TRANSITIONS.items():
            if target in ending and source not in ending:
                ending.add(source)
                grew = True
    assert ending == set(Step)


def test_the_registered_domicile_and_the_issuance_record_in_the_table() -> None:
    """The new steps' every outcome: where each leads."""
    assert next_step(Step.TAKE_CARD, Outcome.DOMICILE) is Step.REGISTRATION
    assert next_step(Step.REGISTRATION, Outcome.NEXT) is Step.CERTIFICATE_TYPE  # approved
    assert next_step(Step.REGISTRATION, Outcome.APPLY) is Step.PREFECTURE
    assert next_step(Step.REGISTRATION, Outcome.FINISH) is Step.DONE  # pending, denied, suspended
    assert next_step(Step.REGISTRATION, Outcome.REFUSED) is Step.CANCELLED
    application = list(APPLICATION_STEPS)
    befores, afters = [Step.REGISTRATION, *application[:-1]], [*application[1:], Step.REGISTRATION]
    for before, step, after in zip(befores, application, afters, strict=True):
        assert next_step(step, Outcome.NEXT) is after
        assert next_step(step, Outcome.BACK) is before
    assert next_step(Step.SIGNING, Outcome.LOCKED) is Step.CANCELLED
    assert next_step(Step.SIGNING, Outcome.REFUSED) is Step.CANCELLED
    assert next_step(Step.CERTIFICATE_TYPE, Outcome.RECORD) is Step.ISSUANCE_RECORD
    assert next_step(Step.ISSUANCE_RECORD, Outcome.NEXT) is Step.CERTIFICATE_TYPE  # printed
    assert next_step(Step.ISSUANCE_RECORD, Outcome.BACK) is Step.CERTIFICATE_TYPE
    assert next_step(Step.ISSUANCE_RECORD, Outcome.FINISH) is Step.DONE
    for step in [Step.REGISTRATION, *application, Step.ISSUANCE_RECORD]:
        assert next_step(step, Outcome.CANCEL) is next_step(step, Outcome.TIMEOUT) is Step.CANCELLED
        assert next_step(step, Outcome.ERROR) is Step.FAILED
    with pytest.raises(NoSuchTransition):
        next_step(Step.REGISTRATION, Outcome.BACK)  # the card is back already: no way back to the PIN


def test_an_application_for_the_registered_domicile_walked_back_and_forth() -> None:
    """Every step of the application, and back from each once; the answer shown, then done."""
    application = list(APPLICATION_STEPS)
    flow, screens = workflow(
        {
            **{step: Scripted(step, [Outcome.BACK]) for step in application},  # then next
            Step.TAKE_CARD: Scripted(Step.TAKE_CARD, [Outcome.DOMICILE]),
            Step.REGISTRATION: Scripted(Step.REGISTRATION, [Outcome.APPLY, Outcome.APPLY, Outcome.FINISH]),
        }
    )
    assert asyncio.run(flow.run_session()) is Step.DONE
    for before, step in zip([Step.REGISTRATION, *application[:-1]], application, strict=True):
        assert (step, Outcome.BACK, before) in flow.history
    path = [source for source, _o, _t in flow.history]
    assert path[-4:] == [Step.APPLICATION, Step.SIGNING, Step.REGISTRATION, Step.DONE]  # the answer, seen
    assert Step.CERTIFICATE_TYPE not in path and screens.personal_at_end == [True]
    assert not flow.context.personal


def test_an_approved_registration_and_the_issuance_record_lead_to_the_usual_steps() -> None:
    flow, _screens = workflow(
        {
            Step.TAKE_CARD: Scripted(Step.TAKE_CARD, [Outcome.DOMICILE]),
            Step.CERTIFICATE_TYPE: Scripted(Step.CERTIFICATE_TYPE, [Outcome.RECORD, Outcome.RECORD]),
            Step.ISSUANCE_RECORD: Scripted(Step.ISSUANCE_RECORD, [Outcome.NEXT, Outcome.BACK]),
        }
    )
    assert asyncio.run(flow.run_session()) is Step.DONE
    path = [source for source, _o, _t in flow.history]
    assert path[path.index(Step.TAKE_CARD) : path.index(Step.OPTIONS)] == [
        Step.TAKE_CARD,
        Step.REGISTRATION,  # approved: the domicile's offer
        Step.CERTIFICATE_TYPE,
        Step.ISSUANCE_RECORD,  # printed
        Step.CERTIFICATE_TYPE,
        Step.ISSUANCE_RECORD,  # back
        Step.CERTIFICATE_TYPE,
    ]
    assert path[-1] is Step.DONE and path[-2] is Step.TAKE_DOCUMENTS

    finished, _screens = workflow(
        {
            Step.CERTIFICATE_TYPE: Scripted(Step.CERTIFICATE_TYPE, [Outcome.RECORD]),
            Step.ISSUANCE_RECORD: Scripted(Step.ISSUANCE_RECORD, [Outcome.FINISH]),
        }
    )
    assert asyncio.run(finished.run_session()) is Step.DONE
    assert finished.history[-2] == (Step.ISSUANCE_RECORD, Outcome.FINISH, Step.DONE)


@pytest.mark.parametrize(("source", "outcome"), sorted(TRANSITIONS), ids=lambda v: str(v))
def test_each_transition_of_the_table(source: Step, outcome: Outcome) -> None:
    flow, screens = workflow({source: Scripted(source, [outcome])})
    flow.step = source
    target = asyncio.run(flow.advance())
    assert target is TRANSITIONS[(source, outcome)] and flow.step is target
    assert screens.shown == [(source, target)] and flow.history == [(source, outcome, target)]


# -- sessions ---------------------------------------------------------------------------------------


def test_a_whole_session_and_nothing_of_it_left() -> None:
    flow, screens = workflow()
    certificate = flow.context.certificate
    assert asyncio.run(flow.run_session()) is Step.DONE
    assert [source for source, _o, _t in flow.history] + [flow.history[-1][2]] == HAPPY
    assert screens.personal_at_end == [True]  # the end screen still had the session …
    assert not flow.context.personal and flow.step is Step.IDLE  # … and then it was gone
    assert certificate == bytearray(len(certificate)) and len(certificate) > 0  # zeroed in place
    assert CANARY not in repr(flow.context) and CANARY not in repr(flow.history)


def test_back_another_and_no_options() -> None:
    flow, _screens = workflow(
        {
            Step.CERTIFICATE_TYPE: Scripted(Step.CERTIFICATE_TYPE, [Outcome.NEXT, Outcome.NO_OPTIONS]),
            Step.OPTIONS: Scripted(Step.OPTIONS, [Outcome.BACK]),
            Step.CONFIRM: Scripted(Step.CONFIRM, [Outcome.ANOTHER, Outcome.NEXT]),
        }
    )
    assert asyncio.run(flow.run_session()) is Step.DONE
    path = [source for source, _o, _t in flow.history]
    assert path[path.index(Step.TAKE_CARD) : path.index(Step.PAYMENT)] == [
        Step.TAKE_CARD,
        Step.CERTIFICATE_TYPE,
        Step.OPTIONS,
        Step.CERTIFICATE_TYPE,
        Step.COPIES,
        Step.CONFIRM,
        Step.CERTIFICATE_TYPE,
        Step.OPTIONS,
        Step.COPIES,
        Step.CONFIRM,
    ]


def test_a_resident_who_walks_away_is_timed_out_and_forgotten() -> None:
    slow = Scripted(Step.CERTIFICATE_TYPE, delay=5.0)
    flow, screens = workflow({Step.CERTIFICATE_TYPE: slow}, timeouts={Step.CERTIFICATE_TYPE: 0.05})
    assert asyncio.run(flow.run_session()) is Step.CANCELLED
    assert (Step.CERTIFICATE_TYPE, Outcome.TIMEOUT, Step.CANCELLED) in flow.history
    assert screens.personal_at_end == [True] and not flow.context.personal


def test_the_session_limit_times_out_whatever_the_step() -> None:
    now = [0.0]

    class Slowly(Scripted):
        async def run(self, context: SessionContext) -> Outcome:
            now[0] += 100.0  # each step takes the resident 100 s
            return await super().run(context)

    flow, _screens = workflow(
        {step: Slowly(step) for step in Step}, session_limit=450.0, clock=lambda: now[0]
    )
    assert asyncio.run(flow.run_session()) is Step.CANCELLED
    assert flow.history[-2][1] is Outcome.TIMEOUT  # the step that began after the limit


def test_a_failing_device_fails_the_session_cleanly() -> None:
    flow, screens = workflow({Step.PRINTING: Scripted(Step.PRINTING, fail=OSError(f"jam {CANARY}"))})
    assert asyncio.run(flow.run_session()) is Step.FAILED
    assert (Step.PRINTING, Outcome.ERROR, Step.FAILED) in flow.history
    assert screens.shown[-1] == (Step.FAILED, Step.IDLE) and not flow.context.personal


# the outcomes that lead a session off the way of HAPPY to a step (the others answer next)
DOMICILE = {Step.TAKE_CARD: [Outcome.DOMICILE]}
APPLYING = {**DOMICILE, Step.REGISTRATION: [Outcome.APPLY]}
ROUTES: dict[Step, dict[Step, list[Outcome]]] = {
    Step.REGISTRATION: DOMICILE,
    **dict.fromkeys(APPLICATION_STEPS, APPLYING),
    Step.ISSUANCE_RECORD: {Step.CERTIFICATE_TYPE: [Outcome.RECORD]},
}


def routed(step: Step, *outcomes: Outcome) -> dict[Step, Scripted]:
    """The steps of a session that reaches ``step`` (by :data:`ROUTES`), where it answers ``outcomes``."""
    scripts = {source: Scripted(source, answers) for source, answers in ROUTES.get(step, {}).items()}
    earlier = list(scripts[step].outcomes) if step in scripts else []
    return {**scripts, step: Scripted(step, [*earlier, *outcomes])}


def test_cancel_everywhere_and_the_session_is_wiped_each_time() -> None:
    for step in Step:
        if step in ENDS or step in (Step.IDLE, Step.MAINTENANCE, Step.LEFT_CARD) or step in NO_CANCEL:
            continue  # (the maintenance mode and a card left are no session: not reached from idle here)
        flow, _screens = workflow(routed(step, Outcome.CANCEL))
        assert asyncio.run(flow.run_session()) is Step.CANCELLED, step
        assert flow.history[-2] == (step, Outcome.CANCEL, Step.CANCELLED) and not flow.context.personal


def test_a_crash_in_the_middle_still_wipes_the_session() -> None:
    """A task cancelled (the app closing) or an exception the controller does not handle:
    nothing personal survives in the workflow."""
    flow, screens = workflow({Step.CONFIRM: Scripted(Step.CONFIRM, fail=Crash())})
    with pytest.raises(Crash):
        asyncio.run(flow.run_session())
    assert not flow.context.personal and flow.step is Step.IDLE and screens.forgotten

    async def cancel_during_payment() -> None:
        flow2, _ = workflow({Step.PAYMENT: Scripted(Step.PAYMENT, delay=10.0)})
        task = asyncio.create_task(flow2.run_session())
        while flow2.step is not Step.PAYMENT:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not flow2.context.personal

    asyncio.run(cancel_during_payment())


def test_a_workflow_needs_a_step_for_every_state() -> None:
    steps = {step: Scripted(step) for step in Step if step is not Step.PRINTING}
    with pytest.raises(ValueError, match="printing"):
        Workflow(steps, Screens())  # type: ignore[arg-type]


def test_a_resident_who_keeps_touching_is_not_timed_out_and_is_warned_before_walking_away() -> None:
    """The screen's time counts from the resident's last action; a warning comes before it runs
    out, and goes when they act."""

    class Dithering(Scripted):
        async def run(self, context: SessionContext) -> Outcome:
            for _ in range(8):  # 0.8 s on a screen whose time is 0.3 s, acting every 0.1 s
                await asyncio.sleep(0.1)
                flow.activity.mark()
            await asyncio.sleep(0.25)  # quiet long enough to be warned, not to time out
            flow.activity.mark()
            return await super().run(context)

    flow, screens = workflow({Step.OPTIONS: Dithering(Step.OPTIONS)}, timeouts={Step.OPTIONS: 0.3})
    flow.warn_before = 0.15
    assert asyncio.run(flow.run_session()) is Step.DONE
    assert screens.warnings == [(Step.OPTIONS, 0.15), (Step.OPTIONS, None)]

    walked_away, screens = workflow(
        {Step.OPTIONS: Scripted(Step.OPTIONS, delay=5.0)}, timeouts={Step.OPTIONS: 0.3}
    )
    walked_away.warn_before = 0.15
    assert asyncio.run(walked_away.run_session()) is Step.CANCELLED
    assert screens.warnings == [(Step.OPTIONS, 0.15), (Step.OPTIONS, None)]  # gone with the screen


def test_the_staff_s_maintenance_mode_comes_back_to_the_start_however_it_ends() -> None:
    flow, screens = workflow(
        {
            Step.IDLE: Scripted(Step.IDLE, [Outcome.MAINTENANCE, Outcome.MAINTENANCE, Outcome.NEXT]),
            Step.MAINTENANCE: Scripted(Step.MAINTENANCE, [Outcome.TIMEOUT, Outcome.NEXT]),
        }
    )
    assert asyncio.run(flow.run_session()) is Step.DONE  # and then a resident's session, whole
    assert flow.history[:4] == [
        (Step.IDLE, Outcome.MAINTENANCE, Step.MAINTENANCE),
        (Step.MAINTENANCE, Outcome.TIMEOUT, Step.IDLE),
        (Step.IDLE, Outcome.MAINTENANCE, Step.MAINTENANCE),
        (Step.MAINTENANCE, Outcome.NEXT, Step.IDLE),
    ]
    assert screens.shown[1] == (Step.MAINTENANCE, Step.IDLE)


def test_a_card_left_in_the_reader_starts_no_session_until_it_is_taken() -> None:
    flow, screens = workflow(
        {
            Step.IDLE: Scripted(Step.IDLE, [Outcome.CARD_LEFT, Outcome.CARD_LEFT, Outcome.CARD_LEFT]),
            Step.LEFT_CARD: Scripted(Step.LEFT_CARD, [Outcome.TIMEOUT, Outcome.MAINTENANCE, Outcome.NEXT]),
        }
    )
    assert asyncio.run(flow.run_session()) is Step.DONE  # and then a resident's session, whole
    assert flow.history[:6] == [
        (Step.IDLE, Outcome.CARD_LEFT, Step.LEFT_CARD),
        (Step.LEFT_CARD, Outcome.TIMEOUT, Step.IDLE),  # the start screen looks again
        (Step.IDLE, Outcome.CARD_LEFT, Step.LEFT_CARD),
        (Step.LEFT_CARD, Outcome.MAINTENANCE, Step.MAINTENANCE),  # staff see it there
        (Step.MAINTENANCE, Outcome.NEXT, Step.IDLE),
        (Step.IDLE, Outcome.CARD_LEFT, Step.LEFT_CARD),
    ]
    assert flow.history[6] == (Step.LEFT_CARD, Outcome.NEXT, Step.IDLE)  # taken
    assert flow.history[7] == (Step.IDLE, Outcome.NEXT, Step.LANGUAGE)
    assert screens.shown[:2] == [(Step.IDLE, Step.LEFT_CARD), (Step.LEFT_CARD, Step.IDLE)]


def test_an_alarm_does_not_interrupt_the_maintenance_mode_but_ends_a_session() -> None:
    async def alarm() -> str:
        return "tamper"  # latched from the start

    flow, _screens = workflow(
        {
            Step.IDLE: Scripted(Step.IDLE, [Outcome.MAINTENANCE, Outcome.NEXT]),
            Step.MAINTENANCE: Scripted(Step.MAINTENANCE, delay=0.2),
            Step.LANGUAGE: Scripted(Step.LANGUAGE, delay=30),
        },
        alarms=alarm,
    )
    assert asyncio.run(flow.run_session()) is Step.FAILED
    assert [(s, o) for s, o, _ in flow.history[:3]] == [
        (Step.IDLE, Outcome.MAINTENANCE),
        (Step.MAINTENANCE, Outcome.NEXT),
        (Step.IDLE, Outcome.NEXT),
    ]
    assert flow.history[3] == (Step.LANGUAGE, Outcome.ERROR, Step.FAILED)
    assert flow.context.reason is None  # wiped at the end (it was language_terminal_alarm)


def test_a_touch_just_after_the_warning_takes_it_away_at_once_and_the_time_counts_afresh() -> None:
    class TouchingWhenWarned(Scripted):
        async def run(self, context: SessionContext) -> Outcome:
            while not screens.warnings:  # the first warning, 0.3 s before the end
                await asyncio.sleep(0.01)
            flow.activity.mark()  # a touch at once
            await asyncio.sleep(0.2)  # long before the first end would have come
            assert screens.warnings[-1] == (Step.OPTIONS, None), "the warning stayed after the touch"
            while len(screens.warnings) < 3:  # warned again, 0.3 s before the new end
                await asyncio.sleep(0.01)
            flow.activity.mark()
            return await super().run(context)

    flow, screens = workflow({Step.OPTIONS: TouchingWhenWarned(Step.OPTIONS)}, timeouts={Step.OPTIONS: 0.6})
    flow.warn_before = 0.3
    assert asyncio.run(flow.run_session()) is Step.DONE
    assert screens.warnings == [
        (Step.OPTIONS, 0.3),
        (Step.OPTIONS, None),
        (Step.OPTIONS, 0.3),
        (Step.OPTIONS, None),
    ]


def test_a_sessions_end_is_kept_to_the_minute_and_nothing_else_of_it() -> None:
    """What the terminal's heartbeat says of its sessions (kiosk/heartbeat.py): the minute the last
    one reached its end, told to whoever listens; a staff visit is no session, and a listener
    that fails does not fail the session."""
    moment = dt.datetime(2026, 12, 9, 12, 34, 56, 789, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    last = LastSession(clock=lambda: moment)
    told: list[dt.datetime | None] = []
    last.subscribe(lambda: told.append(last.at))

    def broken() -> None:
        raise RuntimeError("a listener's bug")

    last.subscribe(broken)
    flow, _screens = workflow(
        {Step.IDLE: Scripted(Step.IDLE, [Outcome.MAINTENANCE, Outcome.NEXT])}, last_session=last
    )
    assert last.at is None
    assert asyncio.run(flow.run_session()) is Step.DONE
    assert (Step.IDLE, Outcome.MAINTENANCE, Step.MAINTENANCE) in flow.history
    assert told == [dt.datetime(2026, 12, 9, 3, 34, tzinfo=dt.UTC)] and last.at == told[0]
    assert vars(last).keys() == {"clock", "at", "_listeners"}  # nothing of the session itself
