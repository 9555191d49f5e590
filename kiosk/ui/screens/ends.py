"""What the three end screens share (終了・取消・中断): the words, the coins given back, and the
card reminder while a card is still in the reader; ``ok`` goes back to the start."""

# mypy: allow-subclassing-any

from kiosk.ui.screens.base import StepScreen


class EndScreen(StepScreen):
    refund_key = "cancelled.refunded"

    def refresh(self) -> None:
        self.ids.why.text = self.why()
        refund = self.view.get("refund", 0)
        self.ids.refund.text = self.say(self.refund_key, yen=refund) if refund else ""
        card_left = bool(self.view.get("remind"))
        self.ids.reminder.opacity = 1 if card_left else 0
        self.ids.reminder.text = self.say("take_card.title") if card_left else ""

    def why(self) -> str:
        return ""
