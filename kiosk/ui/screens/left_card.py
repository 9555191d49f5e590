"""A card left on the reader after a session (カードの置き忘れ): the reminder blinks until it is
taken; no session starts meanwhile. The staff's corner stays, as on the start screen."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class LeftCardScreen(StepScreen):
    step = Step.LEFT_CARD


load_rules(__file__)
