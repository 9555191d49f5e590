"""The content and the fee confirmed (内容・手数料の確認): every certificate in the basket, the
total; pay, add one more, or go back."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.ui.words import certificate_name
from kiosk.workflow.steps import Step


class ConfirmScreen(StepScreen):
    step = Step.CONFIRM

    def refresh(self) -> None:
        view = self.view
        self.ids.basket_items.text = "\n".join(
            self.say(
                "confirm.item",
                name=certificate_name(self.catalog, item["type"]),
                copies=item["copies"],
                fee=item["fee"],
            )
            for item in view.get("items", [])
        )
        self.ids.total.text = self.say("confirm.total", fee=view["total"]) if "total" in view else ""
        can_add = bool(view.get("can_add"))
        self.ids.another.disabled = not can_add
        self.ids.another.opacity = 1 if can_add else 0


load_rules(__file__)
