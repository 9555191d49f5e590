"""Printing (印刷中): the progress indicator while the pages come out, then how many were printed."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class PrintingScreen(StepScreen):
    step = Step.PRINTING

    def refresh(self) -> None:
        pages = self.view.get("pages")
        self.ids.pages.text = "" if pages is None else self.say("printing.pages", pages=pages)


load_rules(__file__)
