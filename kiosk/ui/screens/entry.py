"""A field of the usage registration's application typed on the kana keyboard (かな入力): the 本籍
(``domicile_entry``) and the 筆頭者 (``head_entry``). The keyboard takes the panel below a header
row that holds back, the title (or what is wrong with what was typed), cancel and OK.

The keyboard converts with the kiosk's lexicon (:data:`kiosk.ui.kana_loading.LEXICON`), kana alone
until it is loaded. Each key tells the workflow ``typing`` (for the screen's timeout; nothing
typed goes with it); OK sends the field as shown (a reading still composing as typed, as an IME's
Enter does). The field is wiped whenever the screen's view is (every session's end), and starts
from the value the view gives (a resident coming back to it)."""

# mypy: allow-subclassing-any

from __future__ import annotations

from typing import Any, ClassVar

from kiosk.kana import Field
from kiosk.messages import Catalog
from kiosk.ui.kana_keyboard import KanaKeyboard
from kiosk.ui.kana_loading import LEXICON
from kiosk.ui.screens.base import Press, StepScreen, load_rules


class EntryScreen(StepScreen):
    """A screen with the kana keyboard for one field of the application."""

    field: ClassVar[Field]

    def __init__(self, press: Press, catalog: Catalog, **kwargs: Any) -> None:
        self.keyboard = KanaKeyboard(
            catalog, LEXICON.current, self.field, prompt=f"kana.prompt.{self.field.value}"
        )
        self.keyboard.bind(on_key=lambda _keyboard, _action: self.press("typing"))
        self._started = False  # the field took the view's value
        super().__init__(press, catalog, **kwargs)
        self.ids.keyboard_place.add_widget(self.keyboard)

    def on_catalog(self, screen: StepScreen, catalog: Catalog) -> None:
        super().on_catalog(screen, catalog)
        self.keyboard.catalog = catalog

    def on_pre_enter(self, *_args: Any) -> None:
        self.keyboard.use_lexicon(LEXICON.current)

    def send(self) -> None:
        self.press("next", self.keyboard.entry.text)

    def refresh(self) -> None:
        if not hasattr(self, "keyboard"):
            return
        view = self.view
        if not view:  # a new screen, or the session over: nothing typed stays
            self.keyboard.wipe()
            self._started = False
        elif "value" in view and not self._started:
            self._started = True
            if view["value"]:
                self.keyboard.start_with(str(view["value"]))
        problem = view.get("problem")
        self.ids.title.text = (
            self.say(problem, most=view.get("most", 0)) if problem else self.say(f"{self.step.value}.title")
        )
        self.ids.title.color = (0.98, 0.55, 0.50, 1) if problem else (1, 1, 1, 1)


load_rules(__file__)
