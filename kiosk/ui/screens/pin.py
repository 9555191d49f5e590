"""The PIN (利用者証明用電子証明書の暗証番号): a keypad, the digits entered shown as dots only,
the tries left, the warning before the last try, and a locked card explained."""

# mypy: allow-subclassing-any

from kivy.properties import BooleanProperty

from kiosk.ui.screens.base import StepScreen, load_rules
from kiosk.workflow.steps import Step

FILLED, EMPTY = "●", "○"


class PinScreen(StepScreen):
    step = Step.PIN
    locked = BooleanProperty(False)  # the card's PIN is locked: an explanation, no keypad
    alarming = BooleanProperty(False)  # a wrong PIN, the last try or a locked card: said in red

    def refresh(self) -> None:
        view = self.view
        self.locked = bool(view.get("locked"))
        self.alarming = bool(view.get("wrong") or view.get("last_try") or self.locked)
        self.ids.dots.text = self.dots()
        self.ids.notice.text = self.notice()

    def dots(self) -> str:
        """As many filled dots as digits entered: the digits themselves are never shown."""
        entered, length = int(self.view.get("entered", 0)), int(self.view.get("length", 4))
        return " ".join([FILLED] * entered + [EMPTY] * (length - entered))

    def notice(self) -> str:
        view = self.view
        if view.get("locked"):
            return self.say("pin.locked")
        lines = []
        if view.get("wrong"):
            lines.append(self.say("pin.wrong"))
        if view.get("last_try"):
            lines.append(self.say("pin.last_try"))
        elif view.get("tries") is not None:
            lines.append(self.say("pin.tries_left", tries=view["tries"]))
        return "\n".join(lines)


load_rules(__file__)
