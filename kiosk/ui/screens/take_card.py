"""The card given back (カードの取り忘れ防止): the reminder blinks until the card is taken."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class TakeCardScreen(StepScreen):
    step = Step.TAKE_CARD


load_rules(__file__)
