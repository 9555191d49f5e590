"""The usage registration's application confirmed (申請内容の確認): the municipality, the 本籍 and
the 筆頭者 as typed; apply (the card and its signing password follow), or go back to correct."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.words import municipality_name
from kiosk.workflow.steps import Step


class ApplicationScreen(StepScreen):
    step = Step.APPLICATION

    def refresh(self) -> None:
        view = self.view
        if not view:
            self.ids.typed.text = ""
            return
        self.ids.typed.text = "\n".join(
            [
                self.say(
                    "application.municipality", name=municipality_name(self.catalog, view.get("municipality"))
                ),
                self.say("application.domicile", domicile=view.get("domicile", "")),
                self.say("application.head", head=view.get("head", "")),
            ]
        )


load_rules(__file__)
