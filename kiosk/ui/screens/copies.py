"""How many copies (通数): fewer, more, and the fee for them."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step


class CopiesScreen(StepScreen):
    step = Step.COPIES

    def refresh(self) -> None:
        view = self.view
        copies, most = view.get("copies", 1), view.get("most", 1)
        self.ids.count.text = self.copies(copies)
        self.ids.fee.text = self.say("copies.fee", fee=view["fee"]) if "fee" in view else ""
        self.ids.most.text = self.say("copies.most_one" if most == 1 else "copies.most", most=most)
        self.ids.less.disabled = copies <= 1
        self.ids.more.disabled = copies >= most


load_rules(__file__)
