"""The kiosk's own widgets: the large touch button, the header, the blinking reminder and the
progress indicator shown while the center or the printer works (their looks in ``widgets.kv``)."""

# mypy: allow-subclassing-any

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.animation import Animation
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label

TOUCH_TARGET = 110  # px at 1280x800: about 20 mm on a 15" panel (15 mm is the least for a finger)


class KioskButton(Button):
    """A large button that is one touch of the workflow: ``action`` and ``value``. ``target``
    names it for the rehearsal's synthetic touches (``digit-7``, ``choose-tax``, ``cancel``)."""

    action = StringProperty("")
    value = ObjectProperty(None, allownone=True)
    target = StringProperty("")
    chosen = BooleanProperty(False)  # a toggle that is on (options, the tax year)
    muted = BooleanProperty(False)  # shown but not offered now (a certificate that cannot be issued)

    def on_action(self, _button: KioskButton, action: str) -> None:
        self._name()

    def on_value(self, _button: KioskButton, value: Any) -> None:
        self._name()

    def _name(self) -> None:
        self.target = self.action if self.value is None else f"{self.action}-{self.value}"


class Blinking(Label):
    """A reminder that blinks while it is shown (取り忘れ防止): the card, the documents."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._blink = Animation(opacity=0.15, duration=0.45) + Animation(opacity=1.0, duration=0.45)
        self._blink.repeat = True

    def on_parent(self, _label: Blinking, parent: Any) -> None:
        if parent is None:
            self._blink.cancel(self)
        else:
            self._blink.start(self)


class TimeoutBanner(FloatLayout):
    """A band across the top while ``message`` is set: the screen is about to time out. It takes
    no touch: any touch on the screen below is what keeps the session going."""

    message = StringProperty("")

    def on_touch_down(self, touch: Any) -> bool:
        return False


class BusyOverlay(FloatLayout):
    """The progress indicator over the whole screen while ``message`` is set (center, printing);
    it takes every touch meanwhile, so nothing is pressed twice."""

    message = StringProperty("")
    angle = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._turn = Animation(angle=360, duration=1.2)
        self._turn.bind(on_complete=self._again)

    def on_message(self, _overlay: BusyOverlay, message: str) -> None:
        if message:
            self._turn.start(self)
        else:
            self._turn.cancel(self)

    def _again(self, *_args: Any) -> None:
        self.angle = 0
        if self.message:
            self._turn.start(self)

    def on_touch_down(self, touch: Any) -> bool:
        return bool(self.message)

    def on_touch_up(self, touch: Any) -> bool:
        return bool(self.message)


Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
