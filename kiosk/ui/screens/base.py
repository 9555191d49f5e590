"""What every step's screen shares: the step it belongs to, the catalog of its words, the view the
workflow gives it, its touches, and the progress indicator on top."""

# mypy: allow-subclassing-any

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kivy.properties import DictProperty, ObjectProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.messages import Catalog
from kiosk.ports import Touch
from kiosk.ui.widgets import BusyOverlay, KioskButton, TimeoutBanner
from kiosk.workflow.steps import Step

Press = Callable[[Touch], None]


class StepScreen(Screen):
    """One step's screen. ``view`` is what the workflow showed (keys and values, never finished
    sentences); the .kv rules and :meth:`refresh` turn it into words from ``catalog``."""

    step: ClassVar[Step]
    catalog = ObjectProperty(None)
    words = DictProperty({})  # the catalog's texts, for the .kv rules: ``root.words['pin.title']``
    view = DictProperty({})

    def __init__(self, press: Press, catalog: Catalog, **kwargs: Any) -> None:
        self._press = press
        super().__init__(name=self.step.value, catalog=catalog, words=catalog.texts, **kwargs)
        self.warning = TimeoutBanner()
        self.add_widget(self.warning)
        self.busy = BusyOverlay()
        self.add_widget(self.busy)  # last: drawn over everything, takes the touches while busy
        self.bind(view=self._changed, catalog=self._changed)
        self._changed()

    def press(self, action: str, value: Any = None) -> None:
        self._press(Touch(self.step, action, value))

    def say(self, key: str, **values: object) -> str:
        text: str = self.catalog.text(key, **values)
        return text

    def copies(self, copies: int) -> str:
        """「N通」, "1 copy" / "N copies"."""
        return self.say("copies.one" if copies == 1 else "copies.count", copies=copies)

    def show(self, view: Mapping[str, Any]) -> None:
        self.view.update(view)

    def warn(self, seconds: float | None) -> None:
        """The banner that the screen will time out, or none (``seconds`` is ``None``)."""
        self.warning.message = "" if seconds is None else self.say("timeout.warning")

    def on_catalog(self, _screen: StepScreen, catalog: Catalog) -> None:
        self.words = catalog.texts

    def _changed(self, *_args: Any) -> None:
        busy = self.view.get("busy")
        self.busy.message = self.say(busy) if busy else ""
        self.refresh()

    def refresh(self) -> None:
        """Rebuild what the .kv rules cannot say by binding alone (lists, toggles)."""

    def buttons(self) -> Iterator[KioskButton]:
        for widget in self.walk(restrict=True):
            if isinstance(widget, KioskButton):
                yield widget

    def target(self, name: str) -> Widget | None:
        """The button named ``name`` that a finger could press now (shown, enabled)."""
        for button in self.buttons():
            if button.target == name and not button.disabled and self.visible(button):
                return button
        return None

    def visible(self, widget: Widget) -> bool:
        """Whether ``widget`` can be seen: neither it nor what holds it is transparent."""
        while widget is not None and widget is not self:
            if widget.opacity <= 0:
                return False
            widget = widget.parent
        return True


def load_rules(module_file: str) -> None:
    """Load the .kv file next to a screen's module (``pin.py`` → ``pin.kv``)."""
    from kivy.lang import Builder

    Builder.load_file(str(Path(module_file).with_suffix(".kv")))
