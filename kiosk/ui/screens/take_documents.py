"""The documents taken from the printer (証明書の取り忘れ防止): the reminder blinks until the tray
is empty. When the printer stopped part way, the resident is told how many copies are void (a
copy out in part is not valid and must not be used) and what was given back for them."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class TakeDocumentsScreen(StepScreen):
    step = Step.TAKE_DOCUMENTS

    def refresh(self) -> None:
        spoiled, refund = self.view.get("spoiled", 0), self.view.get("refund", 0)
        self.ids.spoiled.text = self.say("take_documents.spoiled", copies=spoiled) if spoiled else ""
        self.ids.refund.text = self.say("cancelled.refunded", yen=refund) if refund else ""


load_rules(__file__)
