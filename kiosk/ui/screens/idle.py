"""The start screen (待受画面): one touch anywhere starts a session."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class IdleScreen(StepScreen):
    step = Step.IDLE


load_rules(__file__)
