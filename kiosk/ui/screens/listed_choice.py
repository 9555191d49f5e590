"""A step whose choices are listed as buttons, the one chosen before marked: the registered
domicile's prefecture (都道府県) and municipality (市区町村) in the usage registration's
application. A press tells the workflow the step's own action with the choice's code."""

# mypy: allow-subclassing-any

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kiosk.ui.screens.base import StepScreen
from kiosk.ui.widgets import KioskButton


class ListedChoiceScreen(StepScreen):
    """The choices are the view's ``listing`` (each with its ``code``), ``chosen`` the code
    chosen before; the .kv rules of each screen give the grid, ``ids.listed``."""

    listing: ClassVar[str]

    def label(self, item: Mapping[str, Any]) -> str:
        """A choice's words on its button."""
        raise NotImplementedError

    def refresh(self) -> None:
        listed = self.ids.listed
        listed.clear_widgets()
        for item in self.view.get(self.listing, []):
            button = KioskButton(
                action=self.step.value,
                value=item["code"],
                text=self.label(item),
                chosen=item["code"] == self.view.get("chosen"),
                font_size=28,
            )
            button.bind(on_release=lambda b: self.press(b.action, b.value))
            listed.add_widget(button)
