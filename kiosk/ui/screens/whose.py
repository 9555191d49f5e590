"""Whose certificates (住所地 / 本籍地): the municipality where one lives or where one's family
register is."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class WhoseScreen(StepScreen):
    step = Step.WHOSE


load_rules(__file__)
