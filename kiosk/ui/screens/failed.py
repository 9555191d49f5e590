"""A session that could not be finished (中断): a device or the center failed; no fee is taken."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import load_rules
from kiosk.ui.screens.ends import EndScreen
from kiosk.workflow.steps import Step


class FailedScreen(EndScreen):
    step = Step.FAILED
    refund_key = "failed.refunded"

    def why(self) -> str:
        spoiled = self.view.get("spoiled")
        refund = self.say("failed.refund")
        return f"{refund}\n{self.say('failed.spoiled', copies=spoiled)}" if spoiled else refund


load_rules(__file__)
