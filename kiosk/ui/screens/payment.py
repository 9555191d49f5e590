"""The fee paid in coins (手数料の投入): what has been put in of the fee, as each coin drops."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class PaymentScreen(StepScreen):
    step = Step.PAYMENT

    def refresh(self) -> None:
        fee, paid = self.view.get("fee"), self.view.get("paid", 0)
        self.ids.paid.text = "" if fee is None else self.say("payment.progress", paid=paid, fee=fee)
        self.ids.bar.max = fee or 1
        self.ids.bar.value = min(paid, fee or 0)


load_rules(__file__)
