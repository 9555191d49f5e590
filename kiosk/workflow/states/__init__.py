"""One state class per step of the session (see :mod:`kiosk.workflow.steps` for the table), built
for one terminal by :func:`build_steps`. No UI here: the states talk to the resident through the
terminal's :class:`~kiosk.ports.Screen`."""

from __future__ import annotations

from typing import Any

from kiosk.terminal import Terminal
from kiosk.workflow.controller import Workflow
from kiosk.workflow.states.base import State
from kiosk.workflow.states.card import Pin, TakeCard
from kiosk.workflow.states.choice import CertificateType, Confirm, Copies, Options
from kiosk.workflow.states.ends import Cancelled, Done, Failed
from kiosk.workflow.states.maintenance import MaintenanceMode
from kiosk.workflow.states.money import Payment, Printing, TakeDocuments
from kiosk.workflow.states.start import Idle, Language, PlaceCard, Whose
from kiosk.workflow.steps import Step

STATES: tuple[type[State], ...] = (
    Idle, Language, PlaceCard, Whose, Pin, TakeCard, CertificateType, Options, Copies, Confirm,
    Payment, Printing, TakeDocuments, Done, Cancelled, Failed, MaintenanceMode,
)


def build_steps(terminal: Terminal) -> dict[Step, State]:
    return {state.step: state(terminal) for state in STATES}


def timeouts() -> dict[Step, float]:
    """Every step's timeout, as its state class says it (steps without one are not listed)."""
    return {state.step: state.timeout for state in STATES if state.timeout is not None}


def workflow_for(terminal: Terminal, **options: Any) -> Workflow:
    """The workflow of ``terminal``: its steps, its screen as the approver, its resident's activity
    (``options`` go to :class:`Workflow`: timeouts, session limit)."""
    alarms = terminal.guard.wait_for_alarm if terminal.guard is not None else None
    return Workflow(build_steps(terminal), terminal.screen, activity=terminal.activity, alarms=alarms,
                    **options)
