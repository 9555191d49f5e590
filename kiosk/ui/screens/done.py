"""The end of a session with the documents taken (ご利用ありがとうございました)."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import load_rules
from kiosk.ui.screens.ends import EndScreen
from kiosk.workflow.steps import Step


class DoneScreen(EndScreen):
    step = Step.DONE

    def why(self) -> str:
        return self.say("done.note")


load_rules(__file__)
