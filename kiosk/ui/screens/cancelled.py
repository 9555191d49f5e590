"""A session cancelled (取消): by the resident, a timeout, a locked card, a card taken away, or a
refusal, said in plain words; the coins given back."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import load_rules
from kiosk.ui.screens.ends import EndScreen
from kiosk.ui.words import reason_words
from kiosk.workflow.steps import Step


class CancelledScreen(EndScreen):
    step = Step.CANCELLED

    def why(self) -> str:
        return reason_words(self.catalog, self.view.get("reason"), self.view.get("refusal"))


load_rules(__file__)
