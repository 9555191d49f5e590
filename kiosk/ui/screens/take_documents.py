"""The documents taken from the printer (証明書の取り忘れ防止): the reminder blinks until the tray
is empty."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class TakeDocumentsScreen(StepScreen):
    step = Step.TAKE_DOCUMENTS


load_rules(__file__)
