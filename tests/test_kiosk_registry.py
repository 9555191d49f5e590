"""Each step's state and screen found by its class (kiosk/workflow/registry.py): every step has
exactly one, and a step with none or with two is said at once."""

from __future__ import annotations

import pytest

from kiosk.workflow.registry import NotOnePerStep, one_per_step
from kiosk.workflow.states import STATES, timeouts
from kiosk.workflow.steps import UNTIMED, Step


def classes_for(steps: list[Step]) -> type:
    """A base class with one subclass per step of ``steps`` (a step twice: two subclasses)."""

    class Base:
        step: Step

    class Intermediate(Base):  # names no step: not any step's
        pass

    # kept on the base: a class is only weakly known to its base's __subclasses__()
    Base.made = [
        type(f"For{step.name.title()}", (Intermediate,), {"step": step})  # type: ignore[attr-defined]
        for step in steps
    ]
    return Base


def test_every_step_has_exactly_one_state_in_the_steps_order() -> None:
    assert list(STATES) == list(Step)
    assert all(state.step is step for step, state in STATES.items())
    assert set(timeouts()) == set(Step) - {Step.IDLE, *UNTIMED}  # the start screen waits, paper moves


def test_a_step_without_a_class_or_with_two_is_an_error() -> None:
    found = one_per_step(classes_for(list(Step)), "state")
    assert list(found) == list(Step) and all(cls.step is step for step, cls in found.items())
    with pytest.raises(NotOnePerStep, match="no state for printing"):
        one_per_step(classes_for([step for step in Step if step is not Step.PRINTING]), "state")
    with pytest.raises(NotOnePerStep, match="2 screens for pin: ForPin, ForPin"):
        one_per_step(classes_for([*Step, Step.PIN]), "screen")
