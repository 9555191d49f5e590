"""One state class per step of the session (see :mod:`kiosk.workflow.steps` for the table), built
for one terminal by :func:`build_steps`. No UI here: the states talk to the resident through the
terminal's :class:`~kiosk.ports.Screen`.

Nothing lists the states: every module of this package is imported, and each :class:`State`
subclass that names its ``step`` is that step's state (:mod:`kiosk.workflow.registry`; a step
with no state, or two, is an error at import). A state class also says its screen's ``timeout``
and whether the resident is ``warned`` before it runs out; the controller reads both.
"""

from __future__ import annotations

from typing import Any

from kiosk.terminal import Terminal
from kiosk.workflow.controller import Workflow
from kiosk.workflow.registry import import_modules, one_per_step
from kiosk.workflow.states.base import State
from kiosk.workflow.steps import Step

import_modules(__name__, __path__)
STATES: dict[Step, type[State]] = one_per_step(State, "state")


def build_steps(terminal: Terminal) -> dict[Step, State]:
    return {step: state(terminal) for step, state in STATES.items()}


def timeouts() -> dict[Step, float]:
    """Every step's timeout, as its state class says it (steps without one are not listed)."""
    return {step: state.timeout for step, state in STATES.items() if state.timeout is not None}


def workflow_for(terminal: Terminal, **options: Any) -> Workflow:
    """The workflow of ``terminal``: its steps, its screen as the approver, its resident's activity,
    the record of its last session's end (``options`` go to :class:`Workflow`: timeouts, session
    limit)."""
    alarms = terminal.guard.wait_for_alarm if terminal.guard is not None else None
    return Workflow(
        build_steps(terminal),
        terminal.screen,
        activity=terminal.activity,
        alarms=alarms,
        last_session=terminal.last_session,
        **options,
    )
