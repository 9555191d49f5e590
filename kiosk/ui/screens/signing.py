"""The card placed again and its signing password (署名用パスワード): 6 to 16 capital letters and
digits on an alphanumeric keypad, shown as dots only; the tries left after a wrong one; a locked
password explained."""

# mypy: allow-subclassing-any

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.messages import Catalog
from kiosk.ui.screens.base import Press, StepScreen, load_rules
from kiosk.ui.widgets import KioskButton
from kiosk.workflow.steps import Step

KEYS = "1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # as on the real terminals: digits, then A to Z
FILLED, EMPTY = "●", "○"


class SigningScreen(StepScreen):
    step = Step.SIGNING
    card = StringProperty("place")  # place, reading, ready, locked, unable
    alarming = BooleanProperty(False)

    def __init__(self, press: Press, catalog: Catalog, **kwargs: Any) -> None:
        super().__init__(press, catalog, **kwargs)
        for key in KEYS:
            button = KioskButton(action="char", value=key, text=key, font_size=34, size_hint_y=1)
            button.bind(on_release=lambda b: self.press(b.action, b.value))
            self.ids.keypad.add_widget(button)
        delete = KioskButton(
            action="delete", size_hint_y=1, font_size=24, background_color=(0.35, 0.37, 0.42, 1)
        )
        delete.text = self.say("button.delete")
        delete.bind(on_release=lambda b: self.press(b.action))
        self.ids.keypad.add_widget(delete)
        self._delete = delete

    def refresh(self) -> None:
        view = self.view
        self.card = str(view.get("card") or "place")
        self.alarming = bool(view.get("wrong") or view.get("problem") or self.card == "locked")
        if hasattr(self, "_delete"):
            self._delete.text = self.say("button.delete")
        self.ids.dots.text = self.dots() if self.card == "ready" else ""
        self.ids.notice.text = self.notice()

    def dots(self) -> str:
        """As many filled dots as characters entered (at least the least a password has)."""
        entered = int(self.view.get("entered", 0))
        least = int(self.view.get("least", 6))
        return "".join([FILLED] * entered + [EMPTY] * max(0, least - entered))

    def notice(self) -> str:
        view = self.view
        if self.card == "locked":
            return self.say("signing.locked")
        if self.card == "unable":
            return self.say(str(view.get("problem") or "signing.no_certificate"))
        if self.card in ("place", "reading"):
            lines = [self.say("signing.reading" if self.card == "reading" else "signing.place")]
            if view.get("problem"):
                lines.append(self.say(view["problem"]))
            return "\n".join(lines)
        lines = [self.say("signing.hint")]
        if view.get("wrong"):
            lines.append(self.say("signing.wrong"))
        if view.get("tries") is not None:
            lines.append(self.say("signing.tries_left", tries=view["tries"]))
        return "\n".join(lines)


load_rules(__file__)
